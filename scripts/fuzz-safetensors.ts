// Safetensors-aware mutations for the fuzzer: the JSON header is split from the byte buffer and
// rewritten, as JSON (offsets, dtypes and shapes set to edge values, tensors dropped, renamed or
// doubled, fields dropped or added, metadata forged) or as text (number tokens replaced by the
// forms JSON.parse would round or take, keys doubled, structure broken), and the length field is
// recomputed (mostly: so that mutants reach the layout rules behind the syntax) or forged.
import { Rng, randint } from '../lib/data/random';
import { SAFETENSORS_DTYPES } from '../lib/safetensors';
import { pick } from './fuzz-bytes';

type Result = { bytes: Buffer; how: string } | undefined;
type Info = { dtype?: unknown; shape?: unknown; data_offsets?: unknown; [field: string]: unknown };
type Header = Record<string, unknown>;

const DTYPE_NAMES = [...SAFETENSORS_DTYPES, 'F128', 'f32', '', 'F32 ', 'float32'];
const EDGE_NUMBERS = [0, 1, 2, 3, 7, 8, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64];
// Number tokens that JSON.parse would take (rounding some) but the format's usize fields refuse.
const EDGE_TOKENS = ['-1', '-0', '1.0', '1e3', '1E400', '01', '0.5', '9007199254740993', '18446744073709551616', '99999999999999999999999', '4294967296'];
const TEXT_BREAKS = [',', ':', '{', '}', '[', ']', '"', '\\', '\\u', '\\ud800', ' ', '\n', '\u00e9', '\u0000'];
const FORGED_LENGTHS = [0n, 1n, 7n, 8n, 100_000_000n, 100_000_001n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n];

/** The header (as text) and the buffer after it; undefined when the length field does not fit the file. */
function split(bytes: Buffer): { header: string; data: Buffer } | undefined {
  if (bytes.length < 8) return undefined;
  const n = bytes.readBigUInt64LE(0);
  if (n + 8n > BigInt(bytes.length)) return undefined;
  return { header: bytes.toString('utf8', 8, 8 + Number(n)), data: bytes.subarray(8 + Number(n)) };
}

/** Header and buffer as a file: the length field right (padded to 8 bytes half the time) or, 1 time in 8, forged. */
function join(header: string, data: Buffer, rng: Rng): { bytes: Buffer; note: string } {
  let json = Buffer.from(header);
  if (rng.next() < 0.5 && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), ' ')]);
  const length = Buffer.alloc(8);
  const forged = rng.next() < 0.125 ? pick(rng, [...FORGED_LENGTHS, BigInt(json.length + 1), BigInt(Math.max(0, json.length - 1))]) : undefined;
  length.writeBigUInt64LE(forged ?? BigInt(json.length));
  return { bytes: Buffer.concat([length, json, data]), note: forged === undefined ? '' : ` (length field ${forged})` };
}

function parse(header: string): Header | undefined {
  try {
    const value = JSON.parse(header);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const tensorNames = (h: Header) => Object.keys(h).filter((k) => k !== '__metadata__');

/** A tensor of the header whose entry is an object (an earlier mutation may have made it anything). */
function someTensor(h: Header, rng: Rng): [string, Info] | undefined {
  const names = tensorNames(h).filter((k) => typeof h[k] === 'object' && h[k] !== null && !Array.isArray(h[k]));
  if (!names.length) return undefined;
  const name = pick(rng, names);
  return [name, h[name] as Info];
}

/** A value nested `depth` deep: arrays and objects in turn. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
  return value;
}

/** Rewrites one part of the parsed header; says what it did, or undefined when it could not. */
const JSON_EDITS: ((h: Header, rng: Rng) => string | undefined)[] = [
  (h, rng) => {
    const [name, info] = someTensor(h, rng) ?? [];
    if (!info || !Array.isArray(info.data_offsets)) return undefined;
    const end = Math.max(0, ...tensorNames(h).map((k) => {
      const offsets = (h[k] as Info | null)?.data_offsets;
      return Array.isArray(offsets) ? Number(offsets[1]) || 0 : 0;
    }));
    const i = randint(rng, 0, 2);
    const value = pick(rng, [...EDGE_NUMBERS, end, end + 1, Math.max(0, end - 1), Number(info.data_offsets[1 - i]) + 1]);
    info.data_offsets[i] = value;
    return `${name} data_offsets[${i}] = ${value}`;
  },
  (h, rng) => {
    const [a, x] = someTensor(h, rng) ?? [];
    const [b, y] = someTensor(h, rng) ?? [];
    if (!x || !y || a === b) return undefined;
    [x.data_offsets, y.data_offsets] = [y.data_offsets, x.data_offsets];
    return `swap the data_offsets of ${a} and ${b}`;
  },
  (h, rng) => {
    const [name, info] = someTensor(h, rng) ?? [];
    if (!info) return undefined;
    info.dtype = pick(rng, DTYPE_NAMES);
    return `${name} dtype = ${JSON.stringify(info.dtype)}`;
  },
  (h, rng) => {
    const [name, info] = someTensor(h, rng) ?? [];
    if (!info) return undefined;
    const shape = Array.isArray(info.shape) ? [...info.shape] : [];
    const edit = randint(rng, 0, 4);
    if (edit === 0 && shape.length) shape[randint(rng, 0, shape.length)] = pick(rng, [...EDGE_NUMBERS, -1, 1.5]);
    else if (edit === 1) shape.push(pick(rng, [0, 1, 2, 2 ** 32]));
    else if (edit === 2) shape.pop();
    info.shape = edit === 3 ? pick(rng, [[], [[1]], 'F32', null, {}]) : shape;
    return `${name} shape = ${JSON.stringify(info.shape)}`;
  },
  (h, rng) => {
    const [name, info] = someTensor(h, rng) ?? [];
    if (!info) return undefined;
    const field = pick(rng, ['dtype', 'shape', 'data_offsets']);
    delete info[field];
    return `drop ${name}.${field}`;
  },
  (h, rng) => {
    const [name, info] = someTensor(h, rng) ?? [];
    if (!info) return undefined;
    const depth = pick(rng, [1, 10, 126, 127, 128, 300]);
    info[pick(rng, ['x', 'dtypes', '__metadata__'])] = nested(depth);
    return `${name} gains a field nested ${depth} deep`;
  },
  (h, rng) => {
    const name = pick(rng, tensorNames(h));
    h[name] = pick(rng, [1, 'F32', [], null, [0, 4]]);
    return `${name} = ${JSON.stringify(h[name])}`;
  },
  (h, rng) => {
    const name = pick(rng, tensorNames(h));
    const renamed = pick(rng, ['\ud800', '\udc00', '__metadata__', '', 'a\u0000b', '\u{1f600}', name + name, 'fc.weight', 'conv1.weight']);
    const info = h[name];
    delete h[name];
    h[renamed] = info;
    return `rename ${name} to ${JSON.stringify(renamed)}`;
  },
  (h, rng) => {
    const name = pick(rng, tensorNames(h));
    if (rng.next() < 0.5) {
      delete h[name];
      return `drop tensor ${name}`;
    }
    h[`${name}.copy`] = JSON.parse(JSON.stringify(h[name]));
    return `copy tensor ${name}`;
  },
  (h, rng) => {
    const metadata = pick(rng, [{ k: 1 }, { k: null }, [], 'text', { k: 'v'.repeat(randint(rng, 0, 4096)) }, Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `${i}`]))]);
    h.__metadata__ = metadata;
    return `__metadata__ = ${JSON.stringify(metadata).slice(0, 40)}`;
  },
];

/** Rewrites the header's text: a number token, a doubled entry, or a broken piece of syntax. */
function editText(header: string, rng: Rng): { header: string; how: string } | undefined {
  const kind = randint(rng, 0, 3);
  if (kind === 0) {
    const numbers = [...header.matchAll(/-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g)];
    if (!numbers.length) return undefined;
    const m = pick(rng, numbers);
    const token = pick(rng, EDGE_TOKENS);
    return { header: header.slice(0, m.index) + token + header.slice(m.index! + m[0].length), how: `number ${m[0]} at ${m.index} -> ${token}` };
  }
  if (kind === 1) {
    // "name":{...} copied right after itself: the same key twice.
    const entries = [...header.matchAll(/"(?:[^"\\]|\\.)*":\{[^{}]*\}/g)];
    if (!entries.length) return undefined;
    const m = pick(rng, entries);
    const at = m.index! + m[0].length;
    return { header: `${header.slice(0, at)},${m[0]}${header.slice(at)}`, how: `double ${m[0].slice(0, 30)}` };
  }
  const at = randint(rng, 0, header.length + 1);
  const piece = pick(rng, TEXT_BREAKS);
  const overwrite = rng.next() < 0.5;
  return {
    header: header.slice(0, at) + piece + header.slice(overwrite ? at + 1 : at),
    how: `${overwrite ? 'overwrite' : 'insert'} ${JSON.stringify(piece)} at ${at}`,
  };
}

export function mutateHeaderJson(bytes: Buffer, rng: Rng): Result {
  const parts = split(bytes);
  const header = parts && parse(parts.header.trimEnd());
  if (!parts || !header || !tensorNames(header).length) return undefined;
  const how = pick(rng, JSON_EDITS)(header, rng);
  if (!how) return undefined;
  const joined = join(JSON.stringify(header), parts.data, rng);
  return { bytes: joined.bytes, how: `${how}${joined.note}` };
}

export function mutateHeaderText(bytes: Buffer, rng: Rng): Result {
  const parts = split(bytes);
  const edited = parts && editText(parts.header, rng);
  if (!parts || !edited) return undefined;
  const joined = join(edited.header, parts.data, rng);
  return { bytes: joined.bytes, how: `${edited.how}${joined.note}` };
}

/** The length field forged, the header and buffer left as they are. */
export function mutateHeaderLength(bytes: Buffer, rng: Rng): Result {
  if (bytes.length < 8) return undefined;
  const n = bytes.readBigUInt64LE(0);
  const value = pick(rng, [...FORGED_LENGTHS, n + 1n, n - 1n, n + 8n, BigInt(bytes.length - 8), BigInt(bytes.length)]);
  const copy = Buffer.from(bytes);
  copy.writeBigUInt64LE(BigInt.asUintN(64, value));
  return { bytes: copy, how: `length field ${BigInt.asUintN(64, value)}` };
}

/** The buffer after the header cut short or made longer. */
export function mutateBuffer(bytes: Buffer, rng: Rng): Result {
  const parts = split(bytes);
  if (!parts) return undefined;
  const headerEnd = bytes.length - parts.data.length;
  const change = pick(rng, [-1, -4, -8, 1, 4, 8, -parts.data.length]);
  const data = change < 0 ? parts.data.subarray(0, Math.max(0, parts.data.length + change)) : Buffer.concat([parts.data, Buffer.alloc(change, 0xab)]);
  return { bytes: Buffer.concat([bytes.subarray(0, headerEnd), data]), how: `buffer ${change > 0 ? '+' : ''}${change} bytes` };
}

// The image path's fuzzing pieces: a mutator of real image files (blind: bit flips, truncation,
// splices; and aware of the formats the addon decodes: JPEG marker segments, frame sizes and
// sampling factors, scan data and restart markers; BMP and Netpbm header fields), and the public
// calls that load an image file, with the verdict on each outcome (loaded, or an ImageDecodeError
// that names the file). Deterministic in its Rng. test/native/data-fuzz.test.ts runs a fixed-seed
// pass (FINETORCH_FUZZ_MUTANTS=N for a long one).
import { Rng, randint } from '../lib/data/random';
import { flipBits, pick, splice, truncate } from './fuzz-bytes';

export type ImageFormat = 'jpeg' | 'bmp' | 'netpbm' | 'png';

export interface ImageSeed {
  name: string;
  format: ImageFormat;
  bytes: Buffer;
}

// Values at the edges of the fields' ranges and of the decoders' arithmetic.
const INTERESTING = [0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 127, 128, 255, 256, 4095, 0x7fff, 0x8000, 0xffde, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 65500, 1 << 20, 1 << 30, -1 >>> 0];

type Mutation = (bytes: Buffer, seed: ImageSeed, seeds: readonly ImageSeed[], rng: Rng) => { bytes: Buffer; how: string } | undefined;

/** A JPEG's marker segments before the first scan: marker, where its length field is, its length. */
function jpegSegments(bytes: Buffer): { marker: number; at: number; length: number }[] {
  const segments: { marker: number; at: number; length: number }[] = [];
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff;) {
    const marker = bytes[at + 1];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    segments.push({ marker, at: at + 2, length });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return segments;
}

/** Where a JPEG's entropy-coded data starts (after the first SOS header), if it has one. */
function scanStart(bytes: Buffer): number | undefined {
  const sos = jpegSegments(bytes).find((s) => s.marker === 0xda);
  return sos && sos.at + sos.length < bytes.length ? sos.at + sos.length : undefined;
}

const jpegMutations: Record<string, Mutation> = {
  'segment field': (bytes, _seed, _seeds, rng) => {
    const segments = jpegSegments(bytes);
    if (!segments.length) return undefined;
    const s = pick(rng, segments);
    const copy = Buffer.from(bytes);
    const offset = randint(rng, 0, Math.max(1, Math.min(s.length, copy.length - s.at)));
    if (rng.next() < 0.5 && s.at + offset + 2 <= copy.length) {
      const value = pick(rng, INTERESTING);
      copy.writeUInt16BE(value, s.at + offset);
      return { bytes: copy, how: `marker 0x${s.marker.toString(16)} byte ${offset}: 16-bit ${value}` };
    }
    const value = pick(rng, INTERESTING) & 0xff;
    copy[s.at + offset] = value;
    return { bytes: copy, how: `marker 0x${s.marker.toString(16)} byte ${offset}: ${value}` };
  },
  'frame size': (bytes, _seed, _seeds, rng) => {
    const sof = jpegSegments(bytes).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(s.marker));
    if (!sof || sof.at + 7 > bytes.length) return undefined;
    const copy = Buffer.from(bytes);
    const field = rng.next() < 0.5 ? 3 : 5;
    const value = rng.next() < 0.5 ? pick(rng, INTERESTING) : copy.readUInt16BE(sof.at + field) + randint(rng, -16, 17);
    copy.writeUInt16BE(Math.max(0, Math.min(0xffff, value)), sof.at + field);
    return { bytes: copy, how: `frame ${field === 3 ? 'height' : 'width'} ${value}` };
  },
  'sampling factors': (bytes, _seed, _seeds, rng) => {
    const sof = jpegSegments(bytes).find((s) => s.marker >= 0xc0 && s.marker <= 0xc2);
    if (!sof || sof.at + 8 > bytes.length) return undefined;
    const components = bytes[sof.at + 7];
    const c = randint(rng, 0, Math.max(1, components));
    const at = sof.at + 8 + 3 * c + 1;
    if (at >= bytes.length) return undefined;
    const copy = Buffer.from(bytes);
    copy[at] = pick(rng, [0x11, 0x12, 0x21, 0x22, 0x41, 0x14, 0x44, 0x00, 0x13, 0x31, 0xff]);
    return { bytes: copy, how: `component ${c} sampling 0x${copy[at].toString(16)}` };
  },
  'scan data': (bytes, _seed, _seeds, rng) => {
    const start = scanStart(bytes);
    if (start === undefined) return undefined;
    const copy = Buffer.from(bytes);
    const flips = randint(rng, 1, 9);
    for (let i = 0; i < flips; i++) copy[randint(rng, start, copy.length)] ^= 1 << randint(rng, 0, 8);
    return { bytes: copy, how: `flip ${flips} bits of the scan data` };
  },
  'marker in scan': (bytes, _seed, _seeds, rng) => {
    const start = scanStart(bytes);
    if (start === undefined) return undefined;
    const at = randint(rng, start, bytes.length);
    const marker = pick(rng, [0xd0, 0xd3, 0xd7, 0xd9, 0xda, 0xc4, 0xdb, 0xdd, 0xff]);
    return { bytes: Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, marker]), bytes.subarray(at)]), how: `insert marker 0x${marker.toString(16)} at ${at}` };
  },
  'drop segment': (bytes, _seed, _seeds, rng) => {
    const segments = jpegSegments(bytes).filter((s) => s.marker !== 0xda);
    if (!segments.length) return undefined;
    const s = pick(rng, segments);
    return { bytes: Buffer.concat([bytes.subarray(0, s.at - 2), bytes.subarray(s.at + s.length)]), how: `drop marker 0x${s.marker.toString(16)}` };
  },
};

/** Header fields of a Windows BMP (offset, width): file header and info header. */
const BMP_FIELDS: [string, number, 2 | 4][] = [
  ['pixel offset', 10, 4], ['header size', 14, 4], ['width', 18, 4], ['height', 22, 4], ['bits', 28, 2], ['compression', 30, 4],
  ['colours', 46, 4],
];

const bmpMutations: Record<string, Mutation> = {
  'header field': (bytes, _seed, _seeds, rng) => {
    const [name, at, size] = pick(rng, BMP_FIELDS);
    if (at + size > bytes.length) return undefined;
    const copy = Buffer.from(bytes);
    const value = size === 2 ? pick(rng, [0, 1, 2, 4, 8, 15, 16, 24, 32, 64, 0xffff]) : pick(rng, [...INTERESTING_32, 1, 2, 3, 4, 12, 40, 108, 124]);
    if (size === 2) copy.writeUInt16LE(value & 0xffff, at);
    else copy.writeUInt32LE(value >>> 0, at);
    return { bytes: copy, how: `${name} ${value}` };
  },
};

const netpbmMutations: Record<string, Mutation> = {
  'header token': (bytes, _seed, _seeds, rng) => {
    const text = bytes.toString('latin1', 0, Math.min(bytes.length, 64));
    const tokens = [...text.matchAll(/\d+/g)].slice(1, 4);
    if (!tokens.length) return undefined;
    const token = pick(rng, tokens);
    const replacement = pick(rng, ['0', '1', '65535', '65536', '99999999999', '-1', '4294967297', 'x', '', '#', '00000000007']);
    const at = token.index as number;
    const out = Buffer.concat([bytes.subarray(0, at), Buffer.from(replacement, 'latin1'), bytes.subarray(at + token[0].length)]);
    return { bytes: out, how: `header token ${token[0]} -> '${replacement}'` };
  },
};

const blindMutations: Record<string, Mutation> = {
  bitflip: (bytes, _seed, _seeds, rng) => flipBits(bytes, rng),
  truncate: (bytes, _seed, _seeds, rng) => truncate(bytes, rng),
  splice: (bytes, _seed, seeds, rng) => splice(bytes, pick(rng, seeds).bytes, rng),
};

const BY_FORMAT: Record<ImageFormat, Record<string, Mutation>> = {
  jpeg: jpegMutations, bmp: bmpMutations, netpbm: netpbmMutations, png: {},
};

/** A mutant of `seed`: one to three mutations, format-aware ones two times in three where the format has some. */
export function mutateImage(seed: ImageSeed, seeds: readonly ImageSeed[], rng: Rng): { bytes: Buffer; how: string[] } {
  const aware = Object.entries(BY_FORMAT[seed.format]);
  const blind = Object.entries(blindMutations);
  let bytes = seed.bytes;
  const how: string[] = [];
  const rounds = rng.next() < 0.6 ? 1 : randint(rng, 2, 4);
  for (let attempt = 0; how.length < rounds && attempt < 10 && bytes.length > 0; attempt++) {
    const [name, mutation] = aware.length && rng.next() < 2 / 3 ? pick(rng, aware) : pick(rng, blind);
    const result = mutation(bytes, seed, seeds, rng);
    if (!result) continue;
    bytes = result.bytes;
    how.push(`${name}: ${result.how}`);
  }
  return { bytes, how };
}

// Texts only JavaScript engines, Node, libvips or the C++ runtime write (never a finetorch message).
const INTERNAL_TEXT = /Cannot read propert|undefined is not|is not a function|is not iterable|Invalid typed array length|Invalid array length|Array buffer allocation failed|Maximum call stack|std::|basic_string|vector::/;

/** 'loaded', or 'clear' / 'unclear' (with why) for what a loader threw on `file`. */
export function judgeImageError(err: unknown, file: string): { kind: 'clear' | 'unclear'; message: string; why?: string } {
  const message = err instanceof Error ? err.message : String(err);
  const unclear = (why: string) => ({ kind: 'unclear' as const, message, why });
  if (!(err instanceof Error)) return unclear(`threw ${typeof err}, not an Error`);
  if ((err as { code?: unknown }).code !== 'ERR_FINETORCH_IMAGE_DECODE') return unclear(`code ${String((err as { code?: unknown }).code)}`);
  if (!message.includes(file)) return unclear('does not name the file');
  if (INTERNAL_TEXT.test(message)) return unclear('an internal message');
  return { kind: 'clear', message };
}

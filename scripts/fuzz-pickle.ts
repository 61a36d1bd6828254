// Pickle-aware mutations for the .pth fuzzer: the pickle is split into opcodes (with their
// arguments), one of them is rewritten, dropped, repeated or joined by another, and the bytes are
// put back together, so that mutants get past the opcode decoder and reach the torch semantics
// (storages, tensor rebuilds, globals) behind it.
import { Rng, randint } from '../lib/data/random';
import { OP } from '../lib/pth/opcodes';
import { pick } from './fuzz-bytes';

/** How an opcode's argument is encoded after the opcode byte. */
type Arg = 'none' | 'u1' | 'u2' | 'i4' | 'u8' | 'len1' | 'len4' | 'len8' | 'line' | 'lines2';

const ARGS: Partial<Record<number, Arg>> = {
  [OP.BININT1]: 'u1', [OP.BINGET]: 'u1', [OP.BINPUT]: 'u1', [OP.PROTO]: 'u1', [OP.EXT1]: 'u1',
  [OP.BININT2]: 'u2', [OP.EXT2]: 'u2',
  [OP.BININT]: 'i4', [OP.LONG_BINGET]: 'i4', [OP.LONG_BINPUT]: 'i4', [OP.EXT4]: 'i4',
  [OP.BINFLOAT]: 'u8', [OP.FRAME]: 'u8',
  [OP.SHORT_BINUNICODE]: 'len1', [OP.SHORT_BINSTRING]: 'len1', [OP.SHORT_BINBYTES]: 'len1', [OP.LONG1]: 'len1',
  [OP.BINUNICODE]: 'len4', [OP.BINSTRING]: 'len4', [OP.BINBYTES]: 'len4', [OP.LONG4]: 'len4',
  [OP.BINUNICODE8]: 'len8', [OP.BINBYTES8]: 'len8', [OP.BYTEARRAY8]: 'len8',
  [OP.INT]: 'line', [OP.LONG]: 'line', [OP.FLOAT]: 'line', [OP.STRING]: 'line', [OP.UNICODE]: 'line',
  [OP.GET]: 'line', [OP.PUT]: 'line', [OP.PERSID]: 'line',
  [OP.GLOBAL]: 'lines2', [OP.INST]: 'lines2',
};

const KNOWN = new Set<number>(Object.values(OP));

export interface Op {
  code: number;
  bytes: Buffer;
}

/** The opcodes of the pickle starting at `start`, up to and including STOP; undefined if it does not parse. */
export function splitPickle(buf: Buffer, start = 0): { ops: Op[]; end: number } | undefined {
  const ops: Op[] = [];
  let p = start;
  while (p < buf.length) {
    const code = buf[p];
    if (!KNOWN.has(code)) return undefined;
    const end = argEnd(buf, p + 1, ARGS[code] ?? 'none');
    if (end === undefined || end > buf.length) return undefined;
    ops.push({ code, bytes: buf.subarray(p, end) });
    p = end;
    if (code === OP.STOP) return { ops, end: p };
  }
  return undefined;
}

function argEnd(buf: Buffer, p: number, arg: Arg): number | undefined {
  const fits = (n: number) => (p + n <= buf.length ? p + n : undefined);
  switch (arg) {
    case 'none': return p;
    case 'u1': return fits(1);
    case 'u2': return fits(2);
    case 'i4': return fits(4);
    case 'u8': return fits(8);
    case 'len1': return p < buf.length ? fits(1 + buf[p]) : undefined;
    case 'len4': return p + 4 <= buf.length ? fits(4 + buf.readUInt32LE(p)) : undefined;
    case 'len8': return p + 8 <= buf.length ? fits(8 + Number(buf.readBigUInt64LE(p))) : undefined;
    case 'line': {
      const nl = buf.indexOf(0x0a, p);
      return nl < 0 ? undefined : nl + 1;
    }
    case 'lines2': {
      const first = buf.indexOf(0x0a, p);
      const second = first < 0 ? -1 : buf.indexOf(0x0a, first + 1);
      return second < 0 ? undefined : second + 1;
    }
  }
}

/** Integers at the edges of every field the reader sizes, counts or indexes with. */
export const INTERESTING_INTS: readonly bigint[] = [
  0n, 1n, 2n, 3n, 4n, 7n, 8n, -1n, -2n, 127n, 128n, 255n, 256n, 0x7fffn, 0xffffn, 0x10000n,
  2n ** 20n, 2n ** 26n, 2n ** 30n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n,
  2n ** 40n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n,
];

// Strings the reader compares against: record kinds, checkpoint keys, names that need care.
const INTERESTING_STRINGS = [
  '', 'storage', 'cpu', 'cuda:0', '0', '1', 'state_dict', 'model', 'module.', 'fc.weight', 'fc.bias',
  '__proto__', 'constructor', 'module.fc.weight', 'x'.repeat(300), '\u{1F600}', 'little',
];

// Globals: the allowed ones (reaching deeper), and ones that must be refused by name.
const GLOBALS = [
  'torch._utils\n_rebuild_tensor_v2\n', 'torch._utils\n_rebuild_tensor\n', 'torch._utils\n_rebuild_parameter\n',
  'torch._utils\n_rebuild_parameter_with_state\n', 'collections\nOrderedDict\n', 'torch\nFloatStorage\n',
  'torch\nLongStorage\n', 'torch\nHalfStorage\n', 'torch\nBoolStorage\n', 'torch.storage\nUntypedStorage\n',
  'os\nsystem\n', 'builtins\neval\n', '__builtin__\nset\n', 'torch\nTensor\n', 'torch.nn.modules.linear\nLinear\n',
];

/** One of `items`, uniformly. */
/** Opcodes (with arguments) worth inserting: structure, calls, memo and the refused ones. */
function randomOp(rng: Rng): Buffer {
  const simple = [OP.MARK, OP.STOP, OP.POP, OP.POP_MARK, OP.DUP, OP.NONE, OP.NEWTRUE, OP.EMPTY_DICT, OP.EMPTY_LIST,
    OP.EMPTY_TUPLE, OP.TUPLE, OP.TUPLE1, OP.TUPLE2, OP.TUPLE3, OP.APPEND, OP.APPENDS, OP.SETITEM, OP.SETITEMS,
    OP.BUILD, OP.REDUCE, OP.NEWOBJ, OP.NEWOBJ_EX, OP.BINPERSID, OP.STACK_GLOBAL, OP.MEMOIZE, OP.OBJ, OP.DICT,
    OP.LIST, OP.EMPTY_SET, OP.FROZENSET, OP.ADDITEMS, OP.NEXT_BUFFER];
  switch (randint(rng, 0, 8)) {
    case 0: return Buffer.from([pick(rng, simple)]);
    case 1: return Buffer.from([OP.BINGET, randint(rng, 0, 16)]);
    case 2: return Buffer.from([OP.BINPUT, randint(rng, 0, 16)]);
    case 3: return encodeInt(pick(rng, INTERESTING_INTS), rng);
    case 4: return encodeStr(pick(rng, INTERESTING_STRINGS));
    case 5: return Buffer.concat([Buffer.from([rng.next() < 0.8 ? OP.GLOBAL : OP.INST]), Buffer.from(pick(rng, GLOBALS))]);
    case 6: return Buffer.from([pick(rng, [OP.EXT1, OP.PROTO, OP.BININT1]), randint(rng, 0, 256)]);
    default: return Buffer.from([randint(rng, 0, 256)]);
  }
}

/** An int as pickle writes it: BININT1/BININT2/BININT when it fits, else LONG1 (or a chosen wider form). */
export function encodeInt(value: bigint, rng: Rng): Buffer {
  const wide = rng.next() < 0.2;
  if (!wide && value >= 0n && value < 256n) return Buffer.from([OP.BININT1, Number(value)]);
  if (!wide && value >= 0n && value < 65536n) return Buffer.from([OP.BININT2, Number(value) & 0xff, Number(value) >> 8]);
  if (value >= -(2n ** 31n) && value < 2n ** 31n && rng.next() < 0.7) {
    const b = Buffer.alloc(5);
    b[0] = OP.BININT;
    b.writeInt32LE(Number(value), 1);
    return b;
  }
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.push(Number(rest & 0xffn));
    rest >>= 8n;
  } while (!((rest === 0n && !(bytes[bytes.length - 1] & 0x80)) || (rest === -1n && bytes[bytes.length - 1] & 0x80)));
  return Buffer.from([OP.LONG1, bytes.length, ...bytes]);
}

function encodeStr(value: string): Buffer {
  const text = Buffer.from(value, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = OP.BINUNICODE;
  head.writeUInt32LE(text.length, 1);
  return Buffer.concat([head, text]);
}

const INT_OPS = new Set<number>([OP.BININT1, OP.BININT2, OP.BININT, OP.LONG1]);
const STR_OPS = new Set<number>([OP.BINUNICODE, OP.SHORT_BINUNICODE, OP.BINSTRING, OP.SHORT_BINSTRING]);

/** One rewrite of the opcode list; returns a description of what it did. */
export function mutateOps(ops: Op[], rng: Rng): string {
  const at = randint(rng, 0, Math.max(ops.length - 1, 1)); // rarely the final STOP
  const ints = ops.map((op, i) => (INT_OPS.has(op.code) ? i : -1)).filter((i) => i >= 0);
  const strs = ops.map((op, i) => (STR_OPS.has(op.code) ? i : -1)).filter((i) => i >= 0);
  const globals = ops.map((op, i) => (op.code === OP.GLOBAL ? i : -1)).filter((i) => i >= 0);
  const choice = rng.next();
  if (choice < 0.3 && ints.length) {
    const i = pick(rng, ints);
    const value = pick(rng, INTERESTING_INTS);
    ops[i] = { code: OP.BININT, bytes: encodeInt(value, rng) };
    return `int #${i} -> ${value}`;
  }
  if (choice < 0.4 && strs.length) {
    const i = pick(rng, strs);
    const seen = strs.map((j) => ops[j].bytes.subarray(ops[j].code === OP.BINUNICODE || ops[j].code === OP.BINSTRING ? 5 : 2).toString('utf8'));
    const value = rng.next() < 0.5 ? pick(rng, seen) : pick(rng, INTERESTING_STRINGS);
    ops[i] = { code: OP.BINUNICODE, bytes: encodeStr(value) };
    return `str #${i} -> '${value.slice(0, 20)}'`;
  }
  if (choice < 0.45 && globals.length) {
    const i = pick(rng, globals);
    const name = pick(rng, GLOBALS);
    ops[i] = { code: OP.GLOBAL, bytes: Buffer.concat([Buffer.from([OP.GLOBAL]), Buffer.from(name)]) };
    return `global #${i} -> ${name.replace('\n', '.').trim()}`;
  }
  if (choice < 0.6) {
    ops.splice(at, 1);
    return `drop op #${at}`;
  }
  if (choice < 0.7) {
    ops.splice(at, 0, ops[at]);
    return `repeat op #${at}`;
  }
  if (choice < 0.78 && at + 1 < ops.length) {
    [ops[at], ops[at + 1]] = [ops[at + 1], ops[at]];
    return `swap ops #${at}, #${at + 1}`;
  }
  if (choice < 0.88) {
    const code = randint(rng, 0, 256);
    const bytes = Buffer.from(ops[at].bytes);
    bytes[0] = code;
    ops[at] = { code, bytes };
    return `opcode #${at} -> 0x${code.toString(16)}`;
  }
  const inserted = randomOp(rng);
  ops.splice(at, 0, { code: inserted[0], bytes: inserted });
  return `insert ${inserted.subarray(0, 12).toString('hex')} at #${at}`;
}

export function joinOps(ops: Op[]): Buffer {
  return Buffer.concat(ops.map((op) => op.bytes));
}

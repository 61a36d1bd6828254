// A restricted unpickler: it builds plain data (see value.ts) and calls nothing but the Python
// globals its caller allows, as torch.load(weights_only=True) does. Nothing in the file is run.
import { OP, opcodeName } from './opcodes';
import { describeKind } from './value';
import { FinetorchError } from '../base/errors';
import { codecError } from './error';

/** A Python global that the caller allows; `call` is what REDUCE/NEWOBJ on it builds. */
export class PyGlobal {
  constructor(readonly qualname: string, readonly call?: (args: readonly unknown[]) => unknown) {}
}

export interface UnpickleHooks {
  /** The allowed global `module.name`; throws for anything else. */
  findGlobal(module: string, name: string): PyGlobal;
  /** The object a persistent id (BINPERSID) stands for; throws for unknown ids. */
  persistentLoad(pid: unknown): unknown;
}

const MAX_PROTOCOL = 5;

/** The pickle runs past the end of the bytes given: a truncated file, or too short a head of one. */
export class TruncatedPickle extends FinetorchError {
  constructor(detail: string, options?: ErrorOptions) {
    super('ERR_FINETORCH_PTH', detail, options);
  }
}

/**
 * Unpickles the pickle that starts at `start`; returns its value and the offset after STOP.
 * Errors name `label` and the offset of the opcode that failed.
 * @internal
 */
export function unpickle(buf: Buffer, start: number, hooks: UnpickleHooks, label: string): { value: unknown; end: number } {
  let pos = start;
  let at = start; // the opcode being run
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string): never => {
    throw codecError(message);
  };
  const need = (n: number): number => {
    if (n > buf.length - pos) throw new TruncatedPickle(`needs ${n} more bytes but the data ends (truncated or corrupt file)`);
    pos += n;
    return pos - n;
  };
  const bytes = (length: number): Buffer => buf.subarray(need(length), pos);
  const text = (length: number): string => bytes(length).toString('utf8');
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw new TruncatedPickle('unterminated GLOBAL name');
    return text(end + 1 - pos).slice(0, -1);
  };
  const pop = (): unknown => (stack.length ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const items = stack;
    stack = marks.pop() ?? fail('no MARK to pop to');
    return items;
  };
  const memoGet = (key: number): unknown => (memo.has(key) ? memo.get(key) : fail(`memo key ${key} was never stored`));
  const dictOn = (value: unknown): Map<unknown, unknown> =>
    value instanceof Map ? value : fail(`can only set items on a dict, not on ${kindOf(value)}`);
  const listOn = (value: unknown): unknown[] =>
    Array.isArray(value) && !Object.isFrozen(value) ? value : fail(`can only append to a list, not to ${kindOf(value)}`);
  // copyreg's extension registry maps codes to globals; nothing registers any for a .pth file.
  const extension = (code: number): never => fail(`refusing extension code ${code}: a Python global named through copyreg's registry, which a .pth file cannot use`);
  const callGlobal = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal) || !fn.call) return fail(`refusing to call ${kindOf(fn)}`);
    if (!Array.isArray(args)) return fail(`arguments to ${fn.qualname} are not a tuple`);
    return fn.call(args);
  };

  try {
    return run();
  } catch (err) {
    const detail = `${label}, byte ${at}: ${(err as Error).message}`;
    throw err instanceof TruncatedPickle ? new TruncatedPickle(detail, { cause: err }) : codecError(detail, { cause: err });
  }

  function run(): { value: unknown; end: number } {
    for (;;) {
      at = pos;
      const op = buf[need(1)];
      switch (op) {
        case OP.PROTO: {
          const protocol = buf[need(1)];
          if (protocol > MAX_PROTOCOL) fail(`unsupported pickle protocol ${protocol}`);
          break;
        }
        case OP.FRAME: need(8); break; // framing is only a read-ahead hint
        case OP.STOP: {
          if (stack.length !== 1 || marks.length) fail('STOP with a malformed stack');
          return { value: stack[0], end: pos };
        }
        case OP.MARK: marks.push(stack); stack = []; break;
        case OP.NONE: stack.push(null); break;
        case OP.NEWTRUE: stack.push(true); break;
        case OP.NEWFALSE: stack.push(false); break;
        case OP.BININT: stack.push(buf.readInt32LE(need(4))); break;
        case OP.BININT1: stack.push(buf[need(1)]); break;
        case OP.BININT2: stack.push(buf.readUInt16LE(need(2))); break;
        case OP.LONG1: stack.push(decodeLong(bytes(buf[need(1)]))); break;
        case OP.BINFLOAT: stack.push(buf.readDoubleBE(need(8))); break;
        case OP.SHORT_BINUNICODE:
        case OP.SHORT_BINSTRING: stack.push(text(buf[need(1)])); break;
        case OP.BINUNICODE: stack.push(text(buf.readUInt32LE(need(4)))); break;
        // Python 2 str: torch.load decodes it as UTF-8 too.
        case OP.BINSTRING: {
          const n = buf.readInt32LE(need(4));
          if (n < 0) fail('negative string length');
          stack.push(text(n));
          break;
        }
        case OP.EMPTY_DICT: stack.push(new Map()); break;
        case OP.EMPTY_LIST: stack.push([]); break;
        case OP.EMPTY_TUPLE: stack.push(Object.freeze([])); break;
        case OP.TUPLE: {
          const items = popMark(); // before `stack.push`, which would otherwise bind the inner stack
          stack.push(Object.freeze(items));
          break;
        }
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = op - OP.TUPLE1 + 1;
          if (stack.length < n) fail('stack underflow');
          stack.push(Object.freeze(stack.splice(stack.length - n, n)));
          break;
        }
        case OP.APPEND: {
          const item = pop();
          listOn(top()).push(item);
          break;
        }
        case OP.APPENDS: {
          const items = popMark();
          const list = listOn(top());
          for (const item of items) list.push(item);
          break;
        }
        case OP.SETITEM: {
          const value = pop();
          const key = pop();
          dictOn(top()).set(key, value);
          break;
        }
        case OP.SETITEMS: {
          const items = popMark();
          if (items.length % 2) fail('SETITEMS with an odd number of items');
          const dict = dictOn(top());
          for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
          break;
        }
        case OP.BINPUT: memo.set(buf[need(1)], top()); break;
        case OP.LONG_BINPUT: memo.set(buf.readUInt32LE(need(4)), top()); break;
        case OP.MEMOIZE: memo.set(memo.size, top()); break;
        case OP.BINGET: stack.push(memoGet(buf[need(1)])); break;
        case OP.LONG_BINGET: stack.push(memoGet(buf.readUInt32LE(need(4)))); break;
        case OP.GLOBAL: {
          const module = line();
          stack.push(hooks.findGlobal(module, line()));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
          stack.push(hooks.findGlobal(module as string, name as string));
          break;
        }
        case OP.REDUCE:
        case OP.NEWOBJ: {
          const args = pop();
          stack.push(callGlobal(pop(), args));
          break;
        }
        // The protocol 0/1 ways to build an object: the class is checked like any other global.
        case OP.INST: {
          const module = line();
          const cls = hooks.findGlobal(module, line());
          const args = Object.freeze(popMark()); // before `stack.push`, as for TUPLE
          stack.push(callGlobal(cls, args));
          break;
        }
        case OP.OBJ: {
          const [cls, ...args] = popMark();
          if (cls === undefined) fail('OBJ without a class');
          stack.push(callGlobal(cls, Object.freeze(args)));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          if (!(kwargs instanceof Map) || kwargs.size) fail(`keyword arguments to ${kindOf(cls)} are not supported`);
          stack.push(callGlobal(cls, args));
          break;
        }
        case OP.EXT1: extension(buf[need(1)]); break;
        case OP.EXT2: extension(buf.readUInt16LE(need(2))); break;
        case OP.EXT4: extension(buf.readInt32LE(need(4))); break;
        case OP.BUILD: {
          // Only dicts take state (an OrderedDict's attributes such as a state dict's _metadata);
          // it holds nothing tensors need, so it is checked and dropped.
          const state = pop();
          if (!(top() instanceof Map) || !(state instanceof Map || state === null)) {
            fail(`BUILD of ${kindOf(top())} is not allowed`);
          }
          break;
        }
        case OP.BINPERSID: stack.push(hooks.persistentLoad(pop())); break;
        default:
          fail(`unsupported opcode ${opcodeName(op)}`);
      }
    }
  }
}

/** Little-endian two's complement, as LONG1 stores ints; a number when it is a safe integer. */
function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes.length && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function kindOf(value: unknown): string {
  return value instanceof PyGlobal ? value.qualname : describeKind(value);
}

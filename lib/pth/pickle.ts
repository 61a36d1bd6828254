// A pickle writer for the opcodes torch.save uses (protocol 2), so that every torch.load,
// 1.13's weights_only unpickler included, reads what we write.
import { OP } from './opcodes';
import { codecError } from './error';

export class Pickler {
  #buf = Buffer.alloc(4096);
  #length = 0;

  constructor() {
    this.op(OP.PROTO);
    this.#byte(2);
  }

  op(code: number): void {
    this.#byte(code);
  }

  none(): void {
    this.op(OP.NONE);
  }

  bool(value: boolean): void {
    this.op(value ? OP.NEWTRUE : OP.NEWFALSE);
  }

  int(value: number | bigint): void {
    const n = BigInt(value);
    if (n >= 0n && n < 0x100n) {
      this.op(OP.BININT1);
      this.#byte(Number(n));
    } else if (n >= 0n && n < 0x10000n) {
      this.op(OP.BININT2);
      this.#room(2);
      this.#length = this.#buf.writeUInt16LE(Number(n), this.#length);
    } else if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      this.op(OP.BININT);
      this.#room(4);
      this.#length = this.#buf.writeInt32LE(Number(n), this.#length);
    } else {
      const bytes = twosComplement(n);
      // LONG4 would carry more, but torch 1.13's weights_only unpickler only knows LONG1.
      if (bytes.length > 0xff) throw codecError(`integer ${n} is too large to save`);
      this.op(OP.LONG1);
      this.#byte(bytes.length);
      this.#raw(bytes);
    }
  }

  float(value: number): void {
    this.op(OP.BINFLOAT);
    this.#room(8);
    this.#length = this.#buf.writeDoubleBE(value, this.#length);
  }

  str(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.op(OP.BINUNICODE);
    this.#room(4);
    this.#length = this.#buf.writeUInt32LE(bytes.length, this.#length);
    this.#raw(bytes);
  }

  global(module: string, name: string): void {
    this.op(OP.GLOBAL);
    this.#raw(Buffer.from(`${module}\n${name}\n`, 'utf8'));
  }

  /** A tuple of `count` items, which `items` writes. */
  tuple(count: number, items: () => void): void {
    if (count === 0) return this.op(OP.EMPTY_TUPLE);
    if (count > 3) this.op(OP.MARK);
    items();
    this.op(count > 3 ? OP.TUPLE : OP.TUPLE1 + count - 1);
  }

  /** Adds the items that `items` writes to the list or dict on top of the stack (APPENDS/SETITEMS). */
  extend(opcode: typeof OP.APPENDS | typeof OP.SETITEMS, count: number, items: () => void): void {
    if (count === 0) return;
    this.op(OP.MARK);
    items();
    this.op(opcode);
  }

  /** The finished pickle. */
  end(): Buffer {
    this.op(OP.STOP);
    return this.#buf.subarray(0, this.#length);
  }

  #byte(value: number): void {
    this.#room(1);
    this.#buf[this.#length++] = value;
  }

  #raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #room(n: number): void {
    if (this.#length + n <= this.#buf.length) return;
    const grown = Buffer.alloc(Math.max(this.#buf.length * 2, this.#length + n));
    this.#buf.copy(grown, 0, 0, this.#length);
    this.#buf = grown;
  }
}

/** The shortest little-endian two's complement bytes of n, as LONG1 stores ints. */
function twosComplement(n: bigint): Uint8Array {
  const bytes: number[] = [];
  let rest = n;
  for (;;) {
    const low = Number(rest & 0xffn);
    bytes.push(low);
    rest >>= 8n;
    // Done once the rest is pure sign extension of the last byte's top bit.
    if ((rest === 0n && !(low & 0x80)) || (rest === -1n && low & 0x80)) return Uint8Array.from(bytes);
  }
}

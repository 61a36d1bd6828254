// Protocol Buffers' wire format, as much of it as an ONNX file needs: varints (int32, int64 and
// enums; a negative value takes ten bytes of two's complement), 32-bit floats, and length-delimited
// fields (strings, bytes, nested messages). Messages are built bottom-up, so a nested message's
// length is known when it is added. Large byte fields (tensor data) stay views of the caller's
// memory: a message is a list of chunks, written to a file one after another, never joined into
// one buffer.
import { rangeError } from '../base/errors';

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Byte fields at least this long are kept by reference; shorter ones are copied into the message. */
const BY_REFERENCE = 64 * 1024;

const utf8 = new TextEncoder();

export class ProtoWriter {
  /** Finished chunks, in order: stretches of small fields and large byte fields by reference. */
  readonly #chunks: Uint8Array[] = [];
  #buffer = new Uint8Array(256);
  #used = 0;
  #length = 0;

  /** The encoded size so far, in bytes. */
  get byteLength(): number {
    return this.#length;
  }

  /** An int32, int64 or enum field. */
  int(field: number, value: number | bigint): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** A float (fixed32) field. */
  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#append(bytes);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  bytes(field: number, data: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(data.byteLength);
    if (data.byteLength >= BY_REFERENCE) this.#reference(data);
    else this.#append(data);
    return this;
  }

  /** A nested message; `child` must not change afterwards (its large chunks are shared). */
  message(field: number, child: ProtoWriter): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(child.byteLength);
    for (const chunk of child.finish()) {
      if (chunk.byteLength >= BY_REFERENCE) this.#reference(chunk);
      else this.#append(chunk);
    }
    return this;
  }

  /** The encoded message as chunks to be written in order. */
  finish(): Uint8Array[] {
    this.#flush();
    return this.#chunks;
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number | bigint): void {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw rangeError('ERR_FINETORCH_ONNX', `protobuf: ${value} is not an integer`);
    // Negative int32/int64 values are sent as their 64-bit two's complement.
    let rest = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (rest >= 0x80n) {
      bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(Number(rest));
    this.#append(bytes);
  }

  #append(bytes: ArrayLike<number>): void {
    if (this.#used + bytes.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#used + bytes.length));
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
    this.#length += bytes.length;
  }

  #reference(data: Uint8Array): void {
    this.#flush();
    this.#chunks.push(data);
    this.#length += data.byteLength;
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#chunks.push(this.#buffer.slice(0, this.#used));
    this.#used = 0;
  }
}

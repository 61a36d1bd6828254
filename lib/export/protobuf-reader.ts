// Reading Protocol Buffers' wire format from bytes, as much as finding fields needs: field headers,
// varints, and skipping what is not wanted. Every read checks its bounds; a malformed message is an
// Error naming the offset, never a read past the end or a number that lost precision.
import { FinetorchError } from '../base/errors';

export const WIRE = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export class ProtoReader {
  #at = 0;

  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get position(): number {
    return this.#at;
  }

  get done(): boolean {
    return this.#at >= this.#bytes.length;
  }

  /** A field header: its number and wire type (groups, wire types 3 and 4, are refused). */
  tag(): { field: number; wireType: number } {
    const start = this.#at;
    const key = this.varint();
    const wireType = key % 8;
    const field = Math.floor(key / 8);
    if (field === 0 || ![WIRE.varint, WIRE.fixed64, WIRE.lengthDelimited, WIRE.fixed32].includes(wireType as 0)) {
      throw new FinetorchError('ERR_FINETORCH_ONNX', `field header ${key} at offset ${start} is no valid field (number ${field}, wire type ${wireType})`);
    }
    return { field, wireType };
  }

  /** An unsigned varint up to 2^53 - 1: lengths and field headers. */
  varint(): number {
    const start = this.#at;
    let value = 0;
    for (let shift = 0; shift < 53; shift += 7) {
      if (this.#at >= this.#bytes.length) throw new FinetorchError('ERR_FINETORCH_ONNX', `varint at offset ${start} runs past the end`);
      const byte = this.#bytes[this.#at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
    }
    throw new FinetorchError('ERR_FINETORCH_ONNX', `varint at offset ${start} is over 2^53`);
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const start = this.#at;
    const length = this.varint();
    if (length > this.#bytes.length - this.#at) throw new FinetorchError('ERR_FINETORCH_ONNX', `field at offset ${start} declares ${length} bytes, past the end`);
    this.#at += length;
    return this.#bytes.subarray(this.#at - length, this.#at);
  }

  /** Skips a field's value of `wireType`. */
  skip(wireType: number): void {
    if (wireType === WIRE.varint) this.#skipVarint();
    else if (wireType === WIRE.lengthDelimited) this.bytesField();
    else this.#advance(wireType === WIRE.fixed64 ? 8 : 4);
  }

  /** Any varint, up to the ten bytes of a negative int64. */
  #skipVarint(): void {
    const start = this.#at;
    for (let i = 0; i < 10; i++) {
      if (this.#at >= this.#bytes.length) throw new FinetorchError('ERR_FINETORCH_ONNX', `varint at offset ${start} runs past the end`);
      if (this.#bytes[this.#at++] < 0x80) return;
    }
    throw new FinetorchError('ERR_FINETORCH_ONNX', `varint at offset ${start} is longer than ten bytes`);
  }

  #advance(count: number): void {
    if (count > this.#bytes.length - this.#at) throw new FinetorchError('ERR_FINETORCH_ONNX', `a fixed-size value at offset ${this.#at} runs past the end`);
    this.#at += count;
  }
}

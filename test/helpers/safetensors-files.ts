// Hand-made safetensors files for the codec's tests.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A maker of files of an 8-byte length, `header` (a string or an object made JSON) and `data`,
 * written in `dir` under names of their own.
 */
export function safetensorsWriter(dir: string): (header: string | Buffer | object, data?: Uint8Array, length?: bigint) => string {
  let n = 0;
  return (header, data = new Uint8Array(0), length) => {
    const json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(length ?? BigInt(json.length));
    const file = path.join(dir, `f${n++}.safetensors`);
    fs.writeFileSync(file, Buffer.concat([prefix, json, data]));
    return file;
  };
}

/** One tensor's entry of a header. */
export const safetensorsInfo = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

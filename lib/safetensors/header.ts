// The layout of a safetensors file, checked as the reference implementation checks it
// (huggingface/safetensors, SafeTensors::read_metadata and Metadata::validate): an 8-byte
// little-endian header length N of at most 100,000,000, N bytes of UTF-8 JSON, then the byte
// buffer. Sorted by their data_offsets, the tensors must tile the buffer exactly: each begins where
// the one before it ends (no overlap, no gap), spans its dtype's size times its element count, and
// the last ends at the end of the file.
import { isUtf8 } from 'node:buffer';
import { Budget } from '../pth/budget';
import { SafetensorsDType, bitsOf, isSafetensorsDType, SAFETENSORS_DTYPES } from './dtypes';
import { parseHeaderJson, quote } from './json';
import { codecError } from './error';

/** The reference implementation's MAX_HEADER_SIZE. */
export const MAX_HEADER_BYTES = 100_000_000;
/** The header length field. */
export const LENGTH_BYTES = 8;

/** One tensor of the file: where its bytes lie (`position`: in the file). */
export interface TensorPlace {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Begin and end in the byte buffer, as the header gives them. */
  dataOffsets: [number, number];
  position: number;
  byteLength: number;
}

export interface Layout {
  /** N, the JSON header's length in bytes. */
  headerBytes: number;
  metadata: Map<string, string> | undefined;
  /** In the order of their bytes in the file. */
  tensors: TensorPlace[];
}

/**
 * N, read from the file's first 8 bytes and checked against the file's size, or a message saying
 * why those bytes cannot start a safetensors file.
 */
export function headerLength(first: Uint8Array, fileSize: number): number | string {
  if (first.length < LENGTH_BYTES) return `${fileSize} bytes are too few for the 8-byte header length`;
  const n = Buffer.from(first.buffer, first.byteOffset, LENGTH_BYTES).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) return `the header length ${n} is over the format's limit of ${MAX_HEADER_BYTES} bytes`;
  if (Number(n) + LENGTH_BYTES > fileSize) return `the header length ${n} runs past the end of the ${fileSize}-byte file (truncated file?)`;
  return Number(n);
}

/** Whether the first bytes of a file are those of a safetensors file: a plausible N, then '{'. */
export function looksLikeSafetensors(first: Uint8Array, fileSize: number): boolean {
  const n = headerLength(first, fileSize);
  if (typeof n === 'string') return false;
  for (let i = LENGTH_BYTES; i < Math.min(first.length, LENGTH_BYTES + n); i++) {
    if (first[i] === 0x7b) return true;
    if (first[i] !== 0x20 && first[i] !== 0x0a && first[i] !== 0x0d && first[i] !== 0x09) return false;
  }
  return false;
}

/** The file's layout from its JSON header (the N bytes after the length); `fileSize` bounds the buffer. */
export function layoutOf(header: Uint8Array, fileSize: number, budget: Budget): Layout {
  if (!isUtf8(header)) throw codecError('the JSON header is not valid UTF-8');
  const { metadata, entries } = parseHeaderJson(header, (bytes, what) => budget.spend(bytes, `${what} in the header`));
  const tensors = entries.map(({ name, dtype, shape, dataOffsets }) => {
    if (!isSafetensorsDType(dtype)) {
      throw codecError(`tensor ${quote(name)} has dtype ${quote(dtype)}, which is not one of the format's (${SAFETENSORS_DTYPES.join(', ')})`);
    }
    return { name, dtype, shape, dataOffsets, position: 0, byteLength: dataOffsets[1] - dataOffsets[0] };
  });
  // Sorted as the reference sorts: by (begin, end).
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const dataStart = LENGTH_BYTES + header.length;
  let end = 0;
  let previous: string | undefined;
  for (const t of tensors) {
    const [begin, stop] = t.dataOffsets;
    const what = `tensor ${quote(t.name)} (data_offsets [${begin}, ${stop}])`;
    if (stop < begin) throw codecError(`${what} ends before it begins`);
    if (begin < end) throw codecError(`${what} overlaps ${quote(previous!)}, which ends at ${end}`);
    if (begin > end) throw codecError(`${what} leaves bytes ${end}..${begin} of the buffer unused (the format allows no gaps)`);
    const bytes = byteSize(t.dtype, t.shape, t.name);
    if (bytes !== stop - begin) {
      throw codecError(`${what} spans ${stop - begin} bytes, but ${t.dtype} [${t.shape.join(', ')}] takes ${bytes}`);
    }
    t.position = dataStart + begin;
    end = stop;
    previous = t.name;
  }
  if (dataStart + end !== fileSize) {
    throw codecError(`the tensors cover ${end} bytes after the ${header.length}-byte header, but the file holds ` +
      `${fileSize - dataStart} there (${dataStart + end > fileSize ? 'truncated file?' : 'bytes no tensor uses'})`);
  }
  return { headerBytes: header.length, metadata, tensors };
}

/** Bytes of `shape` elements of `dtype`, with the reference's overflow and whole-byte checks (in 64 bits). */
function byteSize(dtype: SafetensorsDType, shape: readonly number[], name: string): number {
  const limit = 2n ** 64n;
  let count = 1n;
  for (const dim of shape) {
    count *= BigInt(dim);
    if (count >= limit) throw codecError(`tensor ${quote(name)} of shape [${shape.join(', ')}] has more elements than 64 bits count`);
  }
  const bits = count * BigInt(bitsOf(dtype));
  if (bits >= limit) throw codecError(`tensor ${quote(name)} of shape [${shape.join(', ')}] has more bits than 64 bits count`);
  if (bits % 8n) throw codecError(`tensor ${quote(name)}: ${count} ${dtype} elements do not fill a whole number of bytes`);
  return Number(bits / 8n);
}

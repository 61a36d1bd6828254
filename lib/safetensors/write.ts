// saveSafetensors: a state dict -> a safetensors file laid out as safetensors.torch.save_file lays
// it out (tensors by decreasing dtype alignment, then by name; the header padded with spaces to a
// multiple of 8 bytes, so every tensor starts aligned), written to a temporary file and renamed.
import { writeFileAtomic } from '../base/atomic';
import { checkArg, checkOptions, custom, describe, str } from '../base/check';
import { rangeError, typeError } from '../base/errors';
import type { StateDict } from '../pth/value';
import { HostTensor, checkHostTensor } from '../base/tensor';
import { SafetensorsDType, alignmentRank, safetensorsDType } from './dtypes';
import { codecError, withFile } from './error';
import { LENGTH_BYTES, MAX_HEADER_BYTES } from './header';

export interface SafetensorsWriteOptions {
  /** `__metadata__`: free-form text, e.g. { format: 'pt' } as transformers writes. */
  metadata?: Map<string, string> | Record<string, string>;
}

export type SafetensorsTensors = StateDict | Record<string, HostTensor>;

const METADATA_KEY = '__metadata__';
// With the u flag a surrogate pair is one code point: this matches only lone surrogates, which
// JSON.stringify escapes and Python's safetensors refuses to read.
const LONE_SURROGATE = /\p{Cs}/u;

function isText(value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value);
}

/**
 * Saves tensors by name in the safetensors format, as safetensors.torch.save_file(tensors, file,
 * metadata) does (Python's safetensors and timm load the file):
 *
 *     await saveSafetensors('model.safetensors', await net.stateDict());
 */
export async function saveSafetensors(file: string, tensors: SafetensorsTensors, options: SafetensorsWriteOptions = {}): Promise<void> {
  const where = 'saveSafetensors';
  checkArg(where, 'file', file, str());
  const { metadata } = checkOptions(where, options, { metadata: custom<SafetensorsWriteOptions['metadata']>('a Map or object of strings (without lone surrogates)', isStringMap).orUndefined() });
  const entries = namedTensors(where, tensors);
  await withFile(file, async () => {
    const { header, order } = headerFor(entries, metadata);
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeBigUInt64LE(BigInt(header.length));
    const data = order.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    await writeFileAtomic(file, [length, header, ...data]);
  });
}

function isStringMap(value: unknown): boolean {
  const entries = value instanceof Map ? [...value] : typeof value === 'object' && value !== null ? Object.entries(value) : undefined;
  return entries !== undefined && entries.every(([k, v]) => isText(k) && isText(v));
}

/** The tensors as checked [name, tensor] pairs. */
function namedTensors(where: string, tensors: unknown): [string, HostTensor][] {
  if (!(tensors instanceof Map) && (typeof tensors !== 'object' || tensors === null)) {
    throw typeError('ERR_FINETORCH_INVALID_ARG', `${where}: tensors must be a Map or an object of HostTensors, got ${describe(tensors)}`);
  }
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, tensor] of entries) {
    if (!isText(name) || name === METADATA_KEY) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: tensor names must be strings other than '${METADATA_KEY}' (without lone surrogates), ` +
        `got ${describe(name)}`);
    }
    checkHostTensor(tensor as HostTensor, `${where}: tensors['${name}']`);
  }
  return entries as [string, HostTensor][];
}

/** The JSON header, padded, and the tensors in the order their bytes follow it. */
function headerFor(entries: [string, HostTensor][], metadata: SafetensorsWriteOptions['metadata']): { header: Buffer; order: [string, HostTensor][] } {
  const keyed = entries.map(([name, tensor]) => ({ name, tensor, dtype: safetensorsDType(tensor.dtype), key: Buffer.from(name) }));
  // safetensors compares names as Rust strings: byte by byte in UTF-8.
  keyed.sort((a, b) => alignmentRank(b.dtype) - alignmentRank(a.dtype) || Buffer.compare(a.key, b.key));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const pairs = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor, dtype } of keyed) {
    const end = offset + tensor.data.byteLength;
    parts.push(`${JSON.stringify(name)}:${tensorInfo(dtype, tensor.shape, offset, end)}`);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / LENGTH_BYTES) * LENGTH_BYTES;
  if (padded > MAX_HEADER_BYTES) throw codecError(`the header would take ${padded} bytes, over the format's limit of ${MAX_HEADER_BYTES}`);
  const header = Buffer.alloc(padded, ' ');
  json.copy(header);
  return { header, order: keyed.map(({ name, tensor }) => [name, tensor]) };
}

function tensorInfo(dtype: SafetensorsDType, shape: readonly number[], begin: number, end: number): string {
  return `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${begin},${end}]}`;
}

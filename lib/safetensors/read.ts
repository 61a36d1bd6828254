// Reading safetensors files: the whole state dict (safetensors.torch.load_file), the header alone
// (safe_open(...).metadata() and the tensors' dtypes and shapes), or where each tensor lies, for
// loading them straight into a model.
import { Budget, checkReadArgs } from '../pth/budget';
import { bufferSource, ByteSource, readWholeFile, withFileSource } from '../pth/source';
import type { StoredTensor } from '../base/tensor';
import type { StateDict } from '../pth/value';
import { elementSize, typedArrayFrom } from '../base/tensor';
import { SafetensorsDType, hostDType } from './dtypes';
import { codecError, withFile } from './error';
import { LENGTH_BYTES, Layout, headerLength, layoutOf } from './header';
import { quote } from './json';

export interface SafetensorsReadOptions {
  /**
   * How many bytes reading may add to the file's own: what the JSON header's names, shapes and
   * metadata take once parsed, and tensors copied because their bytes are not aligned to their
   * dtype's size in the file. Default: the file's size plus 1 MiB. A file over budget is refused
   * before the allocation (a SafetensorsError).
   */
  maxBytes?: number;
}

/** What the header says, without the tensors' bytes. */
export interface SafetensorsHeader {
  /** The JSON header's length in bytes. */
  headerBytes: number;
  /** `__metadata__` (empty when the file has none). */
  metadata: Map<string, string>;
  /** In the order of their bytes in the file; `dtype` is the format's name (F32, BF16, ...). */
  tensors: { name: string; dtype: SafetensorsDType; shape: number[]; dataOffsets: [number, number] }[];
}

/**
 * The tensors of a safetensors file, by name in the order of their bytes (as
 * safetensors.torch.load_file). Each is a view of one buffer holding the file where its bytes are
 * aligned to its dtype (files that safetensors writes always are), a copy otherwise.
 */
export async function loadSafetensors(file: string, options: SafetensorsReadOptions = {}): Promise<StateDict> {
  const { maxBytes } = checkReadArgs('loadSafetensors', file, options);
  return withFile(file, async () => {
    const bytes = await readWholeFile(file);
    const budget = new Budget(bytes.length, maxBytes);
    const { tensors } = await readLayout(bufferSource(bytes), budget);
    const stateDict: StateDict = new Map();
    for (const t of tensors) {
      const dtype = hostDType(t.dtype, t.name);
      const size = elementSize(dtype);
      if (t.position % size !== 0) budget.spend(t.byteLength, `tensor ${quote(t.name)}, copied to align its ${t.dtype} elements,`);
      stateDict.set(t.name, { dtype, shape: t.shape, data: typedArrayFrom(dtype, bytes.buffer, bytes.byteOffset + t.position, t.byteLength / size) });
    }
    return stateDict;
  });
}

/** The header of a safetensors file: metadata, names, dtypes, shapes; the whole layout is checked. */
export async function readSafetensorsHeader(file: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsHeader> {
  const { maxBytes } = checkReadArgs('readSafetensorsHeader', file, options);
  const { headerBytes, metadata, tensors } = await layoutOfFile(file, maxBytes);
  return {
    headerBytes,
    metadata: metadata ?? new Map<string, string>(),
    tensors: tensors.map(({ name, dtype, shape, dataOffsets }) => ({ name, dtype, shape, dataOffsets })),
  };
}

/** Where each tensor of the file lies, for reading it straight into a model (only the header is read). */
export async function locateSafetensors(file: string, options: SafetensorsReadOptions = {}): Promise<Map<string, StoredTensor>> {
  const { maxBytes } = checkReadArgs('locateSafetensors', file, options);
  const { tensors } = await layoutOfFile(file, maxBytes);
  return withFile(file, () => new Map(tensors.map((t) => {
    const dtype = hostDType(t.dtype, t.name);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    return [t.name, { dtype, shape: t.shape, stride, position: t.position }];
  })));
}

function layoutOfFile(file: string, maxBytes: number | undefined): Promise<Layout> {
  return withFile(file, () => withFileSource(file, (source) => readLayout(source, new Budget(source.length, maxBytes))));
}

async function readLayout(source: ByteSource, budget: Budget): Promise<Layout> {
  const n = headerLength(await source.read(0, Math.min(LENGTH_BYTES, source.length)), source.length);
  if (typeof n === 'string') throw codecError(`not a safetensors file: ${n}`);
  return layoutOf(await source.read(LENGTH_BYTES, n), source.length, budget);
}

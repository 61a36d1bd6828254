// What torch.save pickles, made safe: the allowlisted Python globals (as torch.load's
// weights_only=True allows them), storages named by persistent ids, and tensors rebuilt from a
// storage, an offset, a shape and strides into contiguous HostTensors.
import { DType, HostTensor, StoredTensor, TypedArray, elementSize, numel, typedArrayFrom } from '../base/tensor';
import { Budget } from './budget';
import { PyGlobal, UnpickleHooks } from './unpickle';
import { describeKind } from './value';
import { codecError } from './error';

/** Storage classes (module torch, or torch.cuda for tensors saved from a GPU) and their dtypes. */
export const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16', LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16',
  CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool',
};

/** The storage class of a storage-type global: what the dtype of its elements is. */
class StorageType extends PyGlobal {
  constructor(qualname: string, readonly dtype: DType) {
    super(qualname);
  }
}

/** One storage of the file: its bytes come from the zip record or the legacy storage section. */
export class Storage {
  #data?: Uint8Array;
  #place?: number;

  readonly #view: { root: Storage; offset: number } | undefined;

  constructor(
    readonly key: string, readonly dtype: DType, readonly numel: number,
    view?: { root: Storage; offset: number },
  ) {
    this.#view = view;
  }

  get byteLength(): number {
    return this.numel * elementSize(this.dtype);
  }

  /** Attaches the file bytes that hold this storage, checked against its declared size. */
  setBytes(bytes: Uint8Array, budget: Budget): void {
    this.#checkSize(bytes.length);
    const own = bytes.subarray(0, this.byteLength);
    if (own.byteOffset % elementSize(this.dtype) === 0) {
      this.#data = own;
      return;
    }
    // Copy once here if misaligned (legacy files), so that every tensor on it can be a view.
    budget.spend(own.length, `storage '${this.key}', copied to align its ${this.dtype} elements,`);
    this.#data = new Uint8Array(own);
  }

  /** Records where in the file this storage's bytes start, for reading them in place. */
  setPlace(position: number, available: number): void {
    this.#checkSize(available);
    this.#place = position;
  }

  bytes(): Uint8Array {
    if (this.#data) return this.#data;
    const start = this.#startInRoot();
    return this.#view!.root.bytes().subarray(start, start + this.byteLength);
  }

  /** The file position of the storage's first byte. */
  position(): number {
    if (this.#place !== undefined) return this.#place;
    return this.#view!.root.position() + this.#startInRoot();
  }

  #startInRoot(): number {
    if (!this.#view) throw codecError(`storage '${this.key}' is used by a tensor but has no data in the file`);
    const { root, offset } = this.#view;
    const start = offset * elementSize(this.dtype);
    if (start + this.byteLength > root.byteLength) throw codecError(`storage view '${this.key}' runs past the end of storage '${root.key}'`);
    return start;
  }

  #checkSize(available: number): void {
    if (available < this.byteLength) {
      throw codecError(`storage '${this.key}' declares ${this.numel} ${this.dtype} elements (${this.byteLength} bytes) but the file holds ${available} bytes for it`);
    }
  }
}

interface PendingTensor {
  storage: Storage;
  offset: number;
  stride: number[];
}

/**
 * Unpickler hooks for one torch.save file. Tensors are built in two steps because the legacy
 * format stores the data after the pickle: unpickling records them, `finish` fills their data
 * once the reader has attached every storage's bytes (or `placeOf` says where they lie).
 */
export class TorchUnpickler implements UnpickleHooks {
  /** Root storages by key, in the order the pickle first names them. */
  readonly storages = new Map<string, Storage>();
  readonly #views = new Map<string, Storage>();
  // A storage object in the pickled tree is a 1-D tensor over the storage.
  readonly #storageOf = new Map<HostTensor, Storage>();
  readonly #pending = new Map<HostTensor, PendingTensor>();
  readonly #globals: Map<string, PyGlobal>;

  /** Tensors that cannot be views of the file's bytes are charged to `budget` when unpickled. */
  readonly #budget: Budget;

  constructor(budget: Budget) {
    this.#budget = budget;
    // Each callable global checks its arity as Python would, before touching its arguments.
    const fn = (signature: string, optional: number, call: (args: readonly unknown[]) => unknown): [string, PyGlobal] => {
      const qualname = signature.slice(0, signature.indexOf('('));
      const most = signature.slice(signature.indexOf('(') + 1, -1).split(',').filter((p) => p.trim()).length;
      const least = most - optional;
      return [qualname, new PyGlobal(qualname, (args) => {
        if (args.length < least || args.length > most) {
          throw codecError(`${signature} takes ${least === most ? least : `${least} to ${most}`} arguments, got ${args.length}`);
        }
        return call(args);
      })];
    };
    const storageTypes = Object.entries(STORAGE_DTYPES).flatMap(([name, dtype]) =>
      [`torch.${name}`, `torch.cuda.${name}`].map((q): [string, PyGlobal] => [q, new StorageType(q, dtype)]));
    this.#globals = new Map<string, PyGlobal>([
      ...storageTypes,
      // torch 2.x names the class of a saved untyped (byte) storage this way
      ['torch.storage.UntypedStorage', new StorageType('torch.storage.UntypedStorage', 'uint8')],
      fn('collections.OrderedDict(items)', 1, newOrderedDict),
      fn('torch._utils._rebuild_tensor(storage, storage_offset, size, stride)', 0, (args) => this.#rebuildTensor(args)),
      fn('torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata)', 1,
        (args) => this.#rebuildTensor(args)),
      // A Parameter is its data; requires_grad and hooks concern training state, not weights.
      fn('torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)', 0, (args) => this.#tensorArg(args[0], 'data')),
      fn('torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)', 0,
        (args) => this.#tensorArg(args[0], 'data')),
    ]);
  }

  findGlobal(module: string, name: string): PyGlobal {
    const found = this.#globals.get(`${module}.${name}`);
    if (!found) {
      throw codecError(`refusing to load Python global '${module}.${name}': only tensors, storages and dicts can be loaded from a .pth file`);
    }
    return found;
  }

  /** ('storage', storage_type, key, location, numel[, view_metadata]) -> the storage, as a 1-D tensor. */
  persistentLoad(pid: unknown): HostTensor {
    if (!Array.isArray(pid) || pid[0] !== 'storage') {
      const what = Array.isArray(pid) && typeof pid[0] === 'string' ? `'${pid[0]}'` : describeKind(pid);
      throw codecError(`unsupported persistent id ${what}: only storages can be loaded (a pickled nn.Module? save its state_dict() instead)`);
    }
    const [, type, key, location, count, viewMetadata] = pid as unknown[];
    if (pid.length < 5 || pid.length > 6 || !(type instanceof StorageType) || typeof key !== 'string' || typeof location !== 'string') {
      throw codecError('malformed storage persistent id');
    }
    const root = this.#storage(this.storages, key, type.dtype, index(count, 'storage size'));
    if (viewMetadata === undefined || viewMetadata === null) return this.#storageTensor(root);
    // Storage views only exist in files from PyTorch before 0.4: (view_key, offset, size).
    if (!Array.isArray(viewMetadata) || viewMetadata.length !== 3 || typeof viewMetadata[0] !== 'string') {
      throw codecError(`malformed storage view of '${key}'`);
    }
    const view = this.#storage(this.#views, viewMetadata[0], type.dtype, index(viewMetadata[2], 'storage view size'),
      { root, offset: index(viewMetadata[1], 'storage view offset') });
    return this.#storageTensor(view);
  }

  /** Fills in every tensor's data; call once the bytes of all root storages are attached. */
  finish(): void {
    for (const [tensor, { storage, offset, stride }] of this.#pending) {
      tensor.data = materialize(tensor.dtype, storage.bytes(), offset, tensor.shape, stride);
    }
  }

  /** Whether `value` is a tensor this unpickler built (before or after finish). */
  isTensor(value: unknown): value is HostTensor {
    return this.#pending.has(value as HostTensor);
  }

  /** Where a tensor's elements lie in the file; call once every root storage is placed. */
  placeOf(tensor: HostTensor): StoredTensor {
    const { storage, offset, stride } = this.#pending.get(tensor)!;
    // An empty tensor reads nothing: its offset may lie anywhere (torch.load accepts that too).
    const start = numel(tensor.shape) === 0 ? 0 : offset * elementSize(tensor.dtype);
    return { dtype: tensor.dtype, shape: tensor.shape, stride, position: storage.position() + start };
  }

  #storage(registry: Map<string, Storage>, key: string, dtype: DType, count: number, view?: { root: Storage; offset: number }): Storage {
    const known = registry.get(key);
    if (known) {
      if (known.dtype !== dtype) throw codecError(`storage '${key}' is named as both ${known.dtype} and ${dtype}`);
      return known;
    }
    const created = new Storage(key, dtype, count, view);
    registry.set(key, created);
    return created;
  }

  #storageTensor(storage: Storage): HostTensor {
    const tensor = this.#tensor(storage, 0, [storage.numel], [1]);
    this.#storageOf.set(tensor, storage);
    return tensor;
  }

  /** _rebuild_tensor(storage, offset, size, stride) and _rebuild_tensor_v2(…, requires_grad, hooks[, metadata]). */
  #rebuildTensor(args: readonly unknown[]): HostTensor {
    const storage = this.#storageOf.get(this.#tensorArg(args[0], 'storage'));
    if (!storage) throw codecError('tensor is not built on a storage');
    const shape = indexTuple(args[2], 'tensor size');
    const stride = indexTuple(args[3], 'tensor stride');
    if (shape.length !== stride.length) throw codecError(`tensor size [${shape}] and stride [${stride}] differ in length`);
    const offset = index(args[1], 'storage offset');
    const count = numel(shape);
    if (count > 0) {
      const last = shape.reduce((sum, size, i) => sum + (size - 1) * stride[i], offset);
      if (last >= storage.numel) {
        throw codecError(`tensor of size [${shape}], stride [${stride}] at offset ${offset} reaches element ${last} of storage '${storage.key}', which holds ${storage.numel}`);
      }
      // A view of the file costs nothing; any other layout is copied into a tensor of its own.
      if (!isContiguous(shape, stride)) {
        this.#budget.spend(count * elementSize(storage.dtype), `tensor of size [${shape}] (stride [${stride}]) on storage '${storage.key}', copied to lay it out,`);
      }
    }
    return this.#tensor(storage, offset, shape, stride);
  }

  #tensor(storage: Storage, offset: number, shape: number[], stride: number[]): HostTensor {
    // data is filled in by finish()
    const tensor = { dtype: storage.dtype, shape, data: undefined } as unknown as HostTensor;
    this.#pending.set(tensor, { storage, offset, stride });
    return tensor;
  }

  #tensorArg(value: unknown, what: string): HostTensor {
    if (!this.#pending.has(value as HostTensor)) {
      throw codecError(`${what} argument is ${describeKind(value)}, not a tensor`);
    }
    return value as HostTensor;
  }
}

function newOrderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  if (args.length === 0) return new Map();
  // OrderedDict([(key, value), ...])
  const pairs = args[0];
  if (Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2)) {
    return new Map(pairs as [unknown, unknown][]);
  }
  throw codecError(`collections.OrderedDict(items) needs a list of (key, value) pairs, got ${describeKind(pairs)}`);
}

function index(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw codecError(`${what} must be a non-negative integer, got ${typeof value === 'bigint' ? value : describeKind(value)}`);
  }
  return value;
}

function indexTuple(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw codecError(`${what} must be a tuple, got ${describeKind(value)}`);
  return value.map((v) => index(v, what));
}

/**
 * The row-major elements of a strided view: a view over `bytes` when contiguous, else a copy
 * (which rebuildTensor charged to the budget).
 */
function materialize(dtype: DType, bytes: Uint8Array, offset: number, shape: number[], stride: number[]): TypedArray {
  const size = elementSize(dtype);
  const count = numel(shape);
  if (count === 0) return typedArrayFrom(dtype, new ArrayBuffer(0), 0, 0);
  if (isContiguous(shape, stride)) return typedArrayFrom(dtype, bytes.buffer, bytes.byteOffset + offset * size, count);
  const copy = gather(bytes, size, offset, shape, stride, count);
  return typedArrayFrom(dtype, copy.buffer, 0, count);
}

/** Contiguous in PyTorch's sense: row-major strides, ignoring dimensions of size 1. */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/**
 * Strided copy into row-major order. Elements move as 1-, 2- or 4-byte words (8-byte ones as
 * two words) so that float bit patterns, NaN payloads included, are copied exactly.
 */
function gather(src: Uint8Array, elementBytes: number, offset: number, shape: number[], stride: number[], count: number): Uint8Array {
  const word = Math.min(elementBytes, 4);
  const k = elementBytes / word;
  const Words = (word === 1 ? Uint8Array : word === 2 ? Uint16Array : Uint32Array) as Uint32ArrayConstructor;
  const from = new Words(src.buffer, src.byteOffset, src.byteLength / word);
  const out = new Words(count * k);
  const last = shape.length - 1;
  const rowLength = shape[last];
  const rowStride = stride[last];
  const position = new Array<number>(last).fill(0);
  let base = offset;
  let o = 0;
  for (;;) {
    if (rowStride === 1) {
      out.set(from.subarray(base * k, (base + rowLength) * k), o);
      o += rowLength * k;
    } else {
      for (let i = 0, s = base * k; i < rowLength; i++, s += rowStride * k) {
        for (let j = 0; j < k; j++) out[o++] = from[s + j];
      }
    }
    // Advance the multi-index over the outer dimensions, last one fastest.
    let dim = last - 1;
    for (; dim >= 0; dim--) {
      base += stride[dim];
      if (++position[dim] < shape[dim]) break;
      base -= stride[dim] * shape[dim];
      position[dim] = 0;
    }
    if (dim < 0) return new Uint8Array(out.buffer);
  }
}

// Reading .pth files in both torch.save formats: the zip archive (PyTorch >= 1.6) and the
// legacy stream of pickles followed by raw storages (before 1.6).
import { HostTensor, StoredTensor } from '../base/tensor';
import { Budget, checkReadArgs } from './budget';
import { codecError, withFile } from './error';
import { OP } from './opcodes';
import { ByteSource, bufferSource, readWholeFile, withFileSource } from './source';
import { TorchUnpickler } from './torch';
import { TruncatedPickle, unpickle } from './unpickle';
import { PthValue, StateDict, describeKind, isHostTensor } from './value';
import { ZipReader } from './zip';

export type PthFormat = 'zip' | 'legacy';

/** What `finetorch inspect` shows of the container: its format and its records. */
export interface PthInfo {
  format: PthFormat;
  /** zip: the archive records; legacy: one `data/<key>` entry per storage. Sizes in bytes. */
  entries: { name: string; bytes: number }[];
}

const ZIP_SIGNATURE = 0x04034b50;
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const DATA_PARALLEL_PREFIX = 'module.';

export interface PthReadOptions {
  /**
   * How many bytes reading may add to the file's own: what inflated records add over their
   * compressed bytes, and tensors copied because they cannot be views of the file (strided,
   * expanded by stride 0, misaligned). Default: the file's size plus 1 MiB, so that what reading
   * allocates stays within a few times the file's size however the file is forged. A file over
   * budget is refused before the allocation (a PthError).
   */
  maxBytes?: number;
}

/** The state dict in a .pth file: unwrapped from a checkpoint, `module.` prefixes stripped. */
export async function loadPth(file: string, options: PthReadOptions = {}): Promise<StateDict> {
  const { maxBytes } = checkReadArgs('loadPth', file, options);
  const { value } = await parseFile(file, maxBytes);
  return withFile(file, () => stateDictFrom(value));
}

/** Everything the file holds (see value.ts for how Python values map to JavaScript). */
export async function readPth(file: string, options: PthReadOptions = {}): Promise<PthValue> {
  const { maxBytes } = checkReadArgs('readPth', file, options);
  return (await parseFile(file, maxBytes)).value;
}

/** The container's format and records (the whole file is parsed, so a bad one throws). */
export async function pthFormat(file: string, options: PthReadOptions = {}): Promise<PthInfo> {
  const { maxBytes } = checkReadArgs('pthFormat', file, options);
  const { format, entries } = await parseFile(file, maxBytes);
  return { format, entries };
}

/**
 * The state dict in an unpickled file: the value itself, or the dict a checkpoint keeps under
 * 'state_dict' or 'model'. Keys lose a `module.` prefix (saved from nn.DataParallel).
 */
export function stateDictFrom(value: PthValue, isTensor: (v: unknown) => boolean = isHostTensor): StateDict {
  if (!(value instanceof Map)) throw codecError(`expected a state dict (a dict of tensors) but the file holds ${describeKind(value)}`);
  const inner = [value.get('state_dict'), value.get('model')].find((v) => v instanceof Map);
  const dict = (inner ?? value) as Map<PthValue, PthValue>;
  const stateDict: StateDict = new Map();
  for (const [key, tensor] of dict) {
    if (typeof key !== 'string' || !isTensor(tensor)) {
      throw codecError(`entry ${String(key)} holds ${describeKind(tensor)}: expected a state dict (names -> tensors), or a checkpoint holding one under 'state_dict' or 'model'`);
    }
    stateDict.set(key.startsWith(DATA_PARALLEL_PREFIX) ? key.slice(DATA_PARALLEL_PREFIX.length) : key, tensor as HostTensor);
  }
  return stateDict;
}

/**
 * Where each tensor of the file's state dict lies, read without the tensors' bytes (for loading
 * them straight into a model), or undefined when a record is compressed and cannot be read in
 * place (torch.save never compresses; use loadPth then).
 */
export async function locatePth(file: string, options: PthReadOptions = {}): Promise<Map<string, StoredTensor> | undefined> {
  const { maxBytes } = checkReadArgs('locatePth', file, options);
  return withFile(file, () => withFileSource(file, async (source) => {
    const parsed = await parseSource(source, 'places', new Budget(source.length, maxBytes));
    if (!parsed) return undefined;
    const { value, torch } = parsed;
    const tensors = stateDictFrom(value, (v) => torch.isTensor(v));
    return new Map([...tensors].map(([name, tensor]) => [name, torch.placeOf(tensor)]));
  }));
}

/** What a parse attaches to each storage: its bytes, or only where they lie in the file. */
type Reading = 'bytes' | 'places';
type Parsed = PthInfo & { value: PthValue; torch: TorchUnpickler };

function parseFile(file: string, maxBytes: number | undefined): Promise<Parsed> {
  return withFile(file, async () => {
    const bytes = await readWholeFile(file);
    return (await parseSource(bufferSource(bytes), 'bytes', new Budget(bytes.length, maxBytes)))!;
  });
}

async function parseSource(source: ByteSource, reading: Reading, budget: Budget): Promise<Parsed | undefined> {
  const magic = await source.read(0, Math.min(4, source.length));
  if (magic.length >= 4 && magic.readUInt32LE(0) === ZIP_SIGNATURE) return parseZip(source, reading, budget);
  if (magic.length >= 2 && magic[0] === OP.PROTO) return parseLegacy(source, reading, budget);
  throw codecError('not a PyTorch .pth file: neither a zip archive (torch.save since 1.6) nor a pickle (legacy torch.save)');
}

async function parseZip(source: ByteSource, reading: Reading, budget: Budget): Promise<Parsed | undefined> {
  const zip = await ZipReader.open(source, budget);
  // Records live under one folder, named after the saved file; the first record says which.
  const first = zip.names[0] ?? '';
  if (!first.includes('/')) throw codecError(`zip archive is not a torch.save file (first record: '${first}')`);
  const prefix = first.slice(0, first.indexOf('/'));
  const byteorder = (await zip.read(`${prefix}/byteorder`))?.toString();
  if (byteorder !== undefined && byteorder !== 'little') throw codecError(`byte order '${byteorder}' is not supported`);
  const pickle = await zip.read(`${prefix}/data.pkl`);
  if (!pickle) throw codecError(`zip archive has no ${prefix}/data.pkl: not a torch.save file`);

  const torch = new TorchUnpickler(budget);
  const { value } = unpickle(pickle, 0, torch, `${prefix}/data.pkl`);
  const storages = [...torch.storages.values()];
  const names = storages.map((storage) => `${prefix}/data/${storage.key}`);
  const absent = names.findIndex((name) => !zip.has(name));
  if (absent >= 0) throw codecError(`storage '${storages[absent].key}' has no record ${names[absent]}`);
  if (reading === 'bytes') {
    const records = await Promise.all(names.map((name) => zip.read(name)));
    storages.forEach((storage, i) => storage.setBytes(records[i]!, budget));
  } else {
    const places = names.map((name) => zip.locate(name));
    if (places.some((place) => !place)) return undefined;
    storages.forEach((storage, i) => storage.setPlace(places[i]!.start, places[i]!.size));
  }
  if (reading === 'bytes') torch.finish();
  return {
    format: 'zip',
    value: value as PthValue,
    torch,
    entries: zip.names.map((name) => ({ name, bytes: zip.size(name) ?? 0 })),
  };
}

// The legacy pickles take a few kilobytes; placing tensors reads this much of the file first.
const LEGACY_HEAD_BYTES = 1 << 20;

/** Pickles of: magic number, protocol version, system info, the value, the storage keys; then the storages. */
async function parseLegacy(source: ByteSource, reading: Reading, budget: Budget): Promise<Parsed> {
  let headLength = reading === 'bytes' ? source.length : Math.min(source.length, LEGACY_HEAD_BYTES);
  for (;;) {
    try {
      return await parseLegacyFrom(source, await source.read(0, headLength), reading, budget.fresh());
    } catch (err) {
      if (!(err instanceof TruncatedPickle) || headLength === source.length) throw err;
      headLength = Math.min(source.length, headLength * 4);
    }
  }
}

async function parseLegacyFrom(source: ByteSource, head: Buffer, reading: Reading, budget: Budget): Promise<Parsed> {
  const torch = new TorchUnpickler(budget);
  let pos = 0;
  const next = (label: string): unknown => {
    const result = unpickle(head, pos, torch, label);
    pos = result.end;
    return result.value;
  };
  if (next('magic number') !== LEGACY_MAGIC) throw codecError('not a PyTorch .pth file: wrong magic number');
  const protocol = next('protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw codecError(`unsupported legacy protocol version ${String(protocol)}`);
  const sysInfo = next('system info');
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw codecError('big-endian files are not supported');
  const value = next('data pickle') as PthValue;
  const keys = next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw codecError('malformed storage key list');

  // Each storage: its element count (int64, little-endian), then its raw bytes. The counts
  // repeat the sizes the pickle declared, which say where every storage starts.
  const storages = (keys as string[]).map((key) => {
    const storage = torch.storages.get(key);
    if (!storage) throw codecError(`storage '${key}' is listed but no tensor uses it`);
    return storage;
  });
  const listed = new Set(keys);
  if (listed.size !== keys.length) throw codecError('the storage key list names a storage twice (corrupt file)');
  const unlisted = [...torch.storages.keys()].find((key) => !listed.has(key));
  if (unlisted !== undefined) throw codecError(`storage '${unlisted}' is used by a tensor but missing from the storage key list, so its data is not in the file (corrupt file)`);
  const starts: number[] = [];
  for (const storage of storages) {
    starts.push(pos);
    if (pos + 8 + storage.byteLength > source.length) {
      throw codecError(`storage '${storage.key}' is cut off: it needs ${storage.byteLength} bytes at byte ${pos + 8} of a ${source.length}-byte file (truncated file)`);
    }
    pos += 8 + storage.byteLength;
  }
  const counts = await Promise.all(starts.map(async (start) => (await source.read(start, 8)).readBigInt64LE(0)));
  storages.forEach((storage, i) => {
    if (counts[i] !== BigInt(storage.numel)) {
      throw codecError(`storage '${storage.key}' holds ${counts[i]} elements but the pickle declares ${storage.numel} (corrupt file)`);
    }
  });
  if (reading === 'bytes') {
    const data = await Promise.all(storages.map((storage, i) => source.read(starts[i] + 8, storage.byteLength)));
    storages.forEach((storage, i) => storage.setBytes(data[i], budget));
  } else {
    storages.forEach((storage, i) => storage.setPlace(starts[i] + 8, storage.byteLength));
  }
  const entries = storages.map((storage) => ({ name: `data/${storage.key}`, bytes: storage.byteLength }));
  if (reading === 'bytes') torch.finish();
  return { format: 'legacy', value, torch, entries };
}

// Reading .pth files in both torch.save formats: the zip archive (PyTorch >= 1.6) and the
// legacy stream of pickles followed by raw storages (before 1.6).
import * as fs from 'node:fs/promises';
import { elementSize } from '../tensor';
import { withFile } from './error';
import { OP } from './opcodes';
import { TorchUnpickler } from './torch';
import { unpickle } from './unpickle';
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

/** The state dict in a .pth file: unwrapped from a checkpoint, `module.` prefixes stripped. */
export async function loadPth(file: string): Promise<StateDict> {
  const value = await readPth(file);
  return withFile(file, () => stateDictFrom(value));
}

/** Everything the file holds (see value.ts for how Python values map to JavaScript). */
export async function readPth(file: string): Promise<PthValue> {
  return (await parseFile(file)).value;
}

/** The container's format and records (the whole file is parsed, so a bad one throws). */
export async function pthFormat(file: string): Promise<PthInfo> {
  const { format, entries } = await parseFile(file);
  return { format, entries };
}

/**
 * The state dict in an unpickled file: the value itself, or the dict a checkpoint keeps under
 * 'state_dict' or 'model'. Keys lose a `module.` prefix (saved from nn.DataParallel).
 */
export function stateDictFrom(value: PthValue): StateDict {
  if (!(value instanceof Map)) throw new Error(`expected a state dict (a dict of tensors) but the file holds ${describeKind(value)}`);
  const inner = [value.get('state_dict'), value.get('model')].find((v) => v instanceof Map);
  const dict = (inner ?? value) as Map<PthValue, PthValue>;
  const stateDict: StateDict = new Map();
  for (const [key, tensor] of dict) {
    if (typeof key !== 'string' || !isHostTensor(tensor)) {
      throw new Error(`entry ${String(key)} holds ${describeKind(tensor)}: expected a state dict (names -> tensors), or a checkpoint holding one under 'state_dict' or 'model'`);
    }
    stateDict.set(key.startsWith(DATA_PARALLEL_PREFIX) ? key.slice(DATA_PARALLEL_PREFIX.length) : key, tensor);
  }
  return stateDict;
}

type Parsed = PthInfo & { value: PthValue };

function parseFile(file: string): Promise<Parsed> {
  return withFile(file, async () => {
    const buf = await readWhole(file);
    if (buf.length >= 4 && buf.readUInt32LE(0) === ZIP_SIGNATURE) return parseZip(buf);
    if (buf.length >= 2 && buf[0] === OP.PROTO) return parseLegacy(buf);
    throw new Error('not a PyTorch .pth file: neither a zip archive (torch.save since 1.6) nor a pickle (legacy torch.save)');
  });
}

/** The file in one buffer of its own (fs.readFile reads in small chunks, which is slower). */
async function readWhole(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow((await handle.stat()).size);
    for (let done = 0; done < buf.length;) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, done);
      if (bytesRead === 0) throw new Error('the file shrank while it was being read');
      done += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}

function parseZip(buf: Buffer): Parsed {
  const zip = new ZipReader(buf);
  // Records live under one folder, named after the saved file; the first record says which.
  const first = zip.names[0] ?? '';
  if (!first.includes('/')) throw new Error(`zip archive is not a torch.save file (first record: '${first}')`);
  const prefix = first.slice(0, first.indexOf('/'));
  const byteorder = zip.read(`${prefix}/byteorder`)?.toString();
  if (byteorder !== undefined && byteorder !== 'little') throw new Error(`byte order '${byteorder}' is not supported`);
  const pickle = zip.read(`${prefix}/data.pkl`);
  if (!pickle) throw new Error(`zip archive has no ${prefix}/data.pkl: not a torch.save file`);

  const torch = new TorchUnpickler();
  const { value } = unpickle(pickle, 0, torch, `${prefix}/data.pkl`);
  for (const storage of torch.storages.values()) {
    const name = `${prefix}/data/${storage.key}`;
    const bytes = zip.read(name);
    if (!bytes) throw new Error(`storage '${storage.key}' has no record ${name}`);
    storage.setBytes(bytes);
  }
  torch.finish();
  return {
    format: 'zip',
    value: value as PthValue,
    entries: zip.names.map((name) => ({ name, bytes: zip.size(name) ?? 0 })),
  };
}

/** Pickles of: magic number, protocol version, system info, the value, the storage keys; then the storages. */
function parseLegacy(buf: Buffer): Parsed {
  const torch = new TorchUnpickler();
  let pos = 0;
  const next = (label: string): unknown => {
    const result = unpickle(buf, pos, torch, label);
    pos = result.end;
    return result.value;
  };
  if (next('magic number') !== LEGACY_MAGIC) throw new Error('not a PyTorch .pth file: wrong magic number');
  const protocol = next('protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw new Error(`unsupported legacy protocol version ${String(protocol)}`);
  const sysInfo = next('system info');
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw new Error('big-endian files are not supported');
  const value = next('data pickle') as PthValue;
  const keys = next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new Error('malformed storage key list');

  const entries: PthInfo['entries'] = [];
  for (const key of keys as string[]) {
    const storage = torch.storages.get(key);
    if (!storage) throw new Error(`storage '${key}' is listed but no tensor uses it`);
    // Each storage: its element count (int64, little-endian), then its raw bytes.
    if (pos + 8 > buf.length) throw new Error(`storage '${key}' is cut off (truncated file)`);
    const count = buf.readBigInt64LE(pos);
    const bytes = count * BigInt(elementSize(storage.dtype));
    if (count < 0n || bytes > BigInt(buf.length - pos - 8)) {
      throw new Error(`storage '${key}' claims ${count} elements but only ${buf.length - pos - 8} bytes remain (truncated or corrupt file)`);
    }
    pos += 8;
    storage.setBytes(buf.subarray(pos, pos + Number(bytes)));
    pos += Number(bytes);
    entries.push({ name: `data/${key}`, bytes: Number(bytes) });
  }
  torch.finish();
  return { format: 'legacy', value, entries };
}

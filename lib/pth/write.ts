// savePth: a JS value tree -> a zip-format .pth file, laid out as torch.save (PyTorch >= 1.6)
// writes it, written to a temporary file and renamed into place so no reader sees half a file.
import { writeFileAtomic } from '../base/atomic';
import { DType, HostTensor, checkHostTensor } from '../base/tensor';
import { codecError, withFile } from './error';
import { OP } from './opcodes';
import { Pickler } from './pickle';
import { STORAGE_DTYPES } from './torch';
import { PthSavable, StateDict, describeKind, isHostTensor } from './value';
import { ZipRecord, zipChunks } from './zip';

// torch.save names the archive after the file; any name loads, so a fixed one keeps output reproducible.
const PREFIX = 'archive';
// The record format version that torch.save 1.6 to 2.x writes for plain tensors.
const FORMAT_VERSION = '3\n';

const STORAGE_CLASS = Object.fromEntries(
  Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<DType, string>;

/** Saves a state dict or any checkpoint tree (see value.ts for the mapping) in the zip format. */
export async function savePth(file: string, value: StateDict | PthSavable): Promise<void> {
  await withFile(file, async () => {
    await writeFileAtomic(file, zipChunks(pthRecords(value)));
  });
}

/** The archive records: data.pkl, byteorder, one data/<key> per tensor, version. */
function pthRecords(value: PthSavable): ZipRecord[] {
  const storages = new Map<HostTensor, string>();
  const pickler = new Pickler();
  new TreeWriter(pickler, storages).value(value, 'value');
  const data = [...storages].map(([tensor, key]) => ({
    name: `${PREFIX}/data/${key}`,
    data: new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
  }));
  return [
    { name: `${PREFIX}/data.pkl`, data: pickler.end() },
    { name: `${PREFIX}/byteorder`, data: Buffer.from('little') },
    ...data,
    { name: `${PREFIX}/version`, data: Buffer.from(FORMAT_VERSION) },
  ];
}

/** Pickles a value tree; each distinct HostTensor gets one storage, keyed "0", "1", … */
class TreeWriter {
  readonly #ancestors = new Set<object>();

  readonly #p: Pickler;
  readonly #storages: Map<HostTensor, string>;

  constructor(p: Pickler, storages: Map<HostTensor, string>) {
    this.#p = p;
    this.#storages = storages;
  }

  value(value: unknown, where: string): void {
    const p = this.#p;
    if (value === null) return p.none();
    switch (typeof value) {
      case 'boolean': return p.bool(value);
      case 'number': return Number.isInteger(value) ? p.int(value) : p.float(value);
      case 'bigint': return p.int(value);
      case 'string': return p.str(value);
      case 'object': break;
      default: throw codecError(`${where}: cannot save ${typeof value}`);
    }
    if (this.#ancestors.has(value)) throw codecError(`${where}: the value contains itself`);
    this.#ancestors.add(value);
    if (isHostTensor(value)) this.#tensor(value, where);
    else if (Array.isArray(value)) this.#array(value, where);
    else if (value instanceof Map) this.#dict([...value], where, true);
    else if (isPlainObject(value)) this.#dict(Object.entries(value), where, false);
    else throw codecError(`${where}: cannot save ${describeKind(value)}`);
    this.#ancestors.delete(value);
  }

  #array(items: readonly unknown[], where: string): void {
    const each = () => items.forEach((item, i) => this.value(item, `${where}[${i}]`));
    if (Object.isFrozen(items)) return this.#p.tuple(items.length, each);
    this.#p.op(OP.EMPTY_LIST);
    this.#p.extend(OP.APPENDS, items.length, each);
  }

  #dict(entries: [unknown, unknown][], where: string, ordered: boolean): void {
    if (ordered) this.#emptyOrderedDict();
    else this.#p.op(OP.EMPTY_DICT);
    this.#p.extend(OP.SETITEMS, entries.length, () => {
      for (const [key, item] of entries) {
        if (key !== null && !['string', 'number', 'bigint', 'boolean'].includes(typeof key)) {
          throw codecError(`${where}: dict keys must be strings, numbers, booleans or null, not ${describeKind(key)}`);
        }
        this.value(key, where);
        this.value(item, `${where}[${JSON.stringify(String(key))}]`);
      }
    });
  }

  #emptyOrderedDict(): void {
    this.#p.global('collections', 'OrderedDict');
    this.#p.op(OP.EMPTY_TUPLE);
    this.#p.op(OP.REDUCE);
  }

  /** torch._utils._rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict()), as torch.save writes it. */
  #tensor(tensor: HostTensor, where: string): void {
    checkHostTensor(tensor, where);
    const p = this.#p;
    let key = this.#storages.get(tensor);
    if (key === undefined) {
      key = String(this.#storages.size);
      this.#storages.set(tensor, key);
    }
    const { shape } = tensor;
    const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const ints = (values: number[]) => () => values.forEach((v) => p.int(v));
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.tuple(6, () => {
      p.tuple(5, () => {
        p.str('storage');
        p.global('torch', STORAGE_CLASS[tensor.dtype]);
        p.str(key);
        p.str('cpu');
        p.int(tensor.data.length);
      });
      p.op(OP.BINPERSID);
      p.int(0);
      p.tuple(shape.length, ints(shape));
      p.tuple(stride.length, ints(stride));
      p.bool(false);
      this.#emptyOrderedDict();
    });
    p.op(OP.REDUCE);
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}


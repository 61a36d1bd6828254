// IDX files (MNIST, Fashion-MNIST; gzipped or not) as data sets: each sample is a view of the
// file's gray pixels, which the batch's native call turns into RGB (three equal channels).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { rangeError } from '../base/errors';
import { DatasetError } from './errors';
import { ImageSource } from './image';
import { arrayOf, bool, checkOptions, int, str } from '../base/check';
import { IMAGE_DATASET_OPTIONS, ImageDataset, ImageDatasetOptions } from './dataset';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Reads an unsigned-byte IDX file (gunzipping it when it starts with gzip's magic bytes). */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  } catch (err) {
    throw new DatasetError(`Cannot read IDX file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0) throw new DatasetError(`${file} is not an IDX file (bad magic number)`);
  if (bytes[2] !== UBYTE) throw new DatasetError(`${file}: IDX element type 0x${bytes[2].toString(16)} is not supported (only unsigned bytes)`);
  const ndim = bytes[3];
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new DatasetError(`${file}: truncated IDX header`);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - headerBytes !== count) {
    throw new DatasetError(`${file}: IDX shape [${shape.join(', ')}] needs ${count} bytes of data, the file has ${bytes.length - headerBytes}`);
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

export interface IdxDatasetOptions extends ImageDatasetOptions {
  /**
   * Keep only these classes (original labels), relabelled 0, 1, ... in the order given: [5, 6, 7, 8, 9]
   * makes Fashion-MNIST's sandals class 0.
   */
  classes?: readonly number[];
  /** Names of the original classes; `classes` then lists the kept ones. */
  classNames?: readonly string[];
}

/** Images [n, h, w] and labels [n] from a pair of IDX files. */
export class IdxDataset extends ImageDataset {
  readonly classes: string[];
  /** Class index per kept sample (after relabelling). */
  readonly targets: Int32Array;
  /** Position of each kept sample in the IDX files. */
  readonly indices: Int32Array;
  readonly imageHeight: number;
  readonly imageWidth: number;
  readonly #gray: Uint8Array;

  constructor(imagesFile: string, labelsFile: string, options: IdxDatasetOptions = {}) {
    const o = checkOptions('IdxDataset', options, IDX_OPTIONS);
    super(o);
    const images = readIdx(imagesFile);
    const labels = readIdx(labelsFile);
    if (images.shape.length !== 3) throw new DatasetError(`${imagesFile}: expected images [n, h, w], got shape [${images.shape.join(', ')}]`);
    if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new DatasetError(`${labelsFile}: expected ${images.shape[0]} labels, got shape [${labels.shape.join(', ')}]`);
    }
    [, this.imageHeight, this.imageWidth] = images.shape;
    this.#gray = images.data;
    const numClasses = o.classNames?.length ?? labels.data.reduce((max, label) => Math.max(max, label), -1) + 1;
    const kept = o.classes ?? Array.from({ length: numClasses }, (_, i) => i);
    const relabel = new Map(kept.map((label, i) => [label, i]));
    if (relabel.size !== kept.length) throw rangeError('ERR_FINETORCH_INVALID_ARG', `classes ${JSON.stringify(kept)} has duplicates`);
    const indices: number[] = [];
    labels.data.forEach((label, i) => {
      if (relabel.has(label)) indices.push(i);
    });
    this.indices = Int32Array.from(indices);
    this.targets = Int32Array.from(indices, (i) => relabel.get(labels.data[i]) as number);
    this.classes = kept.map((label) => o.classNames?.[label] ?? String(label));
  }

  get length(): number {
    return this.indices.length;
  }

  target(index: number): number {
    return this.targets[index];
  }

  protected source(index: number): ImageSource {
    const { imageWidth: width, imageHeight: height } = this;
    const offset = this.indices[index] * width * height;
    return { data: this.#gray.subarray(offset, offset + width * height), width, height, channels: 1 };
  }
}

export interface MnistOptions extends Omit<IdxDatasetOptions, 'classNames'> {
  /** The 60,000 training images (default) or the 10,000 test images. */
  train?: boolean;
}

const IDX_OPTIONS = { ...IMAGE_DATASET_OPTIONS, classes: arrayOf(int({ min: 0 })).orUndefined(), classNames: arrayOf(str()).orUndefined() };
const MNIST_OPTIONS = { ...IMAGE_DATASET_OPTIONS, classes: IDX_OPTIONS.classes, train: bool().default(true) };

/** Finds `<prefix>-images-idx3-ubyte[.gz]` and the labels in root, or in torchvision's root/<name>/raw. */
function idxFiles(root: string, name: string, train: boolean): [string, string] {
  const prefix = train ? 'train' : 't10k';
  const dirs = [root, path.join(root, name, 'raw')];
  const find = (base: string): string => {
    for (const dir of dirs) {
      for (const file of [base, `${base}.gz`]) {
        if (fs.existsSync(path.join(dir, file))) return path.join(dir, file);
      }
    }
    throw new DatasetError(`${name}: ${base}[.gz] not found in ${dirs.join(' or ')}`);
  };
  return [find(`${prefix}-images-idx3-ubyte`), find(`${prefix}-labels-idx1-ubyte`)];
}

export class MNIST extends IdxDataset {
  static readonly classNames: readonly string[] = Object.freeze(['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four',
    '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine']);

  constructor(root: string, options: MnistOptions = {}) {
    const { train, ...rest } = checkOptions('MNIST', options, MNIST_OPTIONS);
    super(...idxFiles(root, 'MNIST', train), { ...rest, classNames: MNIST.classNames });
  }
}

export class FashionMNIST extends IdxDataset {
  static readonly classNames: readonly string[] = Object.freeze(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);

  constructor(root: string, options: MnistOptions = {}) {
    const { train, ...rest } = checkOptions('FashionMNIST', options, MNIST_OPTIONS);
    super(...idxFiles(root, 'FashionMNIST', train), { ...rest, classNames: FashionMNIST.classNames });
  }
}

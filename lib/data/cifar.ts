// CIFAR-10's binary batches: records of 1 label byte + 32x32 pixels stored as R, G and B planes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { DatasetError } from './errors';
import { ImageSource } from './image';
import { bool, checkOptions } from '../base/check';
import { IMAGE_DATASET_OPTIONS, ImageDataset, ImageDatasetOptions } from './dataset';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

export interface Cifar10Options extends ImageDatasetOptions {
  /** The 50,000 training images (default) or the 10,000 test images. */
  train?: boolean;
}

export class CIFAR10 extends ImageDataset {
  static readonly classNames: readonly string[] = Object.freeze(
    ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);

  readonly classes: string[] = [...CIFAR10.classNames];
  readonly targets: Uint8Array;
  readonly #planar: Uint8Array;
  #interleaved?: Promise<Uint8Array>;

  /** root holds data_batch_1.bin ... test_batch.bin, directly or in cifar-10-batches-bin/. */
  constructor(root: string, options: Cifar10Options = {}) {
    super(checkOptions('CIFAR10', options, { ...IMAGE_DATASET_OPTIONS, train: bool().default(true) }));
    const names = (options.train ?? true) ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
    const records = names.map((name) => readRecords(findFile(root, name)));
    const n = records.reduce((sum, r) => sum + r.length / RECORD, 0);
    this.targets = new Uint8Array(n);
    this.#planar = new Uint8Array(n * 3 * PLANE);
    let i = 0;
    for (const file of records) {
      for (let offset = 0; offset < file.length; offset += RECORD, i++) {
        this.targets[i] = file[offset];
        this.#planar.set(file.subarray(offset + 1, offset + RECORD), i * 3 * PLANE);
      }
    }
    const bad = this.targets.findIndex((t) => t >= CIFAR10.classNames.length);
    if (bad >= 0) throw new DatasetError(`CIFAR10: record ${bad} has label ${this.targets[bad]}, expected 0-9`);
  }

  get length(): number {
    return this.targets.length;
  }

  target(index: number): number {
    return this.targets[index];
  }

  protected async source(index: number): Promise<ImageSource> {
    this.#interleaved ??= planarToInterleaved(this.#planar, this.length);
    const pixels = await this.#interleaved;
    const offset = index * 3 * PLANE;
    return { data: pixels.subarray(offset, offset + 3 * PLANE), width: SIDE, height: SIDE, channels: 3 };
  }
}

function findFile(root: string, name: string): string {
  for (const dir of [root, path.join(root, 'cifar-10-batches-bin')]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new DatasetError(`CIFAR10: ${name} not found in ${root} or ${path.join(root, 'cifar-10-batches-bin')}`);
}

function readRecords(file: string): Uint8Array {
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DatasetError(`CIFAR10: ${file} holds ${bytes.length} bytes, not a whole number of ${RECORD}-byte records`);
  }
  return bytes;
}

/**
 * Planes [n][c][p] -> pixels [n][p][c] with two libvips transposes (once per data set, no JS
 * pixel loop): [n*c rows][p] -> [p][n*c] is the 3-band image [p rows][n]; transposing that gives
 * [n rows][p] of 3-band pixels.
 */
async function planarToInterleaved(planar: Uint8Array, n: number): Promise<Uint8Array> {
  const byPixel = await transpose(planar, PLANE, 3 * n, 1);
  return transpose(byPixel, n, PLANE, 3);
}

async function transpose(data: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Uint8Array> {
  // flip then rotate(90) maps (x, y) to (y, x); sharp applies the flip first.
  const image = sharp(data, { raw: { width, height, channels }, limitInputPixels: false }).flip().rotate(90);
  const out = await (channels === 1 ? image.toColourspace('b-w') : image).raw().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

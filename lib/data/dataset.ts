// Datasets: indexed samples (image + class index) that load through a transform pipeline.
// Loading stops at 8-bit RGB pixels; the DataLoader normalises whole batches at once.
import { custom, int } from '../check';
import { HostTensor, zeros } from '../tensor';
import { CachedImage, PixelCache } from './cache';
import { DatasetError } from './errors';
import { View } from './geometry';
import { ImageInfo, ImageSource, RgbImage, imageInfo, render, DecodeOptions } from './image';
import { normalizeImages } from './normalize';
import { Rng, mixSeed, mulberry32, randperm } from './random';
import { ImageTransform, Pipeline, Transform, toPipeline } from './transforms';

/** A sample after the transform's crops, resizes and flips: 8-bit RGB HWC pixels and its class index. */
export interface PixelSample {
  image: RgbImage;
  target: number;
}

export interface LoadContext {
  /** This sample's random numbers (the DataLoader derives them from seed, epoch and index). */
  rng: Rng;
  cache?: PixelCache;
}

/** What a DataLoader needs from a data set. */
export interface Dataset {
  readonly length: number;
  /** The transform, flattened; its mean/std normalise the loaded pixels. */
  readonly pipeline: Pipeline;
  loadPixels(index: number, context: LoadContext): Promise<PixelSample>;
}

/** One sample as a tensor: input [3, h, w] float32, transformed and normalised. */
export interface Item {
  input: HostTensor<'float32'>;
  target: number;
}

export abstract class BaseDataset implements Dataset {
  abstract readonly length: number;
  abstract readonly pipeline: Pipeline;
  abstract loadPixels(index: number, context: LoadContext): Promise<PixelSample>;

  /** Sample `index` through the whole transform (random ones drawn from seed and epoch). */
  async get(index: number, options: { seed?: number; epoch?: number } = {}): Promise<Item> {
    const rng = sampleRng(options.seed ?? 0, options.epoch ?? 0, index);
    const { image, target } = await this.loadPixels(index, { rng });
    const input = zeros('float32', [3, image.height, image.width]);
    await normalizeImages(image.data, 1, image.height, image.width, this.pipeline.mean, this.pipeline.std, input.data);
    return { input, target };
  }

  protected checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`index ${index} out of range for a dataset of ${this.length} samples`);
    }
  }
}

/** The random numbers of one sample in one epoch. */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return mulberry32(mixSeed(seed, epoch, index));
}

export interface ImageDatasetOptions extends DecodeOptions {
  transform?: Transform;
}

/** The options every image data set takes, for its checkOptions schema. */
export const IMAGE_DATASET_OPTIONS = {
  transform: custom<Transform>('a transform (compose(...), resize(...), ...)',
    (v) => typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string').orUndefined(),
  maxPixels: int({ min: 1 }).orUndefined(),
};

/** A data set of images (files or pixels in memory) with class indices, run through a transform. */
export abstract class ImageDataset extends BaseDataset {
  readonly transform: Transform | undefined;
  readonly pipeline: Pipeline;
  protected readonly decode: DecodeOptions;
  private readonly infos = new Map<number, ImageInfo>();

  constructor(options: ImageDatasetOptions = {}) {
    super();
    this.transform = options.transform;
    this.pipeline = toPipeline(options.transform);
    this.decode = { maxPixels: options.maxPixels };
  }

  /** The image of sample `index`. */
  protected abstract source(index: number): ImageSource | Promise<ImageSource>;

  /** The class index of sample `index`. */
  abstract target(index: number): number;

  /** The same samples under another transform (e.g. an eval transform for a validation split). */
  withTransform(transform: Transform): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this, { transform, pipeline: toPipeline(transform) });
    return copy;
  }

  async loadPixels(index: number, { rng, cache }: LoadContext): Promise<PixelSample> {
    this.checkIndex(index);
    const source = await this.source(index);
    const target = this.target(index);
    const { image: ops, deterministicPrefix } = this.pipeline;
    const cached = cache?.get(index) ?? (cache && await this.fillCache(index, source, cache));
    if (!cached) {
      const info = await this.info(index, source);
      return { image: await render(source, plan(info.width, info.height, ops, rng), info, this.decode), target };
    }
    const rest = ops.slice(deterministicPrefix);
    if (rest.length === 0) return { image: cached.image, target };
    const view = plan(cached.width, cached.height, rest, rng).onScaledSource(cached.image.width, cached.image.height);
    const pixels = { ...cached.image, channels: 3 as const };
    return { image: await render(pixels, view, { ...cached.image, shrinksOnLoad: false }), target };
  }

  /** Decodes the deterministic prefix of the pipeline into the cache; undefined when it is full. */
  private async fillCache(index: number, source: ImageSource, cache: PixelCache): Promise<CachedImage | undefined> {
    const { image: ops, deterministicPrefix } = this.pipeline;
    const info = await this.info(index, source);
    const view = plan(info.width, info.height, ops.slice(0, deterministicPrefix), NO_RANDOMNESS);
    const { width, height } = view;
    const shorter = Math.min(width, height);
    if (deterministicPrefix < ops.length && shorter > cache.shorterSide) {
      const f = cache.shorterSide / shorter;
      view.resize(Math.max(1, Math.round(width * f)), Math.max(1, Math.round(height * f)), 'bilinear');
    }
    if (!cache.hasRoomFor(view.width * view.height * 3)) return undefined;
    const entry = { image: await render(source, view, info, this.decode), width, height };
    cache.set(index, entry);
    return entry;
  }

  private async info(index: number, source: ImageSource): Promise<ImageInfo> {
    let info = this.infos.get(index);
    if (!info) {
      info = await imageInfo(source, this.decode);
      if (typeof source === 'string') this.infos.set(index, info);
    }
    return info;
  }
}

const NO_RANDOMNESS: Rng = {
  next() {
    throw new Error('a deterministic transform drew a random number');
  },
};

function plan(width: number, height: number, ops: readonly ImageTransform[], rng: Rng): View {
  const view = new View(width, height);
  for (const op of ops) op.apply(view, rng);
  return view;
}

/** The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset). */
export class Subset extends BaseDataset {
  readonly dataset: Dataset;
  readonly indices: readonly number[];

  constructor(dataset: Dataset, indices: readonly number[]) {
    super();
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= dataset.length) {
        throw new RangeError(`Subset: index ${i} out of range for a dataset of ${dataset.length} samples`);
      }
    }
    this.dataset = dataset;
    this.indices = indices;
  }

  get length(): number {
    return this.indices.length;
  }

  get pipeline(): Pipeline {
    return this.dataset.pipeline;
  }

  loadPixels(index: number, context: LoadContext): Promise<PixelSample> {
    this.checkIndex(index);
    return this.dataset.loadPixels(this.indices[index], context);
  }
}

/**
 * Splits a data set into non-overlapping random subsets (torch.utils.data.random_split). Lengths
 * are counts summing to its length, or fractions summing to 1 (the remainder goes round-robin).
 */
export function randomSplit(dataset: Dataset, lengths: readonly number[], seed = 0): Subset[] {
  const n = dataset.length;
  let counts = [...lengths];
  const sum = counts.reduce((a, b) => a + b, 0);
  if (counts.every((f) => f >= 0 && f <= 1) && Math.abs(sum - 1) < 1e-9) {
    counts = counts.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
  }
  if (!counts.every((c) => Number.isInteger(c) && c >= 0) || counts.reduce((a, b) => a + b, 0) !== n) {
    throw new DatasetError(`randomSplit: lengths ${JSON.stringify(lengths)} must be counts summing to ${n} or fractions summing to 1`);
  }
  const order = randperm(n, mulberry32(mixSeed(seed)));
  let offset = 0;
  return counts.map((count) => {
    const indices = Array.from(order.subarray(offset, offset + count));
    offset += count;
    return new Subset(dataset, indices);
  });
}

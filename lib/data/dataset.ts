// Datasets: indexed samples (image + class index) that load through a transform pipeline. A data
// set plans each sample (where its pixels come from, the view its transform takes of them); the
// images are made in one native call per batch (render.ts).
import { internalError, rangeError } from '../base/errors';
import { bool, custom, int } from '../base/check';
import { HostTensor, zeros } from '../base/tensor';
import { PixelCache } from './cache';
import { DatasetError } from './errors';
import { View } from './geometry';
import { DecodeOptions, ImageInfo, ImageSource, RgbImage, imageInfo } from './image';
import { Rng, mixSeed, mulberry32, randperm } from './random';
import { DEFAULT_DECODE_MEMORY, ImageJob, RenderSettings, SamplePlan, renderJobs, resolveFills } from './render';
import { ImageTransform, Pipeline, Transform, toPipeline } from './transforms';

export { SamplePlan } from './render';

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
  /** Plans sample `index`: reads at most its file's header, decodes nothing. */
  plan(index: number, context: LoadContext): Promise<SamplePlan>;
}

/** One sample as a tensor: input [3, h, w] float32, transformed and normalised. */
export interface Item {
  input: HostTensor<'float32'>;
  target: number;
}

export abstract class BaseDataset implements Dataset {
  abstract readonly length: number;
  abstract readonly pipeline: Pipeline;
  abstract plan(index: number, context: LoadContext): Promise<SamplePlan>;

  /** Sample `index` through the whole transform (random ones drawn from seed and epoch). */
  async get(index: number, options: { seed?: number; epoch?: number } = {}): Promise<Item> {
    const rng = sampleRng(options.seed ?? 0, options.epoch ?? 0, index);
    const { job, target } = await this.single(index, rng);
    const input = zeros('float32', [3, job.view.height, job.view.width]);
    const { mean, std } = this.pipeline;
    const [error] = await renderJobs([job], { floats: input.data, offsets: [0], mean, std }, singleImage());
    if (error) throw error;
    return { input, target };
  }

  /** Sample `index` through the transform's crops, resizes and flips, as 8-bit RGB pixels (no normalisation). */
  async loadPixels(index: number, context: LoadContext): Promise<PixelSample> {
    const { job, target } = await this.single(index, context.rng, context.cache);
    const image = { data: new Uint8Array(job.view.width * job.view.height * 3), width: job.view.width, height: job.view.height };
    const [error] = await renderJobs([job], { bytes: [image.data] }, singleImage());
    if (error) throw error;
    return { image, target };
  }

  private async single(index: number, rng: Rng, cache?: PixelCache): Promise<{ job: ImageJob; target: number }> {
    const plan = await this.plan(index, { rng, cache });
    const [job] = await resolveFills([plan], singleImage());
    if (job instanceof Error) throw job;
    return { job, target: plan.target };
  }

  protected checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `index ${index} out of range for a dataset of ${this.length} samples`);
    }
  }
}

function singleImage(): RenderSettings {
  return { threads: 1, decodeMemory: DEFAULT_DECODE_MEMORY };
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
  exifTranspose: bool().orUndefined(),
  shrinkOnLoad: bool().orUndefined(),
};

/** A data set of images (files or pixels in memory) with class indices, run through a transform. */
export abstract class ImageDataset extends BaseDataset {
  readonly transform: Transform | undefined;
  readonly pipeline: Pipeline;
  protected readonly decode: DecodeOptions;
  // TypeScript-private, not #private: withTransform's copies are made without the constructor,
  // and share the headers read so far.
  private readonly infos = new Map<number, ImageInfo>();

  constructor(options: ImageDatasetOptions = {}) {
    super();
    this.transform = options.transform;
    this.pipeline = toPipeline(options.transform);
    this.decode = { maxPixels: options.maxPixels, exifTranspose: options.exifTranspose, shrinkOnLoad: options.shrinkOnLoad };
  }

  /** The image of sample `index`. */
  protected abstract source(index: number): ImageSource | Promise<ImageSource>;

  /** The class index of sample `index`. */
  abstract target(index: number): number;

  /** The same samples under another transform (e.g. an eval transform for a validation split). */
  withTransform(transform: Transform): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object | null) as this;
    Object.assign(copy, this, { transform, pipeline: toPipeline(transform) });
    return copy;
  }

  async plan(index: number, { rng, cache }: LoadContext): Promise<SamplePlan> {
    this.checkIndex(index);
    const target = this.target(index);
    const { image: ops, deterministicPrefix } = this.pipeline;
    const rest = ops.slice(deterministicPrefix);
    const cached = cache?.get(index);
    if (cached) {
      const view = planView(cached.width, cached.height, rest, rng).onScaledSource(cached.image.width, cached.image.height);
      return { target, job: { source: { ...cached.image, channels: 3 }, view, decode: this.decode } };
    }
    const source = await this.source(index);
    const info = await this.info(index, source);
    const { width, height } = info;
    if (cache) {
      // The deterministic prefix goes to the cache (shrunk before a random crop when asked); the
      // rest of the transform then runs from the cached pixels.
      const view = planView(width, height, ops.slice(0, deterministicPrefix), NO_RANDOMNESS);
      const shorter = Math.min(view.width, view.height);
      const [w, h] = [view.width, view.height];
      if (deterministicPrefix < ops.length && shorter > cache.shorterSide) {
        const f = cache.shorterSide / shorter;
        view.resize(Math.max(1, Math.round(w * f)), Math.max(1, Math.round(h * f)), 'bilinear');
      }
      if (cache.reserve(index, view.width * view.height * 3)) {
        const fill = {
          cache, key: index, width: w, height: h,
          rest: (image: RgbImage) => planView(w, h, rest, rng).onScaledSource(image.width, image.height),
        };
        return { target, job: { source, info, view, decode: this.decode }, fill };
      }
    }
    return { target, job: { source, info, view: planView(width, height, ops, rng), decode: this.decode } };
  }

  private async info(index: number, source: ImageSource): Promise<ImageInfo> {
    if (typeof source !== 'string') return { width: source.width, height: source.height, native: true, scalable: false };
    let info = this.infos.get(index);
    if (!info) {
      info = await imageInfo(source, this.decode);
      this.infos.set(index, info);
    }
    return info;
  }
}

const NO_RANDOMNESS: Rng = {
  next() {
    throw internalError('a deterministic transform drew a random number');
  },
};

function planView(width: number, height: number, ops: readonly ImageTransform[], rng: Rng): View {
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
        throw rangeError('ERR_FINETORCH_INVALID_ARG', `Subset: index ${i} out of range for a dataset of ${dataset.length} samples`);
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

  plan(index: number, context: LoadContext): Promise<SamplePlan> {
    this.checkIndex(index);
    return this.dataset.plan(this.indices[index], context);
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

// DataLoader: shuffled, augmented, normalised batches. Up to `concurrency` images decode at once on
// sharp's threads while up to `prefetch` finished batches wait, so decoding overlaps training.
import { bool, checkOptions, custom, int, oneOf } from '../check';
import { withCode } from '../errors';
import type { Batch } from '../model';
import type { HostTensor } from '../tensor';
import { CacheOptions, PixelCache } from './cache';
import { Channel } from './channel';
import { Dataset, PixelSample, sampleRng } from './dataset';
import type { Sampler } from './distributed-sampler';
import { DatasetError, ImageDecodeError } from './errors';
import { normalizeImages } from './normalize';
import { mixSeed, mulberry32, randperm } from './random';

/** What the loader yields: the library's Batch with the class indices as an Int32Array. */
export type LoaderBatch = Batch<Int32Array> & { input: HostTensor<'float32'> };

export interface DataLoaderOptions {
  /** Samples per batch; default 1. */
  batchSize?: number;
  /** Visit samples in a new random order each epoch; default false. */
  shuffle?: boolean;
  /** Seeds the order and the augmentations: the same seed and epoch give the same batches. Default 0. */
  seed?: number;
  /** Drop a last batch smaller than batchSize; default false. */
  dropLast?: boolean;
  /**
   * Which samples to visit each epoch, in order (a DistributedSampler: this rank's share);
   * instead of shuffle, which must then be off. The loader's epoch (setEpoch) is the sampler's.
   */
  sampler?: Sampler;
  /** Images decoding at once; default 4 (libuv's default pool size; raise UV_THREADPOOL_SIZE for more). */
  concurrency?: number;
  /** Batches kept ready ahead of the consumer; default 2. */
  prefetch?: number;
  /**
   * What a file that cannot be decoded does: 'throw' (default) rejects the iteration with an
   * ImageDecodeError naming the file; 'skip' warns and takes the next sample, so batches stay full.
   */
  onError?: 'throw' | 'skip';
  /** Keep decoded pixels in memory for later epochs (see CacheOptions). Off by default. */
  cache?: CacheOptions;
  /**
   * Write batches into recycled buffers: a batch's input is overwritten after the following batch
   * is requested. Right for training loops that finish each step before the next; default false.
   */
  reuseBuffers?: boolean;
}

type Settled = { sample: PixelSample } | { skipped: true } | { error: unknown };

/** One iteration's buffers: the uint8 staging batch and, with reuseBuffers, recycled inputs. */
interface Buffers {
  staging?: Uint8Array;
  free: Float32Array[];
}

export class DataLoader implements AsyncIterable<LoaderBatch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly sampler: Sampler | undefined;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly onError: 'throw' | 'skip';
  readonly reuseBuffers: boolean;
  readonly cache: PixelCache | undefined;
  private epoch = 0;
  private skips = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    const o = checkOptions('DataLoader', options, {
      batchSize: int({ min: 1 }).default(1),
      shuffle: bool().default(false),
      seed: int({ min: 0 }).default(0),
      dropLast: bool().default(false),
      sampler: custom<Sampler>('a sampler (length and indices(epoch))',
        (v) => typeof (v as Sampler)?.indices === 'function' && Number.isInteger((v as Sampler).length)).orUndefined(),
      concurrency: int({ min: 1 }).default(4),
      prefetch: int({ min: 1 }).default(2),
      onError: oneOf(['throw', 'skip']).default('throw'),
      cache: custom<CacheOptions>('an object { maxBytes, shorterSide? }', (v) => typeof v === 'object' && v !== null).orUndefined(),
      reuseBuffers: bool().default(false),
    });
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    if (o.sampler && o.shuffle) {
      throw withCode(new RangeError('DataLoader: sampler and shuffle exclude each other (the sampler decides the order)'),
        'ERR_FINETORCH_INVALID_ARG');
    }
    this.sampler = o.sampler;
    this.concurrency = o.concurrency;
    this.prefetch = o.prefetch;
    this.onError = o.onError;
    this.reuseBuffers = o.reuseBuffers;
    this.cache = o.cache ? new PixelCache(o.cache) : undefined;
  }

  /** Samples skipped by onError: 'skip' so far. */
  get skipped(): number {
    return this.skips;
  }

  /** Number of batches in an epoch (before any skipped samples). */
  get length(): number {
    const n = this.sampler?.length ?? this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration runs (it then advances by one, so each pass reshuffles). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
    this.epoch = epoch;
  }

  [Symbol.asyncIterator](): AsyncIterator<LoaderBatch> {
    const epoch = this.epoch++;
    const batches = new Channel<LoaderBatch>(this.prefetch);
    const buffers: Buffers = { free: [] };
    let handedOut: LoaderBatch | undefined;
    this.produce(epoch, batches, buffers).then(() => batches.close(), (err) => batches.close(err));
    return {
      next: async () => {
        if (handedOut && this.reuseBuffers) buffers.free.push(handedOut.input.data);
        handedOut = await batches.pull();
        return handedOut ? { value: handedOut, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        batches.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Loads the epoch's samples in order, `concurrency` at a time, and pushes finished batches. */
  private async produce(epoch: number, batches: Channel<LoaderBatch>, buffers: Buffers): Promise<void> {
    const order = this.sampler ? await this.sampler.indices(epoch)
      : this.shuffle ? randperm(this.dataset.length, mulberry32(mixSeed(this.seed, epoch, 0x5eed))) : undefined;
    const n = order?.length ?? this.dataset.length;
    const pending: Promise<Settled>[] = [];
    let started = 0;
    let inFlight = 0;
    // Keeps `concurrency` loads running; finished ones wait in order, at most a batch beyond that.
    const fill = (): void => {
      while (!batches.closed && inFlight < this.concurrency && pending.length < this.concurrency + this.batchSize && started < n) {
        const index = order ? order[started] : started;
        started++;
        inFlight++;
        pending.push(this.load(index, epoch).finally(() => {
          inFlight--;
          fill();
        }));
      }
    };
    for (;;) {
      const samples: PixelSample[] = [];
      while (samples.length < this.batchSize) {
        fill();
        const next = pending.shift();
        if (!next) break;
        const settled = await next;
        if ('error' in settled) throw settled.error;
        if ('sample' in settled) samples.push(settled.sample);
      }
      if (samples.length === 0 || (samples.length < this.batchSize && this.dropLast)) return;
      if (!(await batches.push(await this.collate(samples, buffers)))) return;
    }
  }

  private async load(index: number, epoch: number): Promise<Settled> {
    try {
      const sample = await this.dataset.loadPixels(index, { rng: sampleRng(this.seed, epoch, index), cache: this.cache });
      return { sample };
    } catch (error) {
      if (this.onError === 'skip' && error instanceof ImageDecodeError) {
        this.skips++;
        process.emitWarning(`skipped sample ${index}: ${error.message}`, { code: 'FINETORCH_BAD_IMAGE' });
        return { skipped: true };
      }
      return { error };
    }
  }

  /** Copies the samples' pixels into one NHWC buffer and normalises it into NCHW floats natively. */
  private async collate(samples: PixelSample[], buffers: Buffers): Promise<LoaderBatch> {
    const { width, height } = samples[0].image;
    const size = height * width * 3;
    for (const { image } of samples) {
      if (image.width !== width || image.height !== height) {
        throw new DatasetError(`DataLoader: samples of ${image.width}x${image.height} and ${width}x${height} pixels ` +
          'in one batch; end the transform with a crop or a [height, width] resize');
      }
    }
    const n = samples.length;
    if (!buffers.staging || buffers.staging.length < n * size) buffers.staging = new Uint8Array(this.batchSize * size);
    const staging = buffers.staging;
    samples.forEach(({ image }, i) => staging.set(image.data, i * size));
    const free = buffers.free.findIndex((b) => b.length === n * size);
    const data = free >= 0 ? buffers.free.splice(free, 1)[0] : new Float32Array(n * size);
    const { mean, std } = this.dataset.pipeline;
    await normalizeImages(staging, n, height, width, mean, std, data);
    return { input: { dtype: 'float32', shape: [n, 3, height, width], data }, target: Int32Array.from(samples, (s) => s.target) };
  }
}

// DataLoader: shuffled, augmented, normalised batches. Each batch is made in one native call, its
// images decoded and transformed on `concurrency` native threads, while up to `prefetch` finished
// batches wait, so making the next batches overlaps training on this one. A batch made ahead of
// need runs at the lowest CPU priority (Linux's SCHED_IDLE), taking only the cores the steps leave
// idle; one the consumer waits for, at normal priority.
import * as os from 'node:os';
import { bool, checkOptions, custom, int } from '../base/check';
import { rangeError } from '../base/errors';
import type { HostTensor } from '../base/tensor';
import type { Batch, BatchSource } from './batch';
import { CacheOptions, PixelCache } from './cache';
import { Channel } from './channel';
import { Dataset, sampleRng } from './dataset';
import type { Sampler } from './sampler';
import { DatasetError, ImageDecodeError } from './errors';
import { mixSeed, mulberry32, randperm } from './random';
import { DEFAULT_DECODE_MEMORY, ImageJob, RenderSettings, SamplePlan, renderJobs, resolveFills } from './render';

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
  /** Native threads making a batch's images at once; default: the machine's cores (os.availableParallelism()). */
  concurrency?: number;
  /**
   * Bytes the images decoding at once may take together (decoded pixels and decoder buffers); an
   * image that needs more decodes alone. Default 1 GiB.
   */
  decodeMemory?: number;
  /**
   * Batches kept ready ahead of the consumer; default 2. They are made at the lowest CPU priority
   * until the consumer waits for one (then at normal priority), so that on CPU they do not slow the
   * training steps.
   */
  prefetch?: number;
  /**
   * What a file that cannot be decoded does: 'throw' (default) rejects the iteration with an
   * ImageDecodeError naming the file; 'skip' warns and takes the next sample, so batches stay full;
   * a function is told (the error and the sample's index) instead of the warning, and the sample is
   * skipped.
   */
  onError?: OnError;
  /** Keep decoded pixels in memory for later epochs (see CacheOptions). Off by default. */
  cache?: CacheOptions;
  /**
   * Write batches into recycled buffers: a batch's input is overwritten after the following batch
   * is requested. Right for training loops that finish each step before the next; default false.
   */
  reuseBuffers?: boolean;
}

export type OnError = 'throw' | 'skip' | ((error: ImageDecodeError, index: number) => void);

/** One iteration's recycled batch buffers (with reuseBuffers). */
interface Buffers {
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
  readonly decodeMemory: number;
  readonly prefetch: number;
  readonly onError: OnError;
  readonly reuseBuffers: boolean;
  readonly cache: PixelCache | undefined;
  #epoch = 0;
  #skips = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    const o = checkOptions('DataLoader', options, {
      batchSize: int({ min: 1 }).default(1),
      shuffle: bool().default(false),
      seed: int({ min: 0 }).default(0),
      dropLast: bool().default(false),
      sampler: custom<Sampler>('a sampler (length and indices(epoch))',
        (v) => typeof (v as Sampler)?.indices === 'function' && Number.isInteger((v as Sampler).length)).orUndefined(),
      concurrency: int({ min: 1 }).default(os.availableParallelism()),
      decodeMemory: int({ min: 1 }).default(DEFAULT_DECODE_MEMORY),
      prefetch: int({ min: 1 }).default(2),
      onError: custom<OnError>("'throw', 'skip' or a function (error, index)", (v) => v === 'throw' || v === 'skip' || typeof v === 'function').default('throw'),
      cache: custom<CacheOptions>('an object { maxBytes, shorterSide? }', (v) => typeof v === 'object' && v !== null).orUndefined(),
      reuseBuffers: bool().default(false),
    });
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    if (o.sampler && o.shuffle) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'DataLoader: sampler and shuffle exclude each other (the sampler decides the order)');
    }
    this.sampler = o.sampler;
    this.concurrency = o.concurrency;
    this.decodeMemory = o.decodeMemory;
    this.prefetch = o.prefetch;
    this.onError = o.onError;
    this.reuseBuffers = o.reuseBuffers;
    this.cache = o.cache ? new PixelCache(o.cache) : undefined;
  }

  /** Samples skipped (onError 'skip' or a function) so far. */
  get skipped(): number {
    return this.#skips;
  }

  /** Number of batches in an epoch (before any skipped samples). */
  get length(): number {
    const n = this.sampler?.length ?? this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration runs (it then advances by one, so each pass reshuffles). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw rangeError('ERR_FINETORCH_INVALID_ARG', `epoch must be a non-negative integer, got ${epoch}`);
    this.#epoch = epoch;
  }

  [Symbol.asyncIterator](): AsyncIterator<LoaderBatch> {
    return this.iterate(this.reuseBuffers);
  }

  /**
   * One epoch's batches, as iterating the loader gives them, except that `reuseBuffers` says
   * whether batch buffers are recycled. The library's loops iterate with true whatever the option
   * says: they are done with a batch before they ask for the next, and a fresh batch of more than
   * 32 MiB (224 px x 64) is fresh pages every time (their cost: README, Benchmarks).
   */
  iterate(reuseBuffers: boolean): AsyncIterator<LoaderBatch> {
    const epoch = this.#epoch++;
    const batches = new Channel<LoaderBatch>(this.prefetch);
    const buffers: Buffers = { free: [] };
    // Set while the consumer waits: batches made ahead of need yield the cores to the steps.
    const waitedFor = new Int32Array(1);
    let handedOut: LoaderBatch | undefined;
    this.#produce(epoch, batches, buffers, waitedFor).then(() => batches.close(), (err) => batches.close(err));
    return {
      next: async () => {
        if (handedOut && reuseBuffers) buffers.free.push(handedOut.input.data);
        if (batches.size === 0) Atomics.store(waitedFor, 0, 1);
        try {
          handedOut = await batches.pull();
        } finally {
          Atomics.store(waitedFor, 0, 0);
        }
        return handedOut ? { value: handedOut, done: false } : { value: undefined, done: true };
      },
      return: async () => {
        batches.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Makes the epoch's batches in order and pushes them; a batch is made in one native call. */
  async #produce(epoch: number, batches: Channel<LoaderBatch>, buffers: Buffers, waitedFor: Int32Array): Promise<void> {
    const order = this.sampler ? await this.sampler.indices(epoch)
      : this.shuffle ? randperm(this.dataset.length, mulberry32(mixSeed(this.seed, epoch, 0x5eed))) : undefined;
    const n = order?.length ?? this.dataset.length;
    const settings: RenderSettings = { threads: this.concurrency, decodeMemory: this.decodeMemory, waitedFor };
    const { mean, std } = this.dataset.pipeline;
    let next = 0;
    while (next < n && !batches.closed) {
      const targets: number[] = [];
      let size: { width: number; height: number } | undefined;
      let data: Float32Array | undefined;
      // A skipped sample is replaced by the next one, so batches stay full.
      while (targets.length < this.batchSize && next < n) {
        const indices: number[] = [];
        while (indices.length < this.batchSize - targets.length && next < n) indices.push(order ? order[next++] : next++);
        const plans = this.#survivors<{ index: number }, SamplePlan>(indices.map((index) => ({ index })), await Promise.all(indices.map((index) =>
          this.dataset.plan(index, { rng: sampleRng(this.seed, epoch, index), cache: this.cache }).catch((error: unknown) => error))));
        const jobs = this.#survivors<{ index: number; target: number }, ImageJob>(plans.map(({ index, result }) => ({ index, target: result.target })),
          await resolveFills(plans.map((p) => p.result), settings));
        if (jobs.length === 0) continue;
        size ??= { width: jobs[0].result.view.width, height: jobs[0].result.view.height };
        for (const { result: { view } } of jobs) {
          if (view.width !== size.width || view.height !== size.height) {
            throw new DatasetError(`DataLoader: samples of ${view.width}x${view.height} and ${size.width}x${size.height} pixels ` +
              'in one batch; end the transform with a crop or a [height, width] resize');
          }
        }
        const per = 3 * size.width * size.height;
        data ??= this.#buffer(buffers, this.batchSize * per);
        const slots = jobs.map((job, k) => ({ ...job, slot: targets.length + k }));
        const errors = await renderJobs(jobs.map((j) => j.result), { floats: data, offsets: slots.map((j) => j.slot * per), mean, std }, settings);
        // Made images move up over the slots of those that failed.
        for (const { slot, target } of this.#survivors<(typeof slots)[number], null>(slots, errors.map((error) => error ?? null))) {
          if (slot !== targets.length) data.copyWithin(targets.length * per, slot * per, (slot + 1) * per);
          targets.push(target);
        }
      }
      if (targets.length === 0 || !size || !data || (targets.length < this.batchSize && this.dropLast)) return;
      const count = targets.length;
      const input = count === this.batchSize ? data : data.slice(0, count * 3 * size.width * size.height);
      const batch = { input: { dtype: 'float32' as const, shape: [count, 3, size.height, size.width], data: input }, target: Int32Array.from(targets) };
      if (!(await batches.push(batch))) return;
    }
  }

  /**
   * The entries whose result is no error, each with its result. An ImageDecodeError is skipped
   * (onError 'skip' warns; a function is told); any other error is thrown.
   */
  #survivors<E extends { index: number }, R>(entries: E[], results: readonly unknown[]): (E & { result: R })[] {
    const kept: (E & { result: R })[] = [];
    results.forEach((result, k) => {
      if (!(result instanceof Error)) {
        kept.push({ ...entries[k], result: result as R });
        return;
      }
      if (this.onError === 'throw' || !(result instanceof ImageDecodeError)) throw result;
      this.#skips++;
      if (this.onError === 'skip') process.emitWarning(`skipped sample ${entries[k].index}: ${result.message}`, { code: 'FINETORCH_BAD_IMAGE' });
      else this.onError(result, entries[k].index);
    });
    return kept;
  }

  /** A batch buffer: a recycled one (reuseBuffers) or a new one. */
  #buffer(buffers: Buffers, length: number): Float32Array {
    const free = buffers.free.findIndex((b) => b.length === length);
    return free >= 0 ? buffers.free.splice(free, 1)[0] : new Float32Array(length);
  }
}

/**
 * What makes the batches of `source` differ from one epoch to the next: the random transforms of a
 * DataLoader's pipeline, by name, and its shuffling; nothing that finetorch can see for another
 * source.
 */
export function perEpochVariation(source: BatchSource): { randomTransforms: string[]; shuffle: boolean } {
  if (!(source instanceof DataLoader)) return { randomTransforms: [], shuffle: false };
  return { randomTransforms: source.dataset.pipeline.image.filter((t) => t.random).map((t) => t.name), shuffle: source.shuffle };
}

/**
 * The batches of `source` for a loop that is done with each batch before it asks for the next: a
 * DataLoader's are made in recycled buffers (see DataLoader.iterate).
 */
export function stepwise(source: BatchSource): Iterable<Batch> | AsyncIterable<Batch> {
  return source instanceof DataLoader ? { [Symbol.asyncIterator]: () => source.iterate(true) } : source;
}

// Which samples each rank of a data-parallel job visits: torch.utils.data.DistributedSampler,
// index for index. The shuffle is torch.randperm with a CPU generator seeded with seed + epoch
// (LibTorch's own, not the loader's generator), padded by repeating its head or cut to a multiple
// of the number of ranks (dropLast), and dealt out rank::numReplicas.
import { native } from '../base/binding';
import { bool, checkOptions, int } from '../base/check';
import { rangeError, typeError } from '../base/errors';
import type { Sampler } from '../data/sampler';
import { dist } from './process-group';

export interface DistributedSamplerOptions {
  /** Number of ranks; default dist.worldSize. */
  numReplicas?: number;
  /** This rank; default dist.rank. */
  rank?: number;
  /** A new order each epoch (the same on every rank); default true. */
  shuffle?: boolean;
  /** Added to the epoch to seed the shuffle; the same on every rank. Default 0. */
  seed?: number;
  /** Cut the data to a multiple of numReplicas instead of repeating samples to fill it; default false. */
  dropLast?: boolean;
}

const SCHEMA = {
  numReplicas: int({ min: 1 }).orUndefined(),
  rank: int({ min: 0 }).orUndefined(),
  shuffle: bool().default(true),
  seed: int({ min: 0 }).default(0),
  dropLast: bool().default(false),
};

export class DistributedSampler implements Sampler {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Samples this rank visits per epoch (DistributedSampler.num_samples). */
  readonly length: number;
  readonly #size: number;

  constructor(dataset: { readonly length: number }, options: DistributedSamplerOptions = {}) {
    const o = checkOptions('DistributedSampler', options, SCHEMA);
    if (!Number.isSafeInteger(dataset?.length) || dataset.length < 0) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', 'DistributedSampler: dataset must have a length');
    }
    this.numReplicas = o.numReplicas ?? dist.worldSize;
    this.rank = o.rank ?? dist.rank;
    if (this.rank >= this.numReplicas) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `DistributedSampler: rank must be below numReplicas (${this.numReplicas}), got ${this.rank}`);
    }
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    this.#size = dataset.length;
    const n = this.#size;
    this.length = this.dropLast && n % this.numReplicas !== 0
      ? Math.max(0, Math.ceil((n - this.numReplicas) / this.numReplicas))
      : Math.ceil(n / this.numReplicas);
  }

  /** This rank's samples in `epoch`, in the order it visits them. */
  async indices(epoch: number): Promise<Int32Array> {
    const order = this.shuffle
      ? await native.samplerPermutation({ n: this.#size, seed: this.seed + epoch })
      : Int32Array.from({ length: this.#size }, (_, i) => i);
    const out = new Int32Array(this.length);
    // Position k of the padded (or cut) order is order[k % size]: padding repeats the head.
    for (let i = 0; i < this.length; i++) out[i] = order[(this.rank + i * this.numReplicas) % this.#size];
    return out;
  }
}

/** @internal Each sample exactly once over the ranks (rank, rank + W, ...): evaluation's shards. */
export function evaluationShard(length: number): Sampler | undefined {
  if (!dist.isInitialized || dist.worldSize === 1) return undefined;
  const { rank, worldSize } = dist;
  const indices = Int32Array.from({ length: Math.max(0, Math.ceil((length - rank) / worldSize)) }, (_, i) => rank + i * worldSize);
  return { length: indices.length, indices: async () => indices };
}

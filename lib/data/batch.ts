// What the data pipeline hands to a training or evaluation step: a batch of inputs with one class
// index per sample, and the sources of batches the loops read (an array, a generator, a DataLoader).
import type { HostTensor } from '../base/tensor';

/** Class indices, one per sample. */
export type Target = Int32Array | BigInt64Array;

/** One batch: input [N, 3, H, W] (or backbone features [N, F]) float32, one class index per sample. */
export interface Batch<T extends Target = Target> {
  input: HostTensor;
  target: T;
}

/** Batches for one epoch; a DataLoader also reshuffles per epoch (setEpoch) and knows its length. */
export type BatchSource = (Iterable<Batch> | AsyncIterable<Batch>) & { length?: number; setEpoch?(epoch: number): void };

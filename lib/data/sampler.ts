// Which samples a DataLoader visits each epoch, in order, when the order is not its own shuffle (a
// DistributedSampler: this rank's share of a data-parallel job).

/** An order of sample indices per epoch, for DataLoader's `sampler` option. */
export interface Sampler {
  /** Indices per epoch. */
  readonly length: number;
  indices(epoch: number): Promise<ArrayLike<number>>;
}

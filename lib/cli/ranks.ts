// finetorch train as one rank of a data-parallel job (started by --nproc-per-node or torchrun):
// joining the job, this rank's device and share of the data, and who reports and writes (rank 0).
import type { Dataset, Sampler } from '../data';
import { DistributedSampler, evaluationShard } from '../dist/distributed-sampler';
import { dist } from '../dist/process-group';
import { writesFiles } from '../train/rank-agreement';
import type { Device, Model } from '../model/model';
import { exitWithLauncher } from './launch';
import type { ProgressStream } from './progress';

/**
 * Joins the job when this process is one rank of one (WORLD_SIZE set, as torchrun and the
 * launcher set it); resolves to the device this rank trains on: with CUDA, the GPU of its local
 * rank, joined over NCCL; else the CPU over Gloo.
 */
export async function joinJobIfRank(device: Device): Promise<Device> {
  if (process.env.WORLD_SIZE === undefined) return device;
  exitWithLauncher();
  const cuda = device !== 'cpu';
  await dist.init({ backend: cuda ? 'nccl' : 'gloo' });
  return cuda ? `cuda:${dist.localRank}` : device;
}

/** In a job, the model trains data-parallel (DistributedDataParallel's semantics). */
export async function distributeIfRank(net: Model): Promise<void> {
  if (dist.isInitialized) await net.distributed();
}

/** Training: this rank's share, reshuffled every epoch as DistributedSampler does (all ranks alike). */
export function trainSampler(dataset: Dataset, seed: number): Sampler | undefined {
  return dist.isInitialized ? new DistributedSampler(dataset, { seed }) : undefined;
}

/** Validation: each sample on exactly one rank, so that the job's means are the data's. */
export function validSampler(dataset: Dataset): Sampler | undefined {
  return evaluationShard(dataset.length);
}

/** Where progress goes: stderr on rank 0 (or outside a job), nowhere on the other ranks. */
export function progressStream(): ProgressStream {
  return writesFiles() ? process.stderr : { write: () => true };
}

/** After the job: leave it (the other ranks may already have). */
export async function leaveJob(): Promise<void> {
  await dist.destroy();
}

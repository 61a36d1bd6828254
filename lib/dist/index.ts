// Data-parallel jobs, as torch.distributed: the process group (the one owner of collectives), torchrun's environment, and each rank's share of the data.
export { dist } from './process-group';
export type { Backend, Distributed, InitOptions, ReduceOp } from './process-group';
export { jobFromEnv } from './environment';
export type { Environment, JobEnv } from './environment';
export { DistributedSampler } from './distributed-sampler';
export type { DistributedSamplerOptions } from './distributed-sampler';

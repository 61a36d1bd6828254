// Data-parallel jobs, as torch.distributed: the process group (the one owner of collectives), torchrun's environment, and each rank's share of the data.
export { dist, jobFromEnv } from './process-group';
export type { Backend, Distributed, Environment, InitOptions, JobEnv, ReduceOp } from './process-group';
export { DistributedSampler } from './distributed-sampler';
export type { DistributedSamplerOptions } from './distributed-sampler';

// Plumbing every room stands on: coded errors, argument checks, the work queue, atomic files, HostTensor, and the one door to the addon.
export type { DType, DTypeMap, HostTensor, TypedArray } from './tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
export { cpuMemory, cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './runtime';

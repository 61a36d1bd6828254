// The public surface of finetorch: re-exports only.
export type { DType, HostTensor, TypedArray } from './tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
export { loadPth, readPth, savePth, PthError } from './pth';
export { ResNet18, Parameter, Linear } from './model';
export type { Device, StepResult, Target } from './model';
export { SGD } from './optim';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim';
export { cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './runtime';
export { LRScheduler, scheduledLr } from './schedule';
export type { Schedule } from './schedule';
export { fineTune, linearProbe, evaluate, TrainingDivergedError } from './train';
export * from './data';
// The training loop's Batch (any input, Int32Array or BigInt64Array targets) over the loader's.
export type { Batch, BatchSource, BatchEvent, EpochRecord, FineTuneOptions, LinearProbeOptions, LoopOptions } from './train';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './checkpoint';
export type { CheckpointInfo, TrainingState } from './checkpoint';

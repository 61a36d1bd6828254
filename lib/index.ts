// The public surface of finetorch: re-exports only.
export type { DType, DTypeMap, HostTensor, TypedArray } from './base/tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './base/errors';
export type { ErrorCode } from './base/errors';
export { loadPth, readPth, savePth, PthError } from './pth';
export type { PthReadOptions, PthSavable, PthValue, StateDict } from './pth';
export { ResNet, ResNet18, Parameter, Linear } from './model/resnet';
export type { Arch, Batch, CreateOptions, Device, LoadOptions, LoadResult, PretrainedModelOptions, ResNetConfig, StepResult, Target } from './model/resnet';
export { ARCH_NAMES } from './model/resnet-architectures';
export { readOnnxMetadata } from './export';
export type { OnnxExportOptions } from './export';
export { IMAGENET_CLASSES } from './model/imagenet';
export { SGD } from './optim/sgd';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim/sgd';
export { cpuMemory, cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './base/runtime';
export { LRScheduler, scheduledLr, scheduledMomentum } from './optim/schedule';
export type { OneCycle, Schedule } from './optim/schedule';
export { fineTune, linearProbe, evaluate, TrainingDivergedError } from './train/fine-tune';
export { lrFind, suggestLrs } from './train/lr-find';
export type { LrFindOptions, LrFindResult, Suggestion, Suggestions } from './train/lr-find';
export { ScoreAccumulator } from './train/metrics';
export type { Scores } from './train/metrics';
export * from './data';
export type {
  BatchSource, BatchEvent, ValidBatchEvent, EpochRecord, StopSignal, TrainingPosition, FineTuneOptions, LinearProbeOptions, LoopOptions,
} from './train/fine-tune';
export { dist, jobFromEnv } from './dist/process-group';
export type { Backend, Distributed, Environment, InitOptions, JobEnv, ReduceOp } from './dist/process-group';
export { pretrainedWeights, importWeights, weightsInfo, listWeights, hubDir, WEIGHTS_NAMES, TORCHVISION_BASE_URL } from './model/torchvision-weights';
export type { PretrainedOptions, PretrainedWeights, WeightsInfo, WeightsName } from './model/torchvision-weights';
export { downloadUrlToFile, DownloadError } from './hub/download';
export type { DownloadOptions } from './hub/download';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './train/checkpoint';
export type { CheckpointContents, CheckpointInfo, EpochTotals, TrainingState } from './train/checkpoint';

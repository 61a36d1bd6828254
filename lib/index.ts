// The public surface of finetorch: re-exports only.
export type { DType, DTypeMap, HostTensor, TypedArray } from './tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
export { loadPth, readPth, savePth, PthError } from './pth';
export type { PthSavable, PthValue, StateDict } from './pth';
export { Model, ResNet, ResNet18, Parameter, Linear } from './model';
export type { Arch, Batch, CreateOptions, Device, LoadOptions, LoadResult, PretrainedModelOptions, ResNetConfig, StepResult, Target } from './model';
export { ARCH_NAMES } from './architectures';
export { VisionTransformer } from './model/vit';
export type { VitCreateOptions, VitLoadOptions, VitPretrainedOptions } from './model/vit';
export { VIT_ARCH_NAMES } from './model/vit-architectures';
export type { VitConfig } from './model/vit-architectures';
export type { VitLayout } from './model/vit-layouts';
export { interpolatePosEmbed } from './model/pos-embed';
export { SGD } from './optim';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim';
export { cpuMemory, cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './runtime';
export { LRScheduler, scheduledLr } from './schedule';
export type { Schedule } from './schedule';
export { fineTune, linearProbe, evaluate, TrainingDivergedError } from './train';
export { lrFind, suggestLrs } from './lr-find';
export type { LrFindOptions, LrFindResult, Suggestion, Suggestions } from './lr-find';
export { ScoreAccumulator } from './metrics';
export type { Scores } from './metrics';
export * from './data';
export type {
  BatchSource, BatchEvent, ValidBatchEvent, EpochRecord, StopSignal, TrainingPosition, FineTuneOptions, LinearProbeOptions, LoopOptions,
} from './train';
export { dist, jobFromEnv } from './dist';
export type { Backend, Environment, InitOptions, JobEnv, ReduceOp } from './dist';
export { pretrainedWeights, weightsInfo, listWeights, hubDir, WEIGHTS_NAMES, TORCHVISION_BASE_URL, maePretrainedWeights, MAE_WEIGHTS_NAMES, MAE_BASE_URL } from './hub';
export type { PretrainedOptions, PretrainedWeights, WeightsInfo, WeightsName, MaePretrainedWeights, MaeWeightsName } from './hub';
export { downloadUrlToFile, DownloadError } from './download';
export type { DownloadOptions } from './download';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './checkpoint';
export type { CheckpointContents, CheckpointInfo, EpochTotals, TrainingState } from './checkpoint';

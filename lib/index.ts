// The public surface of finetorch: re-exports only.
export type { DType, DTypeMap, HostTensor, TypedArray } from './tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
export { loadPth, readPth, savePth, PthError } from './pth';
export type { PthReadOptions, PthSavable, PthValue, StateDict } from './pth';
export { loadSafetensors, readSafetensorsHeader, saveSafetensors, SafetensorsError, SAFETENSORS_DTYPES } from './safetensors';
export type { SafetensorsDType, SafetensorsHeader, SafetensorsTensors, SafetensorsReadOptions, SafetensorsWriteOptions } from './safetensors';
export { ResNet, ResNet18, Parameter, Linear } from './model';
export type {
  Arch, Batch, CreateOptions, Device, HubModelOptions, LoadOptions, LoadResult, PretrainedModelOptions, ResNetConfig, StepResult, Target,
} from './model';
export { ARCH_NAMES } from './architectures';
export { readOnnxMetadata } from './export';
export type { OnnxExportOptions } from './export';
export { IMAGENET_CLASSES } from './imagenet';
export { SGD } from './optim';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim';
export { cpuMemory, cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './runtime';
export { LRScheduler, scheduledLr, scheduledMomentum } from './schedule';
export type { OneCycle, Schedule } from './schedule';
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
export type { Backend, Distributed, Environment, InitOptions, JobEnv, ReduceOp } from './dist';
export { pretrainedWeights, importWeights, weightsInfo, listWeights, hubDir, WEIGHTS_NAMES, TORCHVISION_BASE_URL } from './hub';
export type { PretrainedOptions, PretrainedWeights, WeightsInfo, WeightsName } from './hub';
export { listHubWeights } from './hub/timm-ids';
export type { HubWeightsEntry } from './hub/timm-ids';
export { hfHubCache } from './hub/hf-env';
export type { HubEnv } from './hub/hf-env';
export type { HubDownloadOptions, HubWeights } from './hub/timm-weights';
export type { TimmConfig } from './hub/timm-config';
export { downloadUrlToFile, DownloadError } from './download';
export type { DownloadOptions } from './download';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './checkpoint';
export type { CheckpointContents, CheckpointInfo, EpochTotals, TrainingState } from './checkpoint';

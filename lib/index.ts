// The public surface of finetorch: re-exports only.
export type { DType, DTypeMap, HostTensor, TypedArray } from './tensor';
export { FinetorchError, hasCode, ERROR_CODES } from './errors';
export type { ErrorCode } from './errors';
export { loadPth, readPth, savePth, PthError } from './pth';
export type { PthReadOptions, PthSavable, PthValue, StateDict } from './pth';
export { loadSafetensors, readSafetensorsHeader, saveSafetensors, SafetensorsError, SAFETENSORS_DTYPES } from './safetensors';
export type { SafetensorsDType, SafetensorsHeader, SafetensorsReadOptions, SafetensorsWriteOptions } from './safetensors';
export { ResNet, ResNet18, Parameter, Linear } from './model';
export type {
  Arch, Batch, CreateOptions, Device, HubModelOptions, LoadOptions, LoadResult, PretrainedModelOptions, ResNetConfig, SoftTarget, StepResult,
  Target, TrainStepOptions,
} from './model';
export { ARCH_NAMES } from './architectures';
export { readOnnxMetadata } from './export';
export type { OnnxExportOptions } from './export';
export { IMAGENET_CLASSES } from './imagenet';
export { SGD } from './optim';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './optim';
export { Optimizer } from './optim/optimizer';
export type { GroupExtras, GroupSpec, OptimizerStateDict } from './optim/optimizer';
export { AdamW } from './optim/adamw';
export type { AdamWOptions, AdamWParamGroup, AdamWGroupSpec, AdamWStateDict } from './optim/adamw';
export { LARS } from './optim/lars';
export type { LARSOptions, LARSParamGroup, LARSGroupSpec, LARSStateDict } from './optim/lars';
export { paramGroupsLrd, layerIdForVit } from './optim/layer-decay';
export type { LayerDecayGroup, LayerDecayOptions, NamedShape } from './optim/layer-decay';
export { halfCycleCosineLr, absoluteLr } from './optim/lr-sched';
export type { HalfCycleCosineOptions } from './optim/lr-sched';
export { cpuMemory, cuda, setNumThreads, getNumThreads, setAllowTF32, torchVersion } from './runtime';
export { LRScheduler, scheduledLr, scheduledMomentum } from './schedule';
export type { OneCycle, Schedule, ScheduledGroup } from './schedule';
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
export type { HubDownloadOptions, HubWeights } from './hub/timm-weights';
export type { TimmConfig } from './hub/timm-config';
export { downloadUrlToFile, DownloadError } from './download';
export type { DownloadOptions } from './download';
export { saveCheckpoint, loadCheckpoint, readCheckpointInfo } from './checkpoint';
export type { CheckpointContents, CheckpointInfo, EpochTotals, TrainingState } from './checkpoint';

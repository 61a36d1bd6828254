// The models: torchvision's ResNet family in LibTorch, its fine-tuning surgery, and the weights published for it (torchvision's, timm's on the Hub).
export { ResNet, ResNet18, Parameter, Linear } from './resnet';
export type {
  Arch, CreateOptions, Device, HubModelOptions, LoadOptions, LoadResult, PretrainedModelOptions, ResNetConfig, StepResult, TrainStepOptions,
} from './resnet';
export { ARCH_NAMES } from './resnet-architectures';
export { IMAGENET_CLASSES } from './imagenet';
export { pretrainedWeights, importWeights, weightsInfo, listWeights, WEIGHTS_NAMES, TORCHVISION_BASE_URL } from './torchvision-weights';
export type { PretrainedOptions, PretrainedWeights, WeightsInfo, WeightsName } from './torchvision-weights';
export { listHubWeights } from './timm-ids';
export type { HubWeightsEntry } from './timm-ids';
export type { HubDownloadOptions, HubWeights } from './timm-weights';
export type { TimmConfig } from './timm-config';

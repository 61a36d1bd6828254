// The data pipeline's public names.
export { Dataset, BaseDataset, ImageDataset, ImageDatasetOptions, Item, LoadContext, PixelSample, Subset, randomSplit } from './dataset';
export { ImageFolder, ImageFolderOptions, IMG_EXTENSIONS } from './image-folder';
export { IdxDataset, IdxDatasetOptions, MNIST, FashionMNIST, MnistOptions, readIdx } from './idx';
export { CIFAR10, Cifar10Options } from './cifar';
export {
  Transform, ImageTransform, Compose, ToTensor, Normalize, Pipeline, Size, RandomResizedCropOptions,
  compose, resize, centerCrop, randomResizedCrop, randomHorizontalFlip, toTensor, normalize,
  trainTransform, evalTransform, toPipeline, IMAGENET_MEAN, IMAGENET_STD,
} from './transforms';
export { Interpolation } from './geometry';
export { DataLoader, DataLoaderOptions, Batch } from './loader';
export { CacheOptions } from './cache';
export { RgbImage, ImageSource, RawPixels, DEFAULT_MAX_PIXELS } from './image';
export { DatasetError, ImageDecodeError } from './errors';
export { Rng, mulberry32 } from './random';

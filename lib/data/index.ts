// The data pipeline: datasets, transforms, and the DataLoader that makes their batches (knows nothing of models or training).
//
// A typical fine-tuning set-up:
//
//   const train = new ImageFolder('hotdog/train', { transform: trainTransform() });
//   const test = new ImageFolder('hotdog/test', { transform: evalTransform() });
//   const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 0, cache: { maxBytes: 2 ** 30 } });
//   for await (const { input, target } of loader) await net.trainStep(input, target, optimizer);
export { Batch, BatchSource, SoftTarget, Target } from './batch';
export { Dataset, BaseDataset, ImageDataset, ImageDatasetOptions, Item, LoadContext, PixelSample, SamplePlan, Subset, randomSplit } from './dataset';
export { ImageFolder, ImageFolderOptions, IMG_EXTENSIONS } from './image-folder';
export { IdxDataset, IdxDatasetOptions, MNIST, FashionMNIST, MnistOptions, readIdx } from './idx';
export { CIFAR10, Cifar10Options } from './cifar';
export {
  Transform, ImageTransform, Compose, ToTensor, Normalize, Pipeline, Size, RandomResizedCropOptions, EvalTransformOptions, CropMode, TrainTransformOptions,
  compose, resize, centerCrop, randomResizedCrop, randomHorizontalFlip, toTensor, normalize,
  trainTransform, evalTransform, toPipeline, describeTransform, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_CROP_PCT,
} from './transforms';
export { EvalRecipe, ResizeRule, evalRecipe } from './eval-recipe';
export { RandomErasing, RandomErasingOptions, randomErasing } from './erasing';
export { MaeScript, MaeTrainTransformOptions, MAE_RECIPE_WARNING, maeTrainTransform, maeEvalRule } from './mae-transforms';
export { Mixup, MixupOptions, MixParams, MixedBatch } from './mixup';
export { Interpolation } from './geometry';
export { DataLoader, DataLoaderOptions, LoaderBatch, OnError } from './loader';
export { Sampler } from './sampler';
export { CacheOptions } from './cache';
export { RgbImage, ImageSource, ImageInfo, JpegBackend, RawPixels, DecodeOptions, DEFAULT_MAX_PIXELS, PIL_MAX_IMAGE_PIXELS, backends } from './image';
export { ImageJob } from './render';
export { DatasetError, ImageDecodeError } from './errors';
export { Rng, mulberry32 } from './random';

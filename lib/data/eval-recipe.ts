// The eval transform a model was trained for, as plain data: what finetorch's model card (FILE.json
// beside FILE.pth) and an exported ONNX file's metadata record, so that whoever runs the model
// prepares its images as training did.
import type { Interpolation } from './geometry';
import { IMAGENET_MEAN, IMAGENET_STD, Transform, centerCrop, compose, normalize, resize, toTensor } from './transforms';

export interface EvalRecipe {
  /**
   * The resize before the centre crop: [height, width], or one number for the shorter side with
   * the aspect ratio kept (torchvision's Resize(int), timm's 'center' crop mode).
   */
  resize: number | [number, number];
  interpolation: Interpolation;
  /** The side of the centre crop the network sees. */
  centerCrop: number;
  mean: number[];
  std: number[];
}

/** torchvision's eval recipe scaled to the image size: resize to size*256/224 square, centre-crop size. */
export function evalRecipe(imageSize: number): EvalRecipe {
  const resized = Math.round((imageSize * 256) / 224);
  return { resize: [resized, resized], interpolation: 'bilinear', centerCrop: imageSize, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
}

export function recipeTransform(r: EvalRecipe): Transform {
  return compose(resize(r.resize, { interpolation: r.interpolation }), centerCrop(r.centerCrop), toTensor(), normalize(r.mean, r.std));
}

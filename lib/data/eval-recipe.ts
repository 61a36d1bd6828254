// The eval transform a model was trained for, as plain data: what finetorch's model card (FILE.json
// beside FILE.pth) and an exported ONNX file's metadata record, so that whoever runs the model
// prepares its images as training did.
import type { Interpolation } from './geometry';
import { CropMode, IMAGENET_MEAN, IMAGENET_STD, Size, Transform, centerCrop, compose, evalResize, normalize, resize, toTensor } from './transforms';

export interface EvalRecipe {
  /**
   * The resize before the centre crop, as torchvision's Resize takes it: [height, width] exactly
   * (cropMode 'squash': the aspect ratio is not kept), or one number for the shorter side
   * (cropMode 'center': the aspect ratio kept).
   */
  resize: Size;
  /** Which of the two `resize` is, in words; cards from before it was written are 'squash'. */
  cropMode?: CropMode;
  /** The crop's share of the resize when set as timm's crop_pct (resize = floor(size / cropPct)); absent: 224 / 256, rounded. */
  cropPct?: number;
  interpolation: Interpolation;
  /** The side of the centre crop the network sees. */
  centerCrop: number;
  mean: number[];
  std: number[];
}

/** How the eval resize relates to the crop: timm's crop_mode and crop_pct (absent: squash, 224 / 256), and its resampling (absent: bilinear). */
export interface ResizeRule {
  cropMode?: CropMode;
  cropPct?: number;
  interpolation?: Interpolation;
}

/**
 * torchvision's eval recipe scaled to the image size (evalTransform's): resize to a square of
 * size*256/224 ('squash'), or its shorter side to that ('center'), then centre-crop size;
 * bilinear unless the rule says otherwise (MAE's recipe is bicubic).
 */
export function evalRecipe(imageSize: number, rule: ResizeRule = {}): EvalRecipe {
  const cropMode = rule.cropMode ?? 'squash';
  return {
    resize: evalResize(imageSize, { cropMode, cropPct: rule.cropPct }), cropMode, ...(rule.cropPct === undefined ? {} : { cropPct: rule.cropPct }),
    interpolation: rule.interpolation ?? 'bilinear', centerCrop: imageSize, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD],
  };
}

export function recipeTransform(r: EvalRecipe): Transform {
  return compose(resize(r.resize, { interpolation: r.interpolation }), centerCrop(r.centerCrop), toTensor(), normalize(r.mean, r.std));
}

// MAE's data recipe (facebookresearch/mae), built from finetorch's transforms. main_finetune.py
// trains on timm's create_transform(is_training=True, auto_augment='rand-m9-mstd0.5-inc1',
// interpolation='bicubic', re_prob=0.25, re_mode='pixel', re_count=1): a bicubic random resized
// crop, a flip, RandAugment, normalisation, RandomErasing. main_linprobe.py trains on its
// RandomResizedCrop(224, interpolation=3) + flip. Both evaluate on util/datasets.py's
// build_transform: the shorter side resized bicubic to int(size / crop_pct) (crop_pct 224/256 up
// to 224 px, 1 above; main_linprobe.py writes Resize(256) for its 224), then a centre crop.
// What MAE applies and finetorch cannot is said once per process, with a code, never left silent.
import type { ResizeRule } from './eval-recipe';
import { checkOptions, int, num, oneOf } from '../base/check';
import { RandomErasing, randomErasing } from './erasing';
import { Compose, DEFAULT_CROP_PCT, IMAGENET_MEAN, IMAGENET_STD, PAIR, compose, normalize, randomHorizontalFlip, randomResizedCrop, toTensor } from './transforms';

/** Which of MAE's scripts: main_linprobe.py or main_finetune.py. */
export type MaeScript = 'linprobe' | 'finetune';

export interface MaeTrainTransformOptions {
  /** The side of the crops (MAE's --input_size); default 224. */
  size?: number;
  /** The crop's range of area; default [0.08, 1], timm's and torchvision's, which MAE keeps. */
  scale?: readonly [number, number];
  /** The crop's range of aspect ratio; default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  /** The probability of a left-right flip; default 0.5. */
  hflip?: number;
  /** RandomErasing's probability (MAE's --reprob); default 0.25. Fine-tuning only. */
  reprob?: number;
  /** RandomErasing's fill (MAE's --remode); default 'pixel'. Fine-tuning only. */
  remode?: 'const' | 'rand' | 'pixel';
}

/** The warning's code: process.on('warning') listeners can tell it apart. */
export const MAE_RECIPE_WARNING = 'FINETORCH_MAE_RECIPE';

/** What MAE's train transform does that finetorch's does not, per script. */
const NOT_APPLIED: Record<MaeScript, string> = {
  finetune: "MAE's main_finetune.py applies timm's RandAugment ('rand-m9-mstd0.5-inc1', bicubic) between the flip and the " +
    'normalisation; finetorch has no RandAugment and trains without it (the crop, flip and RandomErasing are MAE\'s)',
  linprobe: "MAE's main_linprobe.py crops with util/crop.py's RandomResizedCrop (one draw of area and ratio, the box clamped to " +
    "the image); finetorch draws torchvision's (up to 10 draws, then a centre crop), of the same scale, ratio and bicubic resize",
};

const warned = new Set<MaeScript>();

/**
 * MAE's train transform for `script`: randomResizedCrop(size, scale [0.08, 1], ratio [3/4, 4/3],
 * bicubic), a flip with probability 0.5 (each settable, as MAE's are timm's defaults), ImageNet normalisation, and for fine-tuning timm's
 * RandomErasing(reprob, remode, one box). Warns once per process (code FINETORCH_MAE_RECIPE)
 * with what MAE applies that this transform does not.
 */
export function maeTrainTransform(script: MaeScript, options: MaeTrainTransformOptions = {}): Compose {
  const o = checkOptions('maeTrainTransform', options, {
    size: int({ min: 1 }).default(224), scale: PAIR.default([0.08, 1]), ratio: PAIR.default([3 / 4, 4 / 3]), hflip: num({ min: 0, max: 1 }).default(0.5),
    reprob: num({ min: 0, max: 1 }).orUndefined(), remode: oneOf(['const', 'rand', 'pixel'] as const).orUndefined(),
  });
  const crop = [
    randomResizedCrop(o.size, { scale: o.scale, ratio: o.ratio, interpolation: 'bicubic' }), randomHorizontalFlip(o.hflip), toTensor(),
    normalize(IMAGENET_MEAN, IMAGENET_STD),
  ];
  if (!warned.has(script)) {
    warned.add(script);
    process.emitWarning(NOT_APPLIED[script], { code: MAE_RECIPE_WARNING });
  }
  if (script === 'linprobe') return compose(...crop);
  return compose(...crop, maeErasing(o.reprob ?? 0.25, o.remode ?? 'pixel'));
}

/** timm's RandomErasing as create_transform makes it for MAE: re_count 1, timm's area and aspect ranges. */
function maeErasing(probability: number, mode: 'const' | 'rand' | 'pixel'): RandomErasing {
  return randomErasing({ probability, mode, minCount: 1, maxCount: 1 });
}

/**
 * util/datasets.py's eval resize for a centre crop of `size`: the shorter side, bicubic, to
 * int(size / crop_pct), crop_pct 224/256 up to 224 px and 1 above (main_linprobe.py's Resize(256)
 * before CenterCrop(224) is the same at 224).
 */
export function maeEvalRule(size: number): Required<ResizeRule> {
  return { cropMode: 'center', cropPct: size <= 224 ? DEFAULT_CROP_PCT : 1, interpolation: 'bicubic' };
}

// MAE's data recipe (facebookresearch/mae), built from finetorch's transforms. main_finetune.py
// trains on timm's create_transform(is_training=True, auto_augment='rand-m9-mstd0.5-inc1',
// interpolation='bicubic', re_prob=0.25, re_mode='pixel', re_count=1): a bicubic random resized
// crop, a flip, RandAugment, normalisation, RandomErasing. main_linprobe.py trains on its
// RandomResizedCrop(224, interpolation=3) + flip. Both evaluate on util/datasets.py's
// build_transform: the shorter side resized bicubic to int(size / crop_pct) (crop_pct 224/256 up
// to 224 px, 1 above; main_linprobe.py writes Resize(256) for its 224), then a centre crop.
// RandAugment, which finetorch lacks, is said once per process, with a code, never left silent.
import type { ResizeRule } from './eval-recipe';
import { bool, checkOptions, int, num, oneOf } from '../base/check';
import { rangeError } from '../base/errors';
import { RandomErasing, randomErasing } from './erasing';
import { roundHalfEven } from './geometry';
import { Rng, randint, uniform } from './random';
import {
  Compose, DEFAULT_CROP_PCT, IMAGENET_MEAN, IMAGENET_STD, ImageTransform, PAIR, checkCropRanges, compose, normalize, randomHorizontalFlip, randomResizedCrop, range, toTensor,
} from './transforms';

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
  /** Fine-tuning: whether to warn that RandAugment is left out; default true (false: another process of the job says it). */
  warn?: boolean;
}

/** The warning's code: process.on('warning') listeners can tell it apart. */
export const MAE_RECIPE_WARNING = 'FINETORCH_MAE_RECIPE';

/** What MAE's fine-tuning transform does that finetorch's does not. */
const NOT_APPLIED = "MAE's main_finetune.py applies timm's RandAugment ('rand-m9-mstd0.5-inc1', bicubic) between the flip and the " +
  "normalisation; finetorch has no RandAugment and trains without it (the crop, flip and RandomErasing are MAE's)";

let warned = false;

/**
 * MAE's train transform for `script`: a random resized crop to `size` (scale [0.08, 1], ratio
 * [3/4, 4/3], bicubic; fine-tuning draws it as timm and torchvision do, the probe as
 * util/crop.py does), a flip with probability 0.5 (each settable, as MAE's are timm's defaults),
 * ImageNet normalisation, and for fine-tuning timm's RandomErasing(reprob, remode, one box).
 * Fine-tuning warns once per process (code FINETORCH_MAE_RECIPE) that RandAugment is left out.
 */
export function maeTrainTransform(script: MaeScript, options: MaeTrainTransformOptions = {}): Compose {
  if (script !== 'linprobe' && script !== 'finetune') {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `maeTrainTransform: script must be 'linprobe' or 'finetune', got ${JSON.stringify(script)}`);
  }
  const o = checkOptions('maeTrainTransform', options, {
    size: int({ min: 1 }).default(224), scale: PAIR.default([0.08, 1]), ratio: PAIR.default([3 / 4, 4 / 3]), hflip: num({ min: 0, max: 1 }).default(0.5),
    reprob: num({ min: 0, max: 1 }).orUndefined(), remode: oneOf(['const', 'rand', 'pixel'] as const).orUndefined(), warn: bool().default(true),
  });
  const crop = { scale: o.scale, ratio: o.ratio, interpolation: 'bicubic' as const };
  const normalized = [randomHorizontalFlip(o.hflip), toTensor(), normalize(IMAGENET_MEAN, IMAGENET_STD)];
  if (script === 'linprobe' && (o.reprob !== undefined || o.remode !== undefined)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', "maeTrainTransform: reprob and remode are main_finetune.py's; main_linprobe.py erases nothing");
  }
  if (script === 'linprobe') return compose(maeRandomResizedCrop(o.size, crop.scale, crop.ratio), ...normalized);
  if (o.warn && !warned) {
    warned = true;
    process.emitWarning(NOT_APPLIED, { code: MAE_RECIPE_WARNING });
  }
  return compose(randomResizedCrop(o.size, crop), ...normalized, maeErasing(o.reprob ?? 0.25, o.remode ?? 'pixel'));
}

/** util/crop.py's RandomResizedCrop(size, interpolation=3), which main_linprobe.py trains with. */
function maeRandomResizedCrop(size: number, scale: readonly [number, number], ratio: readonly [number, number]): ImageTransform {
  checkCropRanges('maeTrainTransform', scale, ratio);
  return {
    kind: 'image',
    name: `maeRandomResizedCrop(${size}, scale ${range(scale)}, ratio ${range(ratio)}, bicubic)`,
    random: true,
    apply(view, rng) {
      const box = maeCropBox(view.height, view.width, scale, ratio, rng);
      view.crop(box.top, box.left, box.height, box.width);
      view.resize(size, size, 'bicubic');
    },
  };
}

/**
 * util/crop.py's get_params (BYOL's TF crop): one draw of area and log aspect ratio, the box's
 * sides rounded half to even (Python's round) and clamped to the image, then a random place for
 * it; torchvision's tries ten draws instead and falls back to a centre crop. A side that rounds to
 * 0 (an image of a few pixels) is taken as 1, where MAE's would fail to resize an empty crop.
 */
export function maeCropBox(
  height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number], rng: Rng,
): { top: number; left: number; height: number; width: number } {
  const targetArea = height * width * uniform(rng, scale[0], scale[1]);
  const aspect = Math.exp(uniform(rng, Math.log(ratio[0]), Math.log(ratio[1])));
  const w = Math.max(1, Math.min(roundHalfEven(Math.sqrt(targetArea * aspect)), width));
  const h = Math.max(1, Math.min(roundHalfEven(Math.sqrt(targetArea / aspect)), height));
  return { top: randint(rng, 0, height - h + 1), left: randint(rng, 0, width - w + 1), height: h, width: w };
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

// Transforms as torchvision names them. They are descriptions, not functions over pixels: the
// geometric ones plan crops, resizes and flips on a View, which the batch's one native call
// carries out per image (render.ts: decode only what the view needs, crop, resample as PIL does,
// mirror), and toTensor/normalize become the same call's uint8 HWC -> float32 CHW pass.
import { Interpolation, View, roundHalfEven } from './geometry';
import { arrayOf, checkOptions, custom, num, oneOf, Rule } from '../base/check';
import { rangeError, typeError } from '../base/errors';
import type { RandomErasing } from './erasing';
import { Rng, randint, uniform } from './random';

/** A crop, resize or flip, planned on the View of an image before any pixel is decoded. */
export interface ImageTransform {
  readonly kind: 'image';
  readonly name: string;
  /** True when it draws random numbers (so its output cannot be cached across epochs). */
  readonly random: boolean;
  apply(view: View, rng: Rng): void;
}

export interface ToTensor {
  readonly kind: 'toTensor';
}

export interface Normalize {
  readonly kind: 'normalize';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface Compose {
  readonly kind: 'compose';
  readonly transforms: readonly Transform[];
}

export type Transform = ImageTransform | ToTensor | Normalize | Compose | RandomErasing;

/** Size as torchvision takes it: one number, or [height, width]. */
export type Size = number | readonly [number, number];

export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

const INTERPOLATION = oneOf(['nearest', 'bilinear', 'bicubic']).default('bilinear');
// Shapes here; the transforms themselves check the values with their own messages.
const SIZE = custom<Size>('a number or [height, width]', (v) => typeof v === 'number' || Array.isArray(v));
const CHANNELS = custom<readonly number[]>('an array of 1 or 3 numbers', Array.isArray);
/** @internal A [min, max] option's shape. */
export const PAIR = arrayOf(num(), 2) as Rule<unknown> as Rule<readonly [number, number]>;

export function compose(...transforms: Transform[]): Compose {
  return { kind: 'compose', transforms };
}

/** Resizes to [height, width], or, given one number, the shorter side to it keeping the aspect ratio. */
export function resize(size: Size, options: { interpolation?: Interpolation } = {}): ImageTransform {
  const { interpolation } = checkOptions('resize', options, { interpolation: INTERPOLATION });
  checkSize(size, 'resize');
  return {
    kind: 'image',
    name: `resize(${JSON.stringify(size)}, ${interpolation})`,
    random: false,
    apply(view) {
      const [height, width] = resizedSize(view.height, view.width, size);
      view.resize(width, height, interpolation);
    },
  };
}

/** torchvision's output size for Resize: an int sets the shorter side, the longer one is truncated. */
function resizedSize(height: number, width: number, size: Size): [number, number] {
  if (typeof size !== 'number') return [size[0], size[1]];
  if (width <= height) return [Math.trunc((size * height) / width), size];
  return [size, Math.trunc((size * width) / height)];
}

/** Crops the center; a crop larger than the image pads it with zeros, as torchvision does. */
export function centerCrop(size: Size): ImageTransform {
  const [height, width] = pair(size, 'centerCrop');
  return {
    kind: 'image',
    name: `centerCrop(${JSON.stringify(size)})`,
    random: false,
    apply(view) {
      view.crop(centerOffset(view.height, height), centerOffset(view.width, width), height, width);
    },
  };
}

function centerOffset(size: number, crop: number): number {
  return size >= crop ? roundHalfEven((size - crop) / 2) : -Math.floor((crop - size) / 2);
}

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's; default [0.08, 1]. */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio (width / height); default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  interpolation?: Interpolation;
}

/** A random crop of random area and aspect ratio, resized to `size` (torchvision's RandomResizedCrop). */
export function randomResizedCrop(size: Size, options: RandomResizedCropOptions = {}): ImageTransform {
  const [height, width] = pair(size, 'randomResizedCrop');
  const { scale, ratio, interpolation } = checkOptions('randomResizedCrop', options, {
    scale: PAIR.default([0.08, 1]), ratio: PAIR.default([3 / 4, 4 / 3]), interpolation: INTERPOLATION,
  });
  checkCropRanges('randomResizedCrop', scale, ratio);
  return {
    kind: 'image',
    name: `randomResizedCrop(${JSON.stringify(size)}, scale ${range(scale)}, ratio ${range(ratio)}, ${interpolation})`,
    random: true,
    apply(view, rng) {
      const box = randomResizedCropBox(view.height, view.width, scale, ratio, rng);
      view.crop(box.top, box.left, box.height, box.width);
      view.resize(width, height, interpolation);
    },
  };
}

/** @internal A random resized crop's ranges: 0 < min <= max. */
export function checkCropRanges(where: string, scale: readonly [number, number], ratio: readonly [number, number]): void {
  if (!(scale[0] > 0 && scale[0] <= scale[1])) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: bad scale ${JSON.stringify(scale)}`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: bad ratio ${JSON.stringify(ratio)}`);
}

/** @internal A range as transform names write it: [0.08, 1], [0.75, 1.333]. */
export function range([low, high]: readonly [number, number]): string {
  return `[${Number(low.toPrecision(4))}, ${Number(high.toPrecision(4))}]`;
}

/** torchvision's RandomResizedCrop.get_params: 10 tries, then a center crop of clamped ratio. */
export function randomResizedCropBox(
  height: number, width: number,
  scale: readonly [number, number], ratio: readonly [number, number], rng: Rng,
): { top: number; left: number; height: number; width: number } {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = randint(rng, 0, height - h + 1);
      const left = randint(rng, 0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Mirrors the image left–right with probability p. */
export function randomHorizontalFlip(p = 0.5): ImageTransform {
  if (!(p >= 0 && p <= 1)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return {
    kind: 'image',
    name: `randomHorizontalFlip(${p})`,
    random: true,
    apply(view, rng) {
      if (rng.next() < p) view.flip();
    },
  };
}

/** HWC uint8 -> CHW float32 in [0, 1]. Implied at the end of every pipeline; allowed for clarity. */
export function toTensor(): ToTensor {
  return { kind: 'toTensor' };
}

/** (x - mean) / std per channel; one value applies to all three channels. */
export function normalize(mean: readonly number[], std: readonly number[]): Normalize {
  const m = perChannel(mean, 'mean');
  const s = perChannel(std, 'std');
  if (s.some((v) => v === 0)) throw rangeError('ERR_FINETORCH_INVALID_ARG', 'normalize: std must not be zero');
  return { kind: 'normalize', mean: m, std: s };
}

export interface TrainTransformOptions extends RandomResizedCropOptions {
  /** The side (or [height, width]) of the crops; default 224. */
  size?: Size;
  /** The probability of a left-right flip, as timm's hflip; default 0.5. */
  hflip?: number;
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * d2l's fine-tuning train augmentation: randomResizedCrop(size, { scale, ratio }) + a flip with
 * probability hflip + ImageNet normalisation (torchvision's and timm's defaults: scale [0.08, 1],
 * ratio [3/4, 4/3], hflip 0.5).
 */
export function trainTransform(options: TrainTransformOptions = {}): Compose {
  const { size, hflip, mean, std, ...crop } = checkOptions('trainTransform', options, {
    size: SIZE.default(224), scale: PAIR.orUndefined(), ratio: PAIR.orUndefined(), interpolation: INTERPOLATION,
    hflip: num({ min: 0, max: 1 }).default(0.5), mean: CHANNELS.default(IMAGENET_MEAN), std: CHANNELS.default(IMAGENET_STD),
  });
  return compose(randomResizedCrop(size, crop), randomHorizontalFlip(hflip), toTensor(), normalize(mean, std));
}

/** How evalTransform resizes before its centre crop when no `resize` is given (timm's crop_mode). */
export type CropMode = 'squash' | 'center';

export interface EvalTransformOptions {
  /** The centre crop the network sees; default 224. */
  size?: Size;
  /**
   * The resize before the crop, as torchvision's Resize takes it: [height, width] exactly (the aspect
   * ratio is not kept), or one number for the shorter side (the aspect ratio kept). Default: each side
   * of `size` times 256 / 224, rounded (with `cropPct`: divided by it and floored, as timm does), applied as
   * `cropMode` says. The crop must fit inside it.
   */
  resize?: Size;
  /** The crop's share of the resized image, as timm's crop_pct; default 0.875 (224 of 256, torchvision's ImageNet recipe). */
  cropPct?: number;
  /**
   * Without `resize`: 'squash' (default, the d2l chapter's resize([256, 256])) resizes to the square
   * size / cropPct, changing the aspect ratio; 'center' resizes the shorter side to it, keeping the
   * aspect ratio, as torchvision's T.Resize(256) and timm's default crop_mode.
   */
  cropMode?: CropMode;
  interpolation?: Interpolation;
  mean?: readonly number[];
  std?: readonly number[];
}

/** torchvision's ImageNet eval ratio: a 224 crop of a 256 resize. */
export const DEFAULT_CROP_PCT = 224 / 256;

/**
 * The resize before a centre crop of `size`: `resize` as given, else each side of size scaled by 256 / 224
 * (or 1 / cropPct), as [h, w] for 'squash' or the shorter side (one number) for 'center'.
 */
export function evalResize(size: Size, options: { resize?: Size; cropPct?: number; cropMode?: CropMode } = {}): Size {
  const [height, width] = pair(size, 'evalTransform');
  const { resize: given, cropPct, cropMode } = options;
  if (given !== undefined && (cropPct !== undefined || cropMode !== undefined)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `evalTransform: resize ${JSON.stringify(given)} already says how to resize; ` +
      `leave out ${cropPct !== undefined ? 'cropPct' : 'cropMode'}, or resize`);
  }
  if (cropPct !== undefined && !(cropPct > 0 && cropPct <= 1)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `evalTransform: cropPct must be in (0, 1], got ${cropPct}`);
  }
  if (given !== undefined) {
    const [h, w] = typeof given === 'number' ? [given, given] : pair(given, 'evalTransform: resize');
    // Resize(int) sets the shorter side: the crop fits in any orientation only when its longer side does.
    const fits = typeof given === 'number' ? Math.max(height, width) <= given : height <= h && width <= w;
    if (!fits) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `evalTransform: a centre crop of ${JSON.stringify(size)} does not fit in resize ${JSON.stringify(given)} ` +
        '(it would pad with zeros); leave resize out to scale it with size');
    }
    return given;
  }
  // The CLI's model cards round size * 256 / 224; timm floors size / crop_pct, and so does an explicit cropPct.
  const scale = (side: number) => (cropPct === undefined ? Math.round(side / DEFAULT_CROP_PCT) : Math.floor(side / cropPct));
  if ((cropMode ?? 'squash') === 'squash') return [scale(height), scale(width)];
  // timm resizes the shorter side only for a square crop; a non-square one is resized to its own shape.
  return height === width ? scale(height) : [scale(height), scale(width)];
}

/**
 * The eval transform: resize, centerCrop(size), ImageNet normalisation. Defaults are the d2l
 * chapter's resize([256, 256]) + centerCrop(224), scaled with `size`: size 64 resizes to [73, 73].
 */
export function evalTransform(options: EvalTransformOptions = {}): Compose {
  const o = checkOptions('evalTransform', options, {
    size: SIZE.default(224), resize: SIZE.orUndefined(), cropPct: num().orUndefined(), cropMode: oneOf(['squash', 'center'] as const).orUndefined(),
    interpolation: INTERPOLATION, mean: CHANNELS.default(IMAGENET_MEAN), std: CHANNELS.default(IMAGENET_STD),
  });
  const resized = evalResize(o.size, o);
  return compose(resize(resized, { interpolation: o.interpolation }), centerCrop(o.size), toTensor(), normalize(o.mean, o.std));
}

/**
 * A transform in words, each step as its name says it (size, range, interpolation), the way the
 * CLI logs what its data goes through: 'resize(36, bicubic) -> centerCrop(32) -> normalize(...)'.
 */
export function describeTransform(transform: Transform): string {
  const { image, mean, std, erasing } = toPipeline(transform);
  const short = (values: readonly number[]) => `[${values.map((v) => Number(v.toPrecision(4))).join(', ')}]`;
  return [...image.map((t) => t.name), `normalize(${short(mean)}, ${short(std)})`, ...(erasing ? [erasing.name] : [])].join(' -> ');
}

/** A transform flattened: the image transforms in order, then the one normalisation they end with. */
export interface Pipeline {
  readonly image: readonly ImageTransform[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** How many leading image transforms draw no random numbers: their output can be cached. */
  readonly deterministicPrefix: number;
  /** timm's RandomErasing of the normalised image, when the transform ends with one. */
  readonly erasing?: RandomErasing;
}

/** Flattens a transform; image transforms must come before toTensor, normalize after it. */
export function toPipeline(transform?: Transform): Pipeline {
  const image: ImageTransform[] = [];
  let mean = [0, 0, 0];
  let std = [1, 1, 1];
  let tensor = false;
  let erasing: RandomErasing | undefined;
  const visit = (t: Transform): void => {
    // It erases the finished tensor: nothing may follow it.
    if (erasing) throw typeError('ERR_FINETORCH_INVALID_ARG', `${erasing.name} must be the last transform (it erases the normalised tensor)`);
    switch (t.kind) {
      case 'compose':
        t.transforms.forEach(visit);
        break;
      case 'image':
        if (tensor) throw typeError('ERR_FINETORCH_INVALID_ARG', `${t.name} must come before toTensor() and normalize()`);
        image.push(t);
        break;
      case 'toTensor':
        if (tensor) throw typeError('ERR_FINETORCH_INVALID_ARG', 'toTensor() appears twice');
        tensor = true;
        break;
      case 'normalize':
        if (!tensor) throw typeError('ERR_FINETORCH_INVALID_ARG', 'normalize() needs toTensor() before it');
        // Folds successive normalisations: ((x - m1) / s1 - m2) / s2 = (x - (m1 + m2 s1)) / (s1 s2).
        mean = mean.map((m, c) => m + t.mean[c] * std[c]);
        std = std.map((s, c) => s * t.std[c]);
        break;
      case 'erasing':
        if (!tensor) throw typeError('ERR_FINETORCH_INVALID_ARG', `${t.name} needs toTensor() (and normalize()) before it`);
        erasing = t;
        break;
      default:
        throw typeError('ERR_FINETORCH_INVALID_ARG', `not a transform: ${JSON.stringify(t)}`);
    }
  };
  if (transform) visit(transform);
  const firstRandom = image.findIndex((t) => t.random);
  return { image, mean, std, deterministicPrefix: firstRandom < 0 ? image.length : firstRandom, ...(erasing ? { erasing } : {}) };
}

function pair(size: Size, what: string): [number, number] {
  checkSize(size, what);
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

function checkSize(size: Size, what: string): void {
  const values = typeof size === 'number' ? [size] : size;
  if (values.length !== (typeof size === 'number' ? 1 : 2) || !values.every((v) => Number.isInteger(v) && v > 0)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${what}: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  }
}

function perChannel(values: readonly number[], what: string): number[] {
  if (values.length === 1) return [values[0], values[0], values[0]];
  if (values.length !== 3 || !values.every(Number.isFinite)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `normalize: ${what} needs 1 or 3 finite values, got ${JSON.stringify(values)}`);
  }
  return [...values];
}

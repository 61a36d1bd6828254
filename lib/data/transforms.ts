// Transforms as torchvision names them. They are descriptions, not functions over pixels: the
// geometric ones plan crops, resizes and flips on a View that becomes, per image, a sharp decode
// and crop plus one native resample, and toTensor/normalize become one native uint8 NHWC ->
// float32 NCHW pass per batch.
import { Interpolation, View, roundHalfEven } from './geometry';
import { arrayOf, checkOptions, custom, num, oneOf, Rule } from '../check';
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

export function compose(...transforms: Transform[]): Compose {
  return { kind: 'compose', transforms };
}

/** Resizes to [height, width], or, given one number, the shorter side to it keeping the aspect ratio. */
export function resize(size: Size, options: { interpolation?: Interpolation } = {}): ImageTransform {
  const { interpolation } = checkOptions('resize', options, { interpolation: INTERPOLATION });
  checkSize(size, 'resize');
  return {
    kind: 'image',
    name: `resize(${JSON.stringify(size)})`,
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
    scale: (arrayOf(num(), 2) as Rule<unknown> as Rule<readonly [number, number]>).default([0.08, 1]),
    ratio: (arrayOf(num(), 2) as Rule<unknown> as Rule<readonly [number, number]>).default([3 / 4, 4 / 3]),
    interpolation: INTERPOLATION,
  });
  if (!(scale[0] > 0 && scale[0] <= scale[1])) throw new RangeError(`randomResizedCrop: bad scale ${JSON.stringify(scale)}`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new RangeError(`randomResizedCrop: bad ratio ${JSON.stringify(ratio)}`);
  return {
    kind: 'image',
    name: `randomResizedCrop(${JSON.stringify(size)})`,
    random: true,
    apply(view, rng) {
      const box = randomResizedCropBox(view.height, view.width, scale, ratio, rng);
      view.crop(box.top, box.left, box.height, box.width);
      view.resize(width, height, interpolation);
    },
  };
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
  if (!(p >= 0 && p <= 1)) throw new RangeError(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
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
  if (s.some((v) => v === 0)) throw new RangeError('normalize: std must not be zero');
  return { kind: 'normalize', mean: m, std: s };
}

/** d2l's fine-tuning train augmentation: randomResizedCrop(size) + flip + ImageNet normalisation. */
export function trainTransform(options: { size?: Size; mean?: readonly number[]; std?: readonly number[] } = {}): Compose {
  const o = checkOptions('trainTransform', options, { size: SIZE.default(224), mean: CHANNELS.default(IMAGENET_MEAN), std: CHANNELS.default(IMAGENET_STD) });
  return compose(randomResizedCrop(o.size), randomHorizontalFlip(), toTensor(), normalize(o.mean, o.std));
}

/** d2l's fine-tuning eval transform: resize([256, 256]) + centerCrop(224) + ImageNet normalisation. */
export function evalTransform(
  options: { resize?: Size; size?: Size; mean?: readonly number[]; std?: readonly number[] } = {},
): Compose {
  const o = checkOptions('evalTransform', options, {
    resize: SIZE.default([256, 256]), size: SIZE.default(224), mean: CHANNELS.default(IMAGENET_MEAN), std: CHANNELS.default(IMAGENET_STD),
  });
  return compose(resize(o.resize), centerCrop(o.size), toTensor(), normalize(o.mean, o.std));
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
    if (erasing) throw new TypeError(`${erasing.name} must be the last transform (it erases the normalised tensor)`);
    switch (t.kind) {
      case 'compose':
        t.transforms.forEach(visit);
        break;
      case 'image':
        if (tensor) throw new TypeError(`${t.name} must come before toTensor() and normalize()`);
        image.push(t);
        break;
      case 'toTensor':
        if (tensor) throw new TypeError('toTensor() appears twice');
        tensor = true;
        break;
      case 'normalize':
        if (!tensor) throw new TypeError('normalize() needs toTensor() before it');
        // Folds successive normalisations: ((x - m1) / s1 - m2) / s2 = (x - (m1 + m2 s1)) / (s1 s2).
        mean = mean.map((m, c) => m + t.mean[c] * std[c]);
        std = std.map((s, c) => s * t.std[c]);
        break;
      case 'erasing':
        if (!tensor) throw new TypeError(`${t.name} needs toTensor() (and normalize()) before it`);
        erasing = t;
        break;
      default:
        throw new TypeError(`not a transform: ${JSON.stringify(t)}`);
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
    throw new RangeError(`${what}: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  }
}

function perChannel(values: readonly number[], what: string): number[] {
  if (values.length === 1) return [values[0], values[0], values[0]];
  if (values.length !== 3 || !values.every(Number.isFinite)) {
    throw new RangeError(`normalize: ${what} needs 1 or 3 finite values, got ${JSON.stringify(values)}`);
  }
  return [...values];
}

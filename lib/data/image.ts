// Decoding with sharp (libvips): a View becomes one sharp pipeline (two when it enlarges) that
// decodes, crops, resizes and flips an image and hands back 8-bit RGB pixels, whatever the input's
// colour space or depth.
import sharp from 'sharp';
import { ImageDecodeError } from './errors';
import { Interpolation, Rect, View } from './geometry';
import { readImageHeader } from './header';

// libvips' operation cache pays off when the same image goes through the same operations again;
// a data loader never does that, and the cache costs time per call and up to 50 MB. (A process-wide
// setting of sharp's.)
sharp.cache(false);

/** Pixels already in memory (IDX, CIFAR, cached decodes): 1 (gray) or 3 (RGB) channels, HWC. */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** A file path, or pixels in memory. */
export type ImageSource = string | RawPixels;

/** 8-bit RGB pixels, HWC. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageInfo {
  /** Size after EXIF orientation. */
  width: number;
  height: number;
  /** Whether sharp can decode it at a fraction of its size (JPEG's DCT scaling). */
  shrinksOnLoad: boolean;
}

/** sharp's own default: 16383 x 16383. Headers that claim more are refused before decoding (bombs). */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;

export interface DecodeOptions {
  maxPixels?: number;
}

// fastShrinkOnLoad off: JPEG's DCT scaling leaves at least a 2x reduction to the kernel, and WebP
// is not decoded at reduced size (its scaled decoder does not antialias like PIL).
const RESIZE: Record<Interpolation, sharp.ResizeOptions> = {
  nearest: { fit: 'fill', kernel: 'nearest', fastShrinkOnLoad: false },
  bilinear: { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false },
  bicubic: { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false },
};
const INTERPOLATORS: Record<Interpolation, 'nearest' | 'bilinear' | 'bicubic'> = { nearest: 'nearest', bilinear: 'bilinear', bicubic: 'bicubic' };

function open(source: ImageSource, options: DecodeOptions): sharp.Sharp {
  if (typeof source !== 'string') {
    const { data, width, height, channels } = source;
    return sharp(data, { raw: { width, height, channels } });
  }
  // failOn 'error': truncated and corrupt files fail instead of decoding to grey blocks.
  return sharp(source, { autoOrient: true, failOn: 'error', limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS });
}

/** Reads an image's header: its oriented size (JPEG and PNG in JavaScript, the rest by sharp). */
export async function imageInfo(source: ImageSource, options: DecodeOptions = {}): Promise<ImageInfo> {
  if (typeof source !== 'string') return { width: source.width, height: source.height, shrinksOnLoad: false };
  let header: { width?: number; height?: number; format?: string } | undefined;
  try {
    header = readImageHeader(source);
    if (!header) {
      const meta = await open(source, options).metadata();
      header = { ...meta, ...meta.autoOrient };
    }
  } catch (err) {
    throw decodeError(source, err);
  }
  const { width, height, format } = header;
  if (!width || !height) throw new ImageDecodeError(source, 'no image size in the header');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) throw new ImageDecodeError(source, `${width}x${height} exceeds the limit of ${maxPixels} pixels`);
  return { width, height, shrinksOnLoad: format === 'jpeg' };
}

/** Decodes `source` through `view` into 8-bit RGB. `info` is imageInfo(source). */
export async function render(source: ImageSource, view: View, info: ImageInfo, options: DecodeOptions = {}): Promise<RgbImage> {
  // RGB pixels in memory that the transform leaves alone need no pipeline at all.
  if (typeof source !== 'string' && source.channels === 3 && view.isIdentity()) return source;
  const plan = info.shrinksOnLoad ? forShrinkOnLoad(view) : view;
  const exact = plan.exactEnlargement && (plan.resized.width > plan.pre.width || plan.resized.height > plan.pre.height);
  try {
    return await (exact ? renderEnlarged(open(source, options), plan) : toRgb(toSharp(open(source, options), plan), plan));
  } catch (err) {
    throw decodeError(typeof source === 'string' ? source : 'in memory', err);
  }
}

/**
 * sharp decodes a JPEG at 1/2, 1/4 or 1/8 size when it will shrink it by 4x or more anyway, but not
 * after a crop; so for a big enough reduction, resize the whole image and crop afterwards.
 */
function forShrinkOnLoad(view: View): View {
  const { pre, resized, post } = view;
  const cropped = pre.width !== view.sourceWidth || pre.height !== view.sourceHeight;
  const shrink = Math.min(pre.width / resized.width, pre.height / resized.height);
  const padded = post.left < 0 || post.top < 0 || post.left + post.width > resized.width || post.top + post.height > resized.height;
  return cropped && shrink >= 4 && !padded ? view.withCropAfterResize() : view;
}

/**
 * Ends a pipeline: alpha dropped, any colour space or depth to 8-bit sRGB. `size` is the size the
 * pipeline makes (sharp reports the post-extract size even when an extend follows it).
 */
async function toRgb(image: sharp.Sharp, size?: { width: number; height: number }): Promise<RgbImage> {
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const { width, height } = size ?? info;
  if (info.channels !== 3 || data.length !== width * height * 3) {
    throw new Error(`decoded to ${data.length} bytes, expected ${width}x${height}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/**
 * Adds the View's stages to a sharp pipeline. sharp runs them as: crop ("pre-extract"), resize,
 * mirror, crop again ("post-extract"), then extend; so the second crop and the padding are given
 * in mirrored coordinates.
 */
function toSharp(image: sharp.Sharp, view: View): sharp.Sharp {
  const { pre, resized, flipped } = view;
  const wholeSource = pre.width === view.sourceWidth && pre.height === view.sourceHeight;
  if (!wholeSource) image = image.extract(pre);
  if (view.isResized()) {
    image = image.resize(resized.width, resized.height, RESIZE[view.interpolation]);
  }
  // A second extract goes after the mirror only when sharp has a crop or resize before it.
  const afterMirror = !wholeSource || view.isResized();
  const inside = intersect(view.post, resized);
  if (inside.width !== resized.width || inside.height !== resized.height) {
    image = image.extract(flipped && afterMirror ? mirror(inside, resized.width) : inside);
  }
  if (flipped) image = image.flop();
  const pad = padding(view.post, inside, flipped);
  if (pad.left || pad.right || pad.top || pad.bottom) {
    image = image.extend({ ...pad, background: { r: 0, g: 0, b: 0, alpha: 1 } });
  }
  return image;
}

/**
 * Enlarging in two passes, because libvips' resize enlarges half a pixel off from PIL (and blurs
 * an axis it leaves at scale 1). Pass one crops, shrinks the axes that shrink, mirrors, and
 * repeats the edge pixels once around; pass two enlarges with an affine map in PIL's pixel-centre
 * convention (the repeated edges make it clamp at the borders as PIL does). Its output window
 * starts at the wanted crop; the rows of the crop are then copied out (and zero padding added).
 */
async function renderEnlarged(image: sharp.Sharp, view: View): Promise<RgbImage> {
  const { pre, resized, post, flipped } = view;
  const width = Math.min(pre.width, resized.width);
  const height = Math.min(pre.height, resized.height);
  if (pre.width !== view.sourceWidth || pre.height !== view.sourceHeight) image = image.extract(pre);
  if (width !== pre.width || height !== pre.height) {
    image = image.resize(width, height, RESIZE[view.interpolation]);
  }
  if (flipped) image = image.flop();
  const edged = await toRgb(image.extend({ top: 1, bottom: 1, left: 1, right: 1, extendWith: 'copy' }), { width: width + 2, height: height + 2 });

  const inside = intersect(post, resized);
  const start = flipped ? mirror(inside, resized.width) : inside;
  const sx = resized.width / width;
  const sy = resized.height / height;
  // Output (X, Y) = (s (x + idx) + odx, ...): samples x = (X + start + 0.5) / s - 0.5 + 1 (the edge).
  const enlarged = await toRgb(sharp(edged.data, { raw: { width: edged.width, height: edged.height, channels: 3 } })
    .affine([[sx, 0], [0, sy]], {
      idx: -0.5, idy: -0.5, odx: -start.left - 0.5, ody: -start.top - 0.5, interpolator: INTERPOLATORS[view.interpolation],
    }));

  const out = new Uint8Array(post.width * post.height * 3);
  const pad = padding(post, inside, flipped);
  const row = inside.width * 3;
  for (let y = 0; y < inside.height; y++) {
    const from = y * enlarged.width * 3;
    out.set(enlarged.data.subarray(from, from + row), ((pad.top + y) * post.width + pad.left) * 3);
  }
  return { data: out, width: post.width, height: post.height };
}

/** Zero padding around the part of `box` inside the image, as it lands after the mirror. */
function padding(box: Rect, inside: Rect, flipped: boolean): { left: number; right: number; top: number; bottom: number } {
  const left = inside.left - box.left;
  const right = box.left + box.width - (inside.left + inside.width);
  return {
    left: flipped ? right : left,
    right: flipped ? left : right,
    top: inside.top - box.top,
    bottom: box.top + box.height - (inside.top + inside.height),
  };
}

function intersect(box: Rect, size: { width: number; height: number }): Rect {
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(size.width, box.left + box.width);
  const bottom = Math.min(size.height, box.top + box.height);
  if (right <= left || bottom <= top) throw new RangeError(`crop ${JSON.stringify(box)} lies outside the ${size.width}x${size.height} image`);
  return { left, top, width: right - left, height: bottom - top };
}

function mirror(box: Rect, width: number): Rect {
  return { ...box, left: width - box.left - box.width };
}

function decodeError(file: string, err: unknown): Error {
  if (err instanceof ImageDecodeError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ImageDecodeError(file, reason, { cause: err });
}

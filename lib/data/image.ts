// Decoding with sharp (libvips), resampling natively: a View becomes a sharp pipeline that decodes
// and crops an image to 8-bit RGB, whatever the input's colour space or depth, and one native call
// that resizes, crops and mirrors those pixels.
import sharp from 'sharp';
import { native } from '../binding';
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

/**
 * Decodes `source` through `view` into 8-bit RGB. `info` is imageInfo(source). sharp decodes and
 * crops; the resize, padding and mirror run natively, resampled as PIL resamples. Only a JPEG
 * reduced enough to be decoded at a fraction of its size is resized by sharp too.
 */
export async function render(source: ImageSource, view: View, info: ImageInfo, options: DecodeOptions = {}): Promise<RgbImage> {
  // RGB pixels in memory that the transform leaves alone need no work at all.
  if (typeof source !== 'string' && source.channels === 3 && view.isIdentity()) return source;
  try {
    if (typeof source !== 'string') return await resample(source, view, view.pre);
    const plan = info.shrinksOnLoad ? forShrinkOnLoad(view) : undefined;
    if (plan) return await toRgb(toSharp(open(source, options), plan), plan.post);
    const { pre } = view;
    const whole = pre.width === view.sourceWidth && pre.height === view.sourceHeight;
    const cropped = await toRgb(whole ? open(source, options) : open(source, options).extract(pre), pre);
    if (view.isCropOnly()) return cropped;
    return await resample({ ...cropped, channels: 3 }, view, { left: 0, top: 0, width: pre.width, height: pre.height });
  } catch (err) {
    throw decodeError(typeof source === 'string' ? source : 'in memory', err);
  }
}

/** The view's resize, crop and mirror of `pre` (a box of `pixels`), natively on the libuv pool. */
async function resample(pixels: RawPixels, view: View, pre: Rect): Promise<RgbImage> {
  const { resized, post } = view;
  const plan = { pre, resized, post, flipped: view.flipped, interpolation: view.interpolation };
  const out = new Uint8Array(post.width * post.height * 3);
  await native.renderPixels({ src: pixels.data, width: pixels.width, height: pixels.height, channels: pixels.channels, plan, dst: out });
  return { data: out, width: post.width, height: post.height };
}

/**
 * The view as sharp should run all of it, when a JPEG can be decoded at 1/2, 1/4 or 1/8 size
 * (sharp does that when it reduces the whole image 2x or more, never after a crop; for a big
 * enough reduction, the whole image is resized and cropped afterwards); otherwise undefined.
 */
function forShrinkOnLoad(view: View): View | undefined {
  const { pre, resized, post } = view;
  const cropped = pre.width !== view.sourceWidth || pre.height !== view.sourceHeight;
  const shrink = Math.min(pre.width / resized.width, pre.height / resized.height);
  const padded = post.left < 0 || post.top < 0 || post.left + post.width > resized.width || post.top + post.height > resized.height;
  if (!cropped) return shrink >= 2 ? view : undefined;
  return shrink >= 4 && !padded ? view.withCropAfterResize() : undefined;
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

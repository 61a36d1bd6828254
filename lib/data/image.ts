// What an image is before it is decoded (its header: size, format, which decoder takes it) and the
// decoder of last resort: sharp (libvips), for the formats the addon does not decode itself (PNG,
// WebP, TIFF, CMYK JPEGs...). Decoding, cropping, resampling and normalising happen in one native
// call per batch (render.ts).
import * as fs from 'node:fs';
import sharp from 'sharp';
import { FinetorchError } from '../base/errors';
import { native } from '../base/binding';
import { ImageDecodeError } from './errors';
import { Rect } from './geometry';
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
  /** Size as the transform sees it (after EXIF orientation when it is applied). */
  width: number;
  height: number;
  /** Decoded by the addon (JPEG with libjpeg-turbo, Netpbm, BMP) rather than by sharp. */
  native: boolean;
  /** A JPEG the addon can decode at 1/2, 1/4 or 1/8 of its size (DCT scaling). */
  scalable: boolean;
  /**
   * The file's size when the addon last read its whole JPEG stream without error. Until then each
   * decode reads to the end, so damage anywhere fails whichever crop was drawn; after, a file of
   * that size is decoded only down to its crop's last row.
   */
  checkedBytes?: number;
}

/** PIL's Image.MAX_IMAGE_PIXELS: above it PIL warns (DecompressionBombWarning); above twice it, it refuses. */
export const PIL_MAX_IMAGE_PIXELS = 89_478_485;

/** Images with more pixels are refused before decoding, as PIL refuses them (DecompressionBombError). */
export const DEFAULT_MAX_PIXELS = 2 * PIL_MAX_IMAGE_PIXELS;

export interface DecodeOptions {
  /**
   * Images whose header claims more pixels are refused before decoding; above half of it a
   * DecompressionBombWarning is emitted. Default DEFAULT_MAX_PIXELS (PIL's limits).
   */
  maxPixels?: number;
  /**
   * Turn images upright by their EXIF orientation (PIL's ImageOps.exif_transpose). Default false:
   * torchvision's ImageFolder loader does not, so neither does finetorch unless asked.
   */
  exifTranspose?: boolean;
  /**
   * true: JPEGs that a transform reduces 4x or more are decoded at 1/2, 1/4 or 1/8 size (DCT
   * scaling, as sharp and PIL's draft() do), leaving at least 2x to the resampler. Several times
   * faster on large photos, but the pixels are no longer torchvision's: about 1 level of 255 apart
   * on average (the data fidelity test), and a model's logits move with them. Default false:
   * every JPEG is decoded at full size, as torchvision's loader does.
   */
  shrinkOnLoad?: boolean;
}

/** Which decoder takes JPEGs: the addon's libjpeg-turbo (and its version), or sharp. */
export type JpegBackend = `libjpeg-turbo ${string}` | 'sharp';

/** Which decoder takes each kind of file in this build; JPEGs go to sharp when the addon lacks libjpeg-turbo. */
export function backends(): { jpeg: JpegBackend; netpbmBmp: 'finetorch'; other: 'sharp' } {
  return { jpeg: nativeJpeg ?? 'sharp', netpbmBmp: 'finetorch', other: 'sharp' };
}

const nativeJpeg = native.imageBackends.jpeg as JpegBackend | undefined;
let warnedNoJpeg = false;

/** Reads an image's header: its size as the transform will see it, and which decoder takes it. */
export async function imageInfo(file: string, options: DecodeOptions = {}): Promise<ImageInfo> {
  let header: { width?: number; height?: number; format?: string; orientation?: number } | undefined;
  const exifTranspose = options.exifTranspose ?? false;
  try {
    header = readImageHeader(file);
    if (!header && fs.statSync(file).size === 0) throw new ImageDecodeError(file, 'empty file');
    if (!header || (exifTranspose && header.orientation === undefined)) {
      const meta = await sharp(file).metadata();
      header = { ...meta, orientation: meta.orientation ?? 1 };
    }
  } catch (err) {
    throw decodeError(file, err);
  }
  const { format } = header;
  const orientation = exifTranspose ? header.orientation ?? 1 : 1;
  const [width, height] = orientation >= 5 ? [header.height, header.width] : [header.width, header.height];
  if (!width || !height) throw new ImageDecodeError(file, 'no image size in the header');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) {
    throw new ImageDecodeError(file, `${width}x${height} exceeds the limit of ${maxPixels} pixels (a decompression bomb?)`);
  }
  if (width * height > maxPixels / 2) {
    process.emitWarning(`${file}: ${width}x${height} is over half the limit of ${maxPixels} pixels (a decompression bomb?)`,
      { type: 'DecompressionBombWarning', code: 'FINETORCH_LARGE_IMAGE' });
  }
  if (format === 'jpeg' && !nativeJpeg && !warnedNoJpeg) {
    warnedNoJpeg = true;
    process.emitWarning('this build of finetorch has no libjpeg-turbo: JPEGs are decoded by sharp, 2-3x slower ' +
      '(install libjpeg62-turbo-dev or libjpeg-turbo8-dev and rebuild with `npm run build`)', { code: 'FINETORCH_NO_LIBJPEG' });
  }
  // Oriented JPEGs go to sharp when the orientation is applied; the addon decodes as stored.
  const jpeg = format === 'jpeg' && nativeJpeg !== undefined && orientation === 1;
  return { width, height, native: jpeg || format === 'netpbm' || format === 'bmp', scalable: jpeg };
}

/** Decodes `box` of a file (in the oriented image) with sharp, to 8-bit pixels of 3 channels. */
export async function decodeWithSharp(file: string, box: Rect, info: ImageInfo, options: DecodeOptions = {}): Promise<RawPixels> {
  try {
    // failOn 'error': truncated and corrupt files fail instead of decoding to grey blocks.
    let image = sharp(file, { autoOrient: options.exifTranspose ?? false, failOn: 'error', limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS });
    if (box.left !== 0 || box.top !== 0 || box.width !== info.width || box.height !== info.height) image = image.extract(box);
    const { data, info: out } = await image.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (out.channels !== 3 || out.width !== box.width || out.height !== box.height) {
      throw new FinetorchError('ERR_FINETORCH_IMAGE_DECODE', `decoded to ${out.width}x${out.height}x${out.channels}, expected ${box.width}x${box.height}x3`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: box.width, height: box.height, channels: 3 };
  } catch (err) {
    throw decodeError(file, err);
  }
}

/** Bytes sharp holds while it decodes a box of a file: the whole image at worst, and the box. */
export function sharpDecodeBytes(box: Rect, info: ImageInfo): number {
  return 4 * info.width * info.height + 3 * box.width * box.height;
}

function decodeError(file: string, err: unknown): ImageDecodeError {
  if (err instanceof ImageDecodeError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ImageDecodeError(file, reason, { cause: err });
}

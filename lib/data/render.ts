// Images made in one native call per batch: each one decoded (JPEG, Netpbm and BMP files by the
// addon, only the part its view needs; other formats by sharp first), cropped, resampled as PIL
// resamples, mirrored and normalised, on native threads, straight into its slot of the batch.
// A bad image fails alone: its error comes back in its place and the rest of the batch is made.
import { native, NativeBatchItem, NativeView } from '../base/binding';
import { PixelCache } from './cache';
import { ImageDecodeError } from './errors';
import { View } from './geometry';
import { DecodeOptions, DEFAULT_MAX_PIXELS, ImageInfo, ImageSource, RawPixels, RgbImage, decodeWithSharp, sharpDecodeBytes } from './image';

/** One image to make: where its pixels come from and the view the transform takes of them. */
export interface ImageJob {
  source: ImageSource;
  /** The header of a file source. */
  info?: ImageInfo;
  view: View;
  decode: DecodeOptions;
}

/** A sample planned by its data set: its class index and its image, or a cache fill to run first. */
export interface SamplePlan {
  target: number;
  job: ImageJob;
  /** Make `job` into the cache under `key` first (pixels, not floats), then `rest(image)` of it. */
  fill?: { cache: PixelCache; key: number; width: number; height: number; rest: (image: RgbImage) => View };
}

/** Default decode memory: a few large photos at once, any number of small ones. */
export const DEFAULT_DECODE_MEMORY = 1 << 30;

export interface RenderSettings {
  /** Native threads making a batch's images. */
  threads: number;
  /**
   * Bytes the images decoding at once may take together, native and sharp decodes alike (an image
   * that needs more decodes alone).
   */
  decodeMemory: number;
  /**
   * A loader working ahead: element 0 is non-zero while its consumer waits for a batch. Until then
   * the images are made at the lowest CPU priority, on cores the training steps leave idle.
   * Absent: at normal priority.
   */
  waitedFor?: Int32Array;
}

/** Normalised float32 CHW images at element offsets of one buffer, or 8-bit RGB HWC buffers. */
export type Destination =
  | { floats: Float32Array; offsets: number[]; mean: readonly number[]; std: readonly number[] }
  | { bytes: Uint8Array[] };

/** The jobs of plans, their cache fills made first (in one native call); an error where a fill failed. */
export async function resolveFills(plans: SamplePlan[], settings: RenderSettings): Promise<(ImageJob | ImageDecodeError)[]> {
  const fills = plans.flatMap((plan, i) => (plan.fill ? [{ i, plan, fill: plan.fill }] : []));
  if (fills.length === 0) return plans.map((p) => p.job);
  const bytes = fills.map(({ plan }) => new Uint8Array(plan.job.view.width * plan.job.view.height * 3));
  const errors = await renderJobs(fills.map(({ plan }) => plan.job), { bytes }, settings);
  const jobs: (ImageJob | ImageDecodeError)[] = plans.map((p) => p.job);
  fills.forEach(({ i, plan, fill }, k) => {
    const error = errors[k];
    if (error) {
      fill.cache.cancel(fill.key);
      jobs[i] = error;
      return;
    }
    const image = { data: bytes[k], width: plan.job.view.width, height: plan.job.view.height };
    fill.cache.set(fill.key, { image, width: fill.width, height: fill.height });
    jobs[i] = { source: { ...image, channels: 3 }, view: fill.rest(image), decode: plan.job.decode };
  });
  return jobs;
}

/** Makes jobs[i] into destination i; returns, per job, the ImageDecodeError that stopped it or undefined. */
export async function renderJobs(jobs: ImageJob[], destination: Destination, settings: RenderSettings): Promise<(ImageDecodeError | undefined)[]> {
  const errors: (ImageDecodeError | undefined)[] = new Array<ImageDecodeError | undefined>(jobs.length).fill(undefined);
  // One native call for `indices`, those in `decoded` as the pixels sharp made of them; returns
  // the files the addon declined.
  const call = async (indices: number[], decoded: Map<number, RawPixels>, held: number): Promise<number[]> => {
    if (indices.length === 0) return [];
    const results = await native.renderBatch({
      items: indices.map((i) => item(jobs[i], destination, i, decoded.get(i))),
      out: 'floats' in destination ? destination.floats : undefined,
      ...nativeOptions(jobs, destination, Math.max(settings.decodeMemory - held, 0), settings.threads),
      waitedFor: settings.waitedFor,
    });
    const declined: number[] = [];
    results.forEach((result, k) => {
      if (result === null) return;
      if ('checkedBytes' in result) {
        const info = jobs[indices[k]].info;
        if (info) info.checkedBytes = result.checkedBytes;
      } else if ('unsupported' in result) declined.push(indices[k]);
      else errors[indices[k]] = new ImageDecodeError(name(jobs[indices[k]]), result.error);
    });
    return declined;
  };
  // Formats the addon does not decode go to sharp first, as many at once as the decode memory
  // allows (one at least); the addon then resamples their pixels. Files it declined (CMYK
  // JPEGs...) go to sharp after all; pixels are never declined.
  const viaSharp = jobs.flatMap((job, i) => (typeof job.source === 'string' && !job.info?.native ? [i] : []));
  const direct = jobs.flatMap((job, i) => (typeof job.source !== 'string' || job.info?.native ? [i] : []));
  const rounds = byMemory(jobs, viaSharp, settings.decodeMemory);
  const declined: number[] = [];
  for (let r = 0; r < Math.max(rounds.length, 1); r++) {
    const { decoded, held } = await decodeWithSharpAll(jobs, rounds[r] ?? [], errors);
    declined.push(...await call([...(r === 0 ? direct : []), ...decoded.keys()], decoded, held));
  }
  for (const round of byMemory(jobs, declined, settings.decodeMemory)) {
    const { decoded, held } = await decodeWithSharpAll(jobs, round, errors);
    await call([...decoded.keys()], decoded, held);
  }
  return errors;
}

/** `indices` in order, grouped so that each group's sharp decodes fit `memory` together (or hold one image). */
function byMemory(jobs: ImageJob[], indices: number[], memory: number): number[][] {
  const rounds: number[][] = [];
  let total = 0;
  for (const i of indices) {
    const bytes = sharpDecodeBytes(jobs[i].view.pre, jobs[i].info as ImageInfo);
    if (rounds.length === 0 || total + bytes > memory) {
      rounds.push([]);
      total = 0;
    }
    rounds[rounds.length - 1].push(i);
    total += bytes;
  }
  return rounds;
}

/** jobs[i] for i in `indices` decoded by sharp at once (errors to `errors`), and the bytes they hold. */
async function decodeWithSharpAll(jobs: ImageJob[], indices: number[], errors: (ImageDecodeError | undefined)[]) {
  const decoded = new Map<number, RawPixels>();
  await Promise.all(indices.map(async (i) => {
    const job = jobs[i];
    try {
      decoded.set(i, await decodeWithSharp(job.source as string, job.view.pre, job.info as ImageInfo, job.decode));
    } catch (error) {
      errors[i] = error as ImageDecodeError;
    }
  }));
  return { decoded, held: [...decoded.values()].reduce((sum, p) => sum + p.data.byteLength, 0) };
}

/** The native side's description of a job. */
function item(job: ImageJob, destination: Destination, i: number, decoded: RawPixels | undefined): NativeBatchItem {
  // A View is a NativeView (the addon reads only those fields); this runs per image, on the JS thread.
  const view: NativeView = job.view;
  const to = 'bytes' in destination ? { bytes: destination.bytes[i] } : { offset: destination.offsets[i] };
  if (decoded) {
    // sharp decoded the view's source crop: the view starts from all of it.
    return Object.assign(to, { pixels: decoded.data, width: decoded.width, height: decoded.height, channels: decoded.channels,
      view: { ...view, pre: { left: 0, top: 0, width: decoded.width, height: decoded.height } } });
  }
  if (typeof job.source !== 'string') {
    const { data, width, height, channels } = job.source;
    return Object.assign(to, { pixels: data, width, height, channels, view });
  }
  const scale = job.decode.shrinkOnLoad === true && job.info?.scalable ? dctScale(job.view) : 1;
  return Object.assign(to, { file: job.source, scale, view, checkedBytes: job.info?.checkedBytes });
}

/**
 * The DCT scaling of a JPEG decode for a view: 1/2, 1/4 or 1/8 while the resampler still reduces
 * at least 2x after it (sharp's rule with fastShrinkOnLoad off, which finetorch's pipeline used).
 */
export function dctScale(view: View): number {
  const shrink = Math.min(view.pre.width / view.resized.width, view.pre.height / view.resized.height);
  let scale = 1;
  while (scale < 8 && shrink >= 4 * scale) scale *= 2;
  return scale;
}

function nativeOptions(jobs: ImageJob[], destination: Destination, memoryBudget: number, threads: number) {
  const normal = 'floats' in destination ? destination : { mean: [0, 0, 0], std: [1, 1, 1] };
  return {
    mean: normal.mean, std: normal.std, threads, memoryBudget,
    // Headers were checked against each data set's own limit; this is the addon's second check.
    maxPixels: jobs.reduce((max, j) => Math.max(max, j.decode.maxPixels ?? DEFAULT_MAX_PIXELS), 0),
  };
}

function name(job: ImageJob): string {
  return typeof job.source === 'string' ? job.source : 'pixels in memory';
}

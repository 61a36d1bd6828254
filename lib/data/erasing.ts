// timm's RandomErasing (timm.data.random_erasing), the last transform of MAE's fine-tuning
// pipeline: per image, with probability `probability`, boxes of random area and aspect ratio on the
// normalised tensor filled with zeros ('const'), a normal value per channel ('rand') or per pixel
// ('pixel'). JS draws the boxes from the sample's own generator as timm draws them from Python's
// `random`; the addon fills them, its normal values from a generator seeded per box (not torch's,
// so the same draws give timm's boxes but other noise).
import { native } from '../base/binding';
import { checkOptions, int, num, oneOf } from '../base/check';
import type { HostTensor } from '../base/tensor';
import { rangeError } from '../base/errors';
import { roundHalfEven } from './geometry';
import { PyRandom, mixSeed, mulberry32, pyRandom } from './random';

export interface RandomErasingOptions {
  /** Probability of erasing an image; default 0.5 (timm's; MAE's fine-tuning uses 0.25). */
  probability?: number;
  /** Range of a box's area as a fraction of the image's; default 0.02 to 1/3. */
  minArea?: number;
  maxArea?: number;
  /** Range of a box's aspect ratio; default 0.3 to 1 / minAspect. */
  minAspect?: number;
  maxAspect?: number;
  /** Default 'const' (timm's; MAE's fine-tuning uses 'pixel'). */
  mode?: 'const' | 'rand' | 'pixel';
  /** Boxes per erased image, from minCount to maxCount; default 1 to minCount. */
  minCount?: number;
  maxCount?: number;
}

export interface RandomErasing {
  readonly kind: 'erasing';
  readonly name: string;
  readonly random: true;
  readonly options: Required<RandomErasingOptions>;
}

export interface ErasingBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** timm's RandomErasing, placed after normalize() (it erases the normalised tensor). */
export function randomErasing(options: RandomErasingOptions = {}): RandomErasing {
  const o = checkOptions('randomErasing', options, {
    probability: num({ min: 0, max: 1 }).default(0.5),
    minArea: num({ above: 0, max: 1 }).default(0.02),
    maxArea: num({ above: 0, max: 1 }).default(1 / 3),
    minAspect: num({ above: 0 }).default(0.3),
    maxAspect: num({ above: 0 }).orUndefined(),
    mode: oneOf(['const', 'rand', 'pixel']).default('const'),
    minCount: int({ min: 1 }).default(1),
    maxCount: int({ min: 1 }).orUndefined(),
  });
  const resolved = { ...o, maxAspect: o.maxAspect ?? 1 / o.minAspect, maxCount: o.maxCount ?? o.minCount };
  if (resolved.minArea > resolved.maxArea) throw rangeError('ERR_FINETORCH_INVALID_ARG', `randomErasing: minArea ${o.minArea} exceeds maxArea ${o.maxArea}`);
  if (resolved.minAspect > resolved.maxAspect) throw rangeError('ERR_FINETORCH_INVALID_ARG', `randomErasing: minAspect ${o.minAspect} exceeds maxAspect ${resolved.maxAspect}`);
  if (resolved.minCount > resolved.maxCount) throw rangeError('ERR_FINETORCH_INVALID_ARG', `randomErasing: minCount ${o.minCount} exceeds maxCount ${resolved.maxCount}`);
  return { kind: 'erasing', name: `randomErasing(${JSON.stringify(resolved)})`, random: true, options: resolved };
}

/** RandomErasing._erase's boxes for one image of height x width, drawn as timm draws them. */
export function erasingBoxes(t: RandomErasing, random: PyRandom, height: number, width: number): ErasingBox[] {
  const o = t.options;
  if (random.random() > o.probability) return [];
  const area = height * width;
  const count = o.minCount === o.maxCount ? o.minCount : random.randint(o.minCount, o.maxCount);
  const logAspect = [Math.log(o.minAspect), Math.log(o.maxAspect)];
  const boxes: ErasingBox[] = [];
  for (let k = 0; k < count; k++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = random.uniform(o.minArea, o.maxArea) * area / count;
      const aspect = Math.exp(random.uniform(logAspect[0], logAspect[1]));
      const h = roundHalfEven(Math.sqrt(targetArea * aspect));
      const w = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w < width && h < height) {
        boxes.push({ top: random.randint(0, height - h), left: random.randint(0, width - w), height: h, width: w });
        break;
      }
    }
  }
  return boxes;
}

/**
 * Erases the images [N, C, H, W] of `input` in place, image i being sample indices[i] in `epoch`:
 * its boxes drawn from its own generator (apart from its crop's, which stays as it was), box k
 * filled from seed mixSeed(seed, epoch, index, k). One native call.
 */
export async function eraseSamples(t: RandomErasing, input: HostTensor<'float32'>, indices: readonly number[], seed: number, epoch: number): Promise<void> {
  const [height, width] = input.shape.slice(2);
  const boxes = indices.flatMap((index, image) => {
    const random = pyRandom(mulberry32(mixSeed(seed, epoch, index, 0xe7a5e)));
    return erasingBoxes(t, random, height, width).map((b, k) => ({ ...b, image, seed: mixSeed(seed, epoch, index, k) }));
  });
  if (boxes.length > 0) await native.eraseBatch({ input, boxes, fill: t.options.mode });
}

// timm's Mixup (timm.data.mixup.Mixup) in batch mode, as MAE's fine-tuning applies it to every
// training batch: with probability `prob`, one lambda ~ Beta(alpha, alpha) for the batch, then
// either mixup (each image blended with its partner in the flipped batch) or, with probability
// switchProb, cutmix (a box of the partner pasted in, lambda corrected to the box's area); the
// targets become label-smoothed one-hot vectors mixed the same way. JS draws the numbers, as timm
// draws them from numpy.random, from a generator seeded by (seed, step), so a resumed run mixes
// the batches it would have; the addon mixes the batch in place and makes the targets.
import { native } from '../base/binding';
import { arrayOf, bool, checkArg, checkOptions, int, num, oneOf, Rule } from '../base/check';
import { FinetorchError, rangeError } from '../base/errors';
import type { HostTensor } from '../base/tensor';
import { NpRandom, mixSeed, mulberry32, npRandom } from './random';

export interface MixupOptions {
  /** Mixup's alpha; 0 turns mixup off. Default 1 (timm's; MAE's fine-tuning uses 0.8). */
  mixupAlpha?: number;
  /** CutMix's alpha; 0 turns cutmix off. Default 0 (timm's; MAE's fine-tuning uses 1). */
  cutmixAlpha?: number;
  /** CutMix boxes of [min, max] of the image's sides, drawn uniformly instead of from lambda (cutmix alpha becomes 1). */
  cutmixMinmax?: readonly [number, number];
  /** Probability of mixing a batch; default 1. */
  prob?: number;
  /** Probability of cutmix rather than mixup when both are on; default 0.5. */
  switchProb?: number;
  /** Only 'batch' (timm's default): one lambda per batch. */
  mode?: 'batch';
  /** Lambda from the box's clipped area; default true. */
  correctLam?: boolean;
  /** Label smoothing of the one-hot targets before mixing; default 0.1. */
  labelSmoothing?: number;
  /** Default 1000. */
  numClasses?: number;
  /** Seeds the draws; default 0. */
  seed?: number;
}

/** What one batch gets: lambda (corrected for a cutmix box) and the box (rows, columns: [start, end)). */
export interface MixParams {
  lam: number;
  box: { top: number; bottom: number; left: number; right: number } | null;
}

/** A batch after mixing: the same input (mixed in place), soft targets, and the batch's lambda. */
export interface MixedBatch {
  input: HostTensor;
  target: HostTensor<'float32'>;
  lam: number;
}

const minmaxRule = arrayOf(num({ min: 0, max: 1 }), 2) as Rule<unknown> as Rule<readonly [number, number]>;

export class Mixup {
  readonly mixupAlpha: number;
  readonly cutmixAlpha: number;
  readonly cutmixMinmax: readonly [number, number] | undefined;
  readonly prob: number;
  readonly switchProb: number;
  readonly correctLam: boolean;
  readonly labelSmoothing: number;
  readonly numClasses: number;
  readonly seed: number;

  constructor(options: MixupOptions = {}) {
    const o = checkOptions('Mixup', options, {
      mixupAlpha: num({ min: 0 }).default(1),
      cutmixAlpha: num({ min: 0 }).default(0),
      cutmixMinmax: minmaxRule.orUndefined(),
      prob: num({ min: 0, max: 1 }).default(1),
      switchProb: num({ min: 0, max: 1 }).default(0.5),
      mode: oneOf(['batch', 'pair', 'elem']).default('batch'),
      correctLam: bool().default(true),
      labelSmoothing: num({ min: 0, max: 1 }).default(0.1),
      numClasses: int({ min: 1, max: 2 ** 31 - 1 }).default(1000),
      seed: int({ min: 0 }).default(0),
    });
    if (o.mode !== 'batch') throw new FinetorchError('ERR_FINETORCH_UNSUPPORTED', `Mixup: mode '${o.mode}' is not implemented (only 'batch')`);
    // timm forces cutmix alpha 1 with minmax boxes.
    const cutmixAlpha = o.cutmixMinmax ? 1 : o.cutmixAlpha;
    if (!(o.mixupAlpha > 0 || cutmixAlpha > 0)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'Mixup: one of mixupAlpha > 0, cutmixAlpha > 0, cutmixMinmax must be given');
    }
    if (o.cutmixMinmax && !(o.cutmixMinmax[0] < o.cutmixMinmax[1])) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `Mixup: cutmixMinmax must be [min, max] with min < max, got ${JSON.stringify(o.cutmixMinmax)}`);
    }
    this.mixupAlpha = o.mixupAlpha;
    this.cutmixAlpha = cutmixAlpha;
    this.cutmixMinmax = o.cutmixMinmax;
    this.prob = o.prob;
    this.switchProb = o.switchProb;
    this.correctLam = o.correctLam;
    this.labelSmoothing = o.labelSmoothing;
    this.numClasses = o.numClasses;
    this.seed = o.seed;
  }

  /**
   * Mixes batch `step` (any integer that numbers the batches, e.g. the optimizer's step count):
   * the images in place, and resolves to the mixed targets [N, numClasses] float32. N must be even.
   */
  async apply(batch: { input: HostTensor; target: Int32Array | BigInt64Array }, step: number): Promise<MixedBatch> {
    checkArg('Mixup.apply', 'step', step, int({ min: 0 }));
    checkBatch(batch);
    return this.mix(batch, this.params(this.random(step), batch.input.shape[2], batch.input.shape[3]));
  }

  /** @internal The draws of batch `step`: numpy.random's calls over the generator of (seed, step). */
  random(step: number): NpRandom {
    return npRandom(mulberry32(mixSeed(this.seed, step, 0x313)));
  }

  /** Mixes a batch with given parameters (what apply does after its draws). */
  async mix(batch: { input: HostTensor; target: Int32Array | BigInt64Array }, params: MixParams): Promise<MixedBatch> {
    checkBatch(batch);
    const { input, target } = batch;
    const labels: HostTensor = target instanceof Int32Array ? { dtype: 'int32', shape: [target.length], data: target } : { dtype: 'int64', shape: [target.length], data: target };
    const mixed = await native.mixBatch({ input, labels, numClasses: this.numClasses, lam: params.lam, box: params.box, labelSmoothing: this.labelSmoothing });
    return { input, target: mixed, lam: params.lam };
  }

  /** @internal timm's _params_per_batch and cutmix_bbox_and_lam: the draws for one batch of height x width images. */
  params(random: NpRandom, height: number, width: number): MixParams {
    let lam = 1;
    let cutmix = false;
    if (random.rand() < this.prob) {
      if (this.mixupAlpha > 0 && this.cutmixAlpha > 0) {
        cutmix = random.rand() < this.switchProb;
        lam = cutmix ? random.beta(this.cutmixAlpha, this.cutmixAlpha) : random.beta(this.mixupAlpha, this.mixupAlpha);
      } else if (this.mixupAlpha > 0) {
        lam = random.beta(this.mixupAlpha, this.mixupAlpha);
      } else {
        cutmix = true;
        lam = random.beta(this.cutmixAlpha, this.cutmixAlpha);
      }
    }
    if (lam === 1 || !cutmix) return { lam, box: null };
    const box = this.cutmixMinmax ? minmaxBox(random, this.cutmixMinmax, height, width) : lambdaBox(random, lam, height, width);
    if (this.correctLam || this.cutmixMinmax) lam = 1 - ((box.bottom - box.top) * (box.right - box.left)) / (height * width);
    return { lam, box };
  }
}

function checkBatch({ input, target }: { input: HostTensor; target: Int32Array | BigInt64Array }): void {
  if (input.dtype !== 'float32' || input.shape.length !== 4) {
    throw rangeError('ERR_FINETORCH_BAD_INPUT', `Mixup: input must be float32 [N, C, H, W], got ${input.dtype} [${input.shape.join(', ')}]`);
  }
  if (input.shape[0] % 2 !== 0) {
    throw rangeError('ERR_FINETORCH_BAD_INPUT', 'Mixup: the batch size must be even (each image mixes with its partner in the flipped batch), ' +
      `got ${input.shape[0]}; a DataLoader with dropLast and an even batchSize gives that`);
  }
  if (!(target instanceof Int32Array || target instanceof BigInt64Array) || target.length !== input.shape[0]) {
    throw rangeError('ERR_FINETORCH_BAD_INPUT', `Mixup: target must hold one class index per image (${input.shape[0]})`);
  }
}

/** timm's rand_bbox (no margin): a box of sides sqrt(1 - lam) of the image's around a uniform center, clipped. */
function lambdaBox(random: NpRandom, lam: number, height: number, width: number): NonNullable<MixParams['box']> {
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * ratio);
  const cutW = Math.trunc(width * ratio);
  const cy = random.randint(0, height);
  const cx = random.randint(0, width);
  const clip = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  return {
    top: clip(cy - Math.floor(cutH / 2), height), bottom: clip(cy + Math.floor((cutH + 1) / 2), height),
    left: clip(cx - Math.floor(cutW / 2), width), right: clip(cx + Math.floor((cutW + 1) / 2), width),
  };
}

/** timm's rand_bbox_minmax: box sides uniform in [min, max) of the image's, placed uniformly. */
function minmaxBox(random: NpRandom, minmax: readonly [number, number], height: number, width: number): NonNullable<MixParams['box']> {
  const cutH = random.randint(Math.trunc(height * minmax[0]), Math.trunc(height * minmax[1]));
  const cutW = random.randint(Math.trunc(width * minmax[0]), Math.trunc(width * minmax[1]));
  const top = random.randint(0, height - cutH + 1);
  const left = random.randint(0, width - cutW + 1);
  return { top, bottom: top + cutH, left, right: left + cutW };
}

// MAE's two evaluation protocols, as facebookresearch/mae runs them: the linear probe of
// main_linprobe.py (MAE's probe head, LARS, no weight decay) and the fine-tuning of main_finetune.py
// (AdamW with layer-wise lr decay, label smoothing, drop path). Both scale a base lr by the
// effective batch size (lr = blr x batch / 256) and move it every iteration: a linear warm-up from
// 0, then a half-cycle cosine to minLr (util/lr_sched.py, called before each step at
// epoch + step / steps per epoch). This file makes each protocol's optimizer and schedule; the
// loops are fine-tune.ts's.
import { Parsed, int, num } from '../base/check';
import { MAE_DEFAULTS } from './mae-defaults';
import { rangeError } from '../base/errors';
import type { Batch, BatchSource } from '../data/batch';
import { Mixup } from '../data/mixup';
import type { HostTensor } from '../base/tensor';
import { dist } from '../dist/process-group';
import type { Model, StepResult } from '../model/model';
import { VisionTransformer } from '../model/vit';
import { AdamW } from '../optim/adamw';
import { LARS } from '../optim/lars';
import { paramGroupsLrd } from '../optim/layer-decay';
import { absoluteLr } from '../optim/lr-sched';
import type { Optimizer } from '../optim/optimizer';
import type { Schedule } from '../optim/schedule';

/** What both MAE protocols take (main_linprobe.py's and main_finetune.py's arguments). */
export interface MaeScheduleOptions {
  /** Base lr: lr = blr x effective batch size / 256 (MAE's --blr); default 0.1 (main_linprobe.py), 1e-3 (main_finetune.py). */
  blr?: number;
  /** The absolute peak lr (MAE's --lr), instead of blr's scaling. */
  lr?: number;
  /** The effective batch size blr scales by; default the train source's batchSize x processes. */
  batchSize?: number;
  /**
   * MAE's --warmup_epochs: 10 of its 90 probe epochs, 5 of its 50 fine-tuning epochs; with fewer
   * `epochs` than MAE's, the same share of them (so that a short run keeps its cosine).
   */
  warmupEpochs?: number;
  /** Where the cosine ends (MAE's --min_lr); default 0 (probe), 1e-6 (fine-tuning). */
  minLr?: number;
  /** Default 0 (main_linprobe.py, after MoCo v1), 0.05 (main_finetune.py). */
  weightDecay?: number;
}

/** protocol 'mae' of linearProbe: main_linprobe.py's defaults. */
export type MaeLinearProbeOptions = MaeScheduleOptions;

/** protocol 'mae' of fineTune: main_finetune.py's defaults. */
export interface MaeFineTuneOptions extends MaeScheduleOptions {
  /**
   * lr_decay.py's layer-wise lr decay (MAE's --layer_decay); default 0.75, main_finetune.py's
   * argparse (its README fine-tunes ViT-B with 0.65 and blr 5e-4, ViT-L/H with 0.75 and 1e-3).
   */
  layerDecay?: number;
  /** Label smoothing of class-index targets (MAE's --smoothing, default 0.1; mixed soft targets carry it in them). */
  labelSmoothing?: number;
  /** The ViT's stochastic depth while it fine-tunes (MAE's --drop_path, default 0.1); set on the model, where it stays. */
  dropPath?: number;
  /**
   * timm's Mixup alpha (MAE's --mixup): default 0, MAE's argparse default; its README's commands
   * use 0.8. With mixup or cutmix on, every batch is mixed (a copy: the source's images stay as
   * they are) into label-smoothed soft targets, as main_finetune.py's mixup_fn.
   */
  mixup?: number;
  /** timm's CutMix alpha (MAE's --cutmix): default 0; MAE's README's commands use 1.0. */
  cutmix?: number;
  /** Seeds Mixup/CutMix's draws (per step, so a resumed run mixes as the uninterrupted one); default 0. */
  seed?: number;
}

const nonNegative = num({ min: 0 });

/** @internal The option rules of the two protocols. */
export const MAE_PROBE_SCHEMA = {
  blr: nonNegative.default(MAE_DEFAULTS.linprobe.blr),
  lr: nonNegative.orUndefined(),
  batchSize: num({ above: 0 }).orUndefined(),
  warmupEpochs: nonNegative.orUndefined(),
  minLr: nonNegative.default(MAE_DEFAULTS.linprobe.minLr),
  weightDecay: nonNegative.default(MAE_DEFAULTS.linprobe.weightDecay),
};

/** @internal */
export const MAE_FINETUNE_SCHEMA = {
  ...MAE_PROBE_SCHEMA,
  blr: nonNegative.default(MAE_DEFAULTS.finetune.blr),
  minLr: nonNegative.default(MAE_DEFAULTS.finetune.minLr),
  weightDecay: nonNegative.default(MAE_DEFAULTS.finetune.weightDecay),
  layerDecay: num({ above: 0 }).default(MAE_DEFAULTS.finetune.layerDecay),
  labelSmoothing: num({ min: 0, max: 1 }).default(MAE_DEFAULTS.finetune.labelSmoothing),
  dropPath: num({ min: 0 }).where('and < 1', (v) => v < 1).default(MAE_DEFAULTS.finetune.dropPath),
  mixup: nonNegative.default(0),
  cutmix: nonNegative.default(0),
  seed: int({ min: 0 }).default(0),
};

/** @internal The d2l recipe's options that a 'mae' protocol does not take, and why. */
export const NOT_MAE = {
  momentum: "protocol 'mae' takes its optimizer's own (LARS momentum 0.9; AdamW betas 0.9, 0.999)",
  nesterov: "protocol 'mae' uses LARS (probe) or AdamW (fine-tuning), not SGD",
  schedule: "protocol 'mae' runs MAE's warm-up and half-cycle cosine (warmupEpochs, minLr)",
  fcLrMult: "it is the d2l recipe's; protocol 'mae' scales each layer's lr by layerDecay",
  freezeEpochs: "it is the d2l recipe's; protocol 'mae' trains every layer from the first step",
  bn: "protocol 'mae' keeps the frozen backbone in eval mode",
};

/** @internal The 'mae'-only options, for the d2l protocol's errors. */
export const ONLY_MAE = Object.fromEntries(Object.entries({
  blr: 'blr', batchSize: 'batch_size', warmupEpochs: 'warmup_epochs', minLr: 'min_lr', layerDecay: 'layer_decay', labelSmoothing: 'smoothing',
  dropPath: 'drop_path', mixup: 'mixup', cutmix: 'cutmix',
}).map(([k, flag]) => [k, `it is protocol 'mae''s (MAE's --${flag}); pass protocol: 'mae'`]));

/** What a protocol hands the loop. */
export interface MaeRecipe {
  optimizer: Optimizer;
  schedule: Schedule;
}

/**
 * @internal main_linprobe.py: MAE's probe head (the model must have one: resetClassifier(n, { head:
 * 'mae-probe' })) trained by LARS, the backbone frozen, without drop path (MAE's probed model has
 * none).
 */
export function maeProbeRecipe(where: string, net: Model, o: Parsed<typeof MAE_PROBE_SCHEMA>, train: BatchSource, epochs: number): MaeRecipe {
  if (net.headKind !== 'mae-probe') {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: protocol 'mae' trains MAE's probe head (BatchNorm1d without affine, then Linear); ` +
      `call net.resetClassifier(numClasses, { head: 'mae-probe' }) first, as main_linprobe.py replaces model.head`);
  }
  if (net instanceof VisionTransformer && net.config.dropPathRate > 0) net.setDropPathRate(0);
  net.freeze({ except: [net.classifierName] });
  const lr = peakLr(where, o, train);
  const optimizer = new LARS(net.getClassifier().parameters(), { lr, weightDecay: o.weightDecay });
  return { optimizer, schedule: maeSchedule(where, o, MAE_DEFAULTS.linprobe, train, epochs) };
}

/**
 * @internal main_finetune.py: every layer trains with AdamW over lr_decay.py's parameter groups (no weight
 * decay for 1-D parameters, pos_embed and cls_token; lr x layerDecay^(layers - layer)), drop path
 * on, label smoothing on class-index targets.
 */
export function maeFineTuneRecipe(where: string, net: Model, o: Parsed<typeof MAE_FINETUNE_SCHEMA>, train: BatchSource, epochs: number):
  MaeRecipe & { trainStep(b: Batch): Promise<StepResult> } {
  if (!(net instanceof VisionTransformer)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: protocol 'mae' fine-tunes a VisionTransformer (its layer decay counts ViT blocks); ` +
      `this model is a ${net.arch}: use protocol 'd2l'`);
  }
  net.unfreeze();
  net.setDropPathRate(o.dropPath);
  const lr = peakLr(where, o, train);
  const groups = paramGroupsLrd(net.parameters(), { weightDecay: o.weightDecay, layerDecay: o.layerDecay });
  const optimizer = new AdamW(groups.map((g) => ({ ...g, lr })), { lr, betas: [0.9, 0.999] });
  const schedule = maeSchedule(where, o, MAE_DEFAULTS.finetune, train, epochs);
  if (!(o.mixup > 0 || o.cutmix > 0)) {
    return { optimizer, schedule, trainStep: (b) => net.trainStep(b.input, b.target, optimizer, { labelSmoothing: o.labelSmoothing }) };
  }
  // main_finetune.py's Mixup: prob 1, switch prob 0.5, batch mode, the smoothing in its targets.
  const mixup = new Mixup({ mixupAlpha: o.mixup, cutmixAlpha: o.cutmix, labelSmoothing: o.labelSmoothing, numClasses: net.numClasses, seed: o.seed });
  return {
    optimizer, schedule,
    trainStep: async (b) => {
      if (!(b.target instanceof Int32Array || b.target instanceof BigInt64Array)) {
        throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: mixup and cutmix mix class-index targets; this batch's are already soft`);
      }
      const input = { ...b.input, data: b.input.data.slice() } as HostTensor;
      const mixed = await mixup.apply({ input, target: b.target }, optimizer.stepCount);
      return net.trainStep(mixed.input, mixed.target, optimizer);
    },
  };
}

/** The lr the schedule peaks at: the one given, or blr scaled by the effective batch size. */
function peakLr(where: string, o: { lr?: number; blr: number; batchSize?: number }, train: BatchSource): number {
  if (o.lr !== undefined) return o.lr;
  const perProcess = o.batchSize === undefined ? sourceBatchSize(train) : undefined;
  if (o.batchSize === undefined && perProcess === undefined) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: protocol 'mae' sets lr = blr x batch size / 256 (MAE's linear scaling rule) ` +
      'and cannot read the batch size off this train source: pass batchSize (or lr)');
  }
  const effectiveBatchSize = o.batchSize ?? perProcess! * (dist.isInitialized ? dist.worldSize : 1);
  return absoluteLr({ blr: o.blr, effectiveBatchSize });
}

/** A DataLoader's batchSize, or the first batch's size of an array of batches. */
function sourceBatchSize(train: BatchSource): number | undefined {
  const size = (train as { batchSize?: unknown }).batchSize;
  if (typeof size === 'number') return size;
  return Array.isArray(train) && train.length > 0 ? (train[0] as { target: { length: number } }).target.length : undefined;
}

/** util/lr_sched.py per iteration over `epochs`, with MAE's warm-up (scaled to fewer epochs than MAE's). */
function maeSchedule(where: string, o: { warmupEpochs?: number; minLr: number }, mae: { warmupEpochs: number; epochs: number },
  train: BatchSource, epochs: number): Schedule {
  const stepsPerEpoch = train.length;
  if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch! > 0)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: protocol 'mae' moves the lr every iteration (util/lr_sched.py at epoch + ` +
      'step / steps per epoch), so the train source must say its length (a DataLoader or an array of batches)');
  }
  const total = Math.max(epochs, 1);
  const warmupEpochs = o.warmupEpochs ?? (total >= mae.epochs ? mae.warmupEpochs : mae.warmupEpochs * total / mae.epochs);
  if (!(warmupEpochs < total)) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: warmupEpochs ${warmupEpochs} leaves no epoch for the cosine of ${total} epochs`);
  }
  return { kind: 'halfCycleCosine', per: 'step', warmupEpochs, epochs: total, minLr: o.minLr, stepsPerEpoch };
}

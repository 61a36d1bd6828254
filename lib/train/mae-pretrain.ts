// MAE's pretraining as facebookresearch/mae's main_pretrain.py and engine_pretrain.py run it:
// AdamW on timm's two weight-decay groups, the lr set before every step by util/lr_sched.py's
// warm-up and half-cycle cosine at the fractional epoch, one masked-autoencoder step per batch.
// The masking noise of each batch is seeded by (seed, epoch, batch) and the DataLoader replays an
// epoch's batches for its seed and epoch, so a run resumed from a checkpoint (model, optimizer,
// position) takes exactly the steps the uninterrupted run would have.
import { Rule, checkOptions, custom, func, int, num, str } from '../base/check';
import { FinetorchError, rangeError, withContext } from '../base/errors';
import { cpuMemory } from '../base/runtime';
import type { HostTensor } from '../base/tensor';
import type { BatchSource } from '../data/batch';
import { stepwise } from '../data/loader';
import { mixSeed } from '../data/random';
import type { MaskedAutoencoder } from '../model/mae';
import { AdamW } from '../optim/adamw';
import { halfCycleCosineLr } from '../optim/lr-sched';
import { paramGroupsWeightDecay } from '../optim/weight-decay-groups';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import type { TrainingPosition } from './history';
import { LoopOptions, TrainingDivergedError, isNonFiniteLoss } from './loop';
import { stopSignal } from './stop-signal';

/** The classifier loop's checkpointing and stopping, as they are there. */
export interface MaePretrainOptions extends Pick<LoopOptions, 'checkpoint' | 'checkpointEvery' | 'signal' | 'onCheckpoint'> {
  /**
   * Batches of images (their labels are ignored) that say how many there are per epoch, as a
   * DataLoader does: the schedule runs at epoch + batch / batches. MAE's: a shuffled DataLoader
   * with dropLast over an ImageFolder with
   * trainTransform({ scale: [0.2, 1], interpolation: 'bicubic' }) (RandomResizedCrop + flip).
   */
  train: BatchSource;
  /** Train until this epoch (a resumed run counts the checkpoint's epochs). main_pretrain.py's default is 400. */
  epochs: number;
  /** The base lr: lr = blr x batchSize / 256. Default 1.5e-4, MAE's PRETRAIN.md recipe (main_pretrain.py's argument default is 1e-3). */
  blr?: number;
  /** The absolute peak lr, instead of blr's. */
  lr?: number;
  /** The effective batch size the lr scales with; default `train.batchSize` (a DataLoader's). */
  batchSize?: number;
  /** Where the cosine ends; default 0. */
  minLr?: number;
  /** Epochs of linear warm-up from 0; default 40. */
  warmupEpochs?: number;
  /** The decayed group's weight decay (not biases, norms); default 0.05. */
  weightDecay?: number;
  /** AdamW's betas; default [0.9, 0.95]. */
  betas?: readonly [number, number];
  /** The share of patches masked; default 0.75. */
  maskRatio?: number;
  /** Seeds every batch's masking noise, with the epoch and batch number; default 0. */
  seed?: number;
  /** Continue from a checkpoint: weights, AdamW's state, step count, history and position come from it. */
  resume?: string;
  /** Awaited once the optimizer and (with `resume`) the checkpoint are ready, before the first step. */
  onStart?: (start: TrainingPosition & { history: MaeEpochRecord[] }) => void | Promise<void>;
  onBatch?: (event: MaeBatchEvent) => void;
  /** Awaited: files written here are done before the next epoch. */
  onEpoch?: (record: MaeEpochRecord) => void | Promise<void>;
}

export interface MaeBatchEvent {
  epoch: number;
  batch: number;
  batches: number;
  /** Optimizer steps so far, this one included. */
  step: number;
  loss: number;
  /** The lr this step ran at (every group's). */
  lr: number;
  /** The epoch's running mean loss. */
  meanLoss: number;
  imagesPerSec: number;
}

export interface MaeEpochRecord {
  epoch: number;
  /** The mean reconstruction loss over the epoch's images. */
  loss: number;
  /** The lr at the epoch's first step. */
  lr: number;
  imagesPerSec: number;
  seconds: number;
}

/** An epoch's steps so far: running sums, and the lr it started at. */
interface MaeTotals {
  loss: number;
  count: number;
  seconds: number;
  lr: number;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
const betasRule = new Rule<readonly [number, number]>('an array of 2 numbers in [0, 1)',
  (v) => (!Array.isArray(v) || v.length !== 2 ? 'type' : v.every((b) => typeof b === 'number' && b >= 0 && b < 1) ? 'ok' : 'range'));

const SCHEMA = {
  train: custom<BatchSource>('an iterable of batches that has a length (a DataLoader)',
    (v) => isObject(v) && (Symbol.iterator in (v as object) || Symbol.asyncIterator in (v as object))),
  epochs: int({ min: 0 }),
  blr: num({ min: 0 }).default(1.5e-4),
  lr: num({ min: 0 }).orUndefined(),
  batchSize: int({ min: 1 }).orUndefined(),
  minLr: num({ min: 0 }).default(0),
  warmupEpochs: num({ min: 0 }).default(40),
  weightDecay: num({ min: 0 }).default(0.05),
  betas: betasRule.default([0.9, 0.95]),
  maskRatio: num({ min: 0 }).where('and < 1', (v) => v < 1).default(0.75),
  seed: int({ min: 0 }).default(0),
  checkpoint: str().orUndefined(),
  checkpointEvery: int({ min: 0 }).default(0),
  resume: str().orUndefined(),
  signal: stopSignal,
  onStart: func<NonNullable<MaePretrainOptions['onStart']>>().orUndefined(),
  onBatch: func<NonNullable<MaePretrainOptions['onBatch']>>().orUndefined(),
  onEpoch: func<NonNullable<MaePretrainOptions['onEpoch']>>().orUndefined(),
  onCheckpoint: func<NonNullable<MaePretrainOptions['onCheckpoint']>>().orUndefined(),
};

/** The seed of the masking noise of batch `batch` (1-based) of epoch `epoch` (1-based). */
export function maeNoiseSeed(seed: number, epoch: number, batch: number): number {
  return mixSeed(seed, epoch, batch);
}

/**
 * Pretrains `net` (MAE's main_pretrain.py): AdamW (betas 0.9/0.95) on timm's weight-decay groups
 * (0.05 on weights, none on biases and norms), the lr warmed up and decayed per step, the loss of
 * each batch on its masked patches. Resolves to the history, one record per epoch.
 */
export async function maePretrain(net: MaskedAutoencoder, options: MaePretrainOptions): Promise<MaeEpochRecord[]> {
  const where = 'maePretrain';
  const o = checkOptions(where, options, SCHEMA);
  const batches = o.train.length;
  if (batches === undefined) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: train must say how many batches an epoch has (a DataLoader, or an array)`);
  if (o.checkpointEvery > 0 && !o.checkpoint) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: checkpointEvery needs a checkpoint file`);
  const batchSize = o.batchSize ?? (o.train as { batchSize?: number }).batchSize;
  if (o.lr === undefined && batchSize === undefined) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: give lr, or batchSize for lr = blr x batchSize / 256 (train is not a DataLoader)`);
  }
  const peakLr = o.lr ?? o.blr * batchSize! / 256;
  const schedule = { lr: peakLr, minLr: o.minLr, warmupEpochs: o.warmupEpochs, epochs: o.epochs };
  const optimizer = new AdamW(paramGroupsWeightDecay(net.parameters(), { weightDecay: o.weightDecay }), { lr: peakLr, betas: o.betas });
  const state = { net, optimizer };
  try {
    let history: MaeEpochRecord[] = [];
    let position: { epoch: number; batch: number; partial?: MaeTotals } = { epoch: 0, batch: 0 };
    if (o.resume) {
      // The options, not the checkpoint, say how to train from here.
      const settings = optimizer.paramGroups.map(({ params: _params, ...g }) => g);
      const info = await loadCheckpoint<MaeEpochRecord, MaeTotals>(o.resume, state);
      optimizer.paramGroups.forEach((g, i) => Object.assign(g, settings[i]));
      history = info.history;
      position = { epoch: info.epoch, batch: info.batch ?? 0, partial: info.partial };
    }
    if (o.signal?.aborted) return history;
    await o.onStart?.({ epoch: position.epoch, batch: position.batch, history: [...history] });

    let saved = o.resume ? { epoch: position.epoch, batch: position.batch } : undefined;
    const save = async (epoch: number, batch: number, partial?: MaeTotals): Promise<void> => {
      if (!o.checkpoint || (saved?.epoch === epoch && saved.batch === batch)) return;
      await saveCheckpoint<MaeEpochRecord, MaeTotals>(o.checkpoint, state, { epoch, batch, partial, history });
      saved = { epoch, batch };
      o.onCheckpoint?.({ epoch, batch, step: optimizer.stepCount });
    };

    for (let epoch = position.epoch + 1; epoch <= o.epochs; epoch++) {
      if (o.signal?.aborted) break;
      const skip = epoch === position.epoch + 1 ? position.batch : 0;
      const totals: MaeTotals = skip && position.partial ? { ...position.partial } : { loss: 0, count: 0, seconds: 0, lr: NaN };
      o.train.setEpoch?.(epoch);
      let batch = 0;
      let stopped = false;
      let start = process.hrtime.bigint();
      for await (const b of stepwise(o.train)) {
        batch++;
        if (batch <= skip) {
          start = process.hrtime.bigint();
          continue;
        }
        // lr_sched.adjust_learning_rate(optimizer, data_iter_step / len(data_loader) + epoch), MAE's epochs counting from 0.
        const lr = halfCycleCosineLr(epoch - 1 + (batch - 1) / batches, schedule);
        for (const g of optimizer.paramGroups) g.lr = lr;
        const n = b.input.shape[0];
        const loss = await step(net, b.input as HostTensor<'float32'>, optimizer, { maskRatio: o.maskRatio, noiseSeed: maeNoiseSeed(o.seed, epoch, batch) }, epoch, batch);
        if (Number.isNaN(totals.lr)) totals.lr = lr;
        totals.loss += loss * n;
        totals.count += n;
        const now = process.hrtime.bigint();
        totals.seconds += Number(now - start) / 1e9;
        start = now;
        o.onBatch?.({
          epoch, batch, batches, step: optimizer.stepCount, loss, lr,
          meanLoss: totals.loss / totals.count, imagesPerSec: totals.count / totals.seconds,
        });
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
        if (o.checkpointEvery > 0 && optimizer.stepCount % o.checkpointEvery === 0 && batch !== batches) await save(epoch - 1, batch, totals);
      }
      if (stopped) {
        await save(epoch - 1, batch, totals);
        break;
      }
      if (totals.count === 0) throw new FinetorchError('ERR_FINETORCH_DATASET', `epoch ${epoch}: the training data gave no batches`);
      const record: MaeEpochRecord = {
        epoch, loss: totals.loss / totals.count, lr: totals.lr, imagesPerSec: totals.count / totals.seconds, seconds: totals.seconds,
      };
      history.push(record);
      await save(epoch, 0);
      await o.onEpoch?.(record);
    }
    return history;
  } finally {
    // The steps' memory, kept for the next step, is no longer needed.
    cpuMemory.emptyCache();
  }
}

/** One step; a NaN or infinite loss becomes a TrainingDivergedError, other errors say where they happened. */
async function step(net: MaskedAutoencoder, images: HostTensor<'float32'>, optimizer: AdamW,
  masking: { maskRatio: number; noiseSeed: number }, epoch: number, batch: number): Promise<number> {
  try {
    return (await net.trainStep(images, optimizer, masking)).loss;
  } catch (err) {
    if (isNonFiniteLoss(err)) {
      throw new TrainingDivergedError(`epoch ${epoch}, batch ${batch}: ${(err as Error).message}`, epoch, optimizer.stepCount + 1, { cause: err });
    }
    throw withContext(`epoch ${epoch}, batch ${batch}`, err);
  }
}

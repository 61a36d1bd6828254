// The fine-tuning loops of the d2l chapter and MAE's two protocols: full fine-tuning (pretrained
// layers at lr, the new fc at fcLrMult x lr) and linear probing (frozen backbone, head only,
// optionally on cached backbone features).
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { ErrorCode, FinetorchError, hasCode, withContext } from './errors';
import type { Batch, ResNet18, StepResult } from './model';
import { SGD } from './optim';
import { LRScheduler, Schedule } from './schedule';

/** Batches for one epoch; a DataLoader also reshuffles per epoch (setEpoch) and knows its length. */
export type BatchSource = (Iterable<Batch> | AsyncIterable<Batch>) & { length?: number; setEpoch?(epoch: number): void };

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  validLoss: number | null;
  validAcc: number | null;
  imagesPerSec: number;
  seconds: number;
  /** The first group's lr during the epoch (the pretrained layers' lr when fine-tuning). */
  lr: number;
}

export interface BatchEvent {
  epoch: number;
  batch: number;
  batches?: number;
  loss: number;
  /** Running means over the epoch so far. */
  meanLoss: number;
  meanAcc: number;
  imagesPerSec: number;
}

export interface LoopOptions {
  train: BatchSource;
  valid?: BatchSource;
  epochs: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  schedule?: Schedule;
  /** Written after every epoch (atomically); resume from it with `resume`. */
  checkpoint?: string;
  resume?: string;
  /** Stop with a TrainingDivergedError when a batch loss exceeds this (NaN/inf always stop). */
  maxLoss?: number;
  onBatch?: (event: BatchEvent) => void;
  /** Awaited: files written here (best weights, metrics) are done before the next epoch. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
}

export interface FineTuneOptions extends LoopOptions {
  /** fc's lr = fcLrMult * lr (the chapter's 10x). */
  fcLrMult?: number;
}

export interface LinearProbeOptions extends LoopOptions {
  /** Compute the frozen backbone's features once and train the head on them. */
  featureCache?: boolean;
  /** BatchNorm layers of the frozen backbone: 'eval' keeps running statistics (default). */
  bn?: 'eval' | 'train';
}

/** A NaN/infinite loss (code ERR_FINETORCH_NONFINITE_LOSS) or one above maxLoss (ERR_FINETORCH_LOSS_ABOVE_MAX). */
export class TrainingDivergedError extends FinetorchError {
  constructor(message: string, readonly epoch: number, readonly step: number, options?: ErrorOptions,
    code: ErrorCode = 'ERR_FINETORCH_NONFINITE_LOSS') {
    super(code, message, options);
    this.name = 'TrainingDivergedError';
  }
}

/** Full fine-tuning with the chapter's two parameter groups. */
export async function fineTune(net: ResNet18, options: FineTuneOptions): Promise<EpochRecord[]> {
  const { lr, fcLrMult = 10 } = options;
  net.unfreeze();
  const optimizer = new SGD([
    { params: net.parameters({ exclude: ['fc'] }) },
    { params: net.fc.parameters(), lr: lr * fcLrMult },
  ], sgdDefaults(options));
  return runLoop(net, optimizer, options, (b) => net.trainStep(b.input, b.target, optimizer), (b) => net.evalStep(b.input, b.target));
}

/** Linear probing: the backbone frozen, only fc trains, at lr. */
export async function linearProbe(net: ResNet18, options: LinearProbeOptions): Promise<EpochRecord[]> {
  if (options.featureCache && options.bn === 'train') {
    throw new RangeError('linearProbe: featureCache needs a fixed backbone, so it cannot be combined with bn: \'train\'');
  }
  net.freeze({ except: ['fc'], bn: options.bn });
  const optimizer = new SGD(net.fc.parameters(), sgdDefaults(options));
  if (!options.featureCache) {
    return runLoop(net, optimizer, options, (b) => net.trainStep(b.input, b.target, optimizer), (b) => net.evalStep(b.input, b.target));
  }
  const toFeatures = async (source: BatchSource): Promise<Batch[]> => {
    const cached: Batch[] = [];
    for await (const b of source) cached.push({ input: await net.features(b.input), target: b.target });
    return cached;
  };
  const train = await toFeatures(options.train);
  const valid = options.valid && await toFeatures(options.valid);
  return runLoop(net, optimizer, { ...options, train, valid },
    (b) => net.trainHeadStep(b.input, b.target, optimizer), (b) => net.evalHeadStep(b.input, b.target));
}

function sgdDefaults(o: LoopOptions) {
  return { lr: o.lr, momentum: o.momentum ?? 0, weightDecay: o.weightDecay ?? 0.001, nesterov: o.nesterov ?? false };
}

async function runLoop(
  net: ResNet18, optimizer: SGD, options: LoopOptions,
  trainStep: (b: Batch) => Promise<StepResult>, evalStep: (b: Batch) => Promise<StepResult>,
): Promise<EpochRecord[]> {
  const { epochs, maxLoss = Infinity } = options;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`epochs must be a non-negative integer, got ${epochs}`);
  const scheduler = new LRScheduler(optimizer, options.schedule ?? { kind: 'constant' });
  const state = { net, optimizer, scheduler };
  let history: EpochRecord[] = [];
  let firstEpoch = 1;
  if (options.resume) {
    const info = await loadCheckpoint(options.resume, state);
    history = info.history;
    firstEpoch = info.epoch + 1;
  }
  for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
    options.train.setEpoch?.(epoch);
    const lr = optimizer.paramGroups[0].lr;
    const start = process.hrtime.bigint();
    const totals = { loss: 0, correct: 0, count: 0 };
    let batch = 0;
    for await (const b of options.train) {
      batch++;
      let r: StepResult;
      try {
        r = await trainStep(b);
      } catch (err) {
        if (hasCode(err, 'ERR_FINETORCH_NONFINITE_LOSS')) throw new TrainingDivergedError(`epoch ${epoch}, batch ${batch}: ${(err as Error).message}`, epoch, optimizer.stepCount + 1, { cause: err });
        throw withContext(`epoch ${epoch}, batch ${batch}`, err);
      }
      if (r.loss > maxLoss) {
        throw new TrainingDivergedError(`epoch ${epoch}, batch ${batch} (step ${optimizer.stepCount}): loss ${r.loss} exceeds maxLoss ${maxLoss}`,
          epoch, optimizer.stepCount, undefined, 'ERR_FINETORCH_LOSS_ABOVE_MAX');
      }
      const n = b.target.length;
      totals.loss += r.loss * n;
      totals.correct += r.correct;
      totals.count += n;
      if (scheduler.per === 'step') scheduler.step();
      options.onBatch?.({
        epoch, batch, batches: options.train.length, loss: r.loss,
        meanLoss: totals.loss / totals.count, meanAcc: totals.correct / totals.count,
        imagesPerSec: totals.count / (Number(process.hrtime.bigint() - start) / 1e9),
      });
    }
    if (totals.count === 0) throw new Error(`epoch ${epoch}: the training data gave no batches`);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (scheduler.per === 'epoch') scheduler.step();
    const valid = options.valid ? await evaluate(options.valid, evalStep) : null;
    const record: EpochRecord = {
      epoch, trainLoss: totals.loss / totals.count, trainAcc: totals.correct / totals.count,
      validLoss: valid?.loss ?? null, validAcc: valid?.accuracy ?? null,
      imagesPerSec: totals.count / seconds, seconds, lr,
    };
    history.push(record);
    if (options.checkpoint) await saveCheckpoint(options.checkpoint, state, { epoch, history });
    await options.onEpoch?.(record);
  }
  return history;
}

/** Mean loss and accuracy over a data source, in eval mode. */
export async function evaluate(source: BatchSource, evalStep: (b: Batch) => Promise<StepResult>): Promise<{ loss: number; accuracy: number; count: number }> {
  let loss = 0;
  let correct = 0;
  let count = 0;
  for await (const b of source) {
    const r = await evalStep(b);
    loss += r.loss * b.target.length;
    correct += r.correct;
    count += b.target.length;
  }
  return { loss: count ? loss / count : NaN, accuracy: count ? correct / count : NaN, count };
}

// The epoch engine under fineTune and linearProbe: steps, schedule, validation, checkpoints,
// resume (at an epoch's end or in its middle), early stopping and a cooperative stop. A data
// source replays an epoch identically when asked for it again (the DataLoader seeds its order
// and augmentation by epoch), so resuming after k batches skips the first k and is exact.
import { Parsed, Rule, bool, custom, func, int, num, str } from '../base/check';
import { ErrorCode, FinetorchError, hasCode, rangeError, withContext } from '../base/errors';
import { cpuMemory } from '../base/runtime';
import type { Batch, BatchSource } from '../data/batch';
import { stepwise } from '../data/loader';
import type { Model, StepResult } from '../model/model';
import { LRScheduler, Schedule, checkSchedule } from '../optim/schedule';
import type { Optimizer } from '../optim/optimizer';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { evaluate } from './evaluate';
import type { EpochRecord, EpochTotals, TrainingPosition } from './history';
import type { Scores } from './metrics';
import { anyRankAbove, anyRankStopped, resumedTotals, syncForEvaluation, totalsOverRanks, writesFiles } from './rank-agreement';
import { StopSignal, stopSignal } from './stop-signal';

export interface BatchEvent {
  epoch: number;
  batch: number;
  batches?: number;
  /** Optimizer steps so far, this one included. */
  step: number;
  loss: number;
  /** The first group's lr this step ran at. */
  lr: number;
  /** fc's lr this step ran at. */
  fcLr: number;
  /** Running means over the epoch so far. */
  meanLoss: number;
  meanAcc: number;
  imagesPerSec: number;
}

export interface ValidBatchEvent {
  epoch: number;
  batch: number;
  batches?: number;
}

export interface LoopOptions {
  train: BatchSource;
  valid?: BatchSource;
  /** Train until this epoch (a resumed run counts the checkpoint's epochs). */
  epochs: number;
  /** The pretrained layers' lr (linearProbe: fc's); default 0.01, the d2l fine-tuning chapter's. */
  lr?: number;
  /** Default 0: the d2l fine-tuning chapter's SGD has no momentum. */
  momentum?: number;
  /** Default 1e-3. */
  weightDecay?: number;
  nesterov?: boolean;
  schedule?: Schedule;
  /** Written (atomically) after every epoch, every `checkpointEvery` steps, and when `signal` stops the loop. */
  checkpoint?: string;
  /** Also checkpoint every this many steps inside epochs (0: only at epochs' ends); needs `checkpoint`. */
  checkpointEvery?: number;
  /**
   * Continue from a checkpoint: weights, momentum buffers, step count, schedule position, history,
   * and the position inside an epoch come from it; lr, momentum, weight decay, the schedule and
   * everything else from these options. A checkpoint taken mid-epoch replays the rest of that epoch
   * exactly when `train` yields the same batches for the same epoch (a DataLoader with the same
   * dataset, batch size and seed does).
   */
  resume?: string;
  /** Stop with a TrainingDivergedError when a batch loss exceeds this (NaN/inf always stop). */
  maxLoss?: number;
  /** Early stopping: end after this many epochs without a better validation accuracy (needs `valid`). */
  patience?: number;
  /**
   * Stops the loop after the step running when it is aborted; `checkpoint` then records that
   * position, and the promise resolves with the epochs finished.
   */
  signal?: StopSignal;
  /** Awaited once the model, optimizer and (with `resume`) the checkpoint are ready, before the first step. */
  onStart?: (start: TrainingPosition & { history: EpochRecord[] }) => void | Promise<void>;
  onBatch?: (event: BatchEvent) => void;
  onValidBatch?: (event: ValidBatchEvent) => void;
  /** Awaited: files written here (best weights, metrics) are done before the next epoch. */
  onEpoch?: (record: EpochRecord, validation: Scores | null) => void | Promise<void>;
  /** After each checkpoint written, with the position it holds. */
  onCheckpoint?: (position: TrainingPosition & { step: number }) => void;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
const source = custom<BatchSource>('an iterable of batches (an array, a generator or a DataLoader)',
  (v) => isObject(v) && (Symbol.iterator in (v as object) || Symbol.asyncIterator in (v as object)));

/** @internal LoopOptions' rules: fineTune and linearProbe add their own. */
export const LOOP_SCHEMA = {
  train: source,
  valid: source.orUndefined(),
  epochs: int({ min: 0 }),
  lr: num({ min: 0 }).default(0.01),
  momentum: num({ min: 0 }).default(0),
  weightDecay: num({ min: 0 }).default(0.001),
  nesterov: bool().default(false),
  schedule: custom<Schedule>('a schedule object ({ kind: ... })', isObject).orUndefined(),
  checkpoint: str().orUndefined(),
  checkpointEvery: int({ min: 0 }).default(0),
  resume: str().orUndefined(),
  maxLoss: new Rule<number>('a number', (v) => (typeof v !== 'number' ? 'type' : Number.isNaN(v) ? 'range' : 'ok')).default(Infinity),
  patience: int({ min: 1 }).orUndefined(),
  signal: stopSignal,
  onStart: func<NonNullable<LoopOptions['onStart']>>().orUndefined(),
  onBatch: func<NonNullable<LoopOptions['onBatch']>>().orUndefined(),
  onValidBatch: func<NonNullable<LoopOptions['onValidBatch']>>().orUndefined(),
  onEpoch: func<NonNullable<LoopOptions['onEpoch']>>().orUndefined(),
  onCheckpoint: func<NonNullable<LoopOptions['onCheckpoint']>>().orUndefined(),
};

/** @internal What one option cannot say alone. */
export function checkLoop(where: string, o: Pick<Parsed<typeof LOOP_SCHEMA>, 'schedule' | 'patience' | 'valid' | 'checkpointEvery' | 'checkpoint'>): void {
  if (o.schedule) checkSchedule(o.schedule);
  if (o.patience !== undefined && !o.valid) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: patience needs a valid source to watch`);
  if (o.checkpointEvery > 0 && !o.checkpoint) throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: checkpointEvery needs a checkpoint file`);
}

/**
 * @internal The training loops minimise cross-entropy over the head's outputs: with one output its
 * loss is 0 whatever the image, and nothing would be learnt while accuracy shows 100%.
 */
export function checkClassifier(where: string, net: Model): void {
  if (net.numClasses < 2) {
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: the model has ${net.numClasses} output ` +
      `(${net.classifierName} out_features=${net.numClasses}): cross-entropy over a single class is 0 for every image, so nothing ` +
      'would train; a classifier needs at least 2 classes (net.resetClassifier(numClasses))');
  }
}

/** A NaN/infinite loss (code ERR_FINETORCH_NONFINITE_LOSS) or one above maxLoss (ERR_FINETORCH_LOSS_ABOVE_MAX). */
export class TrainingDivergedError extends FinetorchError {
  constructor(message: string, readonly epoch: number, readonly step: number, options?: ErrorOptions,
    code: ErrorCode = 'ERR_FINETORCH_NONFINITE_LOSS') {
    super(code, message, options);
    this.name = 'TrainingDivergedError';
  }
}

/** What a loop trains and how: the model, its optimizer, one step each way. */
export interface LoopPlan {
  net: Model;
  optimizer: Optimizer;
  trainStep(b: Batch): Promise<StepResult>;
  /** Returns logits, for top-5 accuracy and the confusion matrix. */
  evalStep(b: Batch): Promise<StepResult>;
  /** Before each epoch (fineTune's freeze phase). */
  beforeEpoch?(epoch: number): void;
}

type Options = Required<Pick<LoopOptions, 'epochs' | 'train' | 'maxLoss' | 'checkpointEvery'>> & LoopOptions;

export async function runLoop(plan: LoopPlan, options: Options): Promise<EpochRecord[]> {
  try {
    return await trainEpochs(plan, options);
  } finally {
    // The steps' memory, kept for the next step, is no longer needed.
    cpuMemory.emptyCache();
  }
}

async function trainEpochs(plan: LoopPlan, options: Options): Promise<EpochRecord[]> {
  const { net, optimizer } = plan;
  const { epochs, train, maxLoss, checkpointEvery, signal } = options;
  const scheduler = new LRScheduler(optimizer, options.schedule ?? { kind: 'constant' });
  const state = { net, optimizer, scheduler };
  let history: EpochRecord[] = [];
  let position: { epoch: number; batch: number; partial?: EpochTotals } = { epoch: 0, batch: 0 };
  if (options.resume) {
    // The options, not the checkpoint, say how to train from here: keep their group settings.
    const settings = optimizer.paramGroups.map(({ params: _params, ...g }) => g);
    const info = await loadCheckpoint(options.resume, state);
    optimizer.paramGroups.forEach((g, i) => Object.assign(g, settings[i]));
    scheduler.loadStateDict(scheduler.stateDict());
    history = info.history;
    position = { epoch: info.epoch, batch: info.batch ?? 0, partial: info.partial && resumedTotals(info.partial) };
  }
  if (await anyRankStopped(signal)) return history;
  await options.onStart?.({ epoch: position.epoch, batch: position.batch, history: [...history] });

  let saved = options.resume ? { epoch: position.epoch, batch: position.batch } : undefined;
  const save = async (epoch: number, batch: number, partial?: EpochTotals): Promise<void> => {
    if (!options.checkpoint || (saved?.epoch === epoch && saved.batch === batch)) return;
    // In a data-parallel job rank 0 writes, with the whole job's totals so far.
    const totals = partial && await totalsOverRanks(partial);
    if (writesFiles()) await saveCheckpoint(options.checkpoint, state, { epoch, batch, partial: totals, history });
    saved = { epoch, batch };
    options.onCheckpoint?.({ epoch, batch, step: optimizer.stepCount });
  };

  for (let epoch = position.epoch + 1; epoch <= epochs; epoch++) {
    if (await anyRankStopped(signal)) break;
    const skip = epoch === position.epoch + 1 ? position.batch : 0;
    const fresh = { loss: 0, correct: 0, count: 0, seconds: 0, lr: optimizer.paramGroups[0].lr, fcLr: optimizer.paramGroups.at(-1)!.lr };
    const totals: EpochTotals = skip && position.partial ? { ...position.partial } : fresh;
    plan.beforeEpoch?.(epoch);
    train.setEpoch?.(epoch);
    let batch = 0;
    let stopped = false;
    // A source that says how long it is and was left after its last batch has nothing to replay.
    if (!(skip > 0 && train.length !== undefined && skip >= train.length)) {
      let start = process.hrtime.bigint();
      for await (const b of stepwise(train)) {
        batch++;
        if (batch <= skip) {
          start = process.hrtime.bigint();
          continue;
        }
        const stepLr = optimizer.paramGroups[0].lr;
        const stepFcLr = optimizer.paramGroups.at(-1)!.lr;
        const r = await guardedStep(plan, b, epoch, batch, maxLoss);
        const n = b.target.length;
        totals.loss += r.loss * n;
        totals.correct += r.correct;
        totals.count += n;
        const now = process.hrtime.bigint();
        totals.seconds += Number(now - start) / 1e9;
        start = now;
        if (scheduler.per === 'step') scheduler.step();
        options.onBatch?.({
          epoch, batch, batches: train.length, step: optimizer.stepCount, loss: r.loss, lr: stepLr, fcLr: stepFcLr,
          meanLoss: totals.loss / totals.count, meanAcc: totals.correct / totals.count, imagesPerSec: totals.count / totals.seconds,
        });
        if (await anyRankStopped(signal)) {
          stopped = true;
          break;
        }
        // (At an epoch's last batch the epoch's own checkpoint follows.)
        if (checkpointEvery > 0 && optimizer.stepCount % checkpointEvery === 0 && batch !== train.length) await save(epoch - 1, batch, totals);
      }
      if (stopped) {
        await save(epoch - 1, batch, totals);
        break;
      }
    }
    const all = await totalsOverRanks(totals);
    if (all.count === 0) throw new FinetorchError('ERR_FINETORCH_DATASET', `epoch ${epoch}: the training data gave no batches`);
    if (scheduler.per === 'epoch') scheduler.step();
    const validStart = process.hrtime.bigint();
    const valid = options.valid ? await validate(plan, options, epoch) : null;
    const record: EpochRecord = {
      epoch, trainLoss: all.loss / all.count, trainAcc: all.correct / all.count,
      validLoss: valid?.loss ?? null, validAcc: valid?.accuracy ?? null, validTop5: valid?.top5 ?? null,
      imagesPerSec: all.count / all.seconds, seconds: all.seconds + Number(process.hrtime.bigint() - validStart) / 1e9,
      lr: all.lr, fcLr: all.fcLr,
    };
    history.push(record);
    await save(epoch, 0);
    await options.onEpoch?.(record, valid);
    if (options.patience !== undefined && epochsWithoutImprovement(history) >= options.patience) break;
  }
  return history;
}

async function guardedStep(plan: LoopPlan, b: Batch, epoch: number, batch: number, maxLoss: number): Promise<StepResult> {
  const { optimizer } = plan;
  let r: StepResult;
  try {
    r = await plan.trainStep(b);
  } catch (err) {
    if (isNonFiniteLoss(err)) {
      throw new TrainingDivergedError(`epoch ${epoch}, batch ${batch}: ${(err as Error).message}`, epoch, optimizer.stepCount + 1, { cause: err });
    }
    throw withContext(`epoch ${epoch}, batch ${batch}`, err);
  }
  if (await anyRankAbove(r.loss, maxLoss)) {
    const whose = r.loss > maxLoss ? `loss ${r.loss}` : "another rank's loss";
    throw new TrainingDivergedError(`epoch ${epoch}, batch ${batch} (step ${optimizer.stepCount}): ${whose} exceeds maxLoss ${maxLoss}`,
      epoch, optimizer.stepCount, undefined, 'ERR_FINETORCH_LOSS_ABOVE_MAX');
  }
  return r;
}

/** A step refused for a NaN or infinite loss (nothing was changed by it). */
export function isNonFiniteLoss(err: unknown): boolean {
  return hasCode(err, 'ERR_FINETORCH_NONFINITE_LOSS');
}

async function validate(plan: LoopPlan, options: Options, epoch: number): Promise<Scores> {
  await syncForEvaluation(plan.net);
  const scores = await evaluate(options.valid as BatchSource, (b) => plan.evalStep(b), {
    onBatch: options.onValidBatch && ((batch, batches) => options.onValidBatch!({ epoch, batch, batches })),
  });
  if (scores.count === 0) throw new FinetorchError('ERR_FINETORCH_DATASET', `epoch ${epoch}: the validation data gave no batches`);
  return scores;
}

/** Epochs since the best validation accuracy (0 when the last epoch is the best). */
export function epochsWithoutImprovement(history: readonly EpochRecord[]): number {
  let best = -Infinity;
  let since = 0;
  for (const r of history) {
    if (r.validAcc !== null && r.validAcc > best) {
      best = r.validAcc;
      since = 0;
    } else {
      since++;
    }
  }
  return since;
}

// The epoch engine under fineTune and linearProbe: steps, schedule, validation, checkpoints,
// resume (at an epoch's end or in its middle), early stopping and a cooperative stop. A data
// source replays an epoch identically when asked for it again (the DataLoader seeds its order
// and augmentation by epoch), so resuming after k batches skips the first k and is exact.
import { EpochTotals, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { anyRankAbove, anyRankStopped, resumedTotals, syncForEvaluation, totalsOverRanks, writesFiles } from './dist-loop';
import { ErrorCode, FinetorchError, hasCode, withContext } from './errors';
import { stepwise } from './data/loader';
import { Scores, evaluate } from './metrics';
import type { Batch, Model, StepResult } from './model';
import type { SGD } from './optim';
import { cpuMemory } from './runtime';
import { LRScheduler } from './schedule';
import type { BatchSource, EpochRecord, LoopOptions } from './train';

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
  optimizer: SGD;
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

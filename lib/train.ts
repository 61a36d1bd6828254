// The fine-tuning loops of the d2l chapter and MAE's two protocols: full fine-tuning (pretrained
// layers at lr, the new fc at fcLrMult x lr, optionally after fastai's frozen warm-up of the head)
// and linear probing (frozen backbone, head only, optionally on cached backbone features).
// Defaults are the seed's recipe: SGD, lr 0.01, fc at 10x, weight decay 1e-3, momentum 0.
import { Parsed, Rule, bool, checkOptions, custom, func, int, num, oneOf, str } from './check';
import { stepwise } from './data/loader';
import { LoopPlan, runLoop } from './loop';
import type { Scores } from './metrics';
import type { Batch, Model } from './model';
import { SGD } from './optim';
import { Schedule, checkSchedule } from './schedule';

export { TrainingDivergedError } from './loop';
export { evaluate } from './metrics';

/** Batches for one epoch; a DataLoader also reshuffles per epoch (setEpoch) and knows its length. */
export type BatchSource = (Iterable<Batch> | AsyncIterable<Batch>) & { length?: number; setEpoch?(epoch: number): void };

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  validLoss: number | null;
  validAcc: number | null;
  /** Top-5 validation accuracy (top-k of all classes when there are fewer than five). */
  validTop5: number | null;
  /** Training images per second of training time. */
  imagesPerSec: number;
  /** Training and validation time. */
  seconds: number;
  /** The first group's lr at the epoch's first step (the pretrained layers' when fine-tuning). */
  lr: number;
  /** fc's lr at the epoch's first step. */
  fcLr: number;
}

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

/** Where training stands: epochs done, and batches done of the next epoch (0 at an epoch's end). */
export interface TrainingPosition {
  epoch: number;
  batch: number;
}

/** What a stop request needs to be: an AbortController's signal, or anything with `aborted`. */
export interface StopSignal {
  readonly aborted: boolean;
}

/** @internal A stop signal option: checked at run time, typed so that the typings need no DOM or Node types. */
export const stopSignal = custom<StopSignal>('an AbortSignal (an object with a boolean aborted)',
  (v) => typeof v === 'object' && v !== null && typeof (v as StopSignal).aborted === 'boolean').orUndefined();

export interface LoopOptions {
  train: BatchSource;
  valid?: BatchSource;
  /** Train until this epoch (a resumed run counts the checkpoint's epochs). */
  epochs: number;
  /** The pretrained layers' lr (linearProbe: fc's); default 0.01, the seed's. */
  lr?: number;
  /** Default 0, as the seed's optimizer. */
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

export interface FineTuneOptions extends LoopOptions {
  /** fc's lr = fcLrMult * lr (the chapter's 10x). */
  fcLrMult?: number;
  /**
   * fastai's fine_tune: the first `freezeEpochs` of `epochs` train fc alone (backbone frozen, its
   * BatchNorm statistics kept), then every layer trains. Default 0. Unlike fastai, the frozen
   * backbone's BatchNorm layers do not train, and the lrs and schedule run on unchanged.
   */
  freezeEpochs?: number;
}

export interface LinearProbeOptions extends LoopOptions {
  /**
   * Compute the frozen backbone's features once and train the head on them. The train source is
   * read once: a random transform (augmentation) or shuffling is frozen into that one pass, and every
   * epoch trains on the same images in the same order (a warning says so).
   */
  featureCache?: boolean;
  /** BatchNorm layers of the frozen backbone: 'eval' keeps running statistics (default). */
  bn?: 'eval' | 'train';
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null;
const source = custom<BatchSource>('an iterable of batches (an array, a generator or a DataLoader)',
  (v) => isObject(v) && (Symbol.iterator in (v as object) || Symbol.asyncIterator in (v as object)));

const LOOP_SCHEMA = {
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

const FINE_TUNE_SCHEMA = { ...LOOP_SCHEMA, fcLrMult: num({ min: 0 }).default(10), freezeEpochs: int({ min: 0 }).default(0) };
const LINEAR_PROBE_SCHEMA = { ...LOOP_SCHEMA, featureCache: bool().default(false), bn: oneOf(['eval', 'train'] as const).default('eval') };

/** What one option cannot say alone. */
function checkLoop(where: string, o: Parsed<typeof LOOP_SCHEMA>): void {
  if (o.schedule) checkSchedule(o.schedule);
  if (o.patience !== undefined && !o.valid) throw new RangeError(`${where}: patience needs a valid source to watch`);
  if (o.checkpointEvery > 0 && !o.checkpoint) throw new RangeError(`${where}: checkpointEvery needs a checkpoint file`);
}

/** Full fine-tuning with the chapter's two parameter groups. */
export async function fineTune(net: Model, options: FineTuneOptions): Promise<EpochRecord[]> {
  const o = checkOptions('fineTune', options, FINE_TUNE_SCHEMA);
  checkLoop('fineTune', o);
  net.unfreeze();
  const optimizer = new SGD([
    { params: net.parameters({ exclude: [net.classifierName] }) },
    { params: net.getClassifier().parameters(), lr: o.lr * o.fcLrMult },
  ], sgdDefaults(o));
  return runLoop({
    net, optimizer,
    trainStep: (b) => net.trainStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalStep(b.input, b.target, { logits: true }),
    beforeEpoch: o.freezeEpochs > 0 ? (epoch) => (epoch <= o.freezeEpochs ? net.freeze({ except: [net.classifierName] }) : net.unfreeze()) : undefined,
  }, o);
}

/** Linear probing: the backbone frozen, only the head (fc) trains, at lr. */
export async function linearProbe(net: Model, options: LinearProbeOptions): Promise<EpochRecord[]> {
  const o = checkOptions('linearProbe', options, LINEAR_PROBE_SCHEMA);
  checkLoop('linearProbe', o);
  if (o.featureCache && o.bn === 'train') {
    throw new RangeError('linearProbe: featureCache needs a fixed backbone, so it cannot be combined with bn: \'train\'');
  }
  net.freeze({ except: [net.classifierName], bn: o.bn });
  const optimizer = new SGD(net.getClassifier().parameters(), sgdDefaults(o));
  const plan: LoopPlan = {
    net, optimizer,
    trainStep: (b) => net.trainStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalStep(b.input, b.target, { logits: true }),
  };
  if (!o.featureCache) return runLoop(plan, o);
  warnIfVaried(o.train);
  const toFeatures = async (batches: BatchSource): Promise<Batch[]> => {
    const cached: Batch[] = [];
    for await (const b of stepwise(batches)) cached.push({ input: await net.features(b.input), target: b.target });
    return cached;
  };
  const train = await toFeatures(o.train);
  const valid = o.valid && await toFeatures(o.valid);
  return runLoop({
    ...plan,
    trainStep: (b) => net.trainHeadStep(b.input, b.target, optimizer),
    evalStep: (b) => net.evalHeadStep(b.input, b.target, { logits: true }),
  }, { ...o, train, valid });
}

/** The feature cache reads the train source once: say so when its batches would differ per epoch. */
function warnIfVaried(train: BatchSource): void {
  const loader = train as { dataset?: { pipeline?: { image: readonly { name: string; random: boolean }[] } }; shuffle?: boolean };
  const random = loader.dataset?.pipeline?.image.filter((t) => t.random).map((t) => t.name) ?? [];
  if (random.length === 0 && loader.shuffle !== true) return;
  const what = [random.length > 0 && `a random transform (${random.join(', ')})`, loader.shuffle === true && 'shuffling']
    .filter(Boolean).join(' and ');
  process.emitWarning(`linearProbe: featureCache computes the features once, so the train source's ${what} ` +
    'is frozen: every epoch trains on the same images in the same order. Use an eval transform, or no feature cache, ' +
    'for augmentation that changes per epoch.', { code: 'FINETORCH_FROZEN_AUGMENTATION' });
}

function sgdDefaults(o: { lr: number; momentum: number; weightDecay: number; nesterov: boolean }) {
  return { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, nesterov: o.nesterov };
}

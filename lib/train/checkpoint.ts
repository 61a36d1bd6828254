// Training checkpoints: model weights, optimizer state (torch.optim's state_dict), schedule
// position, the position in training (epochs done, and batches done of the next one with their
// running sums) and history in one .pth that Python's torch.load(weights_only=True) also reads,
// in torch 1.13 as in 2.x: 1.13's safe unpickler knows no Python floats, so every real number
// (lrs, losses, accuracies, times) is a 0-d float64 tensor (float(x) in Python). savePth writes
// atomically (temp file + rename), so a crash never leaves half a file.
import { inferModel } from '../model/infer';
import type { Optimizer } from '../optim/optimizer';
import { FinetorchError } from '../base/errors';
import { PthError, PthValue, readPth, savePth } from '../pth';
import type { LRScheduler } from '../optim/schedule';
import type { HostTensor } from '../base/tensor';
import type { EpochRecord, EpochTotals } from './history';

/** What a checkpoint holds the weights of: a Model, a MaskedAutoencoder. */
export interface CheckpointedModel {
  stateDict(): Promise<Map<string, HostTensor>>;
  loadStateDict(stateDict: Map<string, HostTensor>): Promise<unknown>;
}

export interface TrainingState {
  net: CheckpointedModel;
  optimizer: Optimizer;
  scheduler?: LRScheduler;
}

/** The position and history of a training run: a classifier's (EpochRecord, EpochTotals) unless said otherwise. */
export interface CheckpointInfo<R extends object = EpochRecord, T extends object = EpochTotals> {
  /** Epochs completed. */
  epoch: number;
  /** Batches completed of epoch `epoch + 1` (a checkpoint taken mid-epoch); 0 at an epoch's end. */
  batch?: number;
  /** The sums over those batches, so that the epoch's record comes out as if never stopped. */
  partial?: T;
  history: R[];
}

/** What readCheckpointInfo also tells: the model the checkpoint holds, and the schedule's position. */
export interface CheckpointContents extends CheckpointInfo {
  /** torchvision's ResNet name, or timm's ViT name ('VisionTransformer' for a size of its own). */
  arch: string;
  numClasses: number;
  /** The lr schedule's position (steps or epochs taken), when the checkpoint has a schedule. */
  schedulerT?: number;
}

/** A real number as torch 1.13's weights_only unpickler can read it: a 0-d float64 tensor. */
function real(value: number): HostTensor<'float64'> {
  return { dtype: 'float64', shape: [], data: Float64Array.of(value) };
}

/** Numbers of a record as real() (its epoch number as an int), other values as they are. */
function reals(record: object): Map<PthValue, PthValue> {
  return new Map(Object.entries(record).map(([k, v]) => [k, typeof v === 'number' && k !== 'epoch' ? real(v) : v as PthValue]));
}

/** A number back from real(), or from a checkpoint that pickled it as a Python float or int. */
function number(value: PthValue): number {
  if (typeof value === 'object' && value !== null && 'dtype' in value && value.shape.length === 0) return Number(value.data[0]);
  return typeof value === 'bigint' ? Number(value) : value as number;
}

/** An optimizer group's hyper-parameters as real() (betas' too); its params (ints) as they are. */
function realGroup(group: Record<string, PthValue>): Map<PthValue, PthValue> {
  const realOrSo = (v: PthValue): PthValue =>
    typeof v === 'number' ? real(v) : Array.isArray(v) ? Object.freeze(v.map(realOrSo)) : v;
  return new Map(Object.entries(group).map(([k, v]) => [k, k === 'params' ? v : realOrSo(v)]));
}

/** A group of realGroup() read back (or of a checkpoint that pickled Python floats). */
function fromRealGroup(group: Map<PthValue, PthValue>): Map<PthValue, PthValue> {
  const numberOrSo = (v: PthValue): PthValue =>
    typeof v === 'object' && v !== null && 'dtype' in v ? number(v) : Array.isArray(v) ? Object.freeze(v.map(numberOrSo)) : v;
  return new Map([...group].map(([k, v]) => [k, k === 'params' ? v : numberOrSo(v)]));
}

/** A record of reals() read back: numbers for reals, other values as they are. */
function fromReals<T>(record: Map<PthValue, PthValue>): T {
  return Object.fromEntries([...record].map(([k, v]) => [k, v === null || typeof v === 'boolean' || typeof v === 'string' ? v : number(v)])) as T;
}

export async function saveCheckpoint<R extends object = EpochRecord, T extends object = EpochTotals>(file: string, state: TrainingState,
  info: CheckpointInfo<R, T> = { epoch: 0, history: [] }): Promise<void> {
  const { net, optimizer, scheduler } = state;
  const opt = await optimizer.stateDict();
  await savePth(file, {
    model: await net.stateDict(),
    optimizer: { state: opt.state, param_groups: opt.param_groups.map(realGroup) },
    step: optimizer.stepCount,
    scheduler_t: scheduler ? scheduler.t : null,
    epoch: info.epoch,
    batch: info.batch ?? 0,
    partial: info.partial ? reals(info.partial) : null,
    history: info.history.map((r) => reals(r)),
  });
}

function field(map: PthValue, key: string, file: string): PthValue {
  if (!(map instanceof Map) || !map.has(key)) throw new PthError(file, `not a finetorch checkpoint (no '${key}')`);
  return map.get(key)!;
}

function infoFrom<R extends object, T extends object>(root: PthValue, file: string): CheckpointInfo<R, T> {
  const history = (field(root, 'history', file) as Map<PthValue, PthValue>[]).map((r) => fromReals<R>(r));
  // Checkpoints from before mid-epoch positions hold neither key: they were taken at an epoch's end.
  const map = root as Map<string, PthValue>;
  const partial = map.get('partial');
  return {
    epoch: Number(field(root, 'epoch', file)),
    batch: Number(map.get('batch') ?? 0),
    partial: partial instanceof Map ? fromReals<T>(partial) : undefined,
    history,
  };
}

/** The position, history and architecture a checkpoint holds, without building a model. */
export async function readCheckpointInfo(file: string): Promise<CheckpointContents> {
  const root = await readPth(file);
  const model = field(root, 'model', file) as Map<string, HostTensor>;
  const t = (root as Map<string, PthValue>).get('scheduler_t');
  const { arch, numClasses } = inferModel(new Map([...model].map(([k, tensor]) => [k, tensor.shape])), file);
  if (numClasses === undefined) throw new PthError(file, 'not a finetorch checkpoint (its model has no head)');
  return {
    ...infoFrom<EpochRecord, EpochTotals>(root, file), arch, numClasses,
    ...(typeof t === 'number' || typeof t === 'bigint' ? { schedulerT: Number(t) } : {}),
  };
}

/** Restores what saveCheckpoint wrote into an existing model, optimizer and scheduler. */
export async function loadCheckpoint<R extends object = EpochRecord, T extends object = EpochTotals>(file: string,
  state: TrainingState): Promise<CheckpointInfo<R, T>> {
  const root = await readPth(file);
  const model = field(root, 'model', file) as Map<string, HostTensor>;
  const optimizer = field(root, 'optimizer', file) as Map<PthValue, PthValue>;
  const groups = (field(optimizer, 'param_groups', file) as Map<PthValue, PthValue>[]).map(fromRealGroup);
  await state.net.loadStateDict(model);
  try {
    await state.optimizer.loadStateDict(new Map([...optimizer, ['param_groups', groups]]));
  } catch (err) {
    throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: ${(err as Error).message}`, { cause: err });
  }
  state.optimizer.restoreStepCount(Number(field(root, 'step', file)));
  const t = field(root, 'scheduler_t', file);
  if (state.scheduler && t !== null) state.scheduler.loadStateDict({ t: Number(t) });
  return infoFrom<R, T>(root, file);
}

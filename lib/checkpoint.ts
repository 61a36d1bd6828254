// Training checkpoints: model weights, optimizer state (momentum buffers, group lrs), schedule
// position, the position in training (epochs done, and batches done of the next one with their
// running sums) and history in one .pth that Python's torch.load(weights_only=True) also reads.
// savePth writes atomically (temp file + rename), so a crash never leaves half a file.
import type { Model } from './model';
import { inferModel } from './model/infer';
import type { SGD, SGDStateDict } from './optim';
import { FinetorchError } from './errors';
import { PthError, PthValue, readPth, savePth } from './pth';
import type { LRScheduler } from './schedule';
import type { HostTensor } from './tensor';
import type { EpochRecord } from './train';

export interface TrainingState {
  net: Model;
  optimizer: SGD;
  scheduler?: LRScheduler;
}

/** An epoch's training steps so far: running sums, and the lrs it started at. */
export interface EpochTotals {
  /** Sum of batch loss x batch size. */
  loss: number;
  correct: number;
  count: number;
  /** Time spent on them. */
  seconds: number;
  /** The first group's and fc's lr at the epoch's first step. */
  lr: number;
  fcLr: number;
}

export interface CheckpointInfo {
  /** Epochs completed. */
  epoch: number;
  /** Batches completed of epoch `epoch + 1` (a checkpoint taken mid-epoch); 0 at an epoch's end. */
  batch?: number;
  /** The sums over those batches, so that the epoch's record comes out as if never stopped. */
  partial?: EpochTotals;
  history: EpochRecord[];
}

/** What readCheckpointInfo also tells: the model the checkpoint holds. */
export interface CheckpointContents extends CheckpointInfo {
  /** torchvision's ResNet name, or timm's ViT name ('VisionTransformer' for a size of its own). */
  arch: string;
  numClasses: number;
}

const GROUP_KEYS: [keyof SGDStateDict['param_groups'][number], string][] = [
  ['lr', 'lr'], ['momentum', 'momentum'], ['dampening', 'dampening'], ['weightDecay', 'weight_decay'],
  ['nesterov', 'nesterov'], ['initialLr', 'initial_lr'], ['params', 'params'],
];

export async function saveCheckpoint(file: string, state: TrainingState, info: CheckpointInfo = { epoch: 0, history: [] }): Promise<void> {
  const { net, optimizer, scheduler } = state;
  const opt = await optimizer.stateDict();
  const groups = opt.param_groups.map((g) => new Map<PthValue, PthValue>(GROUP_KEYS.map(([js, py]) => [py, g[js] as PthValue])));
  await savePth(file, {
    model: await net.stateDict(),
    optimizer: new Map<PthValue, PthValue>([
      ['state', new Map<PthValue, PthValue>([...opt.state].map(([i, s]) => [i, new Map([['momentum_buffer', s.momentum_buffer]])]))],
      ['param_groups', groups],
    ]),
    step: optimizer.stepCount,
    scheduler_t: scheduler ? scheduler.t : null,
    epoch: info.epoch,
    batch: info.batch ?? 0,
    partial: info.partial ? new Map(Object.entries(info.partial)) : null,
    history: info.history.map((r) => new Map(Object.entries(r) as [string, PthValue][])),
  });
}

function field(map: PthValue, key: string, file: string): PthValue {
  if (!(map instanceof Map) || !map.has(key)) throw new PthError(file, `not a finetorch checkpoint (no '${key}')`);
  return map.get(key)!;
}

function infoFrom(root: PthValue, file: string): CheckpointInfo {
  const history = (field(root, 'history', file) as Map<string, PthValue>[]).map((r) => Object.fromEntries(r) as unknown as EpochRecord);
  // Checkpoints from before mid-epoch positions hold neither key: they were taken at an epoch's end.
  const map = root as Map<string, PthValue>;
  const partial = map.get('partial');
  return {
    epoch: Number(field(root, 'epoch', file)),
    batch: Number(map.get('batch') ?? 0),
    partial: partial instanceof Map ? Object.fromEntries(partial) as unknown as EpochTotals : undefined,
    history,
  };
}

/** The position, history and architecture a checkpoint holds, without building a model. */
export async function readCheckpointInfo(file: string): Promise<CheckpointContents> {
  const root = await readPth(file);
  const model = field(root, 'model', file) as Map<string, HostTensor>;
  const { arch, numClasses } = inferModel(new Map([...model].map(([k, t]) => [k, t.shape])), file);
  if (numClasses === undefined) throw new PthError(file, "not a finetorch checkpoint (its model has no head)");
  return { ...infoFrom(root, file), arch, numClasses };
}

/** Restores what saveCheckpoint wrote into an existing model, optimizer and scheduler. */
export async function loadCheckpoint(file: string, state: TrainingState): Promise<CheckpointInfo> {
  const root = await readPth(file);
  const model = field(root, 'model', file) as Map<string, HostTensor>;
  const optimizer = field(root, 'optimizer', file);
  const groups = (field(optimizer, 'param_groups', file) as Map<string, PthValue>[]).map((g) =>
    Object.fromEntries(GROUP_KEYS.map(([js, py]) => [js, field(g, py, file)])) as unknown as SGDStateDict['param_groups'][number]);
  const buffers = field(optimizer, 'state', file) as Map<number, Map<string, HostTensor>>;
  await state.net.loadStateDict(model);
  try {
    await state.optimizer.loadStateDict({
      state: new Map([...buffers].map(([i, s]) => [i, { momentum_buffer: s.get('momentum_buffer')! }])),
      param_groups: groups,
    });
  } catch (err) {
    throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: ${(err as Error).message}`, { cause: err });
  }
  state.optimizer.stepCount = Number(field(root, 'step', file));
  const t = field(root, 'scheduler_t', file);
  if (state.scheduler && t !== null) state.scheduler.loadStateDict({ t: Number(t) });
  return infoFrom(root, file);
}

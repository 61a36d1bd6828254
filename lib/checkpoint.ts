// Training checkpoints: model weights, optimizer state (momentum buffers, group lrs), schedule
// position, epoch and history in one .pth that Python's torch.load(weights_only=True) also
// reads. savePth writes atomically (temp file + rename), so a crash never leaves half a file.
import type { ResNet18 } from './model';
import type { SGD, SGDStateDict } from './optim';
import { PthValue, readPth, savePth } from './pth';
import type { LRScheduler } from './schedule';
import type { HostTensor } from './tensor';
import type { EpochRecord } from './train';

export interface TrainingState {
  net: ResNet18;
  optimizer: SGD;
  scheduler?: LRScheduler;
}

export interface CheckpointInfo {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
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
    history: info.history.map((r) => new Map(Object.entries(r) as [string, PthValue][])),
  });
}

function field(map: PthValue, key: string, file: string): PthValue {
  if (!(map instanceof Map) || !map.has(key)) throw new Error(`${file}: not a finetorch checkpoint (no '${key}')`);
  return map.get(key)!;
}

function infoFrom(root: PthValue, file: string): CheckpointInfo {
  const history = (field(root, 'history', file) as Map<string, PthValue>[]).map((r) => Object.fromEntries(r) as unknown as EpochRecord);
  return { epoch: Number(field(root, 'epoch', file)), history };
}

/** The epoch and history a checkpoint holds, without a model (to continue metrics files). */
export async function readCheckpointInfo(file: string): Promise<CheckpointInfo> {
  return infoFrom(await readPth(file), file);
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
  await state.optimizer.loadStateDict({
    state: new Map([...buffers].map(([i, s]) => [i, { momentum_buffer: s.get('momentum_buffer')! }])),
    param_groups: groups,
  });
  state.optimizer.stepCount = Number(field(root, 'step', file));
  const t = field(root, 'scheduler_t', file);
  if (state.scheduler && t !== null) state.scheduler.loadStateDict({ t: Number(t) });
  return infoFrom(root, file);
}

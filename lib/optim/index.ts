// Optimizers and their schedules, as torch.optim: SGD with parameter groups, and torch.optim.lr_scheduler's schedules.
export { SGD } from './sgd';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './sgd';
export { LRScheduler, scheduledLr, scheduledMomentum } from './schedule';
export type { OneCycle, Schedule } from './schedule';

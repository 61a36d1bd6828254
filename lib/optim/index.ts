// Optimizers and their schedules, as torch.optim (SGD, AdamW) and MAE (LARS, layer-wise lr decay, the half-cycle cosine schedule): parameter groups, torch.optim's state_dict, torch.optim.lr_scheduler's schedules.
export { Optimizer } from './optimizer';
export type { GroupExtras, GroupSpec, OptimizerStateDict, ParamGroupOf, StateDictOf } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions, ParamGroup, ParamGroupSpec, SGDStateDict } from './sgd';
export { AdamW } from './adamw';
export type { AdamWOptions, AdamWParamGroup, AdamWGroupSpec, AdamWStateDict } from './adamw';
export { LARS } from './lars';
export type { LARSOptions, LARSParamGroup, LARSGroupSpec, LARSStateDict } from './lars';
export { paramGroupsLrd, layerIdForVit } from './layer-decay';
export type { LayerDecayGroup, LayerDecayOptions, NamedShape } from './layer-decay';
export { paramGroupsWeightDecay } from './weight-decay-groups';
export type { WeightDecayGroup, WeightDecayGroupsOptions } from './weight-decay-groups';
export { halfCycleCosineLr, absoluteLr } from './lr-sched';
export type { HalfCycleCosineOptions } from './lr-sched';
export { LRScheduler, scheduledLr, scheduledMomentum } from './schedule';
export type { OneCycle, Schedule, ScheduledGroup } from './schedule';

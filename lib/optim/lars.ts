// LARS as MAE's util/lars.py defines it (from MoCo v3), the optimizer of MAE's linear probe:
// for parameters of more than one dimension the gradient gets weight decay and is scaled by the
// trust ratio trustCoefficient x |param| / |update| (1 where either norm is 0); biases and
// normalisation parameters get neither. Then heavy-ball momentum (`mu` per parameter, no
// dampening) and the step.
import { num } from '../base/check';
import type { Parameter } from '../model/model';
import { GroupSpec, Optimizer, OptimizerSpec, ParamGroupOf, StateDictOf } from './optimizer';
import type { HostTensor } from '../base/tensor';

/** lars.py's arguments and defaults: lr 0, weightDecay 0, momentum 0.9, trustCoefficient 0.001. */
export interface LARSOptions {
  lr?: number;
  weightDecay?: number;
  momentum?: number;
  trustCoefficient?: number;
}

export type LARSParamGroup = ParamGroupOf<LARSOptions>;
export type LARSGroupSpec = GroupSpec<Required<LARSOptions>>;

/** The state_dict of lars.py's LARS (a torch.optim.Optimizer): `mu` per parameter. */
export type LARSStateDict = StateDictOf<{ mu: HostTensor }>;

const LARS_SPEC: OptimizerSpec<Required<LARSOptions>> = {
  name: 'LARS',
  kind: 'lars',
  slots: ['mu'],
  hyper: {
    lr: { rule: num({ min: 0 }), torch: 'lr', default: 0 },
    weightDecay: { rule: num({ min: 0 }), torch: 'weight_decay', default: 0 },
    momentum: { rule: num({ min: 0 }), torch: 'momentum', default: 0.9 },
    trustCoefficient: { rule: num({ min: 0 }), torch: 'trust_coefficient', default: 0.001 },
  },
  flags: {},
  toNative: (g) => ({ lr: g.lr, weightDecay: g.weightDecay, momentum: g.momentum, trustCoefficient: g.trustCoefficient }),
};

export class LARS extends Optimizer<Required<LARSOptions>, LARSStateDict> {
  declare readonly paramGroups: LARSParamGroup[];

  constructor(params: Iterable<Parameter> | LARSGroupSpec[], defaults: LARSOptions = {}) {
    super(LARS_SPEC, params, defaults);
  }
}

// SGD with parameter groups, mirroring torch.optim.SGD (the shared machinery is
// optimizer.ts): groups fill what they leave out from the defaults, validation as
// PyTorch's, `opt.paramGroups[i].lr = x` takes effect at the next step.
import { bool, num } from '../base/check';
import { rangeError } from '../base/errors';
import type { Parameter } from '../model/model';
import { GroupSpec, Optimizer, OptimizerSpec, ParamGroupOf, StateDictOf } from './optimizer';
import type { HostTensor } from '../base/tensor';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export type ParamGroupSpec = GroupSpec<Required<SGDOptions>>;

export type ParamGroup = ParamGroupOf<SGDOptions>;

/** torch.optim.SGD's state_dict: momentum buffers indexed by position across the groups. */
export type SGDStateDict = StateDictOf<{ momentum_buffer: HostTensor }>;

// torch.optim.SGD's checks: lr, momentum and weight_decay non-negative; lr required.
const SGD_SPEC: OptimizerSpec<Required<SGDOptions>> = {
  name: 'SGD',
  kind: 'sgd',
  slots: ['momentum_buffer'],
  hyper: {
    lr: { rule: num({ min: 0 }), torch: 'lr' },
    momentum: { rule: num({ min: 0 }), torch: 'momentum', default: 0 },
    dampening: { rule: num(), torch: 'dampening', default: 0 },
    weightDecay: { rule: num({ min: 0 }), torch: 'weight_decay', default: 0 },
    nesterov: { rule: bool(), torch: 'nesterov', default: false },
  },
  // foreach picks an implementation of the same arithmetic; maximize would change it.
  flags: {
    maximize: { write: false, honoured: (v) => v === false },
    foreach: { write: null, honoured: () => true },
    differentiable: { write: false, honoured: () => true },
    fused: { honoured: (v) => v === null || v === false },
  },
  check(group, where) {
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: Nesterov momentum requires a momentum and zero dampening`);
    }
  },
  toNative: (g) => ({ lr: g.lr, momentum: g.momentum, dampening: g.dampening, weightDecay: g.weightDecay, nesterov: g.nesterov }),
};

export class SGD extends Optimizer<Required<SGDOptions>, SGDStateDict> {
  declare readonly paramGroups: ParamGroup[];

  constructor(params: Iterable<Parameter> | ParamGroupSpec[], defaults: SGDOptions) {
    super(SGD_SPEC, params, defaults);
  }
}


// AdamW as torch.optim.AdamW (amsgrad off): decoupled weight decay, bias-corrected moments, the
// step count, exp_avg and exp_avg_sq per parameter in torch's state_dict layout.
import { Rule, bool, num } from '../base/check';
import { FinetorchError } from '../base/errors';
import type { Parameter } from '../model/model';
import { GroupSpec, Optimizer, OptimizerSpec, ParamGroupOf, StateDictOf } from './optimizer';
import type { HostTensor } from '../base/tensor';

/** torch.optim.AdamW's arguments; the defaults are torch's: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2. */
export interface AdamWOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  /** Only false: AMSGrad is not implemented. */
  amsgrad?: boolean;
}

export type AdamWParamGroup = ParamGroupOf<AdamWOptions>;
export type AdamWGroupSpec = GroupSpec<Required<AdamWOptions>>;

/** torch.optim.AdamW's state_dict. */
export type AdamWStateDict = StateDictOf<{ step: HostTensor; exp_avg: HostTensor; exp_avg_sq: HostTensor }>;

// torch's checks: 0 <= beta < 1 each.
const betasRule = new Rule<readonly [number, number]>('an array of 2 finite numbers in [0, 1)',
  (v) => (!Array.isArray(v) || v.length !== 2 ? 'type' : v.every((b) => typeof b === 'number' && b >= 0 && b < 1) ? 'ok' : 'range'));

const ADAMW_SPEC: OptimizerSpec<Required<AdamWOptions>> = {
  name: 'AdamW',
  kind: 'adamw',
  slots: ['step', 'exp_avg', 'exp_avg_sq'],
  hyper: {
    lr: { rule: num({ min: 0 }), torch: 'lr', default: 1e-3 },
    betas: { rule: betasRule, torch: 'betas', default: Object.freeze([0.9, 0.999] as const) },
    eps: { rule: num({ min: 0 }), torch: 'eps', default: 1e-8 },
    weightDecay: { rule: num({ min: 0 }), torch: 'weight_decay', default: 1e-2 },
    amsgrad: { rule: bool(), torch: 'amsgrad', default: false },
  },
  // foreach, capturable, differentiable and fused pick implementations of the same arithmetic;
  // maximize would change it, and torch 2.x's Adam(decoupled_weight_decay=False) is Adam.
  flags: {
    foreach: { write: null, honoured: () => true },
    maximize: { write: false, honoured: (v) => v === false },
    capturable: { write: false, honoured: () => true },
    differentiable: { honoured: () => true },
    fused: { honoured: () => true },
    decoupled_weight_decay: { honoured: (v) => v === true },
  },
  check(group, where) {
    if (group.amsgrad) throw new FinetorchError('ERR_FINETORCH_UNSUPPORTED', `${where}: amsgrad is not implemented (only amsgrad false)`);
  },
  toNative: (g) => ({ lr: g.lr, weightDecay: g.weightDecay, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps }),
};

export class AdamW extends Optimizer<Required<AdamWOptions>, AdamWStateDict> {
  declare readonly paramGroups: AdamWParamGroup[];

  constructor(params: Iterable<Parameter> | AdamWGroupSpec[], defaults: AdamWOptions = {}) {
    super(ADAMW_SPEC, params, defaults);
  }
}

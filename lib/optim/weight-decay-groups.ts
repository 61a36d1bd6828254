// timm's param_groups_weight_decay (optim_factory.add_weight_decay in the timm 0.3.2 that MAE's
// main_pretrain.py calls): two parameter groups, no weight decay for 1-D parameters (biases,
// norms), names ending in '.bias' and the names in noWeightDecayList, the given weight decay for
// the rest; frozen parameters are left out. MAE's tokens are 3-D, so they decay.
import { arrayOf, checkArg, checkOptions, custom, num, str } from '../base/check';
import type { NamedShape } from './layer-decay';

export interface WeightDecayGroupsOptions {
  /** The decayed group's weight decay; default 1e-5 (timm's). MAE's pretraining passes 0.05. */
  weightDecay?: number;
  /** Names without weight decay besides the 1-D parameters and biases; default none (MAE's pretraining passes none). */
  noWeightDecayList?: readonly string[];
}

export interface WeightDecayGroup<P> {
  params: P[];
  weightDecay: number;
}

const namedShapes = custom<Iterable<NamedShape>>('an iterable of parameters (net.parameters() or { name, shape })',
  (v) => typeof v === 'object' && v !== null && Symbol.iterator in v);

/** The no-decay group first, then the decayed one, as timm returns them. */
export function paramGroupsWeightDecay<P extends NamedShape>(params: Iterable<P>, options: WeightDecayGroupsOptions = {}): [WeightDecayGroup<P>, WeightDecayGroup<P>] {
  checkArg('paramGroupsWeightDecay', 'params', params, namedShapes);
  const o = checkOptions('paramGroupsWeightDecay', options, {
    weightDecay: num({ min: 0 }).default(1e-5), noWeightDecayList: arrayOf(str()).default([]),
  });
  const noDecay: WeightDecayGroup<P> = { params: [], weightDecay: 0 };
  const decay: WeightDecayGroup<P> = { params: [], weightDecay: o.weightDecay };
  for (const p of params) {
    if (p.requiresGrad === false) continue;
    const skip = p.shape.length <= 1 || p.name.endsWith('.bias') || o.noWeightDecayList.includes(p.name);
    (skip ? noDecay : decay).params.push(p);
  }
  return [noDecay, decay];
}

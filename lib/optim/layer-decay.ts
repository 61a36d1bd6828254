// Layer-wise lr decay, as MAE's util/lr_decay.py param_groups_lrd builds its parameter groups
// (after BEiT): the patch embedding, class token and position embedding are layer 0, block i is
// layer i + 1, everything after the blocks (fc_norm, head) is the last layer, numLayers = blocks + 1;
// a group per layer and decay class, in the order the parameters first reach it, with
// lrScale = layerDecay ^ (numLayers - layer) and no weight decay for 1-D parameters (biases,
// norms) and the names in noWeightDecayList. Pure over parameter names and shapes (timm's keys).
import { rangeError } from '../base/errors';
import { arrayOf, checkArg, checkOptions, custom, func, int, num, str } from '../base/check';

/** What the groups are built from: a Parameter, or anything with a name and a shape. */
export interface NamedShape {
  readonly name: string;
  readonly shape: readonly number[];
  /** Frozen parameters (false) are left out, as param_groups_lrd skips them. */
  readonly requiresGrad?: boolean;
}

export interface LayerDecayOptions {
  /** Weight decay of the decayed groups; default 0.05 (lr_decay.py's). */
  weightDecay?: number;
  /**
   * Names without weight decay besides the 1-D parameters; default timm 1.0's
   * VisionTransformer.no_weight_decay(), which MAE's main_finetune.py passes: pos_embed,
   * cls_token, reg_token, dist_token.
   */
  noWeightDecayList?: readonly string[];
  /** Default 0.75 (lr_decay.py's; MAE's fine-tuning recipe uses 0.65 for ViT-B, 0.75 for ViT-L/H). */
  layerDecay?: number;
  /** The layers; default the number of `blocks.N` plus one, as len(model.blocks) + 1. */
  numLayers?: number;
  /** A parameter's layer in [0, numLayers]; default {@link layerIdForVit}. */
  layerId?: (name: string, numLayers: number) => number;
}

export interface LayerDecayGroup<P> {
  params: P[];
  weightDecay: number;
  lrScale: number;
}

const namedShapes = custom<Iterable<NamedShape>>('an iterable of parameters (net.parameters() or { name, shape })',
  (v) => typeof v === 'object' && v !== null && Symbol.iterator in v);

/** lr_decay.py's get_layer_id_for_vit. */
export function layerIdForVit(name: string, numLayers: number): number {
  if (name === 'cls_token' || name === 'pos_embed' || name.startsWith('patch_embed')) return 0;
  if (name.startsWith('blocks')) return Number(name.split('.')[1]) + 1;
  return numLayers;
}

/** param_groups_lrd: the parameter groups of layer-wise lr decay, for AdamW (or any optimizer). */
export function paramGroupsLrd<P extends NamedShape>(params: Iterable<P>, options: LayerDecayOptions = {}): LayerDecayGroup<P>[] {
  checkArg('paramGroupsLrd', 'params', params, namedShapes);
  const o = checkOptions('paramGroupsLrd', options, {
    weightDecay: num({ min: 0 }).default(0.05),
    noWeightDecayList: arrayOf(str()).default(['pos_embed', 'cls_token', 'reg_token', 'dist_token']),
    layerDecay: num({ above: 0 }).default(0.75),
    numLayers: int({ min: 1 }).orUndefined(),
    layerId: func<(name: string, numLayers: number) => number>().default(layerIdForVit),
  });
  const list = [...params];
  // len(model.blocks) + 1, the blocks counted from the names (frozen ones too).
  const numLayers = o.numLayers ?? list.reduce((n, p) => (p.name.startsWith('blocks.') ? Math.max(n, Number(p.name.split('.')[1]) + 1) : n), 0) + 1;
  const groups = new Map<string, LayerDecayGroup<P>>();
  for (const p of list) {
    if (p.requiresGrad === false) continue;
    const decay = !(p.shape.length === 1 || o.noWeightDecayList.includes(p.name));
    const layer = o.layerId(p.name, numLayers);
    if (!(Number.isInteger(layer) && layer >= 0 && layer <= numLayers)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `paramGroupsLrd: layer ${layer} of '${p.name}' is outside 0..${numLayers}`);
    }
    const key = `layer_${layer}_${decay ? 'decay' : 'no_decay'}`;
    let group = groups.get(key);
    if (!group) {
      group = { params: [], weightDecay: decay ? o.weightDecay : 0, lrScale: o.layerDecay ** (numLayers - layer) };
      groups.set(key, group);
    }
    group.params.push(p);
  }
  return [...groups.values()];
}

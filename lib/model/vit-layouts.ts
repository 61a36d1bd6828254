// The key layouts ViT weights come in: timm's (and MAE's, whose models subclass timm's) and
// torchvision's vision_transformer.py. The computations are the same (a fused q/k/v projection,
// pre-norm blocks, LayerNorm eps 1e-6, exact GELU), so converting is renaming keys, both ways.
import { FinetorchError } from '../base/errors';

export type VitLayout = 'timm' | 'torchvision';

const LAYER = 'encoder\\.layers\\.encoder_layer_(\\d+)\\.';

// torchvision key -> timm key. torchvision's MLPBlock was `mlp.linear_1`/`mlp.linear_2` before
// torchvision 0.13 and is `mlp.0`/`mlp.3` since; both are read.
const FROM_TORCHVISION: [RegExp, string][] = [
  [/^class_token$/, 'cls_token'],
  [/^conv_proj\.(weight|bias)$/, 'patch_embed.proj.$1'],
  [/^encoder\.pos_embedding$/, 'pos_embed'],
  [new RegExp(`^${LAYER}ln_1\\.(weight|bias)$`), 'blocks.$1.norm1.$2'],
  [new RegExp(`^${LAYER}self_attention\\.in_proj_weight$`), 'blocks.$1.attn.qkv.weight'],
  [new RegExp(`^${LAYER}self_attention\\.in_proj_bias$`), 'blocks.$1.attn.qkv.bias'],
  [new RegExp(`^${LAYER}self_attention\\.out_proj\\.(weight|bias)$`), 'blocks.$1.attn.proj.$2'],
  [new RegExp(`^${LAYER}ln_2\\.(weight|bias)$`), 'blocks.$1.norm2.$2'],
  [new RegExp(`^${LAYER}mlp\\.(?:0|linear_1)\\.(weight|bias)$`), 'blocks.$1.mlp.fc1.$2'],
  [new RegExp(`^${LAYER}mlp\\.(?:3|linear_2)\\.(weight|bias)$`), 'blocks.$1.mlp.fc2.$2'],
  [/^encoder\.ln\.(weight|bias)$/, 'norm.$1'],
  [/^heads\.head\.(weight|bias)$/, 'head.$1'],
];

// timm key -> torchvision key (torchvision 0.13+ names).
const TO_TORCHVISION: [RegExp, string][] = [
  [/^cls_token$/, 'class_token'],
  [/^patch_embed\.proj\.(weight|bias)$/, 'conv_proj.$1'],
  [/^pos_embed$/, 'encoder.pos_embedding'],
  [/^blocks\.(\d+)\.norm1\.(weight|bias)$/, 'encoder.layers.encoder_layer_$1.ln_1.$2'],
  [/^blocks\.(\d+)\.attn\.qkv\.weight$/, 'encoder.layers.encoder_layer_$1.self_attention.in_proj_weight'],
  [/^blocks\.(\d+)\.attn\.qkv\.bias$/, 'encoder.layers.encoder_layer_$1.self_attention.in_proj_bias'],
  [/^blocks\.(\d+)\.attn\.proj\.(weight|bias)$/, 'encoder.layers.encoder_layer_$1.self_attention.out_proj.$2'],
  [/^blocks\.(\d+)\.norm2\.(weight|bias)$/, 'encoder.layers.encoder_layer_$1.ln_2.$2'],
  [/^blocks\.(\d+)\.mlp\.fc1\.(weight|bias)$/, 'encoder.layers.encoder_layer_$1.mlp.0.$2'],
  [/^blocks\.(\d+)\.mlp\.fc2\.(weight|bias)$/, 'encoder.layers.encoder_layer_$1.mlp.3.$2'],
  [/^norm\.(weight|bias)$/, 'encoder.ln.$1'],
  [/^head\.(weight|bias)$/, 'heads.head.$1'],
];

/** torchvision's layout is the one with a `conv_proj`; everything else is read as timm's. */
export function vitLayoutOf(keys: Iterable<string>): VitLayout {
  for (const key of keys) if (key.startsWith('conv_proj.')) return 'torchvision';
  return 'timm';
}

function rename<T>(stateDict: ReadonlyMap<string, T>, rules: [RegExp, string][], what: string, source: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, value] of stateDict) {
    const rule = rules.find(([pattern]) => pattern.test(key));
    if (!rule) throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${source}: '${key}' has no counterpart in ${what}`);
    out.set(key.replace(rule[0], rule[1]), value);
  }
  return out;
}

/** A torchvision ViT state dict under timm's keys (a key torchvision's ViT does not have is an error). */
export function fromTorchvision<T>(stateDict: ReadonlyMap<string, T>, source: string): Map<string, T> {
  return rename(stateDict, FROM_TORCHVISION, "timm's VisionTransformer", source);
}

/**
 * A timm ViT state dict under torchvision's keys, in torchvision's order (class token, patch
 * embedding, encoder, heads). Only what torchvision's VisionTransformer has converts: the class
 * token with the final norm (no global pool or fc_norm), and a qkv bias.
 */
export function toTorchvision<T>(stateDict: ReadonlyMap<string, T>, source: string): Map<string, T> {
  for (const required of ['cls_token', 'norm.weight', 'blocks.0.attn.qkv.bias']) {
    if (!stateDict.has(required)) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${source}: torchvision's VisionTransformer has a class token, the final norm ` +
        `and a qkv bias; this model has no '${required}', so it cannot be saved in torchvision's layout`);
    }
  }
  const renamed = rename(stateDict, TO_TORCHVISION, "torchvision's VisionTransformer", source);
  const rank = (key: string) => ['class_token', 'conv_proj.', 'encoder.', 'heads.'].findIndex((p) => key.startsWith(p));
  return new Map([...renamed].sort(([a], [b]) => rank(a) - rank(b)));
}

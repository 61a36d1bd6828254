// timm's VisionTransformer's eval-mode forward as ONNX nodes, as VisionTransformer.forward_features
// and forward_head run it (and finetorch's native/core/nn/vit.cc): the patch embedding (a Conv of
// kernel and stride patchSize, flattened and transposed to tokens), the class token concatenated
// in front, the position embedding added, the pre-norm blocks (x + attn(norm1(x)), then
// x + mlp(norm2(x))), the final norm, the class token or the mean of the patch tokens, fc_norm, the
// head (a Linear, or MAE's probe head: head-onnx.ts). Attention is written out as timm's unfused
// form: one qkv MatMul reshaped to [N, T, 3, heads, headDim] and transposed, q scaled by
// headDim^-0.5, q k^T, Softmax, times v.
// Operator sets differ in three places: LayerNormalization exists from 17 (below, its
// decomposition: mean, variance, normalise, scale, shift), Gelu from 20 (below, the exact Erf
// form), and ReduceMean takes its axes as an input from 18.
import type { HeadKind } from './model';
import type { VitConfig } from './vit-architectures';
import { headGraph } from './head-onnx';
import { HostTensor } from '../base/tensor';
import type { GraphOptions, OnnxSource } from '../export/export';
import { GraphBuilder, attr } from '../export/graph';
import { float32Weight } from '../export/state-weights';

/** timm's LayerNorm epsilon in VisionTransformer (partial(nn.LayerNorm, eps=1e-6)). */
const LAYER_NORM_EPS = 1e-6;

/** A ViT for exportOnnx: it takes images of config.imgSize only (its position embedding is for that grid). */
export function vitSource(
  arch: string, config: VitConfig, numClasses: number, head: HeadKind, stateDict: () => Promise<Map<string, HostTensor>>,
): OnnxSource {
  return {
    arch,
    numClasses,
    imageSize: config.imgSize,
    graph: async (options) => vitGraph(config, await stateDict(), numClasses, head, options),
  };
}

/** The graph of a ViT of `config` with the weights of `state` (its state dict in timm's keys) and a head of kind `head`. */
export async function vitGraph(
  config: VitConfig, state: ReadonlyMap<string, HostTensor>, numClasses: number, head: HeadKind, options: GraphOptions,
): Promise<GraphBuilder> {
  const g = new GraphBuilder(options.name);
  const { opset } = options;
  const d = config.embedDim;
  const headDim = d / config.numHeads;
  const weight = (key: string): string => g.initializer(key, float32Weight(state, key));

  // Constants, each made once under its own name.
  const constants = new Map<string, string>();
  const constant = (name: string, tensor: HostTensor): string => {
    if (!constants.has(name)) constants.set(name, g.initializer(name, tensor));
    return constants.get(name)!;
  };
  const float = (name: string, value: number) => constant(name, { dtype: 'float32', shape: [], data: Float32Array.of(value) });
  const int64s = (name: string, values: readonly number[]) =>
    constant(name, { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
  const int64 = (name: string, value: number) => constant(name, { dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(value)) });

  /** ReduceMean over `axes`: an attribute up to operator set 17, an input from 18. */
  const reduceMean = (x: string, axes: number[], keepdims: boolean, name: string): string => (opset >= 18
    ? g.op('ReduceMean', [x, int64s(`axes_${axes.join('_')}`, axes)], { keepdims: attr.int(keepdims ? 1 : 0) }, { name })
    : g.op('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) }, { name }));

  /** nn.LayerNorm over the last axis (eps 1e-6). */
  const layerNorm = (name: string, x: string): string => {
    const scale = weight(`${name}.weight`);
    const shift = weight(`${name}.bias`);
    if (opset >= 17) return g.op('LayerNormalization', [x, scale, shift], { axis: attr.int(-1), epsilon: attr.float(LAYER_NORM_EPS) }, { name });
    const centred = g.op('Sub', [x, reduceMean(x, [-1], true, `${name}.mean`)], {}, { name: `${name}.centre` });
    const variance = reduceMean(g.op('Mul', [centred, centred], {}, { name: `${name}.square` }), [-1], true, `${name}.variance`);
    const std = g.op('Sqrt', [g.op('Add', [variance, float('layer_norm_eps', LAYER_NORM_EPS)], {}, { name: `${name}.add_eps` })], {}, { name: `${name}.std` });
    const normalised = g.op('Div', [centred, std], {}, { name: `${name}.normalise` });
    return g.op('Add', [g.op('Mul', [normalised, scale], {}, { name: `${name}.scale` }), shift], {}, { name });
  };

  /** nn.Linear on [N, T, in] tokens: MatMul by the transposed weight (an initializer '<name>.weight.T'), plus the bias. */
  const linear = (name: string, x: string): string => {
    const w = float32Weight(state, `${name}.weight`);
    const product = g.op('MatMul', [x, g.initializer(`${name}.weight.T`, transpose(w))], {}, { name: `${name}.matmul` });
    return state.has(`${name}.bias`) ? g.op('Add', [product, weight(`${name}.bias`)], {}, { name }) : product;
  };

  /** nn.GELU() (exact): Gelu from operator set 20, else x * 0.5 * (1 + erf(x / sqrt(2))). */
  const gelu = (name: string, x: string): string => {
    if (opset >= 20) return g.op('Gelu', [x], {}, { name });
    const erf = g.op('Erf', [g.op('Div', [x, float('sqrt_2', Math.SQRT2)], {}, { name: `${name}.div` })], {}, { name: `${name}.erf` });
    const onePlus = g.op('Add', [erf, float('one', 1)], {}, { name: `${name}.add` });
    return g.op('Mul', [g.op('Mul', [x, onePlus], {}, { name: `${name}.mul` }), float('half', 0.5)], {}, { name });
  };

  const attention = (prefix: string, x: string): string => {
    const qkv = g.op('Reshape', [linear(`${prefix}.qkv`, x), int64s('qkv_shape', [0, 0, 3, config.numHeads, headDim])], {}, { name: `${prefix}.qkv_heads` });
    const heads = g.op('Transpose', [qkv], { perm: attr.ints([2, 0, 3, 1, 4]) }, { name: `${prefix}.qkv_permute` });
    const [q, k, v] = ['q', 'k', 'v'].map((part, i) => g.op('Gather', [heads, int64(`index_${i}`, i)], { axis: attr.int(0) }, { name: `${prefix}.${part}` }));
    const scaled = g.op('Mul', [q, float(`head_dim_${headDim}_scale`, headDim ** -0.5)], {}, { name: `${prefix}.q_scaled` });
    const kT = g.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) }, { name: `${prefix}.k_transposed` });
    const scores = g.op('MatMul', [scaled, kT], {}, { name: `${prefix}.scores` });
    const weights = g.op('Softmax', [scores], { axis: attr.int(-1) }, { name: `${prefix}.softmax` });
    const out = g.op('MatMul', [weights, v], {}, { name: `${prefix}.weighted` });
    const tokens = g.op('Transpose', [out], { perm: attr.ints([0, 2, 1, 3]) }, { name: `${prefix}.heads_back` });
    return linear(`${prefix}.proj`, g.op('Reshape', [tokens, int64s('token_shape', [0, 0, d])], {}, { name: `${prefix}.merge_heads` }));
  };

  const block = (prefix: string, x: string): string => {
    const afterAttn = g.op('Add', [x, attention(`${prefix}.attn`, layerNorm(`${prefix}.norm1`, x))], {}, { name: `${prefix}.add_attn` });
    const hidden = gelu(`${prefix}.mlp.act`, linear(`${prefix}.mlp.fc1`, layerNorm(`${prefix}.norm2`, afterAttn)));
    return g.op('Add', [afterAttn, linear(`${prefix}.mlp.fc2`, hidden)], {}, { name: `${prefix}.add_mlp` });
  };

  const [batch, channels, height, width] = options.inputShape;
  const images = g.input(options.inputName, 'float32', [batch, channels, height, width]);
  const p = config.patchSize;
  const patches = g.op('Conv', [images, weight('patch_embed.proj.weight'), weight('patch_embed.proj.bias')], {
    dilations: attr.ints([1, 1]), group: attr.int(1), kernel_shape: attr.ints([p, p]), pads: attr.ints([0, 0, 0, 0]), strides: attr.ints([p, p]),
  }, { name: 'patch_embed.proj' });
  // [N, D, g, g] -> [N, D, g*g] -> [N, g*g, D]: Reshape's 0 keeps the batch, whatever it is at run time.
  const flat = g.op('Reshape', [patches, int64s('patch_shape', [0, d, -1])], {}, { name: 'patch_embed.flatten' });
  let x = g.op('Transpose', [flat], { perm: attr.ints([0, 2, 1]) }, { name: 'patch_embed.transpose' });
  if (config.classToken) {
    // cls_token.expand(N, -1, -1): Expand to [N, 1, 1] broadcast with [1, 1, D], N read off the tokens.
    const n = g.op('Gather', [g.op('Shape', [x], {}, { name: 'tokens_shape' }), int64s('index_0_list', [0])], { axis: attr.int(0) }, { name: 'batch_size' });
    const shape = g.op('Concat', [n, int64s('ones_2', [1, 1])], { axis: attr.int(0) }, { name: 'cls_shape' });
    const cls = g.op('Expand', [weight('cls_token'), shape], {}, { name: 'cls_expand' });
    x = g.op('Concat', [cls, x], { axis: attr.int(1) }, { name: 'cls_concat' });
  }
  x = g.op('Add', [x, weight('pos_embed')], {}, { name: 'pos_embed_add' });
  for (let i = 0; i < config.depth; i++) {
    x = block(`blocks.${i}`, x);
    // Transposing every weight runs in JavaScript: let other work run between blocks.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!config.fcNorm) x = layerNorm('norm', x);
  if (config.globalPool === 'token') {
    x = g.op('Gather', [x, int64('index_0', 0)], { axis: attr.int(1) }, { name: 'cls_select' });
  } else {
    const prefix = config.classToken ? 1 : 0;
    if (prefix > 0) {
      // Slice's end: INT64_MAX, "to the end" in ONNX's Slice.
      const end = constant('int64_max', { dtype: 'int64', shape: [1], data: BigInt64Array.of(2n ** 63n - 1n) });
      x = g.op('Slice', [x, int64s('patch_start', [prefix]), end, int64s('axis_1', [1])], {}, { name: 'patch_tokens' });
    }
    x = reduceMean(x, [1], false, 'avg_pool');
  }
  if (config.fcNorm) x = layerNorm('fc_norm', x);
  const logits = headGraph(g, state, 'head', head, x, { foldBatchNorm: options.foldBatchNorm, output: options.outputName });
  g.output(logits, 'float32', [batch, numClasses]);
  return g;
}

/** A [rows, cols] float32 matrix as [cols, rows] (nn.Linear's weight as MatMul's right operand). */
function transpose(w: HostTensor<'float32'>): HostTensor<'float32'> {
  const [rows, cols] = w.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[r * cols + c];
  return { dtype: 'float32', shape: [cols, rows], data: out };
}

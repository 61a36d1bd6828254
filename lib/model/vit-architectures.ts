// timm's Vision Transformers as data: the named sizes (timm's and MAE's model names), the module
// tree a configuration builds (names, state_dict shapes, and how print(model) shows each module),
// and the configuration a state dict was saved from, read off its keys and shapes.
import { ModuleNode, ReprStyle, container, leaf } from './module-tree';
import { FinetorchError } from '../base/errors';

/** timm's VisionTransformer arguments that finetorch builds (timm's names, camelCase). */
export interface VitConfig {
  /** The side of the square images it takes (timm: img_size). */
  imgSize: number;
  patchSize: number;
  /** Token width (timm: embed_dim); also what the head sees. */
  embedDim: number;
  /** Number of blocks. */
  depth: number;
  numHeads: number;
  /** MLP hidden width = trunc(embedDim * mlpRatio). */
  mlpRatio: number;
  qkvBias: boolean;
  classToken: boolean;
  /** 'token': the class token after the final norm; 'avg': the mean of the patch tokens (MAE's global_pool). */
  globalPool: 'token' | 'avg';
  /** LayerNorm after the pool (fc_norm) instead of the final norm before it; timm's default: globalPool 'avg'. */
  fcNorm: boolean;
  /** Stochastic depth: block i's residual branches are dropped with probability dropPathRate * i / (depth - 1) in training. */
  dropPathRate: number;
}

/** The sizes timm and MAE name: [embedDim, depth, numHeads] (mlpRatio 4, qkv bias). */
const SIZES = {
  tiny: [192, 12, 3],
  small: [384, 12, 6],
  base: [768, 12, 12],
  large: [1024, 24, 16],
  huge: [1280, 32, 16],
} as const;
type SizeName = keyof typeof SIZES;

/**
 * The named architectures: timm's vit_{tiny,small,base,large}_patch16_224 and vit_huge_patch14_224,
 * and MAE's models_vit.py names (vit_base_patch16, vit_large_patch16, vit_huge_patch14: 224 px
 * unless an image size is given). Any `vit_<size>_patch<P>[_<image size>]` of these sizes is read too.
 */
export const VIT_ARCH_NAMES = [
  'vit_tiny_patch16_224', 'vit_small_patch16_224', 'vit_base_patch16_224', 'vit_large_patch16_224', 'vit_huge_patch14_224',
  'vit_base_patch16', 'vit_large_patch16', 'vit_huge_patch14',
] as const;

const NAME = /^vit_(tiny|small|base|large|huge)_patch(\d+)(?:_(\d+))?$/;

/** The configuration a name stands for (imgSize only when the name carries one), or undefined. */
export function parseVitArch(name: string): (Pick<VitConfig, 'patchSize' | 'embedDim' | 'depth' | 'numHeads'> & { imgSize?: number }) | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [embedDim, depth, numHeads] = SIZES[m[1] as SizeName];
  const patchSize = Number(m[2]);
  if (!(patchSize >= 1)) return undefined;
  return { patchSize, embedDim, depth, numHeads, ...(m[3] === undefined ? {} : { imgSize: Number(m[3]) }) };
}

/** timm's name for a configuration of a named size (`vit_base_patch16_224`), or undefined for any other. */
export function vitArchName(config: VitConfig): string | undefined {
  if (config.mlpRatio !== 4 || !config.qkvBias || !config.classToken) return undefined;
  const size = (Object.keys(SIZES) as SizeName[]).find((s) => {
    const [embedDim, depth, numHeads] = SIZES[s];
    return config.embedDim === embedDim && config.depth === depth && config.numHeads === numHeads;
  });
  return size && `vit_${size}_patch${config.patchSize}_${config.imgSize}`;
}

/** The number of heads of a named size with this width and depth (heads cannot be read off weights). */
function namedHeads(embedDim: number, depth: number): number | undefined {
  return Object.values(SIZES).find(([d, n]) => d === embedDim && n === depth)?.[2];
}

/** Blocks' drop-path rates as timm computes them: torch.linspace(0, rate, depth) in float32. */
export function dropPathRates(rate: number, depth: number): number[] {
  if (depth === 1) return [Math.fround(0)];
  const f = Math.fround;
  const step = f(f(f(rate) - 0) / (depth - 1));
  const halfway = Math.trunc(depth / 2);
  return Array.from({ length: depth }, (_, i) => (i < halfway ? f(f(step * i)) : f(f(rate) - f(step * (depth - i - 1)))));
}

/** Python's f'{round(x, 3):0.3f}' (ties to even, as Python rounds the exact binary value). */
function threeDecimals(x: number): string {
  const sixteenths = x * 16;
  // A tie at three decimals is an odd multiple of 1/16 (0.0625, 0.1875, ...): exactly representable.
  if (Number.isInteger(sixteenths) && Math.abs(sixteenths) % 2 === 1) {
    const down = Math.floor(x * 1000) / 1000;
    const even = Math.round(down * 1000) % 2 === 0 ? down : down + 0.001;
    return even.toFixed(3);
  }
  return x.toFixed(3);
}

const identity = (name: string): ModuleNode => leaf(name, 'Identity()');
const dropout = (name: string): ModuleNode => leaf(name, 'Dropout(p=0.0, inplace=False)');

function linearNode(name: string, inFeatures: number, outFeatures: number, bias = true): ModuleNode {
  return leaf(name, `Linear(in_features=${inFeatures}, out_features=${outFeatures}, bias=${bias ? 'True' : 'False'})`,
    bias ? [['weight', [outFeatures, inFeatures]], ['bias', [outFeatures]]] : [['weight', [outFeatures, inFeatures]]]);
}

function layerNorm(name: string, dim: number, style: ReprStyle): ModuleNode {
  return leaf(name, `LayerNorm((${dim},), eps=1e-06, elementwise_affine=True${style.layerNormBias ? ', bias=True' : ''})`,
    [['weight', [dim]], ['bias', [dim]]]);
}

/**
 * The module tree timm builds for `config` with `numClasses` outputs (its print(model) and
 * state_dict); 0 classes: no head (nn.Identity), as timm's num_classes=0.
 */
export function vitTree(config: Omit<VitConfig, 'numHeads'>, numClasses: number, style: ReprStyle): ModuleNode {
  const d = config.embedDim;
  const p = config.patchSize;
  const hidden = Math.trunc(d * config.mlpRatio);
  const grid = config.imgSize / p;
  const rates = dropPathRates(config.dropPathRate, config.depth);
  const dropPath = (name: string, rate: number) => (rate > 0 ? leaf(name, `DropPath(drop_prob=${threeDecimals(rate)})`) : identity(name));
  const blocks = rates.map((rate, i) => container(String(i), 'Block', [
    layerNorm('norm1', d, style),
    container('attn', 'Attention', [
      linearNode('qkv', d, 3 * d, config.qkvBias), identity('q_norm'), identity('k_norm'), dropout('attn_drop'), identity('norm'),
      linearNode('proj', d, d), dropout('proj_drop'),
    ]),
    identity('ls1'), dropPath('drop_path1', rate),
    layerNorm('norm2', d, style),
    container('mlp', 'Mlp', [
      linearNode('fc1', d, hidden), leaf('act', "GELU(approximate='none')"), dropout('drop1'), identity('norm'),
      linearNode('fc2', hidden, d), dropout('drop2'),
    ]),
    identity('ls2'), dropPath('drop_path2', rate),
  ]));
  const tokens = grid * grid + (config.classToken ? 1 : 0);
  return container('', 'VisionTransformer', [
    container('patch_embed', 'PatchEmbed', [
      leaf('proj', `Conv2d(3, ${d}, kernel_size=(${p}, ${p}), stride=(${p}, ${p}))`, [['weight', [d, 3, p, p]], ['bias', [d]]]),
      identity('norm'),
    ]),
    dropout('pos_drop'), identity('patch_drop'), identity('norm_pre'),
    container('blocks', 'Sequential', blocks),
    config.fcNorm ? identity('norm') : layerNorm('norm', d, style),
    config.fcNorm ? layerNorm('fc_norm', d, style) : identity('fc_norm'),
    dropout('head_drop'),
    numClasses > 0 ? linearNode('head', d, numClasses) : identity('head'),
  ], [...(config.classToken ? [['cls_token', [1, 1, d]] as [string, number[]]] : []), ['pos_embed', [1, tokens, d]]]);
}

/** What a ViT state dict (timm's keys) says about the model it was saved from. */
export interface InferredVit {
  /** Everything but dropPathRate (0), which no weight records, and the heads. */
  config: Omit<VitConfig, 'numHeads'>;
  /** The heads of a named size (vit_tiny ... vit_huge); undefined for any other (heads cannot be read off weights). */
  numHeads: number | undefined;
  /** The head's outputs; undefined when the file has no head (MAE's pre-trained encoders). */
  numClasses: number | undefined;
  /** The head is MAE's linear-probe head (head.0: BatchNorm1d without affine, head.1: Linear), as its probe checkpoints hold. */
  maeProbeHead: boolean;
}

/** The ViT configuration of a state dict in timm's keys; shapes that fit no ViT are an ERR_FINETORCH_STATE_DICT. */
export function inferVit(shapes: ReadonlyMap<string, readonly number[]>, source: string): InferredVit {
  const fail = (reason: string) => new FinetorchError('ERR_FINETORCH_STATE_DICT', `${source}: ${reason}`);
  const shape = (key: string) => shapes.get(key);
  const proj = shape('patch_embed.proj.weight');
  if (!proj || proj.length !== 4) throw fail("it has no 4-d 'patch_embed.proj.weight', so it is not a ViT state dict (timm's or torchvision's keys)");
  const [embedDim, channels, patchSize, patchWidth] = proj;
  if (patchSize !== patchWidth || patchSize < 1) throw fail(`patch_embed.proj.weight [${proj.join(', ')}]: the patches are not square`);
  if (channels !== 3) throw fail(`patch_embed.proj.weight [${proj.join(', ')}] takes ${channels}-channel images; finetorch's ViT takes RGB (3)`);
  const classToken = shapes.has('cls_token');
  const cls = shape('cls_token');
  if (cls && !same(cls, [1, 1, embedDim])) throw fail(`cls_token is [${cls.join(', ')}], expected [1, 1, ${embedDim}]`);
  const pos = shape('pos_embed');
  if (!pos || pos.length !== 3 || pos[0] !== 1 || pos[2] !== embedDim) {
    throw fail(`it has no pos_embed [1, tokens, ${embedDim}]${pos ? ` (it is [${pos.join(', ')}])` : ''}`);
  }
  const patches = pos[1] - (classToken ? 1 : 0);
  const grid = Math.round(Math.sqrt(Math.max(patches, 0)));
  if (patches < 1 || grid * grid !== patches) {
    throw fail(`pos_embed [${pos.join(', ')}] holds ${patches} patch positions, not a square grid`);
  }
  const blockIds = new Set<number>();
  for (const key of shapes.keys()) {
    const m = /^blocks\.(\d+)\./.exec(key);
    if (m) blockIds.add(Number(m[1]));
  }
  const depth = blockIds.size;
  if (depth === 0 || Math.max(...blockIds) !== depth - 1) throw fail(`its blocks are not numbered 0..N-1 (found ${[...blockIds].sort((a, b) => a - b).join(', ') || 'none'})`);
  const fc1 = shape('blocks.0.mlp.fc1.weight');
  if (!fc1 || fc1.length !== 2 || fc1[1] !== embedDim || fc1[0] < 1) throw fail(`blocks.0.mlp.fc1.weight is ${fc1 ? `[${fc1.join(', ')}]` : 'missing'}, expected [hidden, ${embedDim}]`);
  const mlpRatio = fc1[0] / embedDim;
  const fcNorm = shapes.has('fc_norm.weight');
  if (!fcNorm && !shapes.has('norm.weight')) throw fail("it has neither 'norm.weight' (the final norm) nor 'fc_norm.weight' (MAE's global pool)");
  const maeProbeHead = shapes.has('head.0.running_mean');
  const headKey = maeProbeHead ? 'head.1.weight' : 'head.weight';
  const head = shape(headKey);
  if (head && (head.length !== 2 || head[1] !== embedDim)) throw fail(`${headKey} is [${head.join(', ')}], expected [classes, ${embedDim}]`);
  if (Math.trunc(embedDim * mlpRatio) !== fc1[0]) throw fail(`its MLP width ${fc1[0]} is no whole ratio of its width ${embedDim} that timm would rebuild`);
  return {
    config: {
      imgSize: grid * patchSize, patchSize, embedDim, depth, mlpRatio,
      qkvBias: shapes.has('blocks.0.attn.qkv.bias'), classToken,
      globalPool: fcNorm || !classToken ? 'avg' : 'token', fcNorm, dropPathRate: 0,
    },
    numHeads: namedHeads(embedDim, depth),
    numClasses: head?.[0],
    maeProbeHead,
  };
}

/** An inferred configuration with its heads: `numHeads` when given, else the named size's. */
export function withHeads(inferred: InferredVit, source: string, numHeads?: number): VitConfig {
  const { embedDim, depth } = inferred.config;
  const heads = numHeads ?? inferred.numHeads;
  const fail = (reason: string) => new FinetorchError('ERR_FINETORCH_STATE_DICT', `${source}: ${reason}`);
  if (heads === undefined) {
    throw fail(`a ViT of width ${embedDim} and depth ${depth} is none of the named sizes, whose heads are known: ` +
      'pass numHeads (the number of attention heads cannot be read off the weights)');
  }
  if (embedDim % heads !== 0) throw fail(`its width ${embedDim} is not a multiple of numHeads ${heads}`);
  return { ...inferred.config, numHeads: heads };
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// VisionTransformer: timm's ViT (the model MAE pre-trains, probes and fine-tunes) living in
// LibTorch, beside ResNet under the same Model interface. Weights come in timm's keys (timm, MAE's
// checkpoints) or torchvision's (vit_b_16 ...); the configuration is read off them, and the
// position embedding is interpolated as MAE does when the image size changes.
import { NativeModel, native } from '../base/binding';
import { bool, checkArg, checkOptions, int, num, oneOf, str } from '../base/check';
import { FinetorchError, rangeError, typeError } from '../base/errors';
import { HostTensor } from '../base/tensor';
import type { OnnxSource } from '../export/export';
import { MAE_WEIGHTS_NAMES, MaeWeightsName, maePretrainedWeights } from './mae-weights';
import {
  DEFAULT_MAX_CLASSES, Device, Linear, Model, Weights, deviceRule, numClassesRule, readWeights, seedRule,
} from './model';
import { moduleRepr, reprStyle, stateShapes, withMaeProbeHead } from './module-tree';
import type { PretrainedOptions } from './torchvision-weights';
import { loadWeights } from './weights-file';
import { isHubId } from './timm-ids';
import { HubDownloadOptions, hubPretrainedWeights } from './timm-weights';
import { interpolatePosEmbed } from './pos-embed';
import { vitSource } from './vit-onnx';
import { VIT_ARCH_NAMES, VitConfig, inferVit, parseVitArch, vitArchName, vitTree, withHeads } from './vit-architectures';
import { VitLayout, fromTorchvision, toTorchvision, vitLayoutOf } from './vit-layouts';

export interface VitCreateOptions extends Partial<VitConfig> {
  /**
   * A named size (timm's vit_base_patch16_224, MAE's vit_base_patch16, ...: VIT_ARCH_NAMES); the
   * other options change it. Without one: timm's VisionTransformer defaults (ViT-B/16 at 224 px).
   */
  arch?: string;
  /** Outputs of the head; default 1000. */
  numClasses?: number;
  /** Seeds the initialisation as torch.manual_seed(seed) before timm's constructor would. Default 0. */
  seed?: number;
  device?: Device;
}

export interface VitLoadOptions {
  /** The named size the file must hold (its image size aside). */
  arch?: string;
  /** Attention heads, for a size that is none of the named ones (heads cannot be read off weights). */
  numHeads?: number;
  /** Images of this size: the position embedding is interpolated as MAE's interpolate_pos_embed. Default: the file's. */
  imgSize?: number;
  /**
   * The pooling, default the file's ('avg' where it has fc_norm). Another one changes the final
   * norm as MAE's fine-tuning does: 'avg' on a class-token file drops `norm` and starts `fc_norm`
   * at ones and zeros ('token' on an fc_norm file, the other way round).
   */
  globalPool?: 'token' | 'avg';
  /** Default 0 (see VitConfig.dropPathRate). */
  dropPathRate?: number;
  /**
   * Outputs of the head. A file without a head (MAE's pre-trained encoders) gets a fresh one of
   * this many outputs (default 1000), initialised as timm's; a file whose head has another count
   * gets a fresh one too.
   */
  numClasses?: number;
  /** Seeds the fresh head (and fc_norm) as `create` does. Default 0. */
  seed?: number;
  strict?: boolean;
  device?: Device;
  /** A state dict whose head has more classes is refused before any allocation; default 100,000. */
  maxClasses?: number;
}

/** {@link VisionTransformer.pretrained}'s options: the weights, their download, and how to load them. */
export interface VitPretrainedOptions extends Omit<PretrainedOptions, 'weights'>, Omit<VitLoadOptions, 'arch' | 'numHeads' | 'strict' | 'maxClasses'> {
  /** MAE's pre-trained encoder: 'mae_pretrain_vit_base' (default), 'mae_pretrain_vit_large' or 'mae_pretrain_vit_huge'. */
  weights?: MaeWeightsName;
}

/** {@link VisionTransformer.pretrained}'s options for an 'hf-hub:' id: the download (revision, cache, token, ...) and how to load. */
export interface VitHubOptions extends HubDownloadOptions, Omit<VitLoadOptions, 'arch' | 'numHeads' | 'strict' | 'maxClasses'> {}

const positive = int({ min: 1, max: 2 ** 31 - 1 });
const poolRule = oneOf(['token', 'avg'] as const);
const dropPathRule = num({ min: 0 }).where('and < 1', (v) => v < 1);
const archRule = str().where(`naming a ViT size (${VIT_ARCH_NAMES.join(', ')}, or vit_<tiny|small|base|large|huge>_patch<P>[_<image size>])`,
  (v) => parseVitArch(v) !== undefined);

/** timm's VisionTransformer() defaults: ViT-B/16 at 224 px. */
const TIMM_DEFAULTS: VitConfig = {
  imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4, qkvBias: true, classToken: true,
  globalPool: 'token', fcNorm: false, dropPathRate: 0,
};

function checkArch(where: string, arch: string | undefined): ReturnType<typeof parseVitArch> {
  if (arch === undefined) return undefined;
  checkArg(where, 'arch', arch, archRule);
  return parseVitArch(arch);
}

/** Sizes that timm refuses or would silently truncate, as coded errors. */
function checkConfig(where: string, c: VitConfig): void {
  const fail = (message: string) => rangeError('ERR_FINETORCH_INVALID_ARG', `${where}: ${message}`);
  if (c.imgSize % c.patchSize !== 0) throw fail(`patchSize ${c.patchSize} does not divide imgSize ${c.imgSize}`);
  if (c.embedDim % c.numHeads !== 0) throw fail(`embedDim ${c.embedDim} is not a multiple of numHeads ${c.numHeads}`);
  if (Math.trunc(c.embedDim * c.mlpRatio) < 1) throw fail(`embedDim ${c.embedDim} x mlpRatio ${c.mlpRatio} leaves the MLP no hidden units`);
  if (c.globalPool === 'token' && !c.classToken) throw fail("globalPool 'token' needs classToken");
}

export class VisionTransformer extends Model {
  #config: VitConfig;
  /** timm's name for this size (`vit_base_patch16_224`), or 'VisionTransformer' for a size of its own. */
  readonly arch: string;
  /**
   * The key layout stateDict() writes by default: the one the weights were loaded from, unless the
   * load made a model torchvision's class cannot hold (MAE's global pool); 'timm' for a new model.
   */
  layout: VitLayout = 'timm';

  /** @internal */
  protected constructor(config: VitConfig, handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    super(handle, numClasses, parameters);
    this.#config = config;
    this.arch = vitArchName(config) ?? 'VisionTransformer';
  }

  /** A randomly initialised ViT, as timm's VisionTransformer(**config, num_classes=...) draws it. */
  static async create(options: VitCreateOptions = {}): Promise<VisionTransformer> {
    const where = 'VisionTransformer.create';
    const o = checkOptions(where, options, {
      arch: str().orUndefined(),
      imgSize: positive.orUndefined(), patchSize: positive.orUndefined(), embedDim: positive.orUndefined(),
      depth: positive.orUndefined(), numHeads: positive.orUndefined(), mlpRatio: num({ above: 0 }).orUndefined(),
      qkvBias: bool().orUndefined(), classToken: bool().orUndefined(), globalPool: poolRule.orUndefined(),
      fcNorm: bool().orUndefined(), dropPathRate: dropPathRule.orUndefined(),
      numClasses: numClassesRule.default(1000), seed: seedRule.default(0), device: deviceRule.orUndefined(),
    });
    const named = checkArch(where, o.arch);
    const given = Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k in TIMM_DEFAULTS)) as Partial<VitConfig>;
    const globalPool = given.globalPool ?? TIMM_DEFAULTS.globalPool;
    const config: VitConfig = { ...TIMM_DEFAULTS, ...named, fcNorm: globalPool === 'avg', ...given };
    checkConfig(where, config);
    const { model, parameters } = await native.createModel({ family: 'vit', ...config, numClasses: o.numClasses, seed: o.seed });
    const net = new VisionTransformer(config, model, o.numClasses, parameters);
    if (o.device) await net.to(o.device);
    return net;
  }

  /**
   * Pretrained weights, taken from the cache their source shares with Python and downloaded into it
   * first when missing, then loaded as {@link VisionTransformer.load} does:
   * - MAE's pre-trained encoder (default ViT-B/16), as its README publishes it, from torch.hub's
   *   cache (see {@link maePretrainedWeights}), with a fresh head;
   * - timm's from the Hugging Face Hub, as `timm.create_model('hf-hub:timm/vit_base_patch16_224.mae',
   *   pretrained=True)`: `VisionTransformer.pretrained('hf-hub:timm/vit_small_patch16_224.augreg_in21k_ft_in1k',
   *   { revision, device })`, the configuration timm builds from its config.json (architecture,
   *   model_args, input size). Weights without a head (MAE's, DINO's, in21k pre-training: num_classes 0)
   *   get a fresh one of `numClasses` outputs (default 1000), as do weights whose head has another count.
   */
  static async pretrained(source: VitPretrainedOptions | MaeWeightsName | `hf-hub:${string}` = {}, options: VitHubOptions = {}): Promise<VisionTransformer> {
    if (isHubId(source)) return hubVit(source, options);
    if (Object.keys(options).length) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', 'VisionTransformer.pretrained: a second argument goes with an hf-hub: id only ' +
        "(VisionTransformer.pretrained({ weights, numClasses, device }), or VisionTransformer.pretrained('hf-hub:timm/...', { numClasses, device }))");
    }
    const { weights = 'mae_pretrain_vit_base', modelDir, baseUrl, progress, verifyCached, retries, timeout, ...load } =
      typeof source === 'string' ? { weights: source } : source;
    checkArg('VisionTransformer.pretrained', 'weights', weights, oneOf(MAE_WEIGHTS_NAMES));
    const { file } = await maePretrainedWeights(weights, { modelDir, baseUrl, progress, verifyCached, retries, timeout });
    return VisionTransformer.load(file, load);
  }

  /**
   * Loads a ViT .pth in timm's keys (timm, MAE's checkpoints: `{'model': state_dict}`) or
   * torchvision's (vit_b_16, vit_b_32, vit_l_16, ...); the configuration and the number of classes
   * are read off its keys and shapes, and checked before the model is built.
   */
  static async load(file: string, options: VitLoadOptions = {}): Promise<VisionTransformer> {
    const where = 'VisionTransformer.load';
    checkArg(where, 'file', file, str());
    const o = checkOptions(where, options, {
      arch: str().orUndefined(), numHeads: positive.orUndefined(), imgSize: positive.orUndefined(),
      globalPool: poolRule.orUndefined(), dropPathRate: dropPathRule.default(0), numClasses: numClassesRule.orUndefined(),
      seed: seedRule.default(0), strict: bool().default(true), device: deviceRule.orUndefined(),
      maxClasses: int({ min: 1 }).default(DEFAULT_MAX_CLASSES),
    });
    const named = checkArch(where, o.arch);
    const read = await readWeights(file);
    const layout = vitLayoutOf(read.shapes.keys());
    const weights: Weights = {
      ...read, shapes: timmKeys(read.shapes, file), stored: read.stored && timmKeys(read.stored, file), tensors: read.tensors && timmKeys(read.tensors, file),
    };
    const inferred = inferVit(weights.shapes, file);
    const saved = withHeads(inferred, file, o.numHeads ?? named?.numHeads);
    if (named && (named.embedDim !== saved.embedDim || named.depth !== saved.depth || named.patchSize !== saved.patchSize)) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: holds a ViT of width ${saved.embedDim}, depth ${saved.depth} and ` +
        `patch ${saved.patchSize}, not the ${o.arch} asked for`);
    }
    // MAE's linear-probe checkpoints hold its probe head: head.0 (BatchNorm1d), head.1 (Linear).
    const { maeProbeHead: probe, numClasses: savedClasses } = inferred;
    const numClasses = o.numClasses ?? savedClasses ?? 1000;
    if (numClasses < 1 || numClasses > o.maxClasses) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: ${probe ? 'head.1.weight' : 'head.weight'} declares ${numClasses} classes, ` +
        `outside 1..${o.maxClasses} (pass maxClasses to allow more)`);
    }
    const globalPool = o.globalPool ?? saved.globalPool;
    const config: VitConfig = {
      ...saved, imgSize: o.imgSize ?? saved.imgSize, globalPool, fcNorm: o.globalPool ? globalPool === 'avg' : saved.fcNorm,
      dropPathRate: o.dropPathRate,
    };
    checkConfig(where, config);
    // What the file holds that this model starts afresh: a head of another size (or none), the
    // norm of the other pooling.
    const keepProbe = probe && savedClasses === numClasses;
    const fresh = new Set<string>();
    if (savedClasses !== numClasses) {
      // A fresh Linear head, in place of the file's (a probe head's keys too).
      const probeKeys = ['head.0.running_mean', 'head.0.running_var', 'head.0.num_batches_tracked', 'head.1.weight', 'head.1.bias'];
      ['head.weight', 'head.bias', ...(probe ? probeKeys : [])].forEach((k) => fresh.add(k));
    }
    if (config.fcNorm !== saved.fcNorm) ['norm.weight', 'norm.bias', 'fc_norm.weight', 'fc_norm.bias'].forEach((k) => fresh.add(k));
    const kept = await keptWeights(weights, fresh, config, saved);
    const style = reprStyle(native.runtime.torchVersion);
    const tree = keepProbe ? withMaeProbeHead(vitTree(config, numClasses, style), 'head', config.embedDim, numClasses, style) : vitTree(config, numClasses, style);
    checkKeys(file, stateShapes(tree), kept.shapes, fresh, o.strict);
    const net = await VisionTransformer.create({ ...config, numClasses, seed: o.seed });
    if (keepProbe) net.resetClassifier(numClasses, { head: 'mae-probe', seed: o.seed });
    // torchvision's keys in, torchvision's keys out, where torchvision's class can hold the model.
    net.layout = layout === 'torchvision' && config.classToken && !config.fcNorm && config.qkvBias ? 'torchvision' : 'timm';
    return net.adopt(kept, false, o.device);
  }

  /** The configuration it was built with; dropPathRate as setDropPathRate last set it. */
  get config(): Readonly<VitConfig> {
    return this.#config;
  }

  /**
   * Stochastic depth from the next step on, as timm's drop_path_rate would have built it (block i
   * drops with probability rate * i / (depth - 1)); MAE's fine-tuning uses 0.1 (main_finetune.py).
   */
  setDropPathRate(rate: number): this {
    checkArg('setDropPathRate', 'rate', rate, dropPathRule);
    this.#config = { ...this.#config, dropPathRate: rate };
    this.queue.post('setDropPathRate', () => this.handle.setDropPathRate({ rate }));
    return this;
  }

  get classifierName(): string {
    return 'head';
  }

  get numFeatures(): number {
    return this.config.embedDim;
  }

  /** The linear head (timm's `model.head`). */
  get head(): Linear {
    return this.getClassifier();
  }

  toString(): string {
    return moduleRepr(this.withHead(vitTree(this.config, this.numClasses, reprStyle(native.runtime.torchVersion))));
  }

  /**
   * Parameters, in timm's state_dict order and keys, or torchvision's (`layout`, default
   * {@link layout}; timm's with MAE's probe head, which torchvision's class cannot hold), as CPU copies.
   */
  async stateDict(options: { layout?: VitLayout } = {}): Promise<Map<string, HostTensor>> {
    // torchvision's class has no place for MAE's probe head: a probed model writes timm's keys.
    const own = this.headKind === 'mae-probe' ? 'timm' : this.layout;
    const { layout } = checkOptions('stateDict', options, { layout: oneOf(['timm', 'torchvision'] as const).default(own) });
    const state = await super.stateDict();
    return layout === 'torchvision' ? toTorchvision(state, 'stateDict') : state;
  }

  /** @internal loadStateDict and loadPth read torchvision's keys too. */
  protected ownKeys<T>(stateDict: Map<string, T>): Map<string, T> {
    return timmKeys(stateDict, 'loadStateDict');
  }

  /** @internal The graph reads timm's keys, whichever layout stateDict() writes by default. */
  protected onnxSource(): OnnxSource {
    return vitSource(this.arch, this.config, this.numClasses, this.headKind, () => this.stateDict({ layout: 'timm' }));
  }

  /** @internal */
  protected checkImages(input: HostTensor, what: string): void {
    const [, , h, w] = input.shape;
    const size = this.config.imgSize;
    if (h !== size || w !== size) {
      throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: this VisionTransformer takes ${size}x${size} images, got ${h}x${w} ` +
        '(VisionTransformer.load(file, { imgSize }) interpolates the position embedding for another size)');
    }
  }
}

/**
 * timm's ViT from the Hub: the configuration its config.json makes timm build, loaded with the
 * heads that configuration names, and refused when the weights hold another model.
 */
async function hubVit(id: `hf-hub:${string}`, options: VitHubOptions): Promise<VisionTransformer> {
  const { imgSize, globalPool, dropPathRate, numClasses, seed, device, ...download } = options;
  const { file, arch, config, repoId } = await hubPretrainedWeights(id, download);
  const timm = config.vit;
  if (!timm) {
    throw new FinetorchError('ERR_FINETORCH_HUB', `${repoId}: holds timm's ${arch}, a ResNet: ResNet.pretrained('${id}') loads it`);
  }
  const net = await VisionTransformer.load(file, { numHeads: timm.numHeads, imgSize: imgSize ?? timm.imgSize, globalPool, dropPathRate, numClasses, seed, device });
  const built = net.config;
  // What the weights hold against what timm builds; the pooling, when the call chose its own, aside.
  const keys = ['patchSize', 'embedDim', 'depth', 'mlpRatio', 'qkvBias', 'classToken', ...(globalPool ? [] : ['globalPool', 'fcNorm'] as const)] as const;
  const differs = keys.filter((k) => built[k] !== timm[k]).map((k) => `${k} ${String(built[k])} (config.json: ${String(timm[k])})`);
  if (numClasses === undefined && config.numClasses > 0 && net.numClasses !== config.numClasses) differs.push(`${net.numClasses} classes (config.json: ${config.numClasses})`);
  if (differs.length) {
    net.dispose();
    throw new FinetorchError('ERR_FINETORCH_HUB', `${repoId}: the weights hold a ViT of ${differs.join(', ')}, not the ${arch} that config.json makes timm build`);
  }
  return net;
}

/** A state dict under timm's keys, whichever layout it came in. */
function timmKeys<T>(stateDict: Map<string, T>, source: string): Map<string, T> {
  return vitLayoutOf(stateDict.keys()) === 'torchvision' ? fromTorchvision(stateDict, source) : stateDict;
}

/**
 * load_state_dict's checks before anything is built (so that no shape a file declares allocates
 * more than the file holds): sizes always, missing and unexpected keys when strict, the keys
 * started afresh aside.
 */
function checkKeys(file: string, own: ReadonlyMap<string, readonly number[]>, given: ReadonlyMap<string, readonly number[]>,
  fresh: ReadonlySet<string>, strict: boolean): void {
  const missing = strict ? [...own.keys()].filter((k) => !given.has(k) && !fresh.has(k)) : [];
  const unexpected = strict ? [...given.keys()].filter((k) => !own.has(k)) : [];
  const shape = (s: readonly number[]) => `[${s.join(', ')}]`;
  const mismatched = [...given].filter(([k, s]) => own.has(k) && shape(own.get(k)!) !== shape(s))
    .map(([k, s]) => `size mismatch for ${k}: copying a param with shape ${shape(s)}, the shape in current model is ${shape(own.get(k)!)}`);
  if (missing.length === 0 && unexpected.length === 0 && mismatched.length === 0) return;
  const list = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
  throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: Error(s) in loading state_dict for VisionTransformer:` +
    `${missing.length ? `\n  Missing key(s) in state_dict: ${list(missing)}` : ''}` +
    `${unexpected.length ? `\n  Unexpected key(s) in state_dict: ${list(unexpected)}` : ''}` +
    mismatched.map((m) => `\n  ${m}`).join(''));
}

/**
 * The weights a load copies: without the keys started afresh, and with the position embedding
 * interpolated (from the tensors themselves, read whole) when the image size changes.
 */
async function keptWeights(weights: Weights, fresh: ReadonlySet<string>, config: VitConfig, saved: VitConfig): Promise<Weights> {
  const keep = <T>(m: Map<string, T>) => new Map([...m].filter(([k]) => !fresh.has(k)));
  if (config.imgSize === saved.imgSize) {
    return { ...weights, shapes: keep(weights.shapes), stored: weights.stored && keep(weights.stored), tensors: weights.tensors && keep(weights.tensors) };
  }
  const tensors = keep(weights.tensors ?? timmKeys(await loadWeights(weights.file), weights.file));
  const posEmbed = tensors.get('pos_embed')!;
  if (posEmbed.dtype !== 'float32') {
    throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${weights.file}: pos_embed is ${posEmbed.dtype}; interpolating it takes float32`);
  }
  tensors.set('pos_embed', await interpolatePosEmbed(posEmbed, { numExtraTokens: config.classToken ? 1 : 0, gridSize: config.imgSize / config.patchSize }));
  return { file: weights.file, tensors, shapes: new Map([...tensors].map(([k, t]) => [k, t.shape])) };
}

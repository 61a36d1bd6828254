// Model: an image classifier living in LibTorch (a torchvision ResNet here, timm's
// VisionTransformer in model/vit.ts), with the fine-tuning surgery of the d2l chapter (a fresh
// head, a frozen backbone) and one-call train/eval steps. JavaScript owns the model's metadata
// (classes, device, parameter names, shapes, requiresGrad), updated by the calls that change it,
// so getters never wait for the native side; every native call runs through the model's queue, in
// call order.
import {
  ARCH_NAMES, ARCHITECTURES, Arch, ResNetConfig, featuresOf, inferArch, moduleRepr, reprStyle, resnetTree,
} from './architectures';
import { native, NativeModel, NativeStepResult } from './binding';
import { arrayOf, bool, checkArg, checkOptions, didYouMean, int, num, oneOf, Rule, str } from './check';
import { dist } from './dist';
import { FinetorchError, withCode } from './errors';
import { PretrainedOptions, pretrainedWeights } from './hub';
import { loadPth, PthError, StoredTensor, locatePth } from './pth';
import { OperationQueue } from './queue';
import { checkHostTensor, HostTensor } from './tensor';
import type { SGD } from './optim';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Target = Int32Array | BigInt64Array;

/** One batch: input [N, 3, H, W] (or backbone features [N, F]) float32, one class index per sample. */
export interface Batch<T extends Target = Target> {
  input: HostTensor;
  target: T;
}
export type { Arch, ResNetConfig } from './architectures';

/** What loadStateDict reports, as PyTorch's load_state_dict returns it. */
export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

export interface StepResult {
  loss: number;
  correct: number;
  logits?: HostTensor<'float32'>;
}

export type StateDictInput = Map<string, HostTensor> | Record<string, HostTensor>;

/** A handle to one native parameter tensor (not a copy). */
export class Parameter {
  constructor(readonly owner: Model, readonly name: string, readonly shape: readonly number[]) {}
  /** False while frozen. */
  get requiresGrad(): boolean {
    return this.owner.requiresGrad(this.name);
  }
}

/** What `net.fc` (a ViT's `net.head`) shows: the linear head, as torch prints it. */
export class Linear {
  constructor(private readonly net: Model, readonly inFeatures: number, readonly outFeatures: number) {}
  parameters(): Parameter[] {
    return this.net.parameters({ include: [this.net.classifierName] });
  }
  toString(): string {
    return `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=True)`;
  }
}

const archRule = oneOf(ARCH_NAMES);
/** @internal */
export const deviceRule = str().where("naming 'cpu', 'cuda' or 'cuda:N'", (v) => /^(cpu|cuda(:\d+)?)$/.test(v)) as Rule<Device>;
/** @internal */
export const seedRule = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** @internal */
export const numClassesRule = int({ min: 1, max: 2 ** 31 - 1 });
/** @internal A class count past which a state dict's head is taken for a forgery, unless maxClasses says otherwise. */
export const DEFAULT_MAX_CLASSES = 100_000;

export interface CreateOptions {
  /** torchvision's architecture name; default 'resnet18'. */
  arch?: Arch;
  /** Outputs of fc; default 1000. */
  numClasses?: number;
  /** Seeds the initialisation as torch.manual_seed(seed) before torchvision's constructor would. Default 0. */
  seed?: number;
  device?: Device;
}

export interface LoadOptions {
  /** The architecture the file must hold; inferred from its keys and shapes when absent. */
  arch?: Arch;
  strict?: boolean;
  device?: Device;
  /** A state dict whose fc has more classes is refused before any allocation; default 100,000. */
  maxClasses?: number;
}

/** {@link ResNet.pretrained}'s options: the architecture, the weights and their download, the device. */
export interface PretrainedModelOptions extends PretrainedOptions {
  /** One of torchvision's ResNet family names (default 'resnet18'). */
  arch?: Arch;
  device?: Device;
}

/**
 * @internal A .pth file's state dict as a load reads it: where each tensor lies (to be read
 * straight into the model) or, where that cannot be, the tensors; and every key's shape.
 */
export interface Weights {
  file: string;
  stored?: Map<string, StoredTensor>;
  tensors?: Map<string, HostTensor>;
  shapes: Map<string, number[]>;
}

/** @internal */
export async function readWeights(file: string): Promise<Weights> {
  const stored = await locatePth(file);
  const tensors = stored ? undefined : await loadPth(file);
  return { file, stored, tensors, shapes: new Map([...(stored ?? tensors!)].map(([k, t]) => [k, t.shape])) };
}

interface ParameterMeta {
  shape: number[];
  requiresGrad: boolean;
}

/**
 * What finetorch trains: a classifier whose last layer is a linear head on pooled features (a
 * ResNet's fc, a VisionTransformer's head). The training loops, optimizers and checkpoints take
 * any Model.
 */
export abstract class Model {
  /** @internal */
  readonly handle: NativeModel;
  /** @internal Every call on this model (and its optimizers) runs through this queue. */
  readonly queue = new OperationQueue();
  private mode = true;
  private classes: number;
  private where = 'cpu';
  private readonly params: Map<string, ParameterMeta>;
  private disposed = false;
  private dataParallel = false;

  /** @internal */
  protected constructor(handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    this.handle = handle;
    this.classes = numClasses;
    this.params = new Map(parameters.map((p) => [p.name, { shape: p.shape, requiresGrad: true }]));
  }

  /** The architecture's name (torchvision's, timm's); 'VisionTransformer' for a ViT of no named size. */
  abstract readonly arch: string;

  /** The head's module name, as timm's pretrained_cfg['classifier'] gives it: 'fc' (ResNet) or 'head' (ViT). */
  abstract get classifierName(): string;

  /** What the head sees: the pooled features' width (timm's num_features). */
  abstract get numFeatures(): number;

  /** The module tree as PyTorch's print(model) shows it. */
  abstract toString(): string;

  /** The linear head (timm's get_classifier()). */
  getClassifier(): Linear {
    return new Linear(this, this.numFeatures, this.classes);
  }

  /**
   * Replaces the head with a fresh Linear(numFeatures, numClasses) (timm's reset_classifier);
   * every other layer keeps its values. `init: 'default'` is nn.Linear's own initialisation.
   */
  resetClassifier(numClasses: number, options: { init?: 'default' | 'xavier'; seed?: number } = {}): Linear {
    checkArg('resetClassifier', 'numClasses', numClasses, numClassesRule);
    const o = checkOptions('resetClassifier', options, { init: oneOf(['default', 'xavier']).default('default'), seed: seedRule.orUndefined() });
    this.checkUsable('resetClassifier');
    this.classes = numClasses;
    this.params.set(`${this.classifierName}.weight`, { shape: [numClasses, this.numFeatures], requiresGrad: true });
    this.params.set(`${this.classifierName}.bias`, { shape: [numClasses], requiresGrad: true });
    this.queue.post('resetClassifier', () => this.handle.resetClassifier({ numClasses, ...o }));
    return this.getClassifier();
  }

  get numClasses(): number {
    return this.classes;
  }

  /** Where the model lives: 'cpu' or 'cuda:N'. */
  get device(): string {
    return this.where;
  }

  /** Whether forward() and trainStep() run in train mode (batch statistics) or eval mode, as nn.Module. */
  get training(): boolean {
    return this.mode;
  }

  train(mode = true): this {
    this.mode = checkArg('train', 'mode', mode, bool());
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Logits [N, numClasses] for input [N, 3, H, W] float32, without autograd. */
  async forward(input: HostTensor): Promise<HostTensor<'float32'>> {
    this.checkInput(input, 'forward', false);
    const training = this.mode;
    return this.run('forward', () => this.handle.forward({ input, training }));
  }

  /** The backbone's pooled [N, numFeatures] features (eval mode), what the linear head sees. */
  async features(input: HostTensor): Promise<HostTensor<'float32'>> {
    this.checkInput(input, 'features', false);
    return this.run('features', () => this.handle.features({ input }));
  }

  async loadStateDict(stateDict: StateDictInput, options: { strict?: boolean } = {}): Promise<LoadResult> {
    const { strict } = checkOptions('loadStateDict', options, { strict: bool().default(true) });
    if (!(stateDict instanceof Map) && (typeof stateDict !== 'object' || stateDict === null)) {
      throw withCode(new TypeError('loadStateDict: stateDict must be a Map or an object of HostTensors'), 'ERR_FINETORCH_INVALID_ARG');
    }
    return this.loadEntries('loadStateDict', stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict)), strict);
  }

  /** @internal A state dict under this model's own key names (a ViT also reads torchvision's). */
  protected ownKeys<T>(stateDict: Map<string, T>): Map<string, T> {
    return stateDict;
  }

  /** @internal */
  protected loadEntries(label: string, stateDict: Map<string, HostTensor>, strict: boolean): Promise<LoadResult> {
    stateDict.forEach((t, name) => checkHostTensor(t, `state_dict['${name}']`));
    const own = this.ownKeys(stateDict);
    return this.run(label, () => this.handle.loadStateDict({ names: [...own.keys()], tensors: [...own.values()], strict }));
  }

  /**
   * `loadStateDict(await loadPth(file))` in one step: each tensor is read from the file straight
   * into the model, skipping the copy in between. (Like torch.load, this path does not check the
   * zip records' CRCs; loadPth does.)
   */
  async loadPth(file: string, options: { strict?: boolean } = {}): Promise<LoadResult> {
    checkArg('loadPth', 'file', file, str());
    const { strict } = checkOptions('loadPth', options, { strict: bool().default(true) });
    const stored = await locatePth(file);
    if (stored) return this.loadStored(file, stored, strict);
    return this.loadEntries(`loading ${file}`, await loadPth(file), strict);
  }

  /** @internal Loads a new model's weights and moves it to `device`; a failure disposes of it. */
  protected async adopt(weights: Weights, strict: boolean, device: Device | undefined): Promise<this> {
    const { file, stored, tensors } = weights;
    try {
      await (stored ? this.loadStored(file, stored, strict) : this.loadEntries(`loading ${file}`, tensors!, strict));
      if (device) await this.to(device);
    } catch (err) {
      this.dispose();
      throw err;
    }
    return this;
  }

  /** @internal */
  protected loadStored(file: string, stored: Map<string, StoredTensor>, strict: boolean): Promise<LoadResult> {
    const own = this.ownKeys(stored);
    return this.run(`loading ${file}`, () =>
      this.handle.loadStateDictFromFile({ file, names: [...own.keys()], places: [...own.values()], strict })
        .catch((err: Error & { code?: string }) => {
          // A read that failed part-way is the file's fault; a key mismatch is the model's.
          throw err.code === 'ERR_FINETORCH_PTH' ? new PthError(file, err.message, { cause: err }) : err;
        }));
  }

  /** Parameters and buffers, in PyTorch's state_dict order, as CPU copies. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const { names, tensors } = await this.run('stateDict', () => this.handle.stateDict());
    return new Map(names.map((n, i) => [n, tensors[i]]));
  }

  async to(device: Device): Promise<this> {
    checkArg('to', 'device', device, deviceRule);
    this.where = await this.run(`to('${device}')`, () => this.handle.to({ device }));
    return this;
  }

  /**
   * Precision and memory layout, as torch.autocast and channels_last: `amp` autocasts the forward
   * pass and the loss to fp16 (CUDA only, with dynamic loss scaling as torch.cuda.amp.GradScaler)
   * or bf16 (CUDA, or the CPU as torch.autocast('cpu') does); `channelsLast` stores the
   * convolution weights and inputs in NHWC.
   */
  setPrecision(options: { amp?: 'none' | 'fp16' | 'bf16'; channelsLast?: boolean }): this {
    const o = checkOptions('setPrecision', options, { amp: oneOf(['none', 'fp16', 'bf16']).default('none'), channelsLast: bool().default(false) });
    this.checkUsable('setPrecision');
    if (o.amp === 'fp16' && !this.where.startsWith('cuda')) {
      throw new FinetorchError('ERR_FINETORCH_DEVICE', `setPrecision: amp 'fp16' needs the model on a CUDA device ` +
        `(it is on ${this.where}; await net.to('cuda') first, or use 'bf16', which autocast also runs on the CPU)`);
    }
    this.queue.post('setPrecision', () => this.handle.setPrecision(o));
    return this;
  }

  /** The fp16 loss scale (GradScaler.get_scale()). */
  lossScale(): Promise<number> {
    return this.run('lossScale', () => this.handle.lossScale());
  }

  /**
   * Parameters in registration order (as model.parameters()). `exclude: ['fc']` gives the d2l
   * chapter's "all but the output layer"; `include` keeps only the named modules or parameters.
   */
  parameters(options: { include?: string[]; exclude?: string[] } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  namedParameters(options: { include?: string[]; exclude?: string[] } = {}): [string, Parameter][] {
    const o = checkOptions('parameters', options, { include: arrayOf(str()).orUndefined(), exclude: arrayOf(str()).orUndefined() });
    this.checkUsable('parameters');
    for (const prefix of [...(o.include ?? []), ...(o.exclude ?? [])]) this.checkPrefix('parameters', prefix);
    return [...this.params]
      .filter(([name]) => (!o.include || matches(name, o.include)) && !(o.exclude && matches(name, o.exclude)))
      .map(([name, meta]) => [name, new Parameter(this, name, meta.shape)]);
  }

  /** @internal Whether the named parameter trains. */
  requiresGrad(name: string): boolean {
    return this.params.get(name)?.requiresGrad ?? false;
  }

  /**
   * Linear probing: every parameter stops training except the named modules. BatchNorm layers
   * whose parameters are frozen keep running statistics untouched unless `bn: 'train'`.
   */
  freeze(options: { except?: string[]; bn?: 'eval' | 'train' } = {}): this {
    const o = checkOptions('freeze', options, { except: arrayOf(str()).default([]), bn: oneOf(['eval', 'train']).default('eval') });
    o.except.forEach((prefix) => this.checkPrefix('freeze', prefix));
    return this.setTrainable((name) => matches(name, o.except), o.bn === 'train');
  }

  unfreeze(): this {
    return this.setTrainable(() => true, false);
  }

  /** Forward, mean cross-entropy, backward and one optimizer step, in one native call. */
  trainStep(input: HostTensor, target: Target, optimizer: SGD): Promise<StepResult> {
    return this.step(input, target, optimizer, false);
  }

  /** trainStep on backbone features [N, numFeatures]: only the head runs (the linear probe's feature cache). */
  trainHeadStep(features: HostTensor, target: Target, optimizer: SGD): Promise<StepResult> {
    return this.step(features, target, optimizer, true);
  }

  /** Loss and correct count in eval mode under no-grad; logits too when asked. */
  evalStep(input: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.evaluate(input, target, options, false);
  }

  /** evalStep on backbone features [N, numFeatures]: only the head runs. */
  evalHeadStep(features: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.evaluate(features, target, options, true);
  }

  /**
   * Data-parallel training over the job dist.init() joined, as torch.nn.parallel.
   * DistributedDataParallel: every rank takes rank 0's parameters and buffers now (waiting for the
   * others), rank 0's buffers before each training forward pass (broadcastBuffers), and trainStep
   * averages the gradients over the ranks in DDP's buckets (bucketCapMB) while backward runs.
   * Parameters frozen or unfrozen later are taken up at the next step, as a new DDP would.
   */
  async distributed(options: { broadcastBuffers?: boolean; bucketCapMB?: number } = {}): Promise<this> {
    const o = checkOptions('distributed', options, { broadcastBuffers: bool().default(true), bucketCapMB: num({ above: 0 }).default(25) });
    const group = dist.nativeGroup('distributed');
    await this.run('distributed', () => native.distWrapModel({ model: this.handle, group, ...o }));
    this.dataParallel = true;
    return this;
  }

  /** Whether distributed() made this model data-parallel. */
  get isDistributed(): boolean {
    return this.dataParallel;
  }

  /** @internal Rank 0's buffers on every rank (each rank's BatchNorm statistics drift between steps). */
  syncBuffers(): Promise<void> {
    return this.run('syncBuffers', () => native.distSyncBuffers({ model: this.handle }));
  }

  /** @internal The gradient buckets of distributed(): parameter indices, in DDP's reduction order. */
  bucketLayout(): Promise<number[][]> {
    return this.run('bucketLayout', () => native.distBuckets({ model: this.handle }));
  }

  /** Frees the native model once the calls queued before it are done; later calls are errors. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.queue.post('dispose', () => this.handle.dispose());
  }

  /** @internal Runs a native operation on this model's queue; errors name `label`. */
  run<T>(label: string | (() => string), op: () => Promise<T>): Promise<T> {
    if (this.disposed) {
      const name = typeof label === 'string' ? label : label();
      return Promise.reject(new FinetorchError('ERR_FINETORCH_DISPOSED', `${name}: this model has been disposed`));
    }
    return this.queue.run(label, op);
  }

  private async step(input: HostTensor, target: Target, optimizer: SGD, headOnly: boolean): Promise<StepResult> {
    const what = headOnly ? 'trainHeadStep' : 'trainStep';
    this.checkInput(input, what, headOnly);
    const labels = this.checkTarget(target, input.shape[0], what);
    const native = optimizer.nativeFor(this);
    const training = this.mode;
    let stepNumber = 0; // known when the step leaves the queue
    return this.run(() => `step ${stepNumber}`, async () => {
      stepNumber = optimizer.stepCount + 1;
      const result = await this.handle.trainStep({ input, target: labels, headOnly, training, optimizer: native, groups: optimizer.groupOptions() });
      optimizer.stepCount = stepNumber;
      return plain(result);
    });
  }

  private async evaluate(input: HostTensor, target: Target, options: { logits?: boolean }, headOnly: boolean): Promise<StepResult> {
    const what = headOnly ? 'evalHeadStep' : 'evalStep';
    const { logits } = checkOptions(what, options, { logits: bool().default(false) });
    this.checkInput(input, what, headOnly);
    const labels = this.checkTarget(target, input.shape[0], what);
    return this.run(what, async () => plain(await this.handle.evalStep({ input, target: labels, headOnly, logits })));
  }

  private setTrainable(trainable: (name: string) => boolean, bnTrainWhenFrozen: boolean): this {
    this.checkUsable('freeze');
    for (const [name, meta] of this.params) meta.requiresGrad = trainable(name);
    const flags = [...this.params].map(([name, meta]): [string, boolean] => [name, meta.requiresGrad]);
    this.queue.post('freeze', () => this.handle.setRequiresGrad({ flags, bnTrainWhenFrozen }));
    return this;
  }

  /** @internal */
  protected checkUsable(what: string): void {
    if (this.disposed) throw new FinetorchError('ERR_FINETORCH_DISPOSED', `${what}: this model has been disposed`);
  }

  /** A module or parameter name of this model, or an error suggesting the one meant. */
  private checkPrefix(what: string, prefix: string): void {
    const names = [...this.params.keys()];
    if (names.some((n) => matches(n, [prefix]))) return;
    const modules = [...new Set(names.flatMap((n) => n.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))))];
    const meant = didYouMean(prefix, modules);
    throw withCode(new RangeError(`${what}: the model has no module or parameter '${prefix}'${meant ? ` (did you mean '${meant}'?)` : ''}`),
      'ERR_FINETORCH_INVALID_ARG');
  }

  /** @internal Images this model cannot take (a ViT takes one size) are refused here. */
  protected checkImages(_input: HostTensor, _what: string): void {}

  private checkInput(input: HostTensor, what: string, headOnly: boolean): void {
    checkHostTensor(input, `${what}: input`);
    const features = this.numFeatures;
    const ok = input.dtype === 'float32' && (headOnly ? input.shape.length === 2 && input.shape[1] === features
      : input.shape.length === 4 && input.shape[1] === 3);
    if (!ok) {
      throw withCode(new RangeError(`${what}: input must be float32 of shape ${headOnly ? `[N, ${features}]` : '[N, 3, H, W]'}, ` +
        `got ${input.dtype} [${input.shape.join(', ')}]`), 'ERR_FINETORCH_BAD_INPUT');
    }
    if (input.shape[0] === 0) throw withCode(new RangeError(`${what}: the batch is empty (N = 0)`), 'ERR_FINETORCH_BAD_INPUT');
    if (!headOnly) this.checkImages(input, what);
  }

  /** The target as a HostTensor after checking one label in [0, numClasses) per sample. */
  private checkTarget(target: Target, batch: number, what: string): HostTensor {
    if (!(target instanceof Int32Array) && !(target instanceof BigInt64Array)) {
      throw withCode(new TypeError(`${what}: target must be an Int32Array or a BigInt64Array of class indices`), 'ERR_FINETORCH_INVALID_ARG');
    }
    if (target.length !== batch) {
      throw withCode(new RangeError(`${what}: target holds ${target.length} labels for a batch of ${batch}`), 'ERR_FINETORCH_BAD_INPUT');
    }
    for (let i = 0; i < target.length; i++) {
      const label = Number(target[i]);
      if (!(label >= 0 && label < this.classes)) {
        throw withCode(new RangeError(`${what}: label ${label} at index ${i} is out of range for ${this.classes} classes`), 'ERR_FINETORCH_BAD_INPUT');
      }
    }
    return target instanceof Int32Array ? { dtype: 'int32', shape: [batch], data: target } : { dtype: 'int64', shape: [batch], data: target };
  }
}

/** A torchvision ResNet (resnet18 ... wide_resnet101_2) with its fc head. */
export class ResNet extends Model {
  readonly arch: Arch;
  readonly config: ResNetConfig;

  /** @internal */
  protected constructor(arch: Arch, handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    super(handle, numClasses, parameters);
    this.arch = arch;
    this.config = ARCHITECTURES[arch];
  }

  /** A randomly initialised ResNet, as torchvision.models.<arch>(num_classes=...). */
  static async create(options: CreateOptions = {}): Promise<ResNet> {
    const o = checkOptions('ResNet.create', options, {
      arch: archRule.default('resnet18'),
      numClasses: numClassesRule.default(1000),
      seed: seedRule.default(0),
      device: deviceRule.orUndefined(),
    });
    const config = ARCHITECTURES[o.arch];
    const { model, parameters } = await native.createModel({ family: 'resnet', ...config, numClasses: o.numClasses, seed: o.seed });
    const net = new ResNet(o.arch, model, o.numClasses, parameters);
    if (o.device) await net.to(o.device);
    return net;
  }

  /**
   * torchvision's ImageNet weights for `arch` (default resnet18), as
   * `torchvision.models.<arch>(weights='DEFAULT')`: taken from torch.hub's cache, downloaded into it
   * first when missing (see {@link pretrainedWeights}). `ResNet.pretrained('resnet50')` is short
   * for `ResNet.pretrained({ arch: 'resnet50' })`.
   */
  static async pretrained(options: PretrainedModelOptions | Arch = {}): Promise<ResNet> {
    const { arch = 'resnet18', device, ...weights } = typeof options === 'string' ? { arch: options } : options;
    checkArg('ResNet.pretrained', 'arch', arch, archRule);
    return ResNet.load((await pretrainedWeights(arch, weights)).file, { arch, device });
  }

  /**
   * Loads a torchvision ResNet .pth (either torch.save format); the architecture and the number
   * of classes are read off its keys and shapes, and checked before the model is built.
   */
  static async load(file: string, options: LoadOptions = {}): Promise<ResNet> {
    checkArg('ResNet.load', 'file', file, str());
    const o = checkOptions('ResNet.load', options, {
      arch: archRule.orUndefined(),
      strict: bool().default(true),
      device: deviceRule.orUndefined(),
      maxClasses: int({ min: 1 }).default(DEFAULT_MAX_CLASSES),
    });
    const weights = await readWeights(file);
    const { shapes } = weights;
    const { arch, numClasses } = inferArch(shapes, file);
    if (o.arch && o.arch !== arch) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: holds a ${arch} state dict, not the ${o.arch} asked for`);
    }
    const fcIn = shapes.get('fc.weight')![1];
    if (fcIn !== featuresOf(ARCHITECTURES[arch])) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: fc.weight has ${fcIn} inputs, ${arch}'s fc takes ${featuresOf(ARCHITECTURES[arch])}`);
    }
    if (numClasses < 1 || numClasses > o.maxClasses) {
      throw new FinetorchError('ERR_FINETORCH_STATE_DICT', `${file}: fc.weight declares ${numClasses} classes, ` +
        `outside 1..${o.maxClasses} (pass maxClasses to allow more)`);
    }
    return (await ResNet.create({ arch, numClasses })).adopt(weights, o.strict, o.device);
  }

  get classifierName(): string {
    return 'fc';
  }

  get numFeatures(): number {
    return featuresOf(this.config);
  }

  get fc(): Linear {
    return this.getClassifier();
  }

  /** Replaces fc with a fresh Linear(fc.inFeatures, numClasses); every other layer keeps its values. */
  replaceFc(numClasses: number, options: { init?: 'default' | 'xavier'; seed?: number } = {}): Linear {
    return this.resetClassifier(numClasses, options);
  }

  toString(): string {
    return moduleRepr(resnetTree(this.config, this.numClasses, reprStyle(native.runtime.torchVersion)));
  }
}

/** The d2l chapter's model: torchvision's resnet18 (ResNet with arch 'resnet18'). */
export class ResNet18 extends ResNet {
  static async create(options: Omit<CreateOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.create({ ...options, arch: checkArg('ResNet18.create', 'arch', options.arch, oneOf(['resnet18']).default('resnet18')) });
  }

  static async load(file: string, options: Omit<LoadOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.load(file, { ...options, arch: 'resnet18' });
  }

  /** resnet18's ImageNet weights, as `resnet18(weights='DEFAULT')` (see {@link ResNet.pretrained}). */
  static async pretrained(options: Omit<PretrainedModelOptions, 'arch'> & { arch?: 'resnet18' } = {}): Promise<ResNet> {
    return ResNet.pretrained({ ...options, arch: checkArg('ResNet18.pretrained', 'arch', options.arch, oneOf(['resnet18']).default('resnet18')) });
  }
}

function matches(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => name === p || name.startsWith(`${p}.`));
}

function plain(r: NativeStepResult): StepResult {
  return r.logits ? { loss: r.loss, correct: r.correct, logits: r.logits } : { loss: r.loss, correct: r.correct };
}


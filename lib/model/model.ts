// Model: an image classifier living in LibTorch (a torchvision ResNet in model/resnet.ts, timm's
// VisionTransformer in model/vit.ts), with the fine-tuning surgery of the d2l chapter (a fresh
// head, a frozen backbone) and one-call train/eval steps. JavaScript owns the model's metadata
// (classes, device, parameter names, shapes, requiresGrad), updated by the calls that change it,
// so getters never wait for the native side; every native call runs through the model's queue, in
// call order.
import { native, NativeMae, NativeModel, NativeOptimizerStep, NativeStepResult } from '../base/binding';
import { arrayOf, bool, checkArg, checkOptions, didYouMean, int, num, oneOf, Rule, str } from '../base/check';
import { dist } from '../dist/process-group';
import { FinetorchError, rangeError, typeError } from '../base/errors';
import { OnnxExportOptions, exportOnnx } from '../export';
import type { OnnxSource } from '../export/export';
import { AMP_DTYPES, Amp } from './precision';
import { StoredTensor } from '../pth';
import { OperationQueue } from '../base/queue';
import { checkHostTensor, HostTensor } from '../base/tensor';
import type { SoftTarget, Target } from '../data/batch';
import { loadWeights, locateWeights } from './weights-file';
import { ModuleNode, ReprStyle, maeProbeNorm, reprStyle, withMaeProbeHead } from './module-tree';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** How trainStep computes its loss. */
export interface TrainStepOptions {
  /** cross_entropy's label_smoothing (timm's LabelSmoothingCrossEntropy) for class-index targets; default 0. */
  labelSmoothing?: number;
}

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

/**
 * An optimizer whose update trainStep runs inside its one native call (SGD): the optimizer keeps
 * its state and counts its steps itself; the model only hands it the step to run.
 */
export interface StepOptimizer {
  /** Steps taken so far. */
  readonly stepCount: number;
  /**
   * @internal How to run one step of `model`, checked now against the model whose parameters the
   * optimizer holds: `update` performs the step natively with the optimizer's state and its groups'
   * hyper-parameters at that moment, and the optimizer counts the step once `update` resolves.
   */
  stepFor(model: ParameterOwner): <R>(update: (o: NativeOptimizerStep) => Promise<R>) => Promise<R>;
}

/**
 * What holds Parameters and steps them with an optimizer: a classifier (Model), a masked
 * autoencoder (MaskedAutoencoder).
 */
export interface ParameterOwner {
  /** @internal The native object an optimizer attaches to. */
  readonly handle: NativeModel | NativeMae;
  /** @internal Every call on the model (and its optimizers) runs through this queue. */
  readonly queue: OperationQueue;
  /** @internal Runs a native operation on the model's queue; errors name `label`. */
  run<T>(label: string | (() => string), op: () => Promise<T>): Promise<T>;
  /** @internal Whether the named parameter trains. */
  requiresGrad(name: string): boolean;
}

/** A handle to one native parameter tensor (not a copy). */
export class Parameter {
  constructor(readonly owner: ParameterOwner, readonly name: string, readonly shape: readonly number[]) {}
  /** False while frozen. */
  get requiresGrad(): boolean {
    return this.owner.requiresGrad(this.name);
  }
}

/**
 * The head's kind: a Linear (torchvision's fc, timm's head), or MAE's linear-probe head as
 * main_linprobe.py makes it, Sequential(BatchNorm1d(features, affine=False, eps=1e-6), Linear), whose
 * state_dict keys are `head.0.running_mean/running_var/num_batches_tracked` and `head.1.weight/bias`.
 */
export type HeadKind = 'linear' | 'mae-probe';

/**
 * How resetClassifier starts the Linear: nn.Linear's own initialisation ('default'),
 * xavier_uniform_ weights ('xavier'), or timm's trunc_normal_(weight, std) and a zero bias
 * ('trunc-normal': MAE's probe uses std 0.01, main_linprobe.py; its fine-tuning 2e-5, main_finetune.py).
 */
export type HeadInit = 'default' | 'xavier' | 'trunc-normal';

/** {@link Model.resetClassifier}'s options. */
export interface ResetClassifierOptions {
  /** Default 'linear'. */
  head?: HeadKind;
  /** Default 'trunc-normal' for the 'mae-probe' head (MAE's), 'default' for a Linear. */
  init?: HeadInit;
  /** trunc_normal_'s std (only with init 'trunc-normal'): default 0.01 for 'mae-probe' (MAE's), 0.02 for a Linear (timm's). */
  std?: number;
  /** Seeds the draw as torch.manual_seed(seed) before building the head would. */
  seed?: number;
}

/** What `net.fc` (a ViT's `net.head`) shows: the linear head (or MAE's probe head), as torch prints it. */
export class Linear {
  readonly #net: Model;

  constructor(net: Model, readonly inFeatures: number, readonly outFeatures: number, readonly kind: HeadKind = 'linear') {
    this.#net = net;
  }
  parameters(): Parameter[] {
    return this.#net.parameters({ include: [this.#net.classifierName] });
  }
  toString(): string {
    const linear = `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=True)`;
    if (this.kind === 'linear') return linear;
    return `Sequential(\n  (0): ${maeProbeNorm(this.inFeatures, this.#net.reprStyle)}\n  (1): ${linear}\n)`;
  }
}

/** @internal */
export const deviceRule = str().where("naming 'cpu', 'cuda' or 'cuda:N'", (v) => /^(cpu|cuda(:\d+)?)$/.test(v)) as Rule<Device>;
/** @internal */
export const seedRule = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** @internal */
export const numClassesRule = int({ min: 1, max: 2 ** 31 - 1 });
/** @internal A class count past which a state dict's head is taken for a forgery, unless maxClasses says otherwise. */
export const DEFAULT_MAX_CLASSES = 100_000;

/**
 * @internal A weights file's state dict as a load reads it: where each tensor lies (to be read
 * straight into the model) with the error a failed read becomes or, where that cannot be, the
 * tensors; and every key's shape.
 */
export interface Weights {
  file: string;
  stored?: Map<string, StoredTensor>;
  readError?: (err: Error) => Error;
  tensors?: Map<string, HostTensor>;
  shapes: Map<string, number[]>;
}

/** @internal A .pth or .safetensors file's state dict, located (or read, where it cannot be located). */
export async function readWeights(file: string): Promise<Weights> {
  const { places: stored, readError } = await locateWeights(file);
  const tensors = stored ? undefined : await loadWeights(file);
  return { file, stored, readError, tensors, shapes: new Map([...(stored ?? tensors!)].map(([k, t]) => [k, t.shape])) };
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
export abstract class Model implements ParameterOwner {
  /** @internal */
  readonly handle: NativeModel;
  /** @internal Every call on this model (and its optimizers) runs through this queue. */
  readonly queue = new OperationQueue();
  #mode = true;
  #classes: number;
  #headKind: HeadKind = 'linear';
  #where = 'cpu';
  readonly #params: Map<string, ParameterMeta>;
  #disposed = false;
  #dataParallel = false;
  /** Whether the steps issue collectives (distributed() was called). */
  #collectives = false;

  /** @internal */
  protected constructor(handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    this.handle = handle;
    this.#classes = numClasses;
    this.#params = new Map(parameters.map((p) => [p.name, { shape: p.shape, requiresGrad: true }]));
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
    return new Linear(this, this.numFeatures, this.#classes, this.#headKind);
  }

  /** The head's kind: 'mae-probe' after resetClassifier(n, { head: 'mae-probe' }). */
  get headKind(): HeadKind {
    return this.#headKind;
  }

  /**
   * Replaces the head with a fresh Linear(numFeatures, numClasses) (timm's reset_classifier), or
   * with MAE's probe head (`head: 'mae-probe'`); every other layer keeps its values.
   */
  resetClassifier(numClasses: number, options: ResetClassifierOptions = {}): Linear {
    checkArg('resetClassifier', 'numClasses', numClasses, numClassesRule);
    const o = checkOptions('resetClassifier', options, {
      head: oneOf(['linear', 'mae-probe'] as const).default('linear'), init: oneOf(['default', 'xavier', 'trunc-normal'] as const).orUndefined(),
      std: num({ above: 0 }).orUndefined(), seed: seedRule.orUndefined(),
    });
    const init = o.init ?? (o.head === 'mae-probe' ? 'trunc-normal' : 'default');
    if (o.std !== undefined && init !== 'trunc-normal') {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', `resetClassifier: std is trunc_normal_'s, so it needs init 'trunc-normal' (init is '${init}')`);
    }
    const std = o.std ?? (o.head === 'mae-probe' ? 0.01 : 0.02);
    this.#checkUsable('resetClassifier');
    const name = this.classifierName;
    for (const key of [...this.#params.keys()]) if (matches(key, [name])) this.#params.delete(key);
    const linear = o.head === 'mae-probe' ? `${name}.1` : name;
    this.#classes = numClasses;
    this.#headKind = o.head;
    this.#params.set(`${linear}.weight`, { shape: [numClasses, this.numFeatures], requiresGrad: true });
    this.#params.set(`${linear}.bias`, { shape: [numClasses], requiresGrad: true });
    const { seed, head } = o;
    this.queue.post('resetClassifier', () => this.handle.resetClassifier({ numClasses, head, init, std, ...(seed === undefined ? {} : { seed }) }));
    return this.getClassifier();
  }

  /** @internal print(model)'s text style, that of the PyTorch of finetorch's LibTorch. */
  get reprStyle(): ReprStyle {
    return reprStyle(native.runtime.torchVersion);
  }

  /** @internal `tree` (this family's module tree) with this model's head in place of the Linear it has. */
  protected withHead(tree: ModuleNode): ModuleNode {
    if (this.#headKind === 'linear') return tree;
    return withMaeProbeHead(tree, this.classifierName, this.numFeatures, this.#classes, this.reprStyle);
  }

  get numClasses(): number {
    return this.#classes;
  }

  /** Where the model lives: 'cpu' or 'cuda:N'. */
  get device(): string {
    return this.#where;
  }

  /** Whether forward() and trainStep() run in train mode (batch statistics) or eval mode, as nn.Module. */
  get training(): boolean {
    return this.#mode;
  }

  train(mode = true): this {
    this.#mode = checkArg('train', 'mode', mode, bool());
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Logits [N, numClasses] for input [N, 3, H, W] float32, without autograd. */
  async forward(input: HostTensor): Promise<HostTensor<'float32'>> {
    this.#checkInput(input, 'forward', false);
    const training = this.#mode;
    return this.run('forward', () => this.handle.forward({ input, training }));
  }

  /** The backbone's pooled [N, numFeatures] features (eval mode), what the linear head sees. */
  async features(input: HostTensor): Promise<HostTensor<'float32'>> {
    this.#checkInput(input, 'features', false);
    return this.run('features', () => this.handle.features({ input }));
  }

  async loadStateDict(stateDict: StateDictInput, options: { strict?: boolean } = {}): Promise<LoadResult> {
    const { strict } = checkOptions('loadStateDict', options, { strict: bool().default(true) });
    if (!(stateDict instanceof Map) && (typeof stateDict !== 'object' || stateDict === null)) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', 'loadStateDict: stateDict must be a Map or an object of HostTensors');
    }
    return this.#loadEntries('loadStateDict', stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict)), strict);
  }

  /** @internal A state dict under this model's own key names (a ViT also reads torchvision's). */
  protected ownKeys<T>(stateDict: Map<string, T>): Map<string, T> {
    return stateDict;
  }

  #loadEntries(label: string, stateDict: Map<string, HostTensor>, strict: boolean): Promise<LoadResult> {
    stateDict.forEach((t, name) => checkHostTensor(t, `state_dict['${name}']`));
    const own = this.ownKeys(stateDict);
    return this.run(label, () => this.handle.loadStateDict({ names: [...own.keys()], tensors: [...own.values()], strict }));
  }

  /** @internal Loads a new model's weights and moves it to `device`; a failure disposes of it. */
  protected async adopt(weights: Weights, strict: boolean, device: Device | undefined): Promise<this> {
    const { file, stored, readError, tensors } = weights;
    try {
      await (stored && readError ? this.#loadStored(file, stored, readError, strict) : this.#loadEntries(`loading ${file}`, tensors!, strict));
      if (device) await this.to(device);
    } catch (err) {
      this.dispose();
      throw err;
    }
    return this;
  }

  /**
   * `loadStateDict(await loadPth(file))` in one step, for a .pth or a .safetensors file (told apart
   * by content): each tensor is read from the file straight into the model, skipping the copy in
   * between. (Like torch.load, this path does not check the zip records' CRCs; loadPth does.)
   */
  async loadPth(file: string, options: { strict?: boolean } = {}): Promise<LoadResult> {
    checkArg('loadPth', 'file', file, str());
    const { strict } = checkOptions('loadPth', options, { strict: bool().default(true) });
    const { places, readError } = await locateWeights(file);
    if (places) return this.#loadStored(file, places, readError, strict);
    return this.#loadEntries(`loading ${file}`, await loadWeights(file), strict);
  }

  #loadStored(file: string, stored: Map<string, StoredTensor>, readError: (err: Error) => Error, strict: boolean): Promise<LoadResult> {
    const own = this.ownKeys(stored);
    return this.run(`loading ${file}`, () =>
      this.handle.loadStateDictFromFile({ file, names: [...own.keys()], places: [...own.values()], strict })
        .catch((err: Error & { code?: string }) => {
          // A read that failed part-way is the file's fault (the addon reports it as a .pth error); a key mismatch is the model's.
          throw err.code === 'ERR_FINETORCH_PTH' ? readError(err) : err;
        }));
  }

  /** Parameters and buffers, in PyTorch's state_dict order, as CPU copies. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const { names, tensors } = await this.run('stateDict', () => this.handle.stateDict());
    return new Map(names.map((n, i) => [n, tensors[i]]));
  }

  /**
   * Writes the model to `file` as ONNX (as torch.onnx.export does): the eval-mode forward, whatever
   * `training` says, input [batch, 3, S, S] float32 named 'input', output [batch, numClasses]
   * named 'logits', and metadata_props recording the architecture, the class names when given and
   * the preprocessing (see {@link OnnxExportOptions}; `readOnnxMetadata` reads them back). A
   * VisionTransformer takes its own image size only (config.imgSize, the default for it).
   */
  async exportOnnx(file: string, options: OnnxExportOptions = {}): Promise<void> {
    return exportOnnx(file, this.onnxSource(() => this.stateDict()), options);
  }

  /** @internal The graph exportOnnx writes. */
  protected abstract onnxSource(stateDict: () => Promise<Map<string, HostTensor>>): OnnxSource;

  async to(device: Device): Promise<this> {
    checkArg('to', 'device', device, deviceRule);
    this.#where = await this.run(`to('${device}')`, () => this.handle.to({ device }));
    return this;
  }

  /**
   * Precision and memory layout, as torch.autocast and channels_last: `amp` autocasts the forward
   * pass and the loss to fp16 (CUDA only, with dynamic loss scaling as torch.cuda.amp.GradScaler)
   * or bf16 (CUDA, or the CPU as torch.autocast('cpu') does); `channelsLast` stores the
   * convolution weights and inputs in NHWC.
   */
  setPrecision(options: { amp?: Amp; channelsLast?: boolean }): this {
    const o = checkOptions('setPrecision', options, { amp: oneOf(AMP_DTYPES).default('none'), channelsLast: bool().default(false) });
    this.#checkUsable('setPrecision');
    if (o.amp === 'fp16' && !this.#where.startsWith('cuda')) {
      throw new FinetorchError('ERR_FINETORCH_DEVICE', `setPrecision: amp 'fp16' needs the model on a CUDA device ` +
        `(it is on ${this.#where}; await net.to('cuda') first, or use 'bf16', which autocast also runs on the CPU)`);
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
   * fine-tuning chapter's "all but the output layer"; `include` keeps only the named modules or parameters.
   */
  parameters(options: { include?: string[]; exclude?: string[] } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  namedParameters(options: { include?: string[]; exclude?: string[] } = {}): [string, Parameter][] {
    const o = checkOptions('parameters', options, { include: arrayOf(str()).orUndefined(), exclude: arrayOf(str()).orUndefined() });
    this.#checkUsable('parameters');
    for (const prefix of [...(o.include ?? []), ...(o.exclude ?? [])]) this.#checkPrefix('parameters', prefix);
    return [...this.#params]
      .filter(([name]) => (!o.include || matches(name, o.include)) && !(o.exclude && matches(name, o.exclude)))
      .map(([name, meta]) => [name, new Parameter(this, name, meta.shape)]);
  }

  /** @internal Whether the named parameter trains. */
  requiresGrad(name: string): boolean {
    return this.#params.get(name)?.requiresGrad ?? false;
  }

  /**
   * Linear probing: every parameter stops training except the named modules. BatchNorm layers
   * whose parameters are frozen keep running statistics untouched unless `bn: 'train'`.
   */
  freeze(options: { except?: string[]; bn?: 'eval' | 'train' } = {}): this {
    const o = checkOptions('freeze', options, { except: arrayOf(str()).default([]), bn: oneOf(['eval', 'train']).default('eval') });
    o.except.forEach((prefix) => this.#checkPrefix('freeze', prefix));
    return this.#setTrainable((name) => matches(name, o.except), o.bn === 'train');
  }

  unfreeze(): this {
    return this.#setTrainable(() => true, false);
  }

  /** Forward, mean cross-entropy, backward and one optimizer step, in one native call. */
  trainStep(input: HostTensor, target: Target | SoftTarget, optimizer: StepOptimizer, options: TrainStepOptions = {}): Promise<StepResult> {
    return this.#step(input, target, optimizer, options, false);
  }

  /** trainStep on backbone features [N, numFeatures]: only the head runs (the linear probe's feature cache). */
  trainHeadStep(features: HostTensor, target: Target | SoftTarget, optimizer: StepOptimizer, options: TrainStepOptions = {}): Promise<StepResult> {
    return this.#step(features, target, optimizer, options, true);
  }

  /** Loss and correct count in eval mode under no-grad; logits too when asked. */
  evalStep(input: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.#evaluate(input, target, options, false);
  }

  /** evalStep on backbone features [N, numFeatures]: only the head runs. */
  evalHeadStep(features: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.#evaluate(features, target, options, true);
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
    // From this call on, the steps issue collectives: each takes its turn among the job's.
    this.#collectives = true;
    await this.#runCollective('distributed', () => native.distWrapModel({ model: this.handle, group, ...o }));
    this.#dataParallel = true;
    return this;
  }

  /** Whether distributed() made this model data-parallel. */
  get isDistributed(): boolean {
    return this.#dataParallel;
  }

  /** @internal Rank 0's buffers on every rank (each rank's BatchNorm statistics drift between steps). */
  syncBuffers(): Promise<void> {
    return this.#runCollective('syncBuffers', () => native.distSyncBuffers({ model: this.handle }));
  }

  /** @internal The gradient buckets of distributed(): parameter indices, in DDP's reduction order. */
  bucketLayout(): Promise<number[][]> {
    return this.run('bucketLayout', () => native.distBuckets({ model: this.handle }));
  }

  /** Frees the native model once the calls queued before it are done; later calls are errors. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.queue.post('dispose', () => this.handle.dispose());
  }

  /** @internal Runs a native operation on this model's queue; errors name `label`. */
  run<T>(label: string | (() => string), op: () => Promise<T>): Promise<T> {
    if (this.#disposed) {
      const name = typeof label === 'string' ? label : label();
      return Promise.reject(new FinetorchError('ERR_FINETORCH_DISPOSED', `${name}: this model has been disposed`));
    }
    return this.queue.run(label, op);
  }

  /**
   * Runs `op` on this model's queue and, at once, in its turn among the collectives of the job
   * (dist's queue): both taken now, in call order, so that the model's broadcasts and gradient
   * sums meet the same collectives on every rank. The turn ends with `op`, or when the model's
   * queue refuses to run it.
   */
  #runCollective<T>(label: string | (() => string), op: () => Promise<T>): Promise<T> {
    const turn = dist.collectiveTurn();
    let ended = false;
    const end = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      (await turn)();
    };
    return this.run(label, async () => {
      await turn;
      try {
        return await op();
      } finally {
        await end();
      }
    }).finally(end);
  }

  async #step(input: HostTensor, target: Target | SoftTarget, optimizer: StepOptimizer, options: TrainStepOptions,
    headOnly: boolean): Promise<StepResult> {
    const what = headOnly ? 'trainHeadStep' : 'trainStep';
    const { labelSmoothing } = checkOptions(what, options, { labelSmoothing: num({ min: 0, max: 1 }).default(0) });
    this.#checkInput(input, what, headOnly);
    const n = input.shape[0];
    const labels = isSoftTarget(target) ? this.#checkSoftTarget(target, n, what) : this.#checkTarget(target, n, what);
    const runStep = optimizer.stepFor(this);
    const training = this.#mode;
    const work = async () => plain(await runStep((o) => this.handle.trainStep({ input, target: labels, headOnly, labelSmoothing, training, ...o })));
    // A failed step is not counted: its number is the count after the steps before it, plus one.
    const label = () => `step ${optimizer.stepCount + 1}`;
    return this.#collectives ? this.#runCollective(label, work) : this.run(label, work);
  }

  async #evaluate(input: HostTensor, target: Target, options: { logits?: boolean }, headOnly: boolean): Promise<StepResult> {
    const what = headOnly ? 'evalHeadStep' : 'evalStep';
    const { logits } = checkOptions(what, options, { logits: bool().default(false) });
    this.#checkInput(input, what, headOnly);
    const labels = this.#checkTarget(target, input.shape[0], what);
    return this.run(what, async () => plain(await this.handle.evalStep({ input, target: labels, headOnly, logits })));
  }

  #setTrainable(trainable: (name: string) => boolean, bnTrainWhenFrozen: boolean): this {
    this.#checkUsable('freeze');
    for (const [name, meta] of this.#params) meta.requiresGrad = trainable(name);
    const flags = [...this.#params].map(([name, meta]): [string, boolean] => [name, meta.requiresGrad]);
    this.queue.post('freeze', () => this.handle.setRequiresGrad({ flags, bnTrainWhenFrozen }));
    return this;
  }

  #checkUsable(what: string): void {
    if (this.#disposed) throw new FinetorchError('ERR_FINETORCH_DISPOSED', `${what}: this model has been disposed`);
  }

  /** A module or parameter name of this model, or an error suggesting the one meant. */
  #checkPrefix(what: string, prefix: string): void {
    const names = [...this.#params.keys()];
    if (names.some((n) => matches(n, [prefix]))) return;
    const modules = [...new Set(names.flatMap((n) => n.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))))];
    const meant = didYouMean(prefix, modules);
    throw rangeError('ERR_FINETORCH_INVALID_ARG', `${what}: the model has no module or parameter '${prefix}'${meant ? ` (did you mean '${meant}'?)` : ''}`);
  }

  /** @internal Images this model cannot take (a ViT takes one size) are refused here. */
  protected checkImages(_input: HostTensor, _what: string): void {}

  #checkInput(input: HostTensor, what: string, headOnly: boolean): void {
    checkHostTensor(input, `${what}: input`);
    const features = this.numFeatures;
    const ok = input.dtype === 'float32' && (headOnly ? input.shape.length === 2 && input.shape[1] === features
      : input.shape.length === 4 && input.shape[1] === 3);
    if (!ok) {
      throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: input must be float32 of shape ${headOnly ? `[N, ${features}]` : '[N, 3, H, W]'}, ` +
        `got ${input.dtype} [${input.shape.join(', ')}]`);
    }
    if (input.shape[0] === 0) throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: the batch is empty (N = 0)`);
    if (!headOnly) this.checkImages(input, what);
  }

  /** Soft targets checked for dtype and shape (their values are the loss's to judge: a NaN stops the step). */
  #checkSoftTarget(target: SoftTarget, batch: number, what: string): HostTensor {
    checkHostTensor(target, `${what}: target`);
    if (target.dtype !== 'float32' || target.shape.length !== 2 || target.shape[0] !== batch || target.shape[1] !== this.numClasses) {
      throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: soft targets must be float32 [${batch}, ${this.numClasses}], ` +
        `got ${target.dtype} [${target.shape.join(', ')}]`);
    }
    return target;
  }

  /** The target as a HostTensor after checking one label in [0, numClasses) per sample. */
  #checkTarget(target: Target, batch: number, what: string): HostTensor {
    if (!(target instanceof Int32Array) && !(target instanceof BigInt64Array)) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', `${what}: target must be an Int32Array or a BigInt64Array of class indices`);
    }
    if (target.length !== batch) {
      throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: target holds ${target.length} labels for a batch of ${batch}`);
    }
    for (let i = 0; i < target.length; i++) {
      const label = Number(target[i]);
      if (!(label >= 0 && label < this.#classes)) {
        throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: label ${label} at index ${i} is out of range for ${this.#classes} classes`);
      }
    }
    return target instanceof Int32Array ? { dtype: 'int32', shape: [batch], data: target } : { dtype: 'int64', shape: [batch], data: target };
  }
}

function matches(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => name === p || name.startsWith(`${p}.`));
}

function isSoftTarget(target: Target | SoftTarget): target is SoftTarget {
  return !ArrayBuffer.isView(target) && typeof target === 'object' && target !== null && 'dtype' in target;
}

function plain(r: NativeStepResult): StepResult {
  return r.logits ? { loss: r.loss, correct: r.correct, logits: r.logits } : { loss: r.loss, correct: r.correct };
}


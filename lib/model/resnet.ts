// ResNet: a torchvision ResNet living in LibTorch, with the fine-tuning surgery of the d2l chapter
// (replace fc, freeze the backbone) and one-call train/eval steps. JavaScript owns the model's
// metadata (classes, device, parameter names, shapes, requiresGrad), updated by the calls that
// change it, so getters never wait for the native side; every native call runs through the
// model's queue, in call order.
import { ARCH_NAMES, ARCHITECTURES, Arch, ResNetConfig, featuresOf, inferArch, moduleRepr, reprStyle, resnetTree } from './resnet-architectures';
import { native, NativeModel, NativeOptimizerStep, NativeStepResult } from '../base/binding';
import { arrayOf, bool, checkArg, checkOptions, didYouMean, int, num, oneOf, Rule, str } from '../base/check';
import { dist } from '../dist/process-group';
import { FinetorchError, rangeError, typeError } from '../base/errors';
import { OnnxExportOptions, exportOnnx } from '../export';
import { AMP_DTYPES, Amp } from './precision';
import { resnetSource } from './resnet-onnx';
import { PRETRAINED_RULES, PretrainedOptions, pretrainedWeights } from './torchvision-weights';
import type { HubDownloadOptions } from './timm-weights';
import { isHubId } from './timm-ids';
import { StoredTensor } from '../pth';
import { OperationQueue } from '../base/queue';
import { checkHostTensor, HostTensor } from '../base/tensor';
import type { SoftTarget, Target } from '../data/batch';
import { loadWeights, locateWeights } from './weights-file';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** How trainStep computes its loss. */
export interface TrainStepOptions {
  /** cross_entropy's label_smoothing (timm's LabelSmoothingCrossEntropy) for class-index targets; default 0. */
  labelSmoothing?: number;
}
export type { Arch, ResNetConfig } from './resnet-architectures';

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
  stepFor(model: ResNet): <R>(update: (o: NativeOptimizerStep) => Promise<R>) => Promise<R>;
}

/** A handle to one native parameter tensor (not a copy). */
export class Parameter {
  constructor(readonly owner: ResNet, readonly name: string, readonly shape: readonly number[]) {}
  /** False while frozen. */
  get requiresGrad(): boolean {
    return this.owner.requiresGrad(this.name);
  }
}

/** What `net.fc` shows: the linear head, as torch prints it. */
export class Linear {
  readonly #net: ResNet;

  constructor(net: ResNet, readonly inFeatures: number, readonly outFeatures: number) {
    this.#net = net;
  }
  parameters(): Parameter[] {
    return this.#net.parameters({ include: ['fc'] });
  }
  toString(): string {
    return `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=True)`;
  }
}

const archRule = oneOf(ARCH_NAMES);
const deviceRule = str().where("naming 'cpu', 'cuda' or 'cuda:N'", (v) => /^(cpu|cuda(:\d+)?)$/.test(v)) as Rule<Device>;
const seedRule = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** A class count past which a state dict's fc is taken for a forgery, unless maxClasses says otherwise. */
const DEFAULT_MAX_CLASSES = 100_000;

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

/** {@link ResNet.pretrained}'s options for an 'hf-hub:' id: the download (revision, cache, token, ...) and the device. */
export interface HubModelOptions extends HubDownloadOptions {
  device?: Device;
}

interface ParameterMeta {
  shape: number[];
  requiresGrad: boolean;
}

/** Why loading takes no class count (timm's create_model(..., num_classes) does). */
const CLASSES_FROM_WEIGHTS = {
  numClasses: "the number of classes comes from the weights (fc.weight's rows); net.replaceFc(numClasses) then gives the model " +
    'a new fc of that many outputs',
};

export class ResNet {
  readonly arch: Arch;
  readonly config: ResNetConfig;
  /** @internal */
  readonly handle: NativeModel;
  /** @internal Every call on this model (and its optimizers) runs through this queue. */
  readonly queue = new OperationQueue();
  #mode = true;
  #classes: number;
  #where = 'cpu';
  readonly #params: Map<string, ParameterMeta>;
  #disposed = false;
  #dataParallel = false;
  /** Whether the steps issue collectives (distributed() was called). */
  #collectives = false;

  /** @internal */
  protected constructor(arch: Arch, handle: NativeModel, numClasses: number, parameters: { name: string; shape: number[] }[]) {
    this.arch = arch;
    this.config = ARCHITECTURES[arch];
    this.handle = handle;
    this.#classes = numClasses;
    this.#params = new Map(parameters.map((p) => [p.name, { shape: p.shape, requiresGrad: true }]));
  }

  /** A randomly initialised ResNet, as torchvision.models.<arch>(num_classes=...). */
  static async create(options: CreateOptions = {}): Promise<ResNet> {
    const o = checkOptions('ResNet.create', options, {
      arch: archRule.default('resnet18'),
      numClasses: int({ min: 1, max: 2 ** 31 - 1 }).default(1000),
      seed: seedRule.default(0),
      device: deviceRule.orUndefined(),
    });
    const config = ARCHITECTURES[o.arch];
    const { model, parameters } = await native.createModel({ ...config, numClasses: o.numClasses, seed: o.seed });
    const net = new ResNet(o.arch, model, o.numClasses, parameters);
    if (o.device) await net.to(o.device);
    return net;
  }

  /**
   * Pretrained ImageNet weights, taken from the cache their source shares with Python and
   * downloaded into it first when missing (see {@link pretrainedWeights}):
   * - torchvision's for `arch` (default resnet18), as `torchvision.models.<arch>(weights='DEFAULT')`.
   *   `ResNet.pretrained('resnet50', { weights: 'IMAGENET1K_V1' })` is short for
   *   `ResNet.pretrained({ arch: 'resnet50', weights: 'IMAGENET1K_V1' })`;
   * - timm's from the Hugging Face Hub, as `timm.create_model('hf-hub:timm/resnet50.a1_in1k',
   *   pretrained=True)`: `ResNet.pretrained('hf-hub:timm/resnet50.a1_in1k', { revision, device })`.
   */
  static async pretrained(source: PretrainedModelOptions | Arch | `hf-hub:${string}` = {}, options: PretrainedModelOptions | HubModelOptions = {}): Promise<ResNet> {
    if (isHubId(source)) {
      const { device, ...download } = options as HubModelOptions;
      const { file, arch, config, repoId } = await pretrainedWeights(source, download);
      const net = await ResNet.load(file, { arch, device });
      if (net.numClasses !== config.numClasses) {
        net.dispose();
        throw new FinetorchError('ERR_FINETORCH_HUB', `${repoId}: config.json says ${config.numClasses} classes, the weights' fc has ${net.numClasses}`);
      }
      return net;
    }
    if (typeof source !== 'string' && Object.keys(options).length) {
      throw typeError('ERR_FINETORCH_INVALID_ARG', 'ResNet.pretrained: with an options object first, there is no second argument ' +
        "(ResNet.pretrained({ arch, weights, device }), or ResNet.pretrained('resnet50', { weights, device }))");
    }
    const given = typeof source === 'string' ? { ...options as PretrainedModelOptions, arch: source } : source;
    checkOptions('ResNet.pretrained', given, { ...PRETRAINED_RULES, arch: archRule.orUndefined(), device: deviceRule.orUndefined() },
      CLASSES_FROM_WEIGHTS);
    const { arch = 'resnet18', device, ...weights } = given;
    return ResNet.load((await pretrainedWeights(arch, weights)).file, { arch, device });
  }

  /**
   * Loads a torchvision ResNet state dict from a .pth (either torch.save format) or a .safetensors
   * file (timm's and Hugging Face's), told apart by content; the architecture and the number of
   * classes are read off its keys and shapes, and checked before the model is built.
   */
  static async load(file: string, options: LoadOptions = {}): Promise<ResNet> {
    checkArg('ResNet.load', 'file', file, str());
    const o = checkOptions('ResNet.load', options, {
      arch: archRule.orUndefined(),
      strict: bool().default(true),
      device: deviceRule.orUndefined(),
      maxClasses: int({ min: 1 }).default(DEFAULT_MAX_CLASSES),
    }, CLASSES_FROM_WEIGHTS);
    const { places: stored, readError } = await locateWeights(file);
    const stateDict = stored ? undefined : await loadWeights(file);
    const shapes = new Map([...(stored ?? stateDict!)].map(([k, t]) => [k, t.shape]));
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
    const net = await ResNet.create({ arch, numClasses });
    try {
      await (stored ? net.#loadStored(file, stored, readError, o.strict) : net.#loadEntries(`loading ${file}`, stateDict!, o.strict));
      if (o.device) await net.to(o.device);
    } catch (err) {
      net.dispose();
      throw err;
    }
    return net;
  }

  get fc(): Linear {
    return new Linear(this, featuresOf(this.config), this.#classes);
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

  /** The module tree as PyTorch's print(model) shows it. */
  toString(): string {
    return moduleRepr(resnetTree(this.config, this.#classes, reprStyle(native.runtime.torchVersion)));
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

  /** The backbone's pooled [N, fc.inFeatures] features (eval mode), what the linear head sees. */
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

  #loadEntries(label: string, stateDict: Map<string, HostTensor>, strict: boolean): Promise<LoadResult> {
    stateDict.forEach((t, name) => checkHostTensor(t, `state_dict['${name}']`));
    return this.run(label, () => this.handle.loadStateDict({ names: [...stateDict.keys()], tensors: [...stateDict.values()], strict }));
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
    return this.run(`loading ${file}`, () =>
      this.handle.loadStateDictFromFile({ file, names: [...stored.keys()], places: [...stored.values()], strict })
        .catch((err: Error & { code?: string }) => {
          // A read that failed part-way is the file's fault (the addon reports it as a .pth error); a key mismatch is the model's.
          throw err.code === 'ERR_FINETORCH_PTH' ? readError(err) : err;
        }));
  }

  /** Parameters and buffers, in torchvision's state_dict order, as CPU copies. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const { names, tensors } = await this.run('stateDict', () => this.handle.stateDict());
    return new Map(names.map((n, i) => [n, tensors[i]]));
  }

  /**
   * Writes the model to `file` as ONNX (as torch.onnx.export does): the eval-mode forward, whatever
   * `training` says, input [batch, 3, S, S] float32 named 'input', output [batch, numClasses]
   * named 'logits', and metadata_props recording the architecture, the class names when given and
   * the preprocessing (see {@link OnnxExportOptions}; `readOnnxMetadata` reads them back).
   */
  exportOnnx(file: string, options: OnnxExportOptions = {}): Promise<void> {
    return exportOnnx(file, resnetSource(this.arch, this.#classes, () => this.stateDict()), options);
  }

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

  /** Replaces fc with a fresh Linear(fc.inFeatures, numClasses); every other layer keeps its values. */
  replaceFc(numClasses: number, options: { init?: 'default' | 'xavier'; seed?: number } = {}): Linear {
    checkArg('replaceFc', 'numClasses', numClasses, int({ min: 1, max: 2 ** 31 - 1 }));
    const o = checkOptions('replaceFc', options, { init: oneOf(['default', 'xavier']).default('default'), seed: seedRule.orUndefined() });
    this.#checkUsable('replaceFc');
    const features = featuresOf(this.config);
    this.#classes = numClasses;
    this.#params.set('fc.weight', { shape: [numClasses, features], requiresGrad: true });
    this.#params.set('fc.bias', { shape: [numClasses], requiresGrad: true });
    this.queue.post('replaceFc', () => this.handle.replaceFc({ numClasses, ...o }));
    return this.fc;
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

  /**
   * Forward, mean cross-entropy, backward and one optimizer step, in one native call. With soft
   * targets the loss is timm's SoftTargetCrossEntropy and `correct` counts the samples whose most
   * probable target class is predicted.
   */
  trainStep(input: HostTensor, target: Target | SoftTarget, optimizer: StepOptimizer, options: TrainStepOptions = {}): Promise<StepResult> {
    return this.#step(input, target, optimizer, options, false);
  }

  /** trainStep on backbone features [N, fc.inFeatures]: only fc runs (the linear probe's feature cache). */
  trainHeadStep(features: HostTensor, target: Target | SoftTarget, optimizer: StepOptimizer, options: TrainStepOptions = {}): Promise<StepResult> {
    return this.#step(features, target, optimizer, options, true);
  }

  /** Loss and correct count in eval mode under no-grad; logits too when asked. */
  evalStep(input: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.#evaluate(input, target, options, false);
  }

  /** evalStep on backbone features [N, fc.inFeatures]: only fc runs. */
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

  #checkInput(input: HostTensor, what: string, headOnly: boolean): void {
    checkHostTensor(input, `${what}: input`);
    const features = featuresOf(this.config);
    const ok = input.dtype === 'float32' && (headOnly ? input.shape.length === 2 && input.shape[1] === features
      : input.shape.length === 4 && input.shape[1] === 3);
    if (!ok) {
      throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: input must be float32 of shape ${headOnly ? `[N, ${features}]` : '[N, 3, H, W]'}, ` +
        `got ${input.dtype} [${input.shape.join(', ')}]`);
    }
    if (input.shape[0] === 0) throw rangeError('ERR_FINETORCH_BAD_INPUT', `${what}: the batch is empty (N = 0)`);
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

/** torchvision's resnet18 (ResNet with arch 'resnet18'), the model of the d2l fine-tuning chapter. */
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

function isSoftTarget(target: Target | SoftTarget): target is SoftTarget {
  return !ArrayBuffer.isView(target) && typeof target === 'object' && target !== null && 'dtype' in target;
}

function plain(r: NativeStepResult): StepResult {
  return r.logits ? { loss: r.loss, correct: r.correct, logits: r.logits } : { loss: r.loss, correct: r.correct };
}


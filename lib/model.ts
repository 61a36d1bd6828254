// ResNet18: torchvision's resnet18 living in LibTorch, with the fine-tuning surgery of the
// d2l chapter (replace fc, freeze the backbone) and one-call train/eval steps.
import { native, NativeModel, NativeStepResult } from './binding';
import { PthError, StoredTensor, loadPth, locatePth } from './pth';
import { checkHostTensor, HostTensor } from './tensor';
import type { SGD } from './optim';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type Target = Int32Array | BigInt64Array;

/** A handle to one native parameter tensor (not a copy). */
export class Parameter {
  constructor(readonly owner: ResNet18, readonly name: string, readonly shape: readonly number[]) {}
  /** False while frozen. */
  get requiresGrad(): boolean {
    return this.owner.native.parameters().find((p) => p.name === this.name)?.requiresGrad ?? false;
  }
}

/** What `net.fc` shows: the linear head, as torch prints it. */
export class Linear {
  constructor(private readonly net: ResNet18, readonly inFeatures: number, readonly outFeatures: number) {}
  parameters(): Parameter[] {
    return this.net.parameters({ include: ['fc'] });
  }
  toString(): string {
    return `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=True)`;
  }
}

export interface StepResult {
  loss: number;
  correct: number;
  logits?: HostTensor<'float32'>;
}

export interface LoadOptions {
  strict?: boolean;
  device?: Device;
}

export type StateDictInput = Map<string, HostTensor> | Record<string, HostTensor>;

function matches(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => name === p || name.startsWith(`${p}.`));
}

function targetTensor(target: Target): HostTensor {
  if (target instanceof Int32Array) return { dtype: 'int32', shape: [target.length], data: target };
  if (target instanceof BigInt64Array) return { dtype: 'int64', shape: [target.length], data: target };
  throw new TypeError('target must be an Int32Array or a BigInt64Array of class indices');
}

export class ResNet18 {
  /** Whether forward() uses batch statistics (train) or running statistics (eval), as nn.Module. */
  training = true;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  private constructor(readonly native: NativeModel) {}

  /** A randomly initialised ResNet-18, as torchvision.models.resnet18(num_classes=...). */
  static async create(options: { numClasses?: number; seed?: number; device?: Device } = {}): Promise<ResNet18> {
    const { numClasses = 1000, seed = 0 } = options;
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
    if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const net = new ResNet18(await native.createModel(numClasses, seed));
    if (options.device) await net.to(options.device);
    return net;
  }

  /** Loads a torchvision ResNet-18 .pth; the number of classes is taken from fc.weight. */
  static async load(file: string, options: LoadOptions = {}): Promise<ResNet18> {
    const stored = await locatePth(file);
    const stateDict = stored ? undefined : await loadPth(file);
    const fcWeight = (stored ?? stateDict!).get('fc.weight');
    if (!fcWeight || fcWeight.shape.length !== 2) {
      throw new Error(`${file}: no 2-d 'fc.weight' found, so this is not a ResNet-18 state dict`);
    }
    const net = await ResNet18.create({ numClasses: fcWeight.shape[0] });
    const strict = options.strict ?? true;
    try {
      await (stored ? net.loadStored(file, stored, strict) : net.loadStateDict(stateDict!, { strict }));
      if (options.device) await net.to(options.device);
    } catch (err) {
      net.dispose();
      throw err instanceof PthError ? err : new PthError(file, (err as Error).message, { cause: err });
    }
    return net;
  }


  get fc(): Linear {
    return new Linear(this, 512, this.native.numClasses);
  }

  get numClasses(): number {
    return this.native.numClasses;
  }

  get device(): string {
    return this.native.device;
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Logits [N, numClasses] for input [N, 3, H, W] float32, without autograd. */
  async forward(input: HostTensor): Promise<HostTensor<'float32'>> {
    checkHostTensor(input, 'input');
    const training = this.training;
    return this.enqueue('forward', () => this.native.forward(input, training));
  }

  /** The backbone's pooled [N, 512] features (eval mode), what the linear head sees. */
  async features(input: HostTensor): Promise<HostTensor<'float32'>> {
    checkHostTensor(input, 'input');
    return this.enqueue('features', () => this.native.features(input));
  }

  async loadStateDict(stateDict: StateDictInput, options: { strict?: boolean } = {}): Promise<{ missing: string[]; unexpected: string[] }> {
    const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
    entries.forEach(([name, t]) => checkHostTensor(t, `state_dict['${name}']`));
    return this.enqueue('loadStateDict', () =>
      this.native.loadStateDict(entries.map((e) => e[0]), entries.map((e) => e[1]), options.strict ?? true));
  }

  /**
   * `loadStateDict(await loadPth(file))` in one step: each tensor is read from the file straight
   * into the model, skipping the copy in between. (Like torch.load, this path does not check the
   * zip records' CRCs; loadPth does.)
   */
  async loadPth(file: string, options: { strict?: boolean } = {}): Promise<{ missing: string[]; unexpected: string[] }> {
    const stored = await locatePth(file);
    if (stored) return this.loadStored(file, stored, options.strict ?? true);
    return this.loadStateDict(await loadPth(file), options);
  }

  private async loadStored(file: string, stored: Map<string, StoredTensor>, strict: boolean): Promise<{ missing: string[]; unexpected: string[] }> {
    try {
      return await this.enqueue('loadPth', () =>
        this.native.loadStateDictFromFile(file, [...stored.keys()], [...stored.values()], strict));
    } catch (err) {
      throw new PthError(file, (err as Error).message, { cause: err });
    }
  }


  /** Parameters and buffers, in torchvision's state_dict order, as CPU copies. */
  async stateDict(): Promise<Map<string, HostTensor>> {
    const { names, tensors } = await this.enqueue('stateDict', () => this.native.stateDict());
    return new Map(names.map((n, i) => [n, tensors[i]]));
  }

  async to(device: Device): Promise<this> {
    await this.enqueue('to', () => this.native.to(device));
    return this;
  }

  /**
   * Speed settings for CUDA: `amp` autocasts forward and loss to fp16 (with dynamic loss
   * scaling, as torch.cuda.amp.GradScaler) or bf16; `channelsLast` stores the convolution
   * weights and inputs in NHWC. AMP needs the model on a CUDA device.
   */
  setPrecision(options: { amp?: 'none' | 'fp16' | 'bf16'; channelsLast?: boolean }): this {
    const { amp = 'none', channelsLast = false } = options;
    if (!['none', 'fp16', 'bf16'].includes(amp)) throw new RangeError(`amp must be 'none', 'fp16' or 'bf16', got ${String(amp)}`);
    this.whenIdle('setPrecision');
    this.native.setPrecision(amp, channelsLast);
    return this;
  }

  /** The fp16 loss scale (GradScaler.get_scale()). */
  get lossScale(): number {
    return this.native.lossScale;
  }

  /** Replaces fc with a fresh Linear(512, numClasses); every other layer keeps its values. */
  replaceFc(numClasses: number, options: { init?: 'default' | 'xavier'; seed?: number } = {}): Linear {
    const { init = 'default', seed } = options;
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
    if (init !== 'default' && init !== 'xavier') throw new RangeError(`init must be 'default' or 'xavier', got ${String(init)}`);
    this.whenIdle('replaceFc');
    this.native.replaceFc(numClasses, init, seed);
    return this.fc;
  }

  /**
   * Parameters in registration order (as model.parameters()). `exclude: ['fc']` gives the seed's
   * "all but the output layer"; `include` keeps only the named modules.
   */
  parameters(options: { include?: string[]; exclude?: string[] } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  namedParameters(options: { include?: string[]; exclude?: string[] } = {}): [string, Parameter][] {
    this.whenIdle('parameters');
    return this.native.parameters()
      .filter((p) => (!options.include || matches(p.name, options.include)) && !(options.exclude && matches(p.name, options.exclude)))
      .map((p) => [p.name, new Parameter(this, p.name, p.shape)]);
  }

  /**
   * Linear probing: every parameter stops training except the named modules. BatchNorm layers
   * whose parameters are frozen keep running statistics untouched unless `bn: 'train'`.
   */
  freeze(options: { except?: string[]; bn?: 'eval' | 'train' } = {}): this {
    const except = options.except ?? [];
    if (options.bn !== undefined && options.bn !== 'eval' && options.bn !== 'train') {
      throw new RangeError(`bn must be 'eval' or 'train', got ${String(options.bn)}`);
    }
    return this.setTrainable((name) => matches(name, except), options.bn === 'train');
  }

  unfreeze(): this {
    return this.setTrainable(() => true, false);
  }

  /** Forward, mean cross-entropy, backward and one optimizer step, in one native call. */
  trainStep(input: HostTensor, target: Target, optimizer: SGD): Promise<StepResult> {
    return this.step(input, target, optimizer, false);
  }

  /** trainStep on backbone features [N, 512]: only fc runs (the linear probe's feature cache). */
  trainHeadStep(features: HostTensor, target: Target, optimizer: SGD): Promise<StepResult> {
    return this.step(features, target, optimizer, true);
  }

  /** Loss and correct count in eval mode under no-grad; logits too when asked. */
  evalStep(input: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.evaluate(input, target, options.logits ?? false, false);
  }

  /** evalStep on backbone features [N, 512]: only fc runs. */
  evalHeadStep(features: HostTensor, target: Target, options: { logits?: boolean } = {}): Promise<StepResult> {
    return this.evaluate(features, target, options.logits ?? false, true);
  }

  /** Frees the native model now rather than at garbage collection. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.pending === 0) this.native.dispose();
    else this.queue.finally(() => this.native.dispose()).catch(() => undefined);
  }

  private async step(input: HostTensor, target: Target, optimizer: SGD, fromFeatures: boolean): Promise<StepResult> {
    checkHostTensor(input, 'input');
    const t = targetTensor(target);
    let stepNumber = 0; // known when the step leaves the queue
    return this.enqueue(() => `step ${stepNumber}`, async () => {
      stepNumber = optimizer.stepCount + 1;
      const result = await this.native.trainStep(input, t, optimizer.nativeFor(this), optimizer.groupOptions(), fromFeatures);
      optimizer.stepCount = stepNumber;
      return plain(result);
    });
  }

  private async evaluate(input: HostTensor, target: Target, withLogits: boolean, fromFeatures: boolean): Promise<StepResult> {
    checkHostTensor(input, 'input');
    const t = targetTensor(target);
    return plain(await this.enqueue('evalStep', () => this.native.evalStep(input, t, withLogits, fromFeatures)));
  }

  private setTrainable(trainable: (name: string) => boolean, bnTrainWhenFrozen: boolean): this {
    this.whenIdle('freeze');
    const flags: Record<string, boolean> = {};
    for (const p of this.native.parameters()) flags[p.name] = trainable(p.name);
    this.native.setRequiresGrad(flags, bnTrainWhenFrozen);
    return this;
  }

  private whenIdle(what: string): void {
    if (this.disposed) throw new Error(`${what}: this model has been disposed`);
    if (this.pending > 0) throw new Error(`${what}: the model is busy with another operation; await it first`);
  }

  // One native operation at a time, in call order; errors name the operation.
  private enqueue<T>(what: string | (() => string), op: () => Promise<T>): Promise<T> {
    const label = typeof what === 'string' ? () => what : what;
    if (this.disposed) return Promise.reject(new Error(`${label()}: this model has been disposed`));
    this.pending++;
    const run = this.queue.then(op).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run.catch((err: Error) => {
      throw new Error(`${label()}: ${err.message}`, { cause: err });
    });
  }
}

function plain(r: NativeStepResult): StepResult {
  return r.logits ? { loss: r.loss, correct: r.correct, logits: r.logits } : { loss: r.loss, correct: r.correct };
}

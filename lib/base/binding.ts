// The one place that loads the native addon, and the typed contract of what it exports. Every
// native call takes one options object with named fields and enums passed by name; lib/ has
// validated them (lib/base/check.ts), the addon only asserts this contract. Errors carry a `code`.
import * as path from 'node:path';
import type { HostTensor, StoredTensor } from './tensor';
import { FinetorchError } from './errors';

/** @internal Which optimizer a native optimizer runs. */
export type NativeOptimizerKind = 'sgd' | 'adamw' | 'lars';

/** @internal Hyper-parameters of one parameter group, sent with every step, as its kind reads them. */
export type NativeGroupOptions =
  | { lr: number; weightDecay: number; momentum: number; dampening: number; nesterov: boolean }
  | { lr: number; weightDecay: number; beta1: number; beta2: number; eps: number }
  | { lr: number; weightDecay: number; momentum: number; trustCoefficient: number };

/** @internal */
export interface NativeStepResult {
  loss: number;
  correct: number;
  logits?: HostTensor<'float32'>;
}

/** @internal */
export interface NativeLoadResult {
  missing: string[];
  unexpected: string[];
}

/** @internal */
export type NativeAmp = 'none' | 'fp16' | 'bf16';
/** @internal */
export type NativeHeadInit = 'default' | 'xavier' | 'trunc-normal';
/** @internal */
export type NativeInterpolation = 'nearest' | 'bilinear' | 'bicubic';

/**
 * @internal A batch as the steps take it; headOnly: input holds backbone features, only fc runs.
 * target: class indices [N], or (training only) probabilities [N, classes] float32.
 */
export interface NativeBatch {
  input: HostTensor;
  target: HostTensor;
  headOnly: boolean;
}

/** @internal A LibTorch classifier (ResNet, ViT). Every method runs on the libuv pool; lib/model/model.ts queues them. */
export interface NativeModel {
  loadStateDict(o: { names: string[]; tensors: HostTensor[]; strict: boolean }): Promise<NativeLoadResult>;
  loadStateDictFromFile(o: { file: string; names: string[]; places: StoredTensor[]; strict: boolean }): Promise<NativeLoadResult>;
  stateDict(): Promise<{ names: string[]; tensors: HostTensor[] }>;
  forward(o: { input: HostTensor; training: boolean }): Promise<HostTensor<'float32'>>;
  features(o: { input: HostTensor }): Promise<HostTensor<'float32'>>;
  trainStep(o: NativeBatch & NativeOptimizerStep & {
    training: boolean;
    /** cross_entropy's label_smoothing (class-index targets only). */
    labelSmoothing: number;
  }): Promise<NativeStepResult>;
  evalStep(o: NativeBatch & { logits: boolean }): Promise<NativeStepResult>;
  /** Resolves to the device's canonical name ('cpu', 'cuda:0'). */
  to(o: { device: string }): Promise<string>;
  resetClassifier(o: { numClasses: number; head: 'linear' | 'mae-probe'; init: NativeHeadInit; std: number; seed?: number }): Promise<void>;
  /** A VisionTransformer's stochastic depth (timm's drop_path_rate). */
  setDropPathRate(o: { rate: number }): Promise<void>;
  setRequiresGrad(o: { flags: [string, boolean][]; bnTrainWhenFrozen: boolean }): Promise<void>;
  setPrecision(o: { amp: NativeAmp; channelsLast: boolean }): Promise<void>;
  /** The fp16 GradScaler's current scale. */
  lossScale(): Promise<number>;
  dispose(): Promise<void>;
}

/** @internal MAE's MaskedAutoencoderViT (lib/model/mae.ts queues the calls). */
export interface NativeMae {
  loadStateDict(o: { names: string[]; tensors: HostTensor[]; strict: boolean }): Promise<NativeLoadResult>;
  stateDict(): Promise<{ names: string[]; tensors: HostTensor[] }>;
  forwardLoss(o: { images: HostTensor; maskRatio: number; noise?: HostTensor; noiseSeed?: number; gradients: boolean }): Promise<{
    loss: number; pred: HostTensor<'float32'>; mask: HostTensor<'float32'>; idsRestore: HostTensor<'int64'>;
    gradients?: { names: string[]; tensors: HostTensor[] };
  }>;
  /** Forward on the visible patches, the loss, backward and one step of the attached optimizer. */
  trainStep(o: NativeOptimizerStep & { images: HostTensor; maskRatio: number; noise?: HostTensor; noiseSeed?: number }): Promise<{ loss: number }>;
  /** Resolves to the device's canonical name ('cpu', 'cuda:0'). */
  to(o: { device: string }): Promise<string>;
  dispose(): Promise<void>;
}

/** @internal Parameters (by name, per group) and per-parameter state of an optimizer. */
export interface NativeOptimizer {
  /** Binds the named parameters of `model` (queued on the model like any call on it). */
  attach(model: NativeModel | NativeMae): Promise<void>;
  /** Per parameter in group order: its state in slot order, or null before its first step. */
  state(): Promise<(HostTensor[] | null)[]>;
  loadState(o: { state: (HostTensor[] | null)[] }): Promise<void>;
}

/** @internal The optimizer's part of a training step: its native state, and its groups' hyper-parameters for this step. */
export interface NativeOptimizerStep {
  optimizer: NativeOptimizer;
  groups: NativeGroupOptions[];
}

/** @internal A box of pixels. */
export interface NativeBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** @internal What to make of a source image: crop `pre`, resize, crop `post` (zero padding past the edges), mirror (see native/core/resample.h). */
export interface NativeView {
  pre: NativeBox;
  resized: { width: number; height: number };
  post: NativeBox;
  flipped: boolean;
  interpolation: NativeInterpolation;
}

/** @internal A process group of a data-parallel job (opaque: only the dist* functions read it). */
export interface NativeDistGroup {
  readonly __nativeDistGroup: never;
}

/** @internal How dist.init joins a job (lib/dist/process-group.ts reads it from torchrun's variables). */
export interface NativeDistInit {
  backend: 'gloo' | 'nccl';
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  agentStore: boolean;
  storePrefix: string;
  startupTimeoutMs: number;
  timeoutMs: number;
  interfaces: string[];
  deviceIndex: number;
}

/**
 * @internal One image of a renderBatch call: a file the addon decodes (JPEG at 1/scale, Netpbm,
 * BMP) or pixels in memory, made into out at `offset` (normalised float32 CHW) or into `bytes`
 * (uint8 HWC). A JPEG is read to its end unless it has `checkedBytes`, the size it had when it
 * last was (its result's checkedBytes): then decoding stops after the view's last row.
 */
export type NativeBatchItem =
  & ({ file: string; scale: number; checkedBytes?: number } | { pixels: Uint8Array; width: number; height: number; channels: 1 | 3 })
  & { view: NativeView }
  & ({ offset: number } | { bytes: Uint8Array });

/**
 * @internal Per item: null when made (checkedBytes: made, and a JPEG file of that size read to its
 * end without error), or why not (a file the addon leaves to sharp, or an error).
 */
export type NativeItemResult = null | { checkedBytes: number } | { unsupported: string } | { error: string };

/** @internal A torchvision ResNet's constructor arguments (lib/model/resnet-architectures.ts holds each architecture's). */
export interface NativeResNetConfig {
  family: 'resnet';
  block: 'basic' | 'bottleneck';
  layers: readonly [number, number, number, number];
  groups: number;
  widthPerGroup: number;
}

/**
 * @internal timm's VisionTransformer arguments, as model/vit-architectures.ts' VitConfig documents
 * them (the addon's contract, as NativeResNetConfig is ResNetConfig's).
 */
export interface NativeVitConfig {
  family: 'vit';
  imgSize: number; patchSize: number; embedDim: number; depth: number; numHeads: number; mlpRatio: number;
  qkvBias: boolean; classToken: boolean; globalPool: 'token' | 'avg'; fcNorm: boolean; dropPathRate: number;
}

/** @internal MAE's sizes as the native MaskedAutoencoderViT takes them (lib/model/mae.ts's MaeConfig). */
export interface NativeMaeConfig {
  imgSize: number; patchSize: number; embedDim: number; depth: number; numHeads: number; mlpRatio: number;
  decoderEmbedDim: number; decoderDepth: number; decoderNumHeads: number; normPixLoss: boolean;
}

/** @internal */
export interface NativeAddon {
  createModel(o: (NativeResNetConfig | NativeVitConfig) & { numClasses: number; seed?: number }): Promise<{
    model: NativeModel;
    parameters: { name: string; shape: number[] }[];
  }>;
  Optimizer: new (o: { kind: NativeOptimizerKind; groups: string[][] }) => NativeOptimizer;
  /** timm's Mixup/CutMix in batch mode: input mixed in place; resolves to the mixed targets. */
  mixBatch(o: {
    input: HostTensor; labels: HostTensor; numClasses: number; lam: number;
    box: { top: number; bottom: number; left: number; right: number } | null; labelSmoothing: number;
  }): Promise<HostTensor<'float32'>>;
  /** timm's RandomErasing boxes, filled in place (normal values from a generator seeded per box). */
  eraseBatch(o: {
    input: HostTensor; fill: 'const' | 'rand' | 'pixel';
    boxes: { image: number; top: number; left: number; height: number; width: number; seed: number }[];
  }): Promise<void>;
  createMae(o: NativeMaeConfig & { seed?: number }): Promise<{ model: NativeMae; parameters: { name: string; shape: number[]; requiresGrad: boolean }[] }>;
  /** MAE's interpolate_pos_embed: posEmbed [1, numExtraTokens + g*g, D] float32 resampled to a gridSize x gridSize grid. */
  interpolatePosEmbed(o: { posEmbed: HostTensor<'float32'>; numExtraTokens: number; gridSize: number }): Promise<HostTensor<'float32'>>;
  renderBatch(o: {
    items: NativeBatchItem[]; out?: Float32Array;
    mean: readonly number[]; std: readonly number[]; threads: number; maxPixels: number; memoryBudget: number;
    /** Element 0 set non-zero once the batch is waited for; until then its threads run at the lowest priority. */
    waitedFor?: Int32Array;
  }): Promise<NativeItemResult[]>;
  /** The addon's own image decoders: jpeg is 'libjpeg-turbo 2.1.5' where it was built with it. */
  imageBackends: { jpeg?: string };
  cudaIsAvailable(): boolean;
  /** Why a CUDA request fails here: a CPU-only build, or LibTorch's own reason (no driver, no device). */
  cudaWhyUnavailable(): string;
  cudaDeviceCount(): number;
  getNumThreads(): number;
  setNumThreads(threads: number): void;
  /** TF32 for cuBLAS and cuDNN (torch.backends.{cuda.matmul,cudnn}.allow_tf32). */
  setAllowTF32(allow: boolean): void;
  /** The LibTorch the addon was compiled against; cudaVersion null for a CPU build. */
  runtime: { torchVersion: string; cudaVersion: string | null; cudnnVersion: string | null };
  /** Bytes of LibTorch CPU blocks the addon's cache holds idle. */
  cpuCacheBytes(): number;
  emptyCpuCache(): void;
  /** The data-parallel backends this build can run. */
  distBackends(): string[];
  distInit(o: NativeDistInit): Promise<NativeDistGroup>;
  distBarrier(o: { group: NativeDistGroup }): Promise<void>;
  /** In place. */
  distAllReduce(o: { group: NativeDistGroup; values: Float32Array | Float64Array; op: 'sum' | 'min' | 'max' }): Promise<void>;
  distDestroy(o: { group: NativeDistGroup }): Promise<void>;
  /** torch.randperm(n, generator=torch.Generator().manual_seed(seed)), as DistributedSampler draws it. */
  samplerPermutation(o: { n: number; seed: number }): Promise<Int32Array>;
  distWrapModel(o: { model: NativeModel; group: NativeDistGroup; broadcastBuffers: boolean; bucketCapMB: number }): Promise<void>;
  distSyncBuffers(o: { model: NativeModel }): Promise<void>;
  distBuckets(o: { model: NativeModel }): Promise<number[][]>;
}

/** build/Release/finetorch.node, or FINETORCH_ADDON: one built against another LibTorch (scripts/test.js runs the suite on each). */
function load(): NativeAddon {
  const file = process.env.FINETORCH_ADDON
    ? path.resolve(process.env.FINETORCH_ADDON)
    : path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'finetorch.node');
  try {
    // A .node file can only be loaded by require().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NativeAddon;
  } catch (err) {
    throw new FinetorchError('ERR_FINETORCH_NATIVE', `finetorch: cannot load the native addon ${file} (${(err as Error).message}). ` +
      'Build it with `npm run build` (it needs LibTorch: see README.md).', { cause: err });
  }
}

/** @internal */
export const native: NativeAddon = load();

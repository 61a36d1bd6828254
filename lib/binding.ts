// The one place that loads the native addon, and the typed contract of what it exports.
import * as path from 'node:path';
import type { StoredTensor } from './pth';
import type { HostTensor } from './tensor';

/** Hyper-parameters of one SGD parameter group, as the native step reads them. */
export interface NativeSgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface NativeStepResult {
  loss: number;
  correct: number;
  logits?: HostTensor<'float32'>;
}

export interface NativeParameterInfo {
  name: string;
  shape: number[];
  requiresGrad: boolean;
}

/** A LibTorch ResNet-18. Async methods run on the libuv pool; at most one runs at a time. */
export interface NativeModel {
  readonly numClasses: number;
  readonly device: string;
  parameters(): NativeParameterInfo[];
  loadStateDict(names: string[], tensors: HostTensor[], strict: boolean): Promise<{ missing: string[]; unexpected: string[] }>;
  loadStateDictFromFile(file: string, names: string[], places: StoredTensor[], strict: boolean): Promise<{ missing: string[]; unexpected: string[] }>;
  stateDict(): Promise<{ names: string[]; tensors: HostTensor[] }>;
  forward(input: HostTensor, training: boolean): Promise<HostTensor<'float32'>>;
  features(input: HostTensor): Promise<HostTensor<'float32'>>;
  trainStep(input: HostTensor, target: HostTensor, sgd: NativeSgd, groups: NativeSgdOptions[], fromFeatures: boolean): Promise<NativeStepResult>;
  evalStep(input: HostTensor, target: HostTensor, withLogits: boolean, fromFeatures: boolean): Promise<NativeStepResult>;
  to(device: string): Promise<void>;
  replaceFc(numClasses: number, init: 'default' | 'xavier', seed?: number): void;
  setRequiresGrad(flags: Record<string, boolean>, bnTrainWhenFrozen: boolean): void;
  setPrecision(amp: 'none' | 'fp16' | 'bf16', channelsLast: boolean): void;
  /** The fp16 GradScaler's current scale. */
  readonly lossScale: number;
  dispose(): void;
}

/** Parameters (by name, per group) and momentum buffers of an SGD optimizer. */
export interface NativeSgd {
  momentumBuffers(): Promise<(HostTensor | null)[]>;
  loadMomentumBuffers(buffers: (HostTensor | null)[]): Promise<void>;
}

export interface NativeAddon {
  createModel(numClasses: number, seed: number): Promise<NativeModel>;
  SGD: new (model: NativeModel, groups: string[][]) => NativeSgd;
  renderPixels(src: Uint8Array, width: number, height: number, channels: 1 | 3, plan: number[], dst: Uint8Array): Promise<void>;
  normalizeImages(src: Uint8Array, n: number, h: number, w: number, mean: readonly number[], std: readonly number[], dst: Float32Array): Promise<void>;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  getNumThreads(): number;
  setNumThreads(threads: number): void;
  /** TF32 for cuBLAS and cuDNN (torch.backends.{cuda.matmul,cudnn}.allow_tf32). */
  setAllowTF32(allow: boolean): void;
  runtime: { torchVersion: string };
}

function load(): NativeAddon {
  const file = path.resolve(__dirname, '..', '..', 'build', 'Release', 'finetorch.node');
  try {
    // A .node file can only be loaded by require().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as NativeAddon;
  } catch (err) {
    throw new Error(`finetorch: cannot load the native addon ${file} (${(err as Error).message}). ` +
      'Build it with `npm run build` (it needs LibTorch: see README.md).', { cause: err });
  }
}

export const native: NativeAddon = load();

// Flags that train and lr-find share: the starting weights, SGD's settings, batches, precision on
// CUDA, CPU threads and loader concurrency, and the log interval.
import * as os from 'node:os';
import { Flags, OptionSpec, UsageError } from './args';
import { deviceFlag } from './device';
import { ARCH_OPTION } from './model-options';

export const STARTING_MODEL_OPTIONS: Record<string, OptionSpec> = {
  weights: { type: 'string', value: 'FILE.pth', help: 'starting state dict: a torchvision ResNet (e.g. ImageNet-pretrained) or a ViT (timm, torchvision, MAE)' },
  arch: ARCH_OPTION,
  'keep-fc': { type: 'boolean', help: 'keep the weights\' head (fc) when its outputs match the class folders, without a classes list beside it' },
};

/** The SGD settings besides lr (the seed's recipe: fc at 10x, weight decay 1e-3, no momentum). */
export const SGD_OPTIONS: Record<string, OptionSpec> = {
  'fc-lr-mult': { type: 'string', value: 'X', help: "fc's learning rate = X * lr (finetune)", default: '10' },
  'weight-decay': { type: 'string', value: 'X', help: 'L2 weight decay', default: '0.001' },
  momentum: { type: 'string', value: 'M', help: 'SGD momentum', default: '0' },
};

/** How the training images are fed. */
export const BATCH_OPTIONS: Record<string, OptionSpec> = {
  'batch-size': { type: 'string', value: 'B', help: 'images per step', default: '32' },
  'image-size': { type: 'string', value: 'S', help: 'side of the square crops the network sees', default: '224' },
  seed: { type: 'string', value: 'K', help: 'seeds the split, the shuffling, the augmentation and the new fc', default: '0' },
};

export const PRECISION_OPTIONS: Record<string, OptionSpec> = {
  amp: { type: 'string', value: 'TYPE', help: 'autocast to fp16 (CUDA, with loss scaling) or bf16 (CUDA or CPU)', default: 'none' },
  'channels-last': { type: 'boolean', help: 'CUDA: NHWC memory format for convolutions' },
};

export const RUNTIME_OPTIONS: Record<string, OptionSpec> = {
  threads: { type: 'string', value: 'N', help: "LibTorch's CPU threads (default: LibTorch's choice)" },
  workers: { type: 'string', value: 'N', help: "threads decoding a batch's images, one per core by default", default: String(os.availableParallelism()) },
};

export const LOG_EVERY_OPTION: OptionSpec = {
  type: 'string', value: 'N', help: 'when stderr is not a terminal, a progress line every N steps (0: epochs only)', default: '50',
};

export function precisionFlags(flags: Flags): { amp: 'none' | 'fp16' | 'bf16'; channelsLast: boolean } {
  const amp = flags.choice('amp', ['none', 'fp16', 'bf16'] as const);
  const channelsLast = flags.flag('channels-last');
  const device = deviceFlag(flags);
  if (device === 'cpu' && amp === 'fp16') throw new UsageError('--amp fp16 needs a CUDA device (--device cuda); on the CPU, --amp bf16 autocasts as torch.autocast(\'cpu\') does');
  if (device === 'cpu' && channelsLast) throw new UsageError('--channels-last needs a CUDA device (--device cuda)');
  return { amp, channelsLast };
}

export function runtimeFlags(flags: Flags): { threads: number | undefined; workers: number } {
  const threads = flags.string('threads') === undefined ? undefined : flags.int('threads');
  return { threads, workers: flags.int('workers') };
}

/** The held-out share: 0 (no validation) up to, not including, 1 (nothing left to train on). */
export function validSplitFlag(flags: Flags): number {
  const split = flags.number('valid-split', { min: 0, max: 1 });
  if (split === 1) throw new UsageError("--valid-split must be below 1: nothing would be left to train on, got '1'");
  return split;
}

// Flags that train and lr-find share, and how each group of them is read into its settings: the
// starting weights, what trains and SGD's settings, the training images, precision on CUDA, CPU
// threads and loader concurrency, and the log interval.
import * as os from 'node:os';
import * as path from 'node:path';
import { AMP_DTYPES } from '../../model/precision';
import { Flags, OptionSpec, UsageError } from '../args';
import {
  Augmentation, ComputeSettings, MODES, OptimizerSettings, StartingModelSettings, TrainingImageSettings,
} from '../settings';
import { deviceFlag } from './device-flag';
import { ARCH_OPTION, SHRINK_ON_LOAD_OPTION, WEIGHTS_OPTION, archFlag } from './model-flags';

export const STARTING_MODEL_OPTIONS: Record<string, OptionSpec> = {
  weights: { ...WEIGHTS_OPTION, help: `the starting weights: ${WEIGHTS_OPTION.help}` },
  arch: ARCH_OPTION,
  'keep-fc': { type: 'boolean', help: 'keep the weights\' head (fc) when its outputs match the class folders, without a classes list beside it' },
};

/** The SGD settings besides lr (the d2l fine-tuning chapter's: fc at 10x, weight decay 0.001, no momentum). */
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
  'shrink-on-load': SHRINK_ON_LOAD_OPTION,
};

/** The train augmentation: torchvision's RandomResizedCrop(scale, ratio) and the flip, named as timm's train.py. */
export const AUGMENT_OPTIONS: Record<string, OptionSpec> = {
  scale: { type: 'string', value: 'MIN,MAX', help: "RandomResizedCrop's range of the crop's area, as a share of the image's", default: '0.08,1' },
  ratio: { type: 'string', value: 'MIN,MAX', help: "RandomResizedCrop's range of the crop's aspect ratio (width / height)", default: '3/4,4/3' },
  hflip: { type: 'string', value: 'P', help: 'the probability of a left-right flip', default: '0.5' },
};

export function augmentFlags(flags: Flags): Augmentation {
  return { scale: rangeFlag(flags, 'scale', 1), ratio: rangeFlag(flags, 'ratio', Infinity), hflip: flags.number('hflip', { min: 0, max: 1 }) };
}

/** MIN,MAX with 0 < MIN <= MAX <= max; each a number or a fraction (3/4). */
function rangeFlag(flags: Flags, name: string, max: number): [number, number] {
  const raw = flags.required(name);
  const values = raw.split(',').map((part) => {
    const [numerator, denominator = '1', ...rest] = part.split('/');
    return rest.length || numerator.trim() === '' || denominator.trim() === '' ? NaN : Number(numerator) / Number(denominator);
  });
  if (values.length !== 2 || !values.every(Number.isFinite) || !(values[0] > 0 && values[0] <= values[1] && values[1] <= max)) {
    throw new UsageError(`--${name} must be MIN,MAX with 0 < MIN <= MAX${max === Infinity ? '' : ` <= ${max}`}, got '${raw}'`);
  }
  return [values[0], values[1]];
}

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

export function precisionFlags(flags: Flags): Pick<ComputeSettings, 'amp' | 'channelsLast'> {
  const amp = flags.choice('amp', AMP_DTYPES);
  const channelsLast = flags.flag('channels-last');
  const device = deviceFlag(flags);
  if (device === 'cpu' && amp === 'fp16') throw new UsageError('--amp fp16 needs a CUDA device (--device cuda); on the CPU, --amp bf16 autocasts as torch.autocast(\'cpu\') does');
  if (device === 'cpu' && channelsLast) throw new UsageError('--channels-last needs a CUDA device (--device cuda)');
  return { amp, channelsLast };
}

export function runtimeFlags(flags: Flags): Pick<ComputeSettings, 'threads' | 'workers'> {
  const threads = flags.string('threads') === undefined ? undefined : flags.int('threads');
  return { threads, workers: flags.int('workers') };
}

/** The held-out share: 0 (no validation) up to, not including, 1 (nothing left to train on). */
export function validSplitFlag(flags: Flags): number {
  const split = flags.number('valid-split', { min: 0, max: 1 });
  if (split === 1) throw new UsageError("--valid-split must be below 1: nothing would be left to train on, got '1'");
  return split;
}

export function startingModelFlags(flags: Flags): StartingModelSettings {
  return { arch: archFlag(flags), keepFc: flags.flag('keep-fc') };
}

export function optimizerFlags(flags: Flags): OptimizerSettings {
  return {
    mode: flags.choice('mode', MODES),
    fcLrMult: flags.number('fc-lr-mult', { min: 0 }),
    weightDecay: flags.number('weight-decay', { min: 0 }),
    momentum: flags.number('momentum', { min: 0, max: 1 }),
  };
}

/** --data (absolute), the batches, the image size, the augmentation, the split and the decoding. */
export function trainingImageFlags(flags: Flags): TrainingImageSettings {
  return {
    data: path.resolve(flags.required('data')),
    batchSize: flags.int('batch-size'),
    imageSize: flags.int('image-size', 8),
    augmentation: augmentFlags(flags),
    validSplit: validSplitFlag(flags),
    seed: flags.int('seed', 0),
    shrinkOnLoad: flags.flag('shrink-on-load'),
    skipBadImages: flags.flag('skip-bad-images'),
  };
}

export function computeFlags(flags: Flags): ComputeSettings {
  return { device: deviceFlag(flags), ...precisionFlags(flags), ...runtimeFlags(flags) };
}

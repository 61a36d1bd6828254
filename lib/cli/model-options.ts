// The flags that eval and predict share: the weights to run, how images are sized, where the model
// runs, and JSON output.
import { ARCH_NAMES } from '../architectures';
import { didYouMean } from '../check';
import { VIT_ARCH_NAMES, parseVitArch } from '../model/vit-architectures';
import { Flags, OptionSpec, UsageError } from './args';
import { DEVICE_OPTION } from './device';

export const ARCH_OPTION: OptionSpec = {
  type: 'string', value: 'NAME',
  help: `the architecture the weights must hold: a torchvision ResNet (${ARCH_NAMES.join(', ')}) or a ViT (${VIT_ARCH_NAMES.join(', ')}, ` +
    'or any vit_<tiny|small|base|large|huge>_patch<P>[_<size>]) (default: read off the weights)',
};

export function archFlag(flags: Flags): string | undefined {
  const arch = flags.string('arch');
  if (arch === undefined || (ARCH_NAMES as readonly string[]).includes(arch) || parseVitArch(arch)) return arch;
  const meant = didYouMean(arch, [...ARCH_NAMES, ...VIT_ARCH_NAMES]);
  throw new UsageError(`--arch must name a torchvision ResNet (${ARCH_NAMES.join(', ')}) or a ViT (${VIT_ARCH_NAMES.join(', ')}, ...), ` +
    `got '${arch}'${meant ? ` (did you mean '${meant}'?)` : ''}`);
}

export const WEIGHTS_OPTION: OptionSpec = { type: 'string', value: 'FILE.pth', help: 'the model (a ResNet or ViT state dict, or a finetorch checkpoint)' };

/** arch, image-size, device and json, in the order help lists them. */
export const INFERENCE_OPTIONS: Record<string, OptionSpec> = {
  arch: ARCH_OPTION,
  'image-size': {
    type: 'string', value: 'S',
    help: 'resize to S*256/224, centre-crop S (default: what the .json beside the weights says, else 224)',
  },
  device: DEVICE_OPTION,
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

export function imageSizeFlag(flags: Flags): number | undefined {
  return flags.string('image-size') === undefined ? undefined : flags.int('image-size', 8);
}

// The flags that eval and predict share: the weights to run, how images are sized, where the model
// runs, and JSON output.
import { ARCH_NAMES, Arch } from '../architectures';
import { Flags, OptionSpec } from './args';
import { DEVICE_OPTION } from './device';

export const ARCH_OPTION: OptionSpec = {
  type: 'string', value: 'NAME', help: `the architecture the weights must hold, one of ${ARCH_NAMES.join(', ')} (default: read off the weights)`,
};

export function archFlag(flags: Flags): Arch | undefined {
  return flags.string('arch') === undefined ? undefined : flags.choice('arch', ARCH_NAMES);
}

/** JPEG decoding at reduced DCT scale: opt-in, since it changes the pixels. */
export const SHRINK_ON_LOAD_OPTION: OptionSpec = {
  type: 'boolean',
  help: "decode JPEGs shrunk 4x or more at 1/2, 1/4 or 1/8 size (DCT scaling): faster on large photos, but about a level " +
    "of 255 from torchvision's pixels (default: full-size decodes, torchvision's pixels)",
};

/** The loaders' onError: 'skip'. */
export const SKIP_BAD_IMAGES_OPTION: OptionSpec = {
  type: 'boolean',
  help: 'leave out images that cannot be decoded (each named once on stderr, the count in the result) instead of stopping',
};

export const WEIGHTS_OPTION: OptionSpec = { type: 'string', value: 'FILE.pth', help: 'the model (a torchvision ResNet state dict, or a finetorch checkpoint)' };

/** arch, image-size, shrink-on-load, device and json, in the order help lists them. */
export const INFERENCE_OPTIONS: Record<string, OptionSpec> = {
  arch: ARCH_OPTION,
  'image-size': {
    type: 'string', value: 'S',
    help: 'resize to S*256/224, centre-crop S (default: what the .json beside the weights says, else 224)',
  },
  'shrink-on-load': SHRINK_ON_LOAD_OPTION,
  device: DEVICE_OPTION,
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

export function imageSizeFlag(flags: Flags): number | undefined {
  return flags.string('image-size') === undefined ? undefined : flags.int('image-size', 8);
}

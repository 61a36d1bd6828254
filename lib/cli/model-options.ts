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

export const WEIGHTS_OPTION: OptionSpec = {
  type: 'string', value: 'WEIGHTS',
  help: 'a .pth or .safetensors file (a ResNet state dict, or a finetorch checkpoint), a torchvision name (resnet50, ' +
    'ResNet50_Weights.IMAGENET1K_V2) or a Hub id (hf-hub:timm/resnet50.a1_in1k)',
};

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

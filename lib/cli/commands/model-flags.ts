// The flags of the commands that read images: the weights to run, how images are sized and
// decoded (also train's and lr-find's), where the model runs, and JSON output.
import { didYouMean } from '../../base/check';
import { ARCH_NAMES } from '../../model/resnet-architectures';
import { VIT_ARCH_NAMES, parseVitArch } from '../../model/vit-architectures';
import { Flags, OptionSpec, UsageError } from '../args';
import type { InferenceSettings } from '../settings';
import { weightsFlag } from '../weights-source';
import { DEVICE_OPTION, deviceFlag } from './device-flag';
import type { ResizeRule } from '../model-card';

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

/** JPEG decoding at reduced DCT scale: opt-in, since it changes the pixels. */
export const SHRINK_ON_LOAD_OPTION: OptionSpec = {
  type: 'boolean',
  help: 'decode JPEGs shrunk 4x or more at 1/2, 1/4 or 1/8 size (DCT scaling): less CPU on large photos, but pixels a fraction ' +
    "of a level of 255 apart from torchvision's on average (default: full-size decodes, torchvision's pixels)",
};

/** The loaders' onError: 'skip'. */
export const SKIP_BAD_IMAGES_OPTION: OptionSpec = {
  type: 'boolean',
  help: 'leave out images that cannot be decoded (each named once on stderr, the count in the result) instead of stopping',
};

export const WEIGHTS_OPTION: OptionSpec = {
  type: 'string', value: 'WEIGHTS',
  help: 'a .pth or .safetensors file (a ResNet or ViT state dict in timm\'s, torchvision\'s or MAE\'s keys, or a finetorch checkpoint), a torchvision name (resnet50, ' +
    'ResNet50_Weights.IMAGENET1K_V2) or a Hub id (hf-hub:timm/resnet50.a1_in1k)',
};

/** How the eval transform resizes before its centre crop of --image-size S (timm's crop_mode and crop_pct). */
export const RESIZE_OPTIONS: Record<string, OptionSpec> = {
  'crop-mode': {
    type: 'string', value: 'MODE',
    help: "squash: resize to a square of S*256/224, changing the aspect ratio (the d2l chapter's resize([256, 256])); " +
      "center: resize the shorter side to it, keeping the aspect ratio (torchvision's T.Resize(256), timm's default)",
  },
  'crop-pct': {
    type: 'string', value: 'F', help: "the centre crop's share of the resize, as timm's crop_pct: resize to floor(S / F) (default: 224/256, rounded)",
  },
};

export function resizeRuleFlags(flags: Flags): ResizeRule {
  const cropPct = flags.string('crop-pct') === undefined ? undefined : flags.number('crop-pct', { min: 0, max: 1 });
  if (cropPct === 0) throw new UsageError("--crop-pct must be above 0, got '0'");
  return { cropMode: flags.string('crop-mode') === undefined ? undefined : flags.choice('crop-mode', ['squash', 'center'] as const), cropPct };
}

/** arch, image-size, crop-mode, crop-pct, shrink-on-load, device and json, in the order help lists them. */
export const INFERENCE_OPTIONS: Record<string, OptionSpec> = {
  arch: ARCH_OPTION,
  'image-size': {
    type: 'string', value: 'S',
    help: 'centre-crop S after the resize --crop-mode says (default for these three: what the .json beside the weights says, else 224, squash)',
  },
  ...RESIZE_OPTIONS,
  'shrink-on-load': SHRINK_ON_LOAD_OPTION,
  device: DEVICE_OPTION,
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

export function imageSizeFlag(flags: Flags): number | undefined {
  return flags.string('image-size') === undefined ? undefined : flags.int('image-size', 8);
}

/** The flags of INFERENCE_OPTIONS and --weights (absolute), as eval and predict read them. */
export function inferenceFlags(flags: Flags): InferenceSettings {
  return {
    weights: weightsFlag(flags),
    arch: archFlag(flags),
    imageSize: imageSizeFlag(flags),
    resizeRule: resizeRuleFlags(flags),
    shrinkOnLoad: flags.flag('shrink-on-load'),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  };
}

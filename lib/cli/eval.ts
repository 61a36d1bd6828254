// finetorch eval, its interface: flags, their checks and help. The scoring (LibTorch) lives in
// evaluation.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Arch } from '../architectures';
import type { Device } from '../model';
import { CommandSpec, Parsed } from './args';
import { deviceFlag } from './device';
import { INFERENCE_OPTIONS, SKIP_BAD_IMAGES_OPTION, WEIGHTS_OPTION, archFlag, imageSizeFlag, resizeRuleFlags } from './model-options';
import type { Command } from './main';
import type { ResizeRule } from './model-card';
import { weightsFlag } from './weights-source';

export interface EvalOptions {
  weights: string;
  data: string;
  batchSize: number;
  /** Undefined: read off the weights. */
  arch: Arch | undefined;
  /** Undefined: the card's. */
  imageSize: number | undefined;
  /** --crop-mode and --crop-pct; undefined: the card's. */
  resizeRule: ResizeRule;
  /** Decode large JPEGs DCT-scaled (not torchvision's pixels). */
  shrinkOnLoad: boolean;
  skipBadImages: boolean;
  device: Device;
  json: boolean;
}

const spec: CommandSpec = {
  name: 'eval',
  usage: ['eval --weights WEIGHTS --data DIR [options]'],
  options: {
    weights: WEIGHTS_OPTION,
    data: { type: 'string', value: 'DIR', help: 'a folder of class folders; for a train/ + valid/ (val/, test/) layout, its valid folder' },
    'batch-size': { type: 'string', value: 'B', help: 'images per forward pass', default: '32' },
    'skip-bad-images': SKIP_BAD_IMAGES_OPTION,
    ...INFERENCE_OPTIONS,
  },
  notes: [
    'Class names and the eval transform come from the .json beside a weights file (finetorch train writes one beside every .pth), ' +
      "from config.json for an hf-hub: id (timm's input size, crop_pct, interpolation, mean, std; its label_names), " +
      "or from torchvision's published transform for a torchvision name; " +
      'without any, class names come from a classes.json there, else from the folder names, and images are sized by --image-size.',
    '--json prints {weights, arch, data, classesFrom, imageSize, count, loss, accuracy, top5, classes, perClass: [{class, count, accuracy}], ' +
      'matrix, skippedImages: [{image, error}]} with matrix[true][predicted] image counts.',
  ],
};

async function run({ flags }: Parsed): Promise<number> {
  return (await import('./evaluation')).evaluate({
    weights: weightsFlag(flags),
    data: path.resolve(flags.required('data')),
    batchSize: flags.int('batch-size'),
    arch: archFlag(flags),
    imageSize: imageSizeFlag(flags),
    resizeRule: resizeRuleFlags(flags),
    shrinkOnLoad: flags.flag('shrink-on-load'),
    skipBadImages: flags.flag('skip-bad-images'),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };

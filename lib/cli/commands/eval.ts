// finetorch eval, its interface: flags, their checks and help. The scoring (LibTorch) lives in
// run/eval.ts, loaded once the flags are right.
import * as path from 'node:path';
import { Command, CommandSpec, Parsed } from '../args';
import { INFERENCE_OPTIONS, SKIP_BAD_IMAGES_OPTION, WEIGHTS_OPTION, inferenceFlags } from './model-flags';

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
  return (await import('../run/eval')).evaluate({
    ...inferenceFlags(flags),
    data: path.resolve(flags.required('data')),
    batchSize: flags.int('batch-size'),
    skipBadImages: flags.flag('skip-bad-images'),
  });
}

export const command: Command = { spec, run };

// finetorch predict, its interface: flags, their checks and help. The prediction (LibTorch) lives
// in run/predict.ts, loaded once the flags are right.
import * as path from 'node:path';
import { IMG_EXTENSIONS } from '../../data/extensions';
import { Command, CommandSpec, Parsed } from '../args';
import { INFERENCE_OPTIONS, WEIGHTS_OPTION, inferenceFlags } from './model-flags';

const spec: CommandSpec = {
  name: 'predict',
  usage: ['predict --weights WEIGHTS [options] IMAGE|FOLDER...'],
  positionals: { min: 1, max: Infinity, what: 'the IMAGE files or FOLDERs of images to predict' },
  options: {
    weights: WEIGHTS_OPTION,
    'top-k': { type: 'string', value: 'K', help: 'classes shown per image', default: '5' },
    ...INFERENCE_OPTIONS,
  },
  notes: [
    `A FOLDER stands for the images in it and its subfolders (${IMG_EXTENSIONS.join(', ')}: torchvision's ImageFolder's), in sorted order.`,
    'Class names and the eval transform come from the .json beside a weights file (finetorch train writes one beside every .pth), ' +
      "from config.json for an hf-hub: id (timm's input size, crop_pct, interpolation, mean, std; its label_names), " +
      "or from torchvision's published transform for a torchvision name; " +
      "without any, class names come from a classes.json there, else are ImageNet-1K's (torchvision's) for a model of 1000 outputs " +
      'and show as their index otherwise, and images are sized by --image-size.',
    'An image that cannot be read is reported on stderr and skipped; the others are still predicted, and the exit code is 1.',
    '--json prints {weights, results: [{image, top: [{index, class, probability}]}], errors: [{image, error}]}, most probable first.',
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  return (await import('../run/predict')).predict({
    ...inferenceFlags(flags),
    paths: positionals.map((p) => path.resolve(p)),
    topK: flags.int('top-k'),
  });
}

export const command: Command = { spec, run };

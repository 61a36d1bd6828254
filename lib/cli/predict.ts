// finetorch predict, its interface: flags, their checks and help. The prediction (LibTorch) lives
// in prediction.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, Parsed } from './args';
import { deviceFlag } from './device';
import { INFERENCE_OPTIONS, WEIGHTS_OPTION, archFlag, imageSizeFlag } from './model-options';
import type { Command } from './main';

export interface PredictOptions {
  weights: string;
  /** Image files and folders of them. */
  paths: string[];
  topK: number;
  /** Undefined: read off the weights. */
  arch: string | undefined;
  /** Undefined: the card's. */
  imageSize: number | undefined;
  device: Device;
  json: boolean;
}

const spec: CommandSpec = {
  name: 'predict',
  usage: ['predict --weights FILE.pth [options] IMAGE|FOLDER...'],
  positionals: { min: 1, max: Infinity },
  options: {
    weights: WEIGHTS_OPTION,
    'top-k': { type: 'string', value: 'K', help: 'classes shown per image', default: '5' },
    ...INFERENCE_OPTIONS,
  },
  notes: [
    'A FOLDER stands for the images in it and its subfolders (.jpg, .jpeg, .png, .webp, .gif, .tif, .tiff, .avif), in sorted order.',
    'Class names and the eval transform come from the .json beside the weights (finetorch train writes one beside every .pth); ' +
      'without it, class names come from a classes.json there, else show as their index, and images are sized by --image-size.',
    'An image that cannot be read is reported on stderr and skipped; the others are still predicted, and the exit code is 1.',
    '--json prints {weights, results: [{image, top: [{index, class, probability}]}], errors: [{image, error}]}, most probable first.',
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  return (await import('./prediction')).predict({
    weights: path.resolve(flags.required('weights')),
    paths: positionals.map((p) => path.resolve(p)),
    topK: flags.int('top-k'),
    arch: archFlag(flags),
    imageSize: imageSizeFlag(flags),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };

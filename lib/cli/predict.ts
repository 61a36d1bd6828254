// finetorch predict, its interface: flags, their checks and help. The prediction (LibTorch) lives
// in prediction.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, Parsed } from './args';
import { deviceFlag } from './device';
import { INFERENCE_OPTIONS, WEIGHTS_OPTION } from './model-options';
import type { Command } from './main';

export interface PredictOptions {
  weights: string;
  images: string[];
  topK: number;
  imageSize: number;
  device: Device;
  json: boolean;
}

const spec: CommandSpec = {
  name: 'predict',
  usage: ['predict --weights FILE.pth [options] IMAGE...'],
  positionals: { min: 1, max: Infinity },
  options: {
    weights: WEIGHTS_OPTION,
    'top-k': { type: 'string', value: 'K', help: 'classes shown per image', default: '5' },
    ...INFERENCE_OPTIONS,
  },
  notes: [
    'Class names come from the classes.json beside the weights (finetorch train writes it); without one, classes show as their index.',
    '--json prints {weights, results: [{image, top: [{index, class, probability}]}]}, most probable first.',
  ],
};

async function run({ flags, positionals }: Parsed): Promise<number> {
  return (await import('./prediction')).predict({
    weights: path.resolve(flags.required('weights')),
    images: positionals.map((p) => path.resolve(p)),
    topK: flags.int('top-k'),
    imageSize: flags.int('image-size', 8),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };

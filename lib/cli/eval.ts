// finetorch eval, its interface: flags, their checks and help. The scoring (LibTorch) lives in
// evaluation.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, Parsed } from './args';
import { deviceFlag } from './device';
import { INFERENCE_OPTIONS, WEIGHTS_OPTION, archFlag, imageSizeFlag } from './model-options';
import type { Command } from './main';

export interface EvalOptions {
  weights: string;
  data: string;
  batchSize: number;
  /** Undefined: read off the weights. */
  arch: string | undefined;
  /** Undefined: the card's. */
  imageSize: number | undefined;
  device: Device;
  json: boolean;
}

const spec: CommandSpec = {
  name: 'eval',
  usage: ['eval --weights FILE.pth --data DIR [options]'],
  options: {
    weights: WEIGHTS_OPTION,
    data: { type: 'string', value: 'DIR', help: 'a folder of class folders; for a train/ + valid/ (val/, test/) layout, its valid folder' },
    'batch-size': { type: 'string', value: 'B', help: 'images per forward pass', default: '32' },
    ...INFERENCE_OPTIONS,
  },
  notes: [
    'Class names and the eval transform come from the .json beside the weights (finetorch train writes one beside every .pth); ' +
      'without it, class names come from a classes.json there, else from the folder names, and images are sized by --image-size.',
    '--json prints {weights, arch, data, classesFrom, imageSize, count, loss, accuracy, top5, classes, perClass: [{class, count, accuracy}], ' +
      'matrix} with matrix[true][predicted] image counts.',
  ],
};

async function run({ flags }: Parsed): Promise<number> {
  return (await import('./evaluation')).evaluate({
    weights: path.resolve(flags.required('weights')),
    data: path.resolve(flags.required('data')),
    batchSize: flags.int('batch-size'),
    arch: archFlag(flags),
    imageSize: imageSizeFlag(flags),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };

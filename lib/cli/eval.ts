// finetorch eval, its interface: flags, their checks and help. The scoring (LibTorch) lives in
// evaluation.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, Parsed } from './args';
import { DEVICE_OPTION, deviceFlag } from './device';
import type { Command } from './main';

export interface EvalOptions {
  weights: string;
  data: string;
  batchSize: number;
  imageSize: number;
  device: Device;
  json: boolean;
}

const spec: CommandSpec = {
  name: 'eval',
  usage: ['eval --weights FILE.pth --data DIR [options]'],
  options: {
    weights: { type: 'string', value: 'FILE.pth', help: 'the model (a state dict, or a finetorch checkpoint)' },
    data: { type: 'string', value: 'DIR', help: 'a folder of class folders; for a train/ + valid/ (val/, test/) layout, its valid folder' },
    'batch-size': { type: 'string', value: 'B', help: 'images per forward pass', default: '32' },
    'image-size': { type: 'string', value: 'S', help: 'resize to S*256/224, centre-crop S (as train validates)', default: '224' },
    device: DEVICE_OPTION,
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
  },
  notes: [
    'Class names come from the classes.json beside the weights (finetorch train writes it), else from the folder names.',
    '--json prints {weights, data, classesFrom, count, loss, accuracy, classes, perClass: [{class, count, accuracy}], ' +
      'matrix} with matrix[true][predicted] image counts.',
  ],
};

async function run({ flags }: Parsed): Promise<number> {
  return (await import('./evaluation')).evaluate({
    weights: path.resolve(flags.required('weights')),
    data: path.resolve(flags.required('data')),
    batchSize: flags.int('batch-size'),
    imageSize: flags.int('image-size', 8),
    device: deviceFlag(flags),
    json: flags.flag('json'),
  });
}

export const command: Command = { spec, run };

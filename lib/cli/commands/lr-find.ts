// finetorch lr-find, its interface: flags, their checks and help. The range test (LibTorch) lives
// in run/lr-find.ts, loaded once the flags are right.
import * as path from 'node:path';
import { Command, CommandSpec, OptionSpec, Parsed, UsageError } from '../args';
import type { LrFindSettings } from '../settings';
import { DEVICE_OPTION } from './device-flag';
import { SKIP_BAD_IMAGES_OPTION } from './model-flags';
import { weightsFlag } from '../weights-source';
import {
  AUGMENT_OPTIONS, BATCH_OPTIONS, PRECISION_OPTIONS, RUNTIME_OPTIONS, SGD_OPTIONS, STARTING_MODEL_OPTIONS, computeFlags, optimizerFlags,
  startingModelFlags, trainingImageFlags,
} from './training-flags';

const options: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', help: 'the class folders train would use (their training part)' },
  ...STARTING_MODEL_OPTIONS,
  mode: { type: 'string', value: 'MODE', help: 'finetune (all layers, the head (fc) at --fc-lr-mult x lr) or linear-probe (the head only)', default: 'finetune' },
  ...SGD_OPTIONS,
  'start-lr': { type: 'string', value: 'X', help: 'the first step\'s lr', default: '1e-7' },
  'end-lr': { type: 'string', value: 'X', help: 'the lr the last step would reach', default: '10' },
  'num-it': { type: 'string', value: 'N', help: 'steps at most (the test stops early once the loss passes 4x its minimum)', default: '100' },
  ...BATCH_OPTIONS,
  ...AUGMENT_OPTIONS,
  'valid-split': { type: 'string', value: 'F', help: 'share train holds out (left out here too) when DIR has no valid/ folder', default: '0.2' },
  'skip-bad-images': SKIP_BAD_IMAGES_OPTION,
  plot: { type: 'string', value: 'FILE.svg', help: 'write the loss-against-lr curve with the suggestions there (and a .png beside it)' },
  device: DEVICE_OPTION,
  ...PRECISION_OPTIONS,
  ...RUNTIME_OPTIONS,
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

const spec: CommandSpec = {
  name: 'lr-find',
  usage: ['lr-find --data DIR --weights WEIGHTS [--plot FILE.svg] [options]'],
  options,
  notes: [
    "fastai's Learner.lr_find: one SGD step per batch at an lr growing exponentially from --start-lr towards --end-lr over " +
      '--num-it steps, the loss smoothed (exponential average, beta 0.98, bias-corrected), stopping once it passes 4x its ' +
      'minimum. The weights are then put back: nothing is saved but the plot. Suggestions, as fastai computes them after ' +
      'dropping the first tenth and the last five points: valley (fastai\'s default, printed as the suggestion), minimum/10, ' +
      'and steepest descent. Each is a value for train\'s --lr (fc trains at --fc-lr-mult times it).',
    '--json prints {lrs, losses (smoothed), rawLosses, stop, suggestions: {valley, minimum, steep: {lr, point: [lr, loss]}} | null, ' +
      'skippedImages: [{image, error}]}.',
  ],
};

async function run({ flags }: Parsed): Promise<number> {
  const plot = flags.string('plot');
  const settings: LrFindSettings = {
    ...trainingImageFlags(flags),
    weights: weightsFlag(flags),
    ...startingModelFlags(flags),
    ...optimizerFlags(flags),
    startLr: flags.number('start-lr', { min: 0, open: true }),
    endLr: flags.number('end-lr', { min: 0, open: true }),
    numIt: flags.int('num-it', 6),
    plot: plot && path.resolve(plot),
    ...computeFlags(flags),
    json: flags.flag('json'),
  };
  if (settings.endLr <= settings.startLr) throw new UsageError(`--end-lr (${settings.endLr}) must be above --start-lr (${settings.startLr})`);
  return (await import('../run/lr-find')).findLr(settings);
}

export const command: Command = { spec, run };

// finetorch lr-find, its interface: flags, their checks and help. The range test (LibTorch) lives
// in lr-finding.ts, loaded once the flags are right.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, OptionSpec, Parsed, UsageError } from './args';
import { DEVICE_OPTION, deviceFlag } from './device';
import type { Command } from './main';
import { archFlag } from './model-options';
import { BATCH_OPTIONS, PRECISION_OPTIONS, RUNTIME_OPTIONS, SGD_OPTIONS, STARTING_MODEL_OPTIONS, precisionFlags, runtimeFlags, validSplitFlag } from './training-options';

const MODES = ['finetune', 'linear-probe'] as const;

const options: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', help: 'the class folders train would use (their training part)' },
  ...STARTING_MODEL_OPTIONS,
  mode: { type: 'string', value: 'MODE', help: 'finetune (all layers, the head (fc) at --fc-lr-mult x lr) or linear-probe (the head only)', default: 'finetune' },
  ...SGD_OPTIONS,
  'start-lr': { type: 'string', value: 'X', help: 'the first step\'s lr', default: '1e-7' },
  'end-lr': { type: 'string', value: 'X', help: 'the lr the last step would reach', default: '10' },
  'num-it': { type: 'string', value: 'N', help: 'steps at most (the test stops early once the loss passes 4x its minimum)', default: '100' },
  ...BATCH_OPTIONS,
  'valid-split': { type: 'string', value: 'F', help: 'share train holds out (left out here too) when DIR has no valid/ folder', default: '0.2' },
  plot: { type: 'string', value: 'FILE.svg', help: 'write the loss-against-lr curve with the suggestions there (and a .png beside it)' },
  device: DEVICE_OPTION,
  ...PRECISION_OPTIONS,
  ...RUNTIME_OPTIONS,
  json: { type: 'boolean', help: 'print the result as JSON on stdout' },
};

const spec: CommandSpec = {
  name: 'lr-find',
  usage: ['lr-find --data DIR --weights FILE.pth [--plot FILE.svg] [options]'],
  options,
  notes: [
    "fastai's Learner.lr_find: one SGD step per batch at an lr growing exponentially from --start-lr towards --end-lr over " +
      '--num-it steps, the loss smoothed (exponential average, beta 0.98, bias-corrected), stopping once it passes 4x its ' +
      'minimum. The weights are then put back: nothing is saved but the plot. Suggestions, as fastai computes them after ' +
      'dropping the first tenth and the last five points: valley (fastai\'s default, printed as the suggestion), minimum/10, ' +
      'and steepest descent. Each is a value for train\'s --lr (fc trains at --fc-lr-mult times it).',
    '--json prints {lrs, losses (smoothed), rawLosses, stop, suggestions: {valley, minimum, steep: {lr, point: [lr, loss]}} | null}.',
  ],
};

export interface LrFindSettings {
  data: string;
  weights: string;
  arch: string | undefined;
  keepFc: boolean;
  mode: (typeof MODES)[number];
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
  startLr: number;
  endLr: number;
  numIt: number;
  batchSize: number;
  imageSize: number;
  validSplit: number;
  seed: number;
  plot: string | undefined;
  device: Device;
  amp: 'none' | 'fp16' | 'bf16';
  channelsLast: boolean;
  threads: number | undefined;
  workers: number;
  json: boolean;
}

async function run({ flags }: Parsed): Promise<number> {
  const plot = flags.string('plot');
  const settings: LrFindSettings = {
    data: path.resolve(flags.required('data')),
    weights: path.resolve(flags.required('weights')),
    arch: archFlag(flags),
    keepFc: flags.flag('keep-fc'),
    mode: flags.choice('mode', MODES),
    fcLrMult: flags.number('fc-lr-mult', { min: 0 }),
    weightDecay: flags.number('weight-decay', { min: 0 }),
    momentum: flags.number('momentum', { min: 0, max: 1 }),
    startLr: flags.number('start-lr', { min: 0, open: true }),
    endLr: flags.number('end-lr', { min: 0, open: true }),
    numIt: flags.int('num-it', 6),
    batchSize: flags.int('batch-size'),
    imageSize: flags.int('image-size', 8),
    validSplit: validSplitFlag(flags),
    seed: flags.int('seed', 0),
    plot: plot && path.resolve(plot),
    device: deviceFlag(flags),
    ...precisionFlags(flags),
    ...runtimeFlags(flags),
    json: flags.flag('json'),
  };
  if (settings.endLr <= settings.startLr) throw new UsageError(`--end-lr (${settings.endLr}) must be above --start-lr (${settings.startLr})`);
  return (await import('./lr-finding')).findLr(settings);
}

export const command: Command = { spec, run };

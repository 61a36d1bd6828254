// finetorch train, its interface: flags, their checks and help. The training (LibTorch) lives in
// training.ts, loaded once the flags are right, so that --help and mistakes answer at once.
import * as path from 'node:path';
import type { Device } from '../model';
import { CommandSpec, Flags, Parsed, UsageError } from './args';
import { DEVICE_OPTION, deviceFlag } from './device';
import { requireFile } from './files';
import type { Command } from './main';
import { OUT_FILES, outFile, savedSettings } from './outputs';

const MODES = ['finetune', 'linear-probe'] as const;

const spec: CommandSpec = {
  name: 'train',
  usage: [
    'train --data DIR --weights FILE.pth --out DIR [options]',
    'train --resume DIR [--epochs N] [options]',
  ],
  options: {
    data: { type: 'string', value: 'DIR', help: 'train/ and valid/ (or val/, test/) class folders, or one folder of class folders' },
    weights: { type: 'string', value: 'FILE.pth', help: 'starting ResNet-18 state dict (e.g. ImageNet-pretrained)' },
    out: { type: 'string', value: 'DIR', help: 'where metrics, weights, checkpoint and pictures go (default with --resume: that DIR)' },
    mode: { type: 'string', value: 'MODE', help: 'finetune (all layers) or linear-probe (fc only, backbone frozen)', default: 'finetune' },
    epochs: { type: 'string', value: 'N', help: 'train until this epoch', default: '5' },
    lr: { type: 'string', value: 'X', help: 'learning rate of the pretrained layers (linear-probe: of fc)', default: '0.01' },
    'fc-lr-mult': { type: 'string', value: 'X', help: "fc's learning rate = X * lr (finetune)", default: '10' },
    'weight-decay': { type: 'string', value: 'X', help: 'L2 weight decay', default: '0.001' },
    momentum: { type: 'string', value: 'M', help: 'SGD momentum', default: '0.9' },
    'batch-size': { type: 'string', value: 'B', help: 'images per step', default: '32' },
    'image-size': { type: 'string', value: 'S', help: 'side of the square crops the network sees', default: '224' },
    device: DEVICE_OPTION,
    resume: { type: 'string', value: 'DIR', help: "continue the run in DIR from its checkpoint.pth; its run.json supplies flags you don't pass" },
    'valid-split': { type: 'string', value: 'F', help: 'share held out for validation when DIR has no valid/ folder', default: '0.2' },
    seed: { type: 'string', value: 'K', help: 'seeds the split, the shuffling, the augmentation and the new fc', default: '0' },
    json: { type: 'boolean', help: 'print the final summary as JSON on stdout' },
  },
  notes: [
    `--out receives, after every epoch: ${OUT_FILES.metricsCsv} and ${OUT_FILES.metricsJson} (epoch, trainLoss, trainAcc, validLoss, ` +
      `validAcc, imagesPerSec, seconds, lr), ${OUT_FILES.last} and ${OUT_FILES.best} (state dicts, best by valid accuracy), ` +
      `${OUT_FILES.classes}, ${OUT_FILES.checkpoint} (for --resume), ${OUT_FILES.settings}, loss and accuracy curves ` +
      `(.svg and .png); after training, the validation confusion matrix (${OUT_FILES.confusionSvg}, ${OUT_FILES.confusionPng}).`,
    'fc is replaced by a fresh layer with one output per class folder, unless the weights already have ' +
      "that many outputs and a classes.json beside them lists the same classes (a model finetorch trained).",
    'Ctrl-C stops after the files of the epoch being written are complete (exit code 130); ' +
      'finetorch train --resume DIR then continues from the last finished epoch.',
    '--json prints {out, mode, classes, epochs, best: {epoch, validAcc, file}, last: <metrics row>, ' +
      'validation: {count, loss, accuracy, perClass, matrix}, files: {name: path}}.',
  ],
};

// Flags that run.json keeps, so that `--resume DIR` alone repeats the run's settings.
const SAVED_FLAGS = ['data', 'weights', 'mode', 'epochs', 'lr', 'fc-lr-mult', 'weight-decay', 'momentum', 'batch-size',
  'image-size', 'device', 'valid-split', 'seed'];

export interface TrainSettings {
  data: string;
  /** Undefined when resuming without it: the checkpoint holds every weight. */
  weights: string | undefined;
  out: string;
  resume: string | undefined;
  mode: (typeof MODES)[number];
  epochs: number;
  lr: number;
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
  batchSize: number;
  imageSize: number;
  validSplit: number;
  seed: number;
  json: boolean;
  device: Device;
  /** What run.json keeps: the flags as resolved, paths absolute, so a resume may start anywhere. */
  saved: Record<string, string>;
}

function settingsFrom(flags: Flags): TrainSettings {
  const resume = flags.string('resume');
  const out = flags.string('out') ?? resume;
  if (out === undefined) throw new UsageError('--out is required');
  const weightsFlag = resume ? flags.string('weights') : flags.required('weights');
  const weights = weightsFlag && path.resolve(weightsFlag);
  const data = path.resolve(flags.required('data'));
  return {
    data,
    weights,
    out: path.resolve(out),
    resume: resume && path.resolve(resume),
    mode: flags.choice('mode', MODES),
    epochs: flags.int('epochs'),
    lr: flags.number('lr', { min: 0, open: true }),
    fcLrMult: flags.number('fc-lr-mult', { min: 0 }),
    weightDecay: flags.number('weight-decay', { min: 0 }),
    momentum: flags.number('momentum', { min: 0, max: 1 }),
    batchSize: flags.int('batch-size'),
    imageSize: flags.int('image-size', 8),
    validSplit: flags.number('valid-split', { min: 0, max: 1, open: true }),
    seed: flags.int('seed', 0),
    json: flags.flag('json'),
    device: deviceFlag(flags),
    saved: savedFlags(flags, data, weights),
  };
}

function savedFlags(flags: Flags, data: string, weights: string | undefined): Record<string, string> {
  const saved: Record<string, string> = {};
  for (const name of SAVED_FLAGS) {
    const value = flags.string(name);
    if (value !== undefined) saved[name] = value;
  }
  saved.data = data;
  if (weights) saved.weights = weights;
  return saved;
}

async function run({ flags: given }: Parsed): Promise<number> {
  const resumeDir = given.string('resume');
  // Before the flags: without a checkpoint there is nothing to resume, whatever else is missing.
  if (resumeDir) await requireFile(outFile(resumeDir, 'checkpoint'), 'checkpoint');
  const flags = resumeDir ? given.withFallback(await savedSettings(resumeDir) ?? {}) : given;
  const settings = settingsFrom(flags);
  return (await import('./training')).train(settings);
}

export const command: Command = { spec, run };

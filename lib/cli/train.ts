// finetorch train, its interface: flags, their checks and help, and what a resume may change. The
// training (LibTorch) lives in training.ts, loaded once the flags are right, so that --help and
// mistakes answer at once and a refused resume has written nothing.
import * as path from 'node:path';
import { readCheckpointInfo } from '../checkpoint';
import type { CheckpointContents } from '../checkpoint';
import type { Device } from '../model';
import { CommandSpec, Flags, OptionSpec, Parsed, UsageError } from './args';
import { DEVICE_OPTION, deviceFlag } from './device';
import { isWithin, requireFile } from './files';
import { LAUNCHED_ENV, LAUNCH_OPTIONS, jobLayout, launch } from './launch';
import type { Command } from './main';
import { archFlag } from './model-options';
import { OUT_FILES, folderState, outFile, savedSettings } from './outputs';
import { BATCH_OPTIONS, LOG_EVERY_OPTION, PRECISION_OPTIONS, RUNTIME_OPTIONS, SGD_OPTIONS, STARTING_MODEL_OPTIONS, precisionFlags, runtimeFlags, validSplitFlag } from './training-options';

const MODES = ['finetune', 'linear-probe'] as const;
const SCHEDULES = ['constant', 'step', 'cosine'] as const;

const options: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', help: 'train/ and valid/ (or val/, test/) class folders, or one folder of class folders' },
  ...STARTING_MODEL_OPTIONS,
  out: { type: 'string', value: 'DIR', help: 'where metrics, weights, checkpoint and pictures go (default with --resume: that DIR)' },
  force: { type: 'boolean', help: 'let --out replace the run (or other files) already in DIR' },
  resume: { type: 'string', value: 'DIR', help: "continue the run in DIR from its checkpoint.pth; its run.json supplies flags you don't pass" },
  mode: { type: 'string', value: 'MODE', help: 'finetune (all layers) or linear-probe (the head (fc) only, backbone frozen)', default: 'finetune' },
  epochs: { type: 'string', value: 'N', help: 'train until this epoch', default: '5' },
  'freeze-epochs': { type: 'string', value: 'N', help: "finetune: the first N epochs train fc alone (fastai's fine_tune), then all layers", default: '0' },
  lr: { type: 'string', value: 'X', help: 'learning rate of the pretrained layers (linear-probe: of fc)', default: '0.01' },
  ...SGD_OPTIONS,
  sched: { type: 'string', value: 'NAME', help: 'lr schedule, stepped every batch: constant, step or cosine', default: 'constant' },
  'warmup-epochs': { type: 'string', value: 'N', help: 'linear warm-up from lr/100 over the first N epochs (fractions allowed)', default: '0' },
  'min-lr': { type: 'string', value: 'X', help: 'cosine: the lr it ends at', default: '0' },
  'decay-epochs': { type: 'string', value: 'N', help: 'step: multiply the lr by --decay-rate every N epochs', default: '30' },
  'decay-rate': { type: 'string', value: 'X', help: 'step: the factor', default: '0.1' },
  ...BATCH_OPTIONS,
  'val-batch-size': { type: 'string', value: 'B', help: 'images per validation batch (default: --batch-size)' },
  'valid-split': { type: 'string', value: 'F', help: 'share held out for validation when DIR has no valid/ folder (0: none)', default: '0.2' },
  patience: { type: 'string', value: 'N', help: 'stop after N epochs without a better valid accuracy (default: never)' },
  'checkpoint-every': { type: 'string', value: 'N', help: 'also save checkpoint.pth every N steps inside epochs (0: at epoch ends)', default: '0' },
  device: DEVICE_OPTION,
  ...PRECISION_OPTIONS,
  ...RUNTIME_OPTIONS,
  'log-every': LOG_EVERY_OPTION,
  json: { type: 'boolean', help: 'print the final summary as JSON on stdout' },
  ...LAUNCH_OPTIONS,
};

const spec: CommandSpec = {
  name: 'train',
  usage: [
    'train --data DIR --weights FILE.pth --out DIR [options]',
    'train --resume DIR [--epochs N] [options]',
  ],
  options,
  notes: [
    `--out receives, after every epoch: ${OUT_FILES.metricsCsv} and ${OUT_FILES.metricsJson} (epoch, trainLoss, trainAcc, validLoss, ` +
      `validAcc, validTop5, imagesPerSec, seconds (training and validation), lr, fcLr), ${OUT_FILES.last} and ${OUT_FILES.best} ` +
      `(state dicts, best by valid accuracy), ${OUT_FILES.checkpoint} (for --resume), each .pth with a .json beside it ` +
      '(architecture, classes, image size, resize rule, mean/std: what eval and predict read), ' +
      `${OUT_FILES.classes}, ${OUT_FILES.settings}, loss and accuracy curves (.svg and .png); at each new best epoch, ` +
      `${OUT_FILES.validation} and its confusion matrix (${OUT_FILES.confusionSvg}, ${OUT_FILES.confusionPng}).`,
    '--out must be new or empty (--force replaces what is there) and outside --data, where it would become a class folder.',
    'The head (a ResNet\'s fc, a ViT\'s head) is replaced by a fresh layer with one output per class folder, unless the weights already have ' +
      'that many outputs and the .json or classes.json beside them lists the same classes (a model finetorch trained), ' +
      'or --keep-fc says to keep it (a fine-tuned head whose outputs are the class folders in sorted order).',
    'A ViT (timm, torchvision or MAE weights) is made for --image-size images: its position embedding is interpolated as MAE\'s ' +
      'interpolate_pos_embed does when the weights were trained at another size.',
    'Ctrl-C (or SIGTERM) stops after the step running, saves checkpoint.pth at that point (inside the epoch if need be) ' +
      'and exits 130; finetorch train --resume DIR then continues exactly from there. A second Ctrl-C exits at once.',
    'With --resume, a flag you pass applies from the resumed position on (--lr, --momentum, the schedule, --epochs, ' +
      '--device, ...), or is refused before anything is written when it cannot: --weights, --mode, --seed, --valid-split, ' +
      '--keep-fc and --arch always; --data, --batch-size and --image-size when the checkpoint stopped inside an epoch.',
    '--json prints {out, mode, classes, epochs, stoppedEarly, best: {epoch, validAcc, file}, last: <metrics row>, ' +
      'validation: {epoch, count, loss, accuracy, top5, perClass, matrix} (of the best epoch), files: {name: path}}.',
    'Data-parallel (as PyTorch DistributedDataParallel): --nproc-per-node N starts N ranks here, each with ' +
      '--batch-size images per step and 1/N of the cores; on several machines run the same command on each with ' +
      '--nnodes M --node-rank K --master-addr <node 0> (the same --master-port). Rank 0 reports and writes --out, ' +
      'which --resume needs on every machine. torchrun --no-python finetorch train ... starts the ranks alike.',
  ],
};

// Flags that run.json keeps, so that `--resume DIR` alone repeats the run's settings.
const SAVED_FLAGS = ['data', 'weights', 'arch', 'keep-fc', 'mode', 'epochs', 'freeze-epochs', 'lr', 'fc-lr-mult', 'weight-decay', 'momentum',
  'sched', 'warmup-epochs', 'min-lr', 'decay-epochs', 'decay-rate', 'batch-size', 'val-batch-size', 'image-size', 'valid-split',
  'seed', 'patience', 'checkpoint-every', 'device', 'amp', 'channels-last', 'threads', 'workers', 'log-every'];

/** Why a resumed run cannot take another value of these. */
const FIXED_ON_RESUME: Record<string, string> = {
  weights: 'the checkpoint holds every weight; to start over from other weights, start a new run',
  arch: 'the checkpoint holds that architecture\'s weights',
  'keep-fc': 'fc comes from the checkpoint',
  mode: 'the checkpoint holds that mode\'s optimizer state; to switch, start a new run with --weights DIR/last.pth',
  seed: 'it seeds the train/valid split and the order of every epoch; another would mix validation images into training',
  'valid-split': 'another split would mix validation images into training',
};

/** These change what each remaining batch of an epoch holds: only at an epoch's end. */
const FIXED_MID_EPOCH = ['data', 'batch-size', 'image-size'];

export interface TrainSettings {
  data: string;
  /** Undefined when resuming: the checkpoint holds every weight. */
  weights: string | undefined;
  /** Undefined: read off the weights (a resume: the checkpoint's). */
  arch: string | undefined;
  keepFc: boolean;
  out: string;
  force: boolean;
  resume: { dir: string; checkpoint: string; info: CheckpointContents } | undefined;
  mode: (typeof MODES)[number];
  epochs: number;
  freezeEpochs: number;
  lr: number;
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
  sched: (typeof SCHEDULES)[number];
  warmupEpochs: number;
  minLr: number;
  decayEpochs: number;
  decayRate: number;
  batchSize: number;
  valBatchSize: number;
  imageSize: number;
  validSplit: number;
  seed: number;
  patience: number | undefined;
  checkpointEvery: number;
  device: Device;
  amp: 'none' | 'fp16' | 'bf16';
  channelsLast: boolean;
  threads: number | undefined;
  workers: number;
  logEvery: number;
  json: boolean;
  /** What run.json keeps: the flags as resolved, paths absolute, so a resume may start anywhere. */
  saved: Record<string, string>;
}

function settingsFrom(flags: Flags, resume: TrainSettings['resume']): TrainSettings {
  const out = flags.string('out') ?? resume?.dir;
  if (out === undefined) throw new UsageError('--out is required');
  const weightsFlag = resume ? undefined : flags.required('weights');
  const weights = weightsFlag && path.resolve(weightsFlag);
  const data = path.resolve(flags.required('data'));
  const sched = flags.choice('sched', SCHEDULES);
  const mode = flags.choice('mode', MODES);
  for (const [flag, applies] of [['min-lr', 'cosine'], ['decay-epochs', 'step'], ['decay-rate', 'step']] as const) {
    if (flags.has(flag) && sched !== applies) throw new UsageError(`--${flag} applies to --sched ${applies}, not ${sched}`);
  }
  if (flags.has('freeze-epochs') && mode !== 'finetune') throw new UsageError('--freeze-epochs applies to --mode finetune');
  const batchSize = flags.int('batch-size');
  const settings: TrainSettings = {
    data,
    weights,
    arch: archFlag(flags),
    keepFc: flags.flag('keep-fc'),
    out: path.resolve(out),
    force: flags.flag('force'),
    resume,
    mode,
    epochs: flags.int('epochs'),
    freezeEpochs: flags.int('freeze-epochs', 0),
    lr: flags.number('lr', { min: 0, open: true }),
    fcLrMult: flags.number('fc-lr-mult', { min: 0 }),
    weightDecay: flags.number('weight-decay', { min: 0 }),
    momentum: flags.number('momentum', { min: 0, max: 1 }),
    sched,
    warmupEpochs: flags.number('warmup-epochs', { min: 0 }),
    minLr: flags.number('min-lr', { min: 0 }),
    decayEpochs: flags.number('decay-epochs', { min: 0, open: true }),
    decayRate: flags.number('decay-rate', { min: 0, open: true }),
    batchSize,
    valBatchSize: flags.string('val-batch-size') === undefined ? batchSize : flags.int('val-batch-size'),
    imageSize: flags.int('image-size', 8),
    validSplit: validSplitFlag(flags),
    seed: flags.int('seed', 0),
    patience: flags.string('patience') === undefined ? undefined : flags.int('patience'),
    checkpointEvery: flags.int('checkpoint-every', 0),
    device: deviceFlag(flags),
    ...precisionFlags(flags),
    ...runtimeFlags(flags),
    logEvery: flags.int('log-every', 0),
    json: flags.flag('json'),
    saved: savedFlags(flags, data, weights),
  };
  if (settings.warmupEpochs >= settings.epochs && settings.warmupEpochs > 0) {
    throw new UsageError(`--warmup-epochs ${settings.warmupEpochs} leaves nothing of --epochs ${settings.epochs} after the warm-up`);
  }
  return settings;
}

function savedFlags(flags: Flags, data: string, weights: string | undefined): Record<string, string> {
  const saved: Record<string, string> = {};
  for (const name of SAVED_FLAGS) {
    const value = options[name].type === 'boolean' ? (flags.flag(name) ? 'true' : undefined) : flags.string(name);
    if (value !== undefined) saved[name] = value;
  }
  saved.data = data;
  if (weights) saved.weights = weights;
  return saved;
}

/** Two spellings of one value: numbers by value, paths resolved. */
function sameValue(name: string, a: string, b: string): boolean {
  if (name === 'data' || name === 'weights') return path.resolve(a) === path.resolve(b);
  const [x, y] = [Number(a), Number(b)];
  return a === b || (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && x === y);
}

/** Refuses, before anything is loaded or written, each flag a resume cannot apply. */
function checkResumeFlags(given: Flags, saved: Record<string, string>, info: CheckpointContents, dir: string): void {
  const changed = (name: string): boolean => {
    if (!given.has(name)) return false;
    if (options[name].type === 'boolean') return given.flag(name) !== (saved[name] === 'true');
    const before = saved[name] ?? options[name].default;
    return before === undefined || !sameValue(name, given.string(name)!, before);
  };
  const was = (name: string) => (options[name].type === 'boolean' ? String(saved[name] === 'true') : saved[name] ?? options[name].default);
  for (const [name, why] of Object.entries(FIXED_ON_RESUME)) {
    if (changed(name)) throw new UsageError(`--${name} cannot change on --resume (the run's: ${was(name) ?? 'none'}): ${why}`);
  }
  if (info.batch) {
    for (const name of FIXED_MID_EPOCH.filter(changed)) {
      throw new UsageError(`--${name} cannot change on this --resume: ${path.join(dir, OUT_FILES.checkpoint)} stopped inside epoch ` +
        `${info.epoch + 1} (after batch ${info.batch}), whose remaining batches are replayed exactly with the run's own --${name} ` +
        `(${was(name)}); resume without it, and change it once that epoch is done`);
    }
  }
}

/** --out: new, or empty, or --force; never inside --data. */
async function checkOut(s: TrainSettings): Promise<void> {
  if (isWithin(s.out, s.data)) {
    throw new UsageError(`--out ${s.out} is inside --data ${s.data}: its files would become a class folder of the next run`);
  }
  if (s.force || (s.resume && s.resume.dir === s.out)) return;
  const state = await folderState(s.out);
  if (state === 'run') {
    throw new UsageError(`--out ${s.out} holds a run already; continue it with --resume ${s.out}, or pass --force to replace it`);
  }
  if (state === 'other') throw new UsageError(`--out ${s.out} is not empty; choose a new folder, or pass --force to write into it`);
}

async function run({ flags: given }: Parsed): Promise<number> {
  const resumeDir = given.string('resume') && path.resolve(given.string('resume')!);
  let resume: TrainSettings['resume'];
  let flags = given;
  if (resumeDir) {
    // Before the flags: without a checkpoint there is nothing to resume, whatever else is missing.
    const checkpoint = outFile(resumeDir, 'checkpoint');
    await requireFile(checkpoint, 'checkpoint');
    const saved = await savedSettings(resumeDir) ?? {};
    const info = await readCheckpointInfo(checkpoint);
    // Runs from before --arch saved none: the checkpoint says which.
    saved.arch ??= info.arch;
    checkResumeFlags(given, saved, info, resumeDir);
    resume = { dir: resumeDir, checkpoint, info };
    flags = given.withFallback(saved);
  }
  const settings = settingsFrom(flags, resume);
  // A launcher (--nproc-per-node) starts this machine's ranks as this same command. --out is
  // checked once per job: by node 0's launcher, or by rank 0 under torchrun, before it writes.
  const layout = process.env[LAUNCHED_ENV] ? undefined : await jobLayout(given);
  const launched = process.env[LAUNCHED_ENV] !== undefined || (process.env.RANK ?? '0') !== '0';
  if (layout ? layout.nodeRank === 0 : !launched) await checkOut(settings);
  if (layout) return launch(layout, process.argv.slice(1));
  return (await import('./training')).train(settings);
}

export const command: Command = { spec, run };

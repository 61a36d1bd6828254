// finetorch train, its interface: flags, their checks and help, and what a resume may change. The
// training (LibTorch) lives in run/train.ts, loaded once the flags are right, so that --help and
// mistakes answer at once and a refused resume has written nothing.
import * as path from 'node:path';
import { FinetorchError } from '../../base/errors';
import type { CheckpointContents } from '../../train/checkpoint';
import { readCheckpointInfo } from '../../train/checkpoint';
import { familyOfArch } from '../../model/infer';
import { Command, CommandSpec, Flags, OptionSpec, Parsed, UsageError } from '../args';
import { isWithin, requireFile } from '../files';
import { LAUNCHED_ENV, LAUNCH_OPTIONS, jobLayout, launch } from '../launch';
import { OUT_FILES, folderState, outFile, savedSettings } from '../outputs';
import { CliProtocol, ERASING_MODES, MaeSettings, PROTOCOLS, SCHEDULES, TrainSettings } from '../settings';
import { MAE_DEFAULTS } from '../../train/mae-defaults';
import { DEVICE_OPTION } from './device-flag';
import { RESIZE_OPTIONS, SKIP_BAD_IMAGES_OPTION, resizeRuleFlags } from './model-flags';
import { weightsFlag } from '../weights-source';
import {
  AUGMENT_OPTIONS, BATCH_OPTIONS, LOG_EVERY_OPTION, PRECISION_OPTIONS, RUNTIME_OPTIONS, SGD_OPTIONS, STARTING_MODEL_OPTIONS, computeFlags,
  optimizerFlags, startingModelFlags, trainingImageFlags,
} from './training-flags';

const L = MAE_DEFAULTS.linprobe;
const F = MAE_DEFAULTS.finetune;

const options: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', help: 'train/ and valid/ (or val/, test/) class folders, or one folder of class folders' },
  ...STARTING_MODEL_OPTIONS,
  out: { type: 'string', value: 'DIR', help: 'where metrics, weights, checkpoint and pictures go (default with --resume: that DIR)' },
  force: { type: 'boolean', help: 'let --out replace the run (or other files) already in DIR' },
  resume: { type: 'string', value: 'DIR', help: "continue the run in DIR from its checkpoint.pth; its run.json supplies flags you don't pass" },
  mode: { type: 'string', value: 'MODE', help: 'finetune (all layers) or linear-probe (the head (fc) only, backbone frozen)', default: 'finetune' },
  protocol: {
    type: 'string', value: 'NAME', default: 'd2l',
    help: "whose recipe: d2l (the d2l chapter's SGD: --mode, --lr, --sched ...), mae-linprobe (MAE's main_linprobe.py on a ViT: " +
      `class token, MAE's probe head (BatchNorm1d without affine + Linear), LARS, --blr ${L.blr}, weight decay ${L.weightDecay}, ` +
      `warm-up ${L.warmupEpochs} of ${L.epochs} epochs, half-cycle cosine per step) or mae-finetune (main_finetune.py: global pool + fc_norm, ` +
      `AdamW, --blr ${F.blr}, --layer-decay ${F.layerDecay}, weight decay ${F.weightDecay}, warm-up ${F.warmupEpochs} of ${F.epochs} epochs, ` +
      `--min-lr ${F.minLr}, --smoothing ${F.labelSmoothing}, --drop-path ${F.dropPath})`,
  },
  epochs: { type: 'string', value: 'N', help: 'train until this epoch', default: '5' },
  'freeze-epochs': {
    type: 'string', value: 'N', default: '0',
    help: 'finetune: the first N of --epochs train fc alone, the backbone frozen with its BatchNorm statistics, then all layers ' +
      "(fastai's fine_tune(E, freeze_epochs=N) trains N + E epochs, and BatchNorm during the N)",
  },
  lr: {
    type: 'string', value: 'X', default: '0.01',
    help: "learning rate of the pretrained layers (linear-probe: of fc); mae-*: the peak lr itself (MAE's --lr), in place of --blr's scaling",
  },
  ...SGD_OPTIONS,
  'weight-decay': { ...SGD_OPTIONS['weight-decay'], help: `L2 weight decay (mae-*, unless given: MAE's, ${L.weightDecay} to probe, ${F.weightDecay} to fine-tune)` },
  sched: {
    type: 'string', value: 'NAME', default: 'constant',
    help: "lr schedule, stepped every batch: constant, step, cosine, or onecycle (PyTorch's OneCycleLR over all steps, peaking at " +
      '--lr (fc: its multiple), momentum cycled 0.95 -> 0.85 -> 0.95 in place of --momentum)',
  },
  'warmup-epochs': {
    type: 'string', value: 'N', default: '0',
    help: 'linear warm-up from lr/100 over the first N epochs (fractions allowed); mae-*: from 0, MAE\'s (its own when --epochs reaches ' +
      'MAE\'s, else the same share of --epochs)',
  },
  'min-lr': { type: 'string', value: 'X', help: 'cosine, mae-*: the lr it ends at', default: '0' },
  blr: {
    type: 'string', value: 'X',
    help: `mae-*: base lr, lr = X * batch size * processes / 256 (MAE's ${L.blr} to probe, ${F.blr} to fine-tune; --lr gives the lr itself)`,
  },
  'layer-decay': {
    type: 'string', value: 'X', help: `mae-finetune: lr x X^(layers - layer) per ViT block (MAE's ${F.layerDecay}; its README: 0.65 for ViT-B)`,
  },
  smoothing: { type: 'string', value: 'X', help: `mae-finetune: label smoothing (MAE's ${F.labelSmoothing})` },
  mixup: { type: 'string', value: 'A', help: "mae-finetune: timm's Mixup alpha (MAE's default 0; its README's commands 0.8)" },
  cutmix: { type: 'string', value: 'A', help: "mae-finetune: timm's CutMix alpha (MAE's default 0; its README's commands 1.0)" },
  'drop-path': { type: 'string', value: 'X', help: `mae-finetune: the ViT's stochastic depth (MAE's ${F.dropPath})` },
  reprob: { type: 'string', value: 'P', help: "mae-finetune: timm's RandomErasing probability, the train transform's last step (MAE's 0.25)" },
  remode: { type: 'string', value: 'MODE', help: "mae-finetune: RandomErasing's fill: const (zeros), rand (per channel) or pixel (per pixel, MAE's)" },
  'decay-epochs': { type: 'string', value: 'N', help: 'step: multiply the lr by --decay-rate every N epochs', default: '30' },
  'decay-rate': { type: 'string', value: 'X', help: 'step: the factor', default: '0.1' },
  'pct-start': { type: 'string', value: 'F', help: "onecycle: the share of the steps spent raising the lr (OneCycleLR's pct_start)", default: '0.3' },
  ...BATCH_OPTIONS,
  ...AUGMENT_OPTIONS,
  ...Object.fromEntries(Object.entries(RESIZE_OPTIONS).map(([name, o]) => [name, { ...o, help: `validation and the model card: ${o.help}` }])),
  'skip-bad-images': SKIP_BAD_IMAGES_OPTION,
  'drop-last': { type: 'boolean', help: "leave out each epoch's last batch when it is smaller than --batch-size (torch's drop_last)" },
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
    'train --data DIR --weights WEIGHTS --out DIR [options]',
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
    'Every training image trains in every epoch (torch\'s DataLoader default), a smaller last batch included unless ' +
      '--drop-last; a last batch of a single image is left out, since BatchNorm cannot train on one image at small sizes.',
    '--out must be a new or empty folder (--force replaces what is there) outside --data, where it would become a class folder; ' +
      'the folder of a run that failed before its first checkpoint counts as empty (nothing there to resume).',
    'The head (a ResNet\'s fc, a ViT\'s head) is replaced by a fresh layer with one output per class folder, unless the weights already have ' +
      'that many outputs and the .json or classes.json beside them lists the same classes (a model finetorch trained), ' +
      'or --keep-fc says to keep it (a fine-tuned head whose outputs are the class folders in sorted order).',
    "--protocol mae-finetune trains on main_finetune.py's transforms (timm's bicubic random resized crop, flip, RandomErasing " +
      "--reprob 0.25 --remode pixel) less RandAugment, which finetorch lacks and says so once (warning FINETORCH_MAE_RECIPE); " +
      "mae-linprobe on main_linprobe.py's (util/crop.py's bicubic crop, flip). Both validate as util/datasets.py: the shorter " +
      'side bicubic to S / 0.875 (S above 224: to S), the centre S, unless --crop-mode or --crop-pct say otherwise. Each run logs its transforms.',
    'A ViT (timm, torchvision or MAE weights) is made for --image-size images: its position embedding is interpolated as MAE\'s ' +
      'interpolate_pos_embed does when the weights were trained at another size.',
    'Ctrl-C (or SIGTERM) stops after the step running, saves checkpoint.pth at that point (inside the epoch if need be) ' +
      'and exits 130 (SIGTERM: 143, 128 + the signal\'s number as shells count); finetorch train --resume DIR then continues ' +
      'exactly from there. A second Ctrl-C exits at once.',
    'With --resume, a flag you pass applies from the resumed position on (--lr, --momentum, the schedule, --epochs, ' +
      '--device, ...; another --epochs spreads a cosine or one-cycle schedule over the new length, and the lr it moves to is ' +
      'said), or is refused before anything is written when it cannot: --weights, --mode, --seed, --valid-split, ' +
      '--keep-fc and --arch always; --data, --batch-size, --drop-last, --image-size, --scale, --ratio, --hflip, --reprob, --remode, ' +
      '--shrink-on-load and the number of processes when the checkpoint stopped inside an epoch.',
    '--json prints {out, mode, classes, epochs, stoppedEarly, best: {epoch, validAcc, file}, last: <metrics row>, ' +
      'validation: {epoch, count, loss, accuracy, top5, perClass, matrix} (of the best epoch), files: {name: path}, ' +
      'skippedImages: [{image, error}] (--skip-bad-images)}.',
    'Data-parallel (as PyTorch DistributedDataParallel): --nproc-per-node N starts N ranks here, each with ' +
      '--batch-size images per step and 1/N of the cores; on several machines run the same command on each with ' +
      '--nnodes M --node-rank K --master-addr <node 0> (the same --master-port). Rank 0 reports and writes --out, ' +
      'which --resume needs on every machine. torchrun --no-python finetorch train ... starts the ranks alike.',
  ],
};

// Flags that run.json keeps, so that `--resume DIR` alone repeats the run's settings.
const SAVED_FLAGS = ['data', 'weights', 'arch', 'keep-fc', 'mode', 'protocol', 'blr', 'layer-decay', 'smoothing', 'mixup', 'cutmix', 'drop-path', 'reprob', 'remode', 'epochs', 'freeze-epochs', 'lr', 'fc-lr-mult', 'weight-decay', 'momentum',
  'sched', 'warmup-epochs', 'min-lr', 'decay-epochs', 'decay-rate', 'pct-start', 'batch-size', 'drop-last', 'skip-bad-images',
  'val-batch-size', 'image-size', 'scale', 'ratio', 'hflip', 'crop-mode', 'crop-pct', 'valid-split', 'seed', 'shrink-on-load',
  'patience', 'checkpoint-every', 'device', 'amp', 'channels-last', 'threads', 'workers', 'log-every'];

/** Why a resumed run cannot take another value of these. */
const FIXED_ON_RESUME: Record<string, string> = {
  weights: 'the checkpoint holds every weight; to start over from other weights, start a new run',
  arch: 'the checkpoint holds that architecture\'s weights',
  'keep-fc': 'fc comes from the checkpoint',
  mode: 'the checkpoint holds that mode\'s optimizer state; to switch, start a new run with --weights DIR/last.pth',
  protocol: 'the checkpoint holds that protocol\'s optimizer state (SGD, LARS or AdamW) and head; to switch, start a new run',
  seed: 'it seeds the train/valid split and the order of every epoch; another would mix validation images into training',
  'valid-split': 'another split would mix validation images into training',
};

/** These change what each remaining batch of an epoch holds: only at an epoch's end. */
const FIXED_MID_EPOCH = ['data', 'batch-size', 'drop-last', 'image-size', 'scale', 'ratio', 'hflip', 'reprob', 'remode', 'shrink-on-load'];

/** The d2l recipe's flags, which MAE's protocols do not take. */
const D2L_ONLY = ['mode', 'fc-lr-mult', 'momentum', 'sched', 'decay-epochs', 'decay-rate', 'pct-start', 'freeze-epochs'];
/** MAE's flags, and the protocols that take each. */
const MAE_ONLY: Record<string, readonly CliProtocol[]> = {
  blr: ['mae-linprobe', 'mae-finetune'], 'layer-decay': ['mae-finetune'], smoothing: ['mae-finetune'], mixup: ['mae-finetune'],
  cutmix: ['mae-finetune'], 'drop-path': ['mae-finetune'], reprob: ['mae-finetune'], remode: ['mae-finetune'],
};

/** --protocol and the flags it cannot honour, refused; MAE's flags as given. */
function protocolFlags(flags: Flags): { protocol: CliProtocol; mae: MaeSettings } {
  const protocol = flags.choice('protocol', PROTOCOLS);
  for (const [flag, takers] of Object.entries(MAE_ONLY)) {
    if (flags.has(flag) && !takers.includes(protocol)) throw new UsageError(`--${flag} applies to --protocol ${takers.join(' or ')}, not ${protocol}`);
  }
  if (protocol === 'd2l') return { protocol, mae: {} };
  for (const flag of D2L_ONLY) {
    if (flags.has(flag)) throw new UsageError(`--${flag} is the d2l recipe's; --protocol ${protocol} runs MAE's (see --help)`);
  }
  const given = (flag: string, range: { min?: number; max?: number; open?: boolean } = { min: 0 }) => (flags.has(flag) ? flags.number(flag, range) : undefined);
  const mae: MaeSettings = {
    blr: given('blr'), lr: given('lr'), weightDecay: given('weight-decay'), warmupEpochs: given('warmup-epochs'), minLr: given('min-lr'),
    layerDecay: given('layer-decay', { min: 0, open: true }), mixup: given('mixup'), cutmix: given('cutmix'),
    labelSmoothing: given('smoothing', { min: 0, max: 1 }), dropPath: given('drop-path', { min: 0, max: 1 }),
  };
  if (mae.dropPath === 1) throw new UsageError('--drop-path must be below 1, got \'1\'');
  return { protocol, mae: Object.fromEntries(Object.entries(mae).filter(([, v]) => v !== undefined)) };
}

function settingsFrom(flags: Flags, resume: TrainSettings['resume']): TrainSettings {
  const out = flags.string('out') ?? resume?.dir;
  if (out === undefined) throw new UsageError('--out is required');
  const weights = resume ? undefined : weightsFlag(flags);
  const data = path.resolve(flags.required('data'));
  const sched = flags.choice('sched', SCHEDULES);
  const { protocol, mae } = protocolFlags(flags);
  const { mode } = optimizerFlags(flags);
  for (const [flag, applies] of [['min-lr', 'cosine'], ['decay-epochs', 'step'], ['decay-rate', 'step'], ['pct-start', 'onecycle']] as const) {
    if (flags.has(flag) && sched !== applies && protocol === 'd2l') throw new UsageError(`--${flag} applies to --sched ${applies}, not ${sched}`);
  }
  for (const flag of ['warmup-epochs', 'momentum']) {
    if (flags.has(flag) && sched === 'onecycle') {
      const why = flag === 'momentum' ? 'cycles momentum itself' : 'warms up itself (--pct-start)';
      throw new UsageError(`--${flag} does not apply to --sched onecycle, which ${why}`);
    }
  }
  if (flags.has('freeze-epochs') && mode !== 'finetune') throw new UsageError('--freeze-epochs applies to --mode finetune');
  const images = trainingImageFlags(flags);
  const settings: TrainSettings = {
    ...images,
    weights,
    protocol,
    mae,
    erasing: {
      reprob: flags.has('reprob') ? flags.number('reprob', { min: 0, max: 1 }) : undefined,
      remode: flags.has('remode') ? flags.choice('remode', ERASING_MODES) : undefined,
    },
    ...startingModelFlags(flags),
    out: path.resolve(out),
    force: flags.flag('force'),
    resume,
    epochs: flags.int('epochs'),
    freezeEpochs: flags.int('freeze-epochs', 0),
    lr: flags.number('lr', { min: 0, open: true }),
    ...optimizerFlags(flags),
    ...(protocol === 'mae-linprobe' ? { mode: 'linear-probe' as const } : {}),
    sched,
    warmupEpochs: flags.number('warmup-epochs', { min: 0 }),
    minLr: flags.number('min-lr', { min: 0 }),
    decayEpochs: flags.number('decay-epochs', { min: 0, open: true }),
    decayRate: flags.number('decay-rate', { min: 0, open: true }),
    pctStart: flags.number('pct-start', { min: 0, max: 1, open: true }),
    // MAE's train loaders drop the last, smaller batch (drop_last=True); Mixup pairs a batch's images.
    dropLast: flags.flag('drop-last') || protocol !== 'd2l',
    valBatchSize: flags.string('val-batch-size') === undefined ? images.batchSize : flags.int('val-batch-size'),
    resizeRule: resizeRuleFlags(flags),
    patience: flags.string('patience') === undefined ? undefined : flags.int('patience'),
    checkpointEvery: flags.int('checkpoint-every', 0),
    ...computeFlags(flags),
    logEvery: flags.int('log-every', 0),
    json: flags.flag('json'),
    saved: savedFlags(flags, data, weights),
  };
  if (settings.warmupEpochs >= settings.epochs && settings.warmupEpochs > 0 && (protocol === 'd2l' || mae.warmupEpochs !== undefined)) {
    throw new UsageError(`--warmup-epochs ${settings.warmupEpochs} leaves nothing of --epochs ${settings.epochs} after the warm-up`);
  }
  if (((mae.mixup ?? 0) > 0 || (mae.cutmix ?? 0) > 0) && settings.batchSize % 2 !== 0) {
    throw new UsageError(`--mixup and --cutmix pair each image with another of its batch: --batch-size must be even, got ${settings.batchSize}`);
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

/**
 * The processes a resume trains with against the run's (run.json's world-size; runs from before it
 * was recorded say nothing). Each process takes --batch-size images per step, so another count
 * changes the images per step: refused inside an epoch, whose remaining batches are each rank's
 * share, and said at an epoch's end.
 */
function checkWorldSize(saved: Record<string, string>, worldSize: number, s: TrainSettings): void {
  const before = saved['world-size'] === undefined ? undefined : Number(saved['world-size']);
  const info = s.resume?.info;
  if (before === undefined || before === worldSize || !info) return;
  const processes = (n: number) => `${n} process${n === 1 ? '' : 'es'} (${n * s.batchSize} images per step at --batch-size ${s.batchSize})`;
  if (info.batch) {
    throw new UsageError(`this --resume runs ${processes(worldSize)}, but ${s.resume!.checkpoint} stopped inside epoch ${info.epoch + 1} ` +
      `of a run of ${before}, whose remaining batches are each process's share: resume with ${before} (--nproc-per-node, --nnodes), ` +
      'and change it once that epoch is done');
  }
  process.stderr.write(`warning: the run trained with ${processes(before)}; this resume runs ${processes(worldSize)} from epoch ` +
    `${info.epoch + 1} on\n`);
}

/**
 * --out: new, or empty, or --force; never inside --data, never a file. A run that stopped before
 * its first checkpoint left nothing to resume: it starts over without --force.
 */
async function checkOut(s: TrainSettings): Promise<void> {
  if (isWithin(s.out, s.data)) {
    throw new UsageError(`--out ${s.out} is inside --data ${s.data}: its files would become a class folder of the next run`);
  }
  const state = await folderState(s.out);
  if (state === 'file') throw new UsageError(`--out ${s.out} is a file, not a folder; choose a folder for the run's files`);
  // (The files of an unsaved run are the first ones a run writes: they are written anew.)
  if (s.force || state === 'unsaved' || (s.resume && s.resume.dir === s.out)) return;
  if (state === 'run') {
    throw new UsageError(`--out ${s.out} holds a run already; continue it with --resume ${s.out}, or pass --force to replace it`);
  }
  if (state === 'other') throw new UsageError(`--out ${s.out} is not empty; choose a new folder, or pass --force to write into it`);
}

async function run({ flags: given }: Parsed): Promise<number> {
  const resumeDir = given.string('resume') && path.resolve(given.string('resume')!);
  let resume: TrainSettings['resume'];
  let flags = given;
  let saved: Record<string, string> = {};
  if (resumeDir) {
    // Before the flags: without a checkpoint there is nothing to resume, whatever else is missing.
    const checkpoint = outFile(resumeDir, 'checkpoint');
    if (await folderState(resumeDir) === 'unsaved') {
      throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${resumeDir} holds a run that stopped before its first checkpoint, so there is nothing to resume: ` +
        'run its train command again, without --resume (it starts over in that folder)');
    }
    await requireFile(checkpoint, 'checkpoint');
    saved = await savedSettings(resumeDir) ?? {};
    const info = await readCheckpointInfo(checkpoint);
    // Runs from before --arch saved none: the checkpoint says which (a ViT of no named size has none).
    if (familyOfArch(info.arch)) saved.arch ??= info.arch;
    checkResumeFlags(given, saved, info, resumeDir);
    resume = { dir: resumeDir, checkpoint, info, saved };
    flags = given.withFallback(saved);
  }
  const settings = settingsFrom(flags, resume);
  // A launcher (--nproc-per-node) starts this machine's ranks as this same command. --out is
  // checked once per job: by node 0's launcher, or by rank 0 under torchrun, before it writes.
  const layout = process.env[LAUNCHED_ENV] ? undefined : await jobLayout(given);
  const launched = process.env[LAUNCHED_ENV] !== undefined || (process.env.RANK ?? '0') !== '0';
  const worldSize = layout ? layout.nnodes * layout.nprocPerNode : Number(process.env.WORLD_SIZE ?? 1);
  settings.saved['world-size'] = String(worldSize);
  if (layout ? layout.nodeRank === 0 : !launched) {
    await checkOut(settings);
    checkWorldSize(saved, worldSize, settings);
  }
  if (layout) return launch(layout, process.argv.slice(1));
  return (await import('../run/train')).train(settings);
}

export const command: Command = { spec, run };

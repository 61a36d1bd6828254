// finetorch train, the work: data, model, the fineTune/linearProbe loop, and the files of --out
// after every epoch; Ctrl-C stops the loop after its current step with the position saved.
import { DataLoader, Dataset, DatasetError, describeTransform } from '../../data';
import type { Scores } from '../../train/metrics';
import type { CheckpointContents } from '../../train/checkpoint';
import { FinetorchError } from '../../base/errors';
import { familyOfArch } from '../../model/infer';
import { loadModel } from '../../model/load';
import type { Model } from '../../model/model';
import { VisionTransformer } from '../../model/vit';
import { writesFiles } from '../../train/rank-agreement';
import { fineTune, linearProbe } from '../../train/fine-tune';
import type { EpochRecord, TrainingPosition } from '../../train/history';
import type { LoopOptions } from '../../train/loop';
import { ScoreReport, scoreReport } from '../score-report';
import { BadImages, trainData } from '../image-folders';
import { Interrupts } from '../interrupt';
import { placeModel, startCompute } from '../inference-model';
import { modelCard } from '../model-card';
import { BestValidation, OUT_FILES, OutFile, RunFolder, savedValidation } from '../outputs';
import { Progress, counted, percent } from '../progress';
import { distributeIfRank, joinJobIfRank, leaveJob, progressStream, trainSampler, validSampler } from '../ranks';
import { cliSchedule } from '../lr-schedule';
import { protocolData } from '../protocol-transforms';
import { scheduledLr } from '../../optim/schedule';
import { StartingModelOptions, classesOf, sameList, startingModel } from '../starting-model';
import type { TrainSettings } from '../settings';

export async function train(s: TrainSettings): Promise<number> {
  const { resume } = s;
  startCompute(s);
  // One rank of a data-parallel job: every rank trains, rank 0 reports and writes --out.
  const device = await joinJobIfRank(s.device);

  // Asked now: once the job is left, every rank would look like a process of its own.
  const reports = writesFiles();
  const recipe = protocolData(s, reports);
  const data = trainData(s.data, { ...s, ...recipe });
  const previous = resume?.info.history ?? [];
  const { net, about, warning } = resume
    ? { ...await resumedModel(resume.checkpoint, data.classes, resume.info, s.imageSize), warning: undefined }
    : await startingModel(s.weights!, data.classes, { arch: s.arch, seed: s.seed, keepFc: s.keepFc, imageSize: s.imageSize, ...maeStart(s.protocol) });
  await placeModel(net, device, s);
  await distributeIfRank(net);

  const card = modelCard(net.arch, data.classes, s.imageSize, recipe.resizeRule);
  // (A ViT of no named size has a class name, not an --arch.)
  if (familyOfArch(net.arch)) s.saved.arch = net.arch;
  const folder = new RunFolder(s.out, card);
  const freezeEpochs = s.mode === 'finetune' ? s.freezeEpochs : 0;
  const progress = new Progress(progressStream(), s.epochs, s.batchSize, { logEvery: s.logEvery, top5: data.classes.length > 5, freezeEpochs });
  progress.note(`data: ${data.description}`);
  progress.note(`train transform: ${describeTransform(data.transforms.train)}`);
  if (data.valid) progress.note(`valid transform: ${describeTransform(data.transforms.valid)}`);
  progress.note(`${about}; ${s.protocol === 'd2l' ? s.mode : `--protocol ${s.protocol}`} on ${device}`);
  if (warning) progress.note(warning);

  const badImages = new BadImages(s.skipBadImages, (message) => progress.note(message));
  const trainLoader = loader(data.train, s, true, badImages);
  const validLoader = data.valid && loader(data.valid, s, false, badImages);
  progress.note(epochPlan(trainLoader, s));
  const reshaped = resume && s.protocol === 'd2l' && scheduleChange(s, resume, trainLoader.length);
  if (reshaped) progress.note(reshaped);
  if (freezeEpochs > 0) {
    const frozen = freezeEpochs >= s.epochs ? `all ${s.epochs} epochs` : freezeEpochs === 1 ? 'epoch 1' : `epochs 1-${freezeEpochs}`;
    progress.note(`--freeze-epochs ${freezeEpochs}: ${frozen} of --epochs ${s.epochs} train fc alone (the backbone frozen, its ` +
      `BatchNorm statistics too)${freezeEpochs < s.epochs ? ', the later ones every layer' : ''}`);
  }
  const history = [...previous];
  let best: BestValidation | undefined = resume && await savedValidation(resume.dir);
  let saved: (TrainingPosition & { step: number }) | undefined;
  const controller = new AbortController();
  const interrupts = new Interrupts((signal) => {
    progress.note(`${signal}: stopping after this step, with its position saved (send it again to stop now)`);
    controller.abort();
  }, (signal) => progress.note(`${signal}: stopped now. ${whereSaved(s, saved ?? resume?.info)}`));

  const options: LoopOptions = {
    train: trainLoader, valid: validLoader, epochs: s.epochs,
    checkpoint: folder.file('checkpoint'), checkpointEvery: s.checkpointEvery, resume: resume?.checkpoint,
    patience: s.patience, signal: controller.signal,
    onStart: async (start) => {
      // Only now, with the checkpoint loaded, does anything go to --out.
      if (reports) await folder.start(s.saved, { clear: s.force && !(resume && resume.dir === s.out) });
      if (reports && resume && resume.dir !== s.out) await folder.carryBest(resume.dir);
      if (start.epoch >= s.epochs) progress.note(`the checkpoint has ${start.epoch} epochs already; pass a larger --epochs to train on`);
    },
    onBatch: (e) => progress.batch(e),
    onValidBatch: (e) => progress.validBatch(e),
    onEpoch: async (record: EpochRecord, scores: Scores | null) => {
      history.push(record);
      const isBest = scores !== null && (best === undefined || scores.accuracy > best.accuracy);
      if (reports) await folder.epoch(history, net, isBest);
      if (isBest) {
        best = { epoch: record.epoch, ...scoreReport(scores, data.classes) };
        if (reports) await folder.validation(best);
      }
      progress.epoch(record, isBest);
    },
    onCheckpoint: (position) => {
      saved = position;
    },
  };
  try {
    const sgd = { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay, schedule: cliSchedule(s, trainLoader.length) };
    if (s.protocol === 'mae-finetune') await fineTune(net, { ...options, protocol: 'mae', ...s.mae, seed: s.seed });
    else if (s.protocol === 'mae-linprobe') await linearProbe(net, { ...options, protocol: 'mae', ...s.mae });
    else if (s.mode === 'finetune') await fineTune(net, { ...options, ...sgd, fcLrMult: s.fcLrMult, freezeEpochs: s.freezeEpochs });
    else await linearProbe(net, { ...options, ...sgd });
  } catch (err) {
    // The error is the one line main prints; where the work stands goes before it.
    progress.note(`training failed. ${whereSaved(s, saved ?? resume?.info)}`);
    throw err;
  } finally {
    interrupts.dispose();
    net.dispose();
    await leaveJob();
  }

  if (controller.signal.aborted) {
    progress.note(`stopped. ${whereSaved(s, saved ?? resume?.info)}`);
    return interrupts.exitCode();
  }
  const last = history.at(-1);
  const stoppedEarly = last !== undefined && last.epoch < s.epochs;
  if (stoppedEarly) progress.note(`early stop after epoch ${last.epoch}: no better valid accuracy for ${s.patience} epochs`);
  if (reports) printSummary(s, data.classes, history, best, folder, stoppedEarly, badImages);
  return 0;
}

/**
 * The model MAE's protocols start from: main_linprobe.py reads the class token into its probe head
 * (weight trunc_normal std 0.01); main_finetune.py pools the patch tokens into fc_norm and starts
 * the head at trunc_normal std 2e-5.
 */
function maeStart(protocol: TrainSettings['protocol']): Pick<StartingModelOptions, 'globalPool' | 'head'> {
  if (protocol === 'mae-linprobe') return { globalPool: 'token', head: { head: 'mae-probe' } };
  if (protocol === 'mae-finetune') return { globalPool: 'avg', head: { init: 'trunc-normal', std: 2e-5 } };
  return {};
}

/** Where a stopped run can be picked up, as the checkpoint on disk says. */
function whereSaved(s: TrainSettings, position: { epoch: number; batch?: number } | undefined): string {
  if (!position) return 'No checkpoint was saved: run the same command again to start over.';
  const at = position.batch ? `inside epoch ${position.epoch + 1}, after batch ${position.batch}` : `after epoch ${position.epoch}`;
  return `${s.out}/${OUT_FILES.checkpoint} holds the run ${at}; continue with: finetorch train --resume ${s.out}`;
}

/** The run in brief on stdout: text, or with --json the documented object. */
function printSummary(
  s: TrainSettings, classes: string[], history: EpochRecord[], best: BestValidation | undefined, folder: RunFolder, stoppedEarly: boolean,
  badImages: BadImages,
): void {
  const last = history.at(-1);
  const summary = {
    out: s.out, mode: s.mode, classes, epochs: last?.epoch ?? 0, stoppedEarly,
    best: best ? { epoch: best.epoch, validAcc: best.accuracy, file: folder.file('best') } : null,
    last: last ?? null,
    validation: best ?? null,
    files: Object.fromEntries((Object.keys(OUT_FILES) as OutFile[]).map((k) => [k, folder.file(k)])),
    skippedImages: badImages.list(),
  };
  if (s.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = best
    ? [`best valid accuracy ${percent(best.accuracy)}${classes.length > 5 ? ` (top-5 ${percent(best.top5)})` : ''} at epoch ${best.epoch}: ` +
      summary.best!.file,
      `per class at epoch ${best.epoch}: ${describeClasses(best)}`]
    : [`no validation (--valid-split 0): the weights after epoch ${summary.epochs} are ${folder.file('last')}`];
  const skipped = badImages.summary();
  process.stdout.write([...lines, ...(skipped ? [skipped] : []), `files in ${s.out}: ${Object.values(OUT_FILES).join(', ')}`, ''].join('\n'));
}

function describeClasses(r: ScoreReport): string {
  return r.perClass.map((c) => `${c.class} ${c.accuracy === null ? '-' : percent(c.accuracy)}`).join(', ');
}

function loader(dataset: Dataset, s: TrainSettings, training: boolean, badImages: BadImages): DataLoader {
  // In a data-parallel job, this rank's share of the samples.
  const sampler = training ? trainSampler(dataset, s.seed) : validSampler(dataset);
  const count = sampler?.length ?? dataset.length;
  return new DataLoader(dataset, {
    batchSize: training ? s.batchSize : s.valBatchSize, shuffle: training && !sampler, sampler, seed: s.seed, reuseBuffers: true,
    concurrency: s.workers, onError: badImages.onError,
    // Every image trains, as with torch's DataLoader, unless --drop-last; a last batch of a single
    // image is left out: BatchNorm cannot train on one image once layer4's output is 1x1 (PyTorch raises).
    dropLast: training && (s.dropLast || (count % s.batchSize === 1 && count > 1)),
  });
}

/**
 * A resume with another --epochs spreads a schedule over all epochs (cosine, onecycle) over the new
 * length: the lr where the run stopped moves (up, when the run is extended). Said, with both lrs.
 */
function scheduleChange(s: TrainSettings, resume: NonNullable<TrainSettings['resume']>, stepsPerEpoch: number): string | undefined {
  const before = Number(resume.saved.epochs);
  const t = resume.info.schedulerT;
  if (!Number.isFinite(before) || before === s.epochs || t === undefined) return undefined;
  const lr = Number(resume.saved.lr ?? s.lr);
  const was = scheduledLr(cliSchedule({ ...s, epochs: before }, stepsPerEpoch), lr, t);
  const now = scheduledLr(cliSchedule(s, stepsPerEpoch), s.lr, t);
  if (Math.abs(was - now) <= 1e-12 * Math.max(Math.abs(was), Math.abs(now))) return undefined;
  const short = (x: number) => String(Number(x.toPrecision(4)));
  return `warning: --epochs ${s.epochs} (the run's: ${before}) ${s.epochs > before ? 'stretches' : 'squeezes'} the ${s.sched} schedule ` +
    `over ${s.epochs} epochs: the lr where the run stopped goes from ${short(was)} to ${short(now)}` +
    `${now > was ? ', up again' : ''}`;
}

/** What each epoch trains on, said once: a ragged last batch left out is never silent. */
function epochPlan(train: DataLoader, s: TrainSettings): string {
  const count = train.sampler?.length ?? train.dataset.length;
  const left = count % s.batchSize;
  const rank = train.sampler ? ' on each rank' : '';
  const last = left === 0 ? '' : ` (the last of ${left})`;
  const batches = counted(train.length, 'batch', 'batches');
  if (!train.dropLast || left === 0) return `each epoch trains on all ${counted(count, 'image')}${rank}: ${batches}${last}`;
  const why = s.dropLast ? `--drop-last leaves out the last ${left}` : 'the last image would be a batch of one, which BatchNorm cannot train on';
  return `each epoch trains on ${count - left} of ${count} images${rank} in ${batches} of ${s.batchSize} (${why})`;
}

/** The checkpoint's model (the training loop loads its weights again, with the optimizer's). */
async function resumedModel(checkpoint: string, classes: string[], info: CheckpointContents, imageSize: number): Promise<{ net: Model; about: string }> {
  const own = await classesOf(checkpoint);
  if (own && !sameList(own, classes)) {
    throw new DatasetError(`the data's classes (${classes.join(', ')}) differ from those of the run being resumed (${own.join(', ')})`);
  }
  if (info.numClasses !== classes.length) {
    throw new DatasetError(`${checkpoint} holds a model of ${counted(info.numClasses, 'class', 'classes')}, but the data has ` +
      `${counted(classes.length, 'class folder')}`);
  }
  const net = await loadModel(checkpoint);
  if (net instanceof VisionTransformer && net.config.imgSize !== imageSize) {
    net.dispose();
    throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `--image-size ${imageSize}: the ViT of ${checkpoint} takes ${net.config.imgSize} px ` +
      'images (its position embedding has that grid); a resumed run keeps it');
  }
  const at = info.batch ? `inside epoch ${info.epoch + 1}, after batch ${info.batch}` : `after epoch ${info.epoch}`;
  return { net, about: `resuming from ${checkpoint} (${info.arch}) ${at}` };
}


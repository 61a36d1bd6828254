// finetorch train, the work: data, model, the fineTune/linearProbe loop, and the files of --out
// after every epoch; Ctrl-C stops the loop after its current step with the position saved.
import { DataLoader, Dataset } from '../data';
import type { Scores } from '../metrics';
import type { CheckpointContents } from '../checkpoint';
import type { Model } from '../model';
import { familyOfArch } from '../model/infer';
import { loadModel } from '../model/load';
import { setNumThreads } from '../runtime';
import { writesFiles } from '../dist-loop';
import { EpochRecord, LoopOptions, TrainingPosition, fineTune, linearProbe } from '../train';
import { ScoreReport, scoreReport } from './confusion';
import { trainData } from './data';
import { requireFile } from './files';
import { Interrupts } from './interrupt';
import { VisionTransformer } from '../model/vit';
import { checkDevice } from './model';
import { modelCard } from './model-card';
import { BestValidation, OUT_FILES, OutFile, RunFolder, savedValidation } from './outputs';
import { Progress, percent } from './progress';
import { distributeIfRank, joinJobIfRank, leaveJob, progressStream, trainSampler, validSampler } from './ranks';
import { cliSchedule } from './schedule';
import { classesOf, sameList, startingModel } from './starting-model';
import type { TrainSettings } from './train';

export async function train(s: TrainSettings): Promise<number> {
  const { resume } = s;
  checkDevice(s.device);
  // One rank of a data-parallel job: every rank trains, rank 0 reports and writes --out.
  const device = await joinJobIfRank(s.device);
  if (!resume) await requireFile(s.weights!, 'weights file');
  if (s.threads !== undefined) setNumThreads(s.threads);

  const data = trainData(s.data, s);
  const previous = resume?.info.history ?? [];
  const { net, about } = resume
    ? await resumedModel(resume.checkpoint, data.classes, resume.info, s.imageSize)
    : await startingModel(s.weights!, data.classes, { arch: s.arch, seed: s.seed, keepFc: s.keepFc, imageSize: s.imageSize });
  if (device !== 'cpu') await net.to(device);
  if (s.amp !== 'none' || s.channelsLast) net.setPrecision({ amp: s.amp, channelsLast: s.channelsLast });
  await distributeIfRank(net);

  const card = modelCard(net.arch, data.classes, s.imageSize);
  // (A ViT of no named size has a class name, not an --arch.)
  if (familyOfArch(net.arch)) s.saved.arch = net.arch;
  const folder = new RunFolder(s.out, card);
  const progress = new Progress(progressStream(), s.epochs, s.batchSize, { logEvery: s.logEvery, top5: data.classes.length > 5 });
  progress.note(`data: ${data.description}`);
  progress.note(`${about}; ${s.mode} on ${device}`);

  const trainLoader = loader(data.train, s, true);
  const validLoader = data.valid && loader(data.valid, s, false);
  const history = [...previous];
  let best: BestValidation | undefined = resume && await savedValidation(resume.dir);
  let saved: (TrainingPosition & { step: number }) | undefined;
  const controller = new AbortController();
  const interrupts = new Interrupts((signal) => {
    progress.note(`${signal}: stopping after this step, with its position saved (send it again to stop now)`);
    controller.abort();
  }, (signal) => progress.note(`${signal}: stopped now. ${whereSaved(s, saved ?? resume?.info)}`));

  const options: LoopOptions = {
    train: trainLoader, valid: validLoader, epochs: s.epochs, lr: s.lr,
    momentum: s.momentum, weightDecay: s.weightDecay, schedule: cliSchedule(s, trainLoader.length),
    checkpoint: folder.file('checkpoint'), checkpointEvery: s.checkpointEvery, resume: resume?.checkpoint,
    patience: s.patience, signal: controller.signal,
    onStart: async (start) => {
      // Only now, with the checkpoint loaded, does anything go to --out.
      if (writesFiles()) await folder.start(s.saved, { clear: s.force && !(resume && resume.dir === s.out) });
      if (writesFiles() && resume && resume.dir !== s.out) await folder.carryBest(resume.dir);
      if (start.epoch >= s.epochs) progress.note(`the checkpoint has ${start.epoch} epochs already; pass a larger --epochs to train on`);
    },
    onBatch: (e) => progress.batch(e),
    onValidBatch: (e) => progress.validBatch(e),
    onEpoch: async (record: EpochRecord, scores: Scores | null) => {
      history.push(record);
      const isBest = scores !== null && (best === undefined || scores.accuracy > best.accuracy);
      if (writesFiles()) await folder.epoch(history, net, isBest);
      if (isBest) {
        best = { epoch: record.epoch, ...scoreReport(scores, data.classes) };
        if (writesFiles()) await folder.validation(best);
      }
      progress.epoch(record, isBest);
    },
    onCheckpoint: (position) => {
      saved = position;
    },
  };
  try {
    if (s.mode === 'finetune') await fineTune(net, { ...options, fcLrMult: s.fcLrMult, freezeEpochs: s.freezeEpochs });
    else await linearProbe(net, options);
  } catch (err) {
    // The error is the one line main prints; where the work stands goes before it.
    if (saved ?? resume) progress.note(`training failed. ${whereSaved(s, saved ?? resume?.info)}`);
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
  if (writesFiles()) printSummary(s, data.classes, history, best, folder, stoppedEarly);
  return 0;
}

/** Where a stopped run can be picked up, as the checkpoint on disk says. */
function whereSaved(s: TrainSettings, position: { epoch: number; batch?: number } | undefined): string {
  if (!position) return `No checkpoint was saved: run the command again${s.resume ? '' : ' (with --force, if --out has files)'}.`;
  const at = position.batch ? `inside epoch ${position.epoch + 1}, after batch ${position.batch}` : `after epoch ${position.epoch}`;
  return `${s.out}/${OUT_FILES.checkpoint} holds the run ${at}; continue with: finetorch train --resume ${s.out}`;
}

/** The run in brief on stdout: text, or with --json the documented object. */
function printSummary(
  s: TrainSettings, classes: string[], history: EpochRecord[], best: BestValidation | undefined, folder: RunFolder, stoppedEarly: boolean,
): void {
  const last = history.at(-1);
  const summary = {
    out: s.out, mode: s.mode, classes, epochs: last?.epoch ?? 0, stoppedEarly,
    best: best ? { epoch: best.epoch, validAcc: best.accuracy, file: folder.file('best') } : null,
    last: last ?? null,
    validation: best ?? null,
    files: Object.fromEntries((Object.keys(OUT_FILES) as OutFile[]).map((k) => [k, folder.file(k)])),
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
  process.stdout.write([...lines, `files in ${s.out}: ${Object.values(OUT_FILES).join(', ')}`, ''].join('\n'));
}

function describeClasses(r: ScoreReport): string {
  return r.perClass.map((c) => `${c.class} ${c.accuracy === null ? '-' : percent(c.accuracy)}`).join(', ');
}

function loader(dataset: Dataset, s: TrainSettings, training: boolean): DataLoader {
  // In a data-parallel job, this rank's share of the samples.
  const sampler = training ? trainSampler(dataset, s.seed) : validSampler(dataset);
  return new DataLoader(dataset, {
    batchSize: training ? s.batchSize : s.valBatchSize, shuffle: training && !sampler, sampler, seed: s.seed, reuseBuffers: true,
    concurrency: s.workers,
    // A ragged last batch (at worst one image, which BatchNorm cannot train on) is dropped when
    // there is at least one full batch.
    dropLast: training && (sampler?.length ?? dataset.length) > s.batchSize,
  });
}

/** The checkpoint's model (the training loop loads its weights again, with the optimizer's). */
async function resumedModel(checkpoint: string, classes: string[], info: CheckpointContents, imageSize: number): Promise<{ net: Model; about: string }> {
  const own = await classesOf(checkpoint);
  if (own && !sameList(own, classes)) {
    throw new Error(`the data's classes (${classes.join(', ')}) differ from those of the run being resumed (${own.join(', ')})`);
  }
  if (info.numClasses !== classes.length) {
    throw new Error(`${checkpoint} holds a model of ${info.numClasses} classes, but there are ${classes.length} class folders in the data`);
  }
  const net = await loadModel(checkpoint);
  if (net instanceof VisionTransformer && net.config.imgSize !== imageSize) {
    net.dispose();
    throw new Error(`--image-size ${imageSize}: the ViT of ${checkpoint} takes ${net.config.imgSize} px images (its position embedding ` +
      'has that grid); a resumed run keeps it');
  }
  const at = info.batch ? `inside epoch ${info.epoch + 1}, after batch ${info.batch}` : `after epoch ${info.epoch}`;
  return { net, about: `resuming from ${checkpoint} (${info.arch}) ${at}` };
}


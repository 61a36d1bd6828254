// finetorch train, the work: data, model, the fineTune/linearProbe loop, and the files of --out
// after every epoch, with Ctrl-C left to wait for them.
import * as fs from 'node:fs/promises';
import { DataLoader, Dataset } from '../data';
import { ResNet18 } from '../model';
import { readCheckpointInfo } from '../checkpoint';
import { EpochRecord, FineTuneOptions, fineTune, linearProbe } from '../train';
import { classesNextTo } from './classes';
import { ConfusionReport, confusionReport } from './confusion';
import { trainData } from './data';
import { requireFile, writeFileAtomic } from './files';
import { Interrupts } from './interrupt';
import { checkDevice } from './model';
import { OUT_FILES, OutFile, RunFolder, outFile } from './outputs';
import { Progress, percent } from './progress';
import type { TrainSettings } from './train';

export async function train(s: TrainSettings): Promise<number> {
  const { device } = s;
  checkDevice(device);
  const checkpoint = s.resume && outFile(s.resume, 'checkpoint');
  if (!checkpoint) await requireFile(s.weights!, 'weights file');

  const data = trainData(s.data, s);
  const previous = checkpoint ? (await readCheckpointInfo(checkpoint)).history : [];
  const { net, about } = checkpoint ? await resumedModel(checkpoint, data.classes, previous) : await startingModel(s.weights!, data.classes, s.seed);
  if (device !== 'cpu') await net.to(device);

  const folder = new RunFolder(s.out);
  await folder.start(data.classes, s.saved);
  if (s.resume && s.resume !== s.out) await carryBest(s.resume, folder);

  const progress = new Progress(process.stderr, s.epochs, s.batchSize);
  progress.note(`data: ${data.description}`);
  progress.note(`${about}; ${s.mode} on ${device}`);

  const history = [...previous];
  let bestAcc = Math.max(-Infinity, ...previous.map((r) => r.validAcc ?? -Infinity));
  const interrupts = new Interrupts((signal, phase) => progress.note(phase === 'waiting'
    ? `${signal}: finishing this epoch's files, then stopping (send it again to stop now)`
    : `${signal}: stopped. ${s.out} holds epoch ${history.at(-1)?.epoch ?? 0}; continue with: finetorch train --resume ${s.out}`));

  const trainLoader = loader(data.train, s, true);
  const validLoader = loader(data.valid, s, false);
  const options: FineTuneOptions = {
    train: trainLoader, valid: validLoader, epochs: s.epochs, lr: s.lr, fcLrMult: s.fcLrMult,
    momentum: s.momentum, weightDecay: s.weightDecay, checkpoint: folder.file('checkpoint'), resume: checkpoint,
    onBatch: (e) => {
      progress.batch(e);
      // After the last step come validation, the checkpoint and onEpoch's files: let them finish.
      if (e.batch === e.batches) interrupts.hold();
    },
    onEpoch: async (record: EpochRecord) => {
      history.push(record);
      const best = (record.validAcc ?? -Infinity) > bestAcc;
      if (best) bestAcc = record.validAcc!;
      await folder.epoch(history, net, best);
      progress.epoch(record, best);
      interrupts.release();
    },
  };
  if (previous.length >= s.epochs) progress.note(`the checkpoint has ${previous.length} epochs already; pass a larger --epochs to train on`);
  if (s.mode === 'finetune') await fineTune(net, options);
  else await linearProbe(net, options);

  const report = await interrupts.around(async () => {
    const r = await confusionReport(net, validLoader, data.classes);
    await folder.confusion(r, history.at(-1)!.epoch);
    return r;
  });
  interrupts.dispose();

  printSummary(s, data.classes, history, report, folder);
  return 0;
}

/** The run in brief on stdout: text, or with --json the documented object. */
function printSummary(s: TrainSettings, classes: string[], history: EpochRecord[], report: ConfusionReport, folder: RunFolder): void {
  const last = history.at(-1)!;
  const best = history.reduce((a, b) => ((b.validAcc ?? -Infinity) > (a.validAcc ?? -Infinity) ? b : a));
  const summary = {
    out: s.out, mode: s.mode, classes, epochs: last.epoch,
    best: { epoch: best.epoch, validAcc: best.validAcc, file: folder.file('best') },
    last,
    validation: { count: report.count, loss: report.loss, accuracy: report.accuracy, perClass: report.perClass, matrix: report.matrix },
    files: Object.fromEntries((Object.keys(OUT_FILES) as OutFile[]).map((k) => [k, folder.file(k)])),
  };
  if (s.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  process.stdout.write([
    `best valid accuracy ${percent(best.validAcc ?? NaN)} at epoch ${best.epoch}: ${summary.best.file}`,
    `after epoch ${last.epoch}: valid accuracy ${percent(report.accuracy)}; per class: ` +
      report.perClass.map((c) => `${c.class} ${c.accuracy === null ? '-' : percent(c.accuracy)}`).join(', '),
    `files in ${s.out}: ${Object.values(OUT_FILES).join(', ')}`,
    '',
  ].join('\n'));
}

function loader(dataset: Dataset, s: TrainSettings, training: boolean): DataLoader {
  return new DataLoader(dataset, {
    batchSize: s.batchSize, shuffle: training, seed: s.seed, reuseBuffers: true,
    // A ragged last batch (at worst one image, which BatchNorm cannot train on) is dropped when
    // there is at least one full batch.
    dropLast: training && dataset.length > s.batchSize,
  });
}

/** The starting weights with fc fitted to the classes (kept when they are the model's own classes). */
async function startingModel(weights: string, classes: string[], seed: number): Promise<{ net: ResNet18; about: string }> {
  const net = await ResNet18.load(weights);
  const own = await classesNextTo(weights);
  if (net.numClasses === classes.length && own !== undefined && sameList(own, classes)) {
    return { net, about: `model: ${weights}, fc kept (its classes.json lists these classes)` };
  }
  const before = net.fc;
  net.replaceFc(classes.length, { seed });
  return { net, about: `model: ${weights}, fc replaced: ${before} -> ${net.fc}` };
}

/** A blank model of the right shape: the training loop loads every weight from the checkpoint. */
async function resumedModel(checkpoint: string, classes: string[], previous: EpochRecord[]): Promise<{ net: ResNet18; about: string }> {
  const own = await classesNextTo(checkpoint);
  if (own && !sameList(own, classes)) {
    throw new Error(`the data's classes (${classes.join(', ')}) differ from those of the run being resumed (${own.join(', ')})`);
  }
  const net = await ResNet18.create({ numClasses: classes.length });
  return { net, about: `resuming from ${checkpoint} after epoch ${previous.at(-1)?.epoch ?? 0}` };
}

/** Resuming into another --out: the best weights so far come along. */
async function carryBest(from: string, to: RunFolder): Promise<void> {
  const best = await fs.readFile(outFile(from, 'best')).catch(() => undefined);
  if (best) await writeFileAtomic(to.file('best'), best);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

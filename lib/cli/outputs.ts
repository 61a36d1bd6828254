// The --out folder of `finetorch train`: what each file holds and when it is written. Each write
// is atomic, so after a stop the folder describes the last finished epoch (and checkpoint.pth the
// last position saved, which may be inside an epoch).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { removeStaleTemps } from '../base/atomic';
import { nodeError } from '../base/errors';
import type { Model } from '../model/model';
import { savePth } from '../pth';
import type { EpochRecord } from '../train/history';
import { writeClasses } from './classes';
import type { ScoreReport } from './score-report';
import { readJson, writeFileAtomic, writeJson } from './files';
import { ModelCard, writeCard } from './model-card';
import { COLORS, confusionChart, lineChart, renderPng } from './plots';

export const OUT_FILES = {
  metricsCsv: 'metrics.csv',
  metricsJson: 'metrics.json',
  best: 'best.pth',
  bestCard: 'best.json',
  last: 'last.pth',
  lastCard: 'last.json',
  classes: 'classes.json',
  checkpoint: 'checkpoint.pth',
  checkpointCard: 'checkpoint.json',
  /** The run's settings, the defaults of a later --resume. */
  settings: 'run.json',
  /** The best epoch's validation: scores, per-class accuracy, confusion matrix. */
  validation: 'validation.json',
  lossSvg: 'loss.svg',
  lossPng: 'loss.png',
  accuracySvg: 'accuracy.svg',
  accuracyPng: 'accuracy.png',
  confusionSvg: 'confusion.svg',
  confusionPng: 'confusion.png',
} as const;

export type OutFile = keyof typeof OUT_FILES;

export const METRIC_COLUMNS: (keyof EpochRecord)[] = [
  'epoch', 'trainLoss', 'trainAcc', 'validLoss', 'validAcc', 'validTop5', 'imagesPerSec', 'seconds', 'lr', 'fcLr',
];

/** The best epoch's validation, as validation.json keeps it. */
export type BestValidation = ScoreReport & { epoch: number };

export function outFile(dir: string, name: OutFile): string {
  return path.join(dir, OUT_FILES[name]);
}


/** The settings an earlier run saved in `dir`, or undefined when it saved none. */
export function savedSettings(dir: string): Promise<Record<string, string> | undefined> {
  return readJson(outFile(dir, 'settings')) as Promise<Record<string, string> | undefined>;
}

/** The best epoch's validation an earlier run saved in `dir`. */
export function savedValidation(dir: string): Promise<BestValidation | undefined> {
  return readJson(outFile(dir, 'validation')) as Promise<BestValidation | undefined>;
}

/**
 * What is at `dir` already: 'run' (a finetorch run with a checkpoint to resume), 'unsaved' (only
 * files of a run that stopped before its first checkpoint: nothing to resume, nothing of value),
 * 'other' (anything else), 'empty' (or nothing), or 'file' (not a folder).
 */
export async function folderState(dir: string): Promise<'run' | 'unsaved' | 'other' | 'empty' | 'file'> {
  const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    if (err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (names === undefined) return 'file';
  if (names.length === 0) return 'empty';
  if (names.includes(OUT_FILES.checkpoint)) return 'run';
  const ours = new Set<string>(Object.values(OUT_FILES));
  // Before the first checkpoint a run has written only these.
  const unsaved = new Set<string>([OUT_FILES.classes, OUT_FILES.settings, OUT_FILES.checkpointCard]);
  if (names.every((n) => unsaved.has(n))) return 'unsaved';
  return names.some((n) => ours.has(n)) ? 'run' : 'other';
}

/**
 * mkdir -p whose error names the cause: Node's recursive mkdir says ENOENT where a level cannot be
 * created (a read-only file system), so on ENOENT the levels are made one by one to get the real error.
 */
async function makeDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const levels = [dir];
    while (path.dirname(levels[0]) !== levels[0]) levels.unshift(path.dirname(levels[0]));
    for (const level of levels) {
      await fs.mkdir(level).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw nodeError(e.code ?? 'EIO', `cannot create the output folder ${dir}: ${e.message}`, { cause: e });
      });
    }
  }
}

export class RunFolder {
  readonly #card: ModelCard;

  constructor(readonly dir: string, card: ModelCard) {
    this.#card = card;
  }

  file(name: OutFile): string {
    return outFile(this.dir, name);
  }

  /**
   * Before the first step: the folder (with `clear`, an earlier run's files removed), the classes,
   * the settings and the checkpoint's card.
   */
  async start(settings: Record<string, string>, options: { clear: boolean }): Promise<void> {
    await makeDir(this.dir);
    // A run killed outright (kill -9) left temporaries; some targets (best.pth) may not be written again soon.
    await Promise.all(Object.values(OUT_FILES).map((name) => removeStaleTemps(this.dir, name)));
    if (options.clear) await Promise.all(Object.values(OUT_FILES).map((name) => fs.rm(path.join(this.dir, name), { force: true })));
    await writeClasses(this.dir, this.#card.classes);
    await writeJson(this.file('settings'), settings);
    await writeCard(this.file('checkpoint'), this.#card);
  }

  /** After each epoch: metrics, last.pth (and best.pth when `best`) with their cards, the curves. */
  async epoch(history: readonly EpochRecord[], net: Model, best: boolean): Promise<void> {
    const csv = [METRIC_COLUMNS.join(','), ...history.map((r) => METRIC_COLUMNS.map((c) => r[c] ?? '').join(','))];
    await writeFileAtomic(this.file('metricsCsv'), `${csv.join('\n')}\n`);
    await writeJson(this.file('metricsJson'), history);
    const weights = await net.stateDict();
    await this.#weights('last', weights);
    if (best) await this.#weights('best', weights);
    await this.#picture('lossSvg', 'lossPng', lineChart({
      title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'cross-entropy loss', yLog: 'auto',
      series: [
        { name: 'train', color: COLORS.train, points: history.map((r) => [r.epoch, r.trainLoss]) },
        { name: 'valid', color: COLORS.valid, points: history.map((r) => [r.epoch, r.validLoss]) },
      ],
    }));
    await this.#picture('accuracySvg', 'accuracyPng', lineChart({
      title: 'Accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', yDomain: [0, 1],
      yFormat: (v) => `${Math.round(v * 100)}%`,
      series: [
        { name: 'train', color: COLORS.train, points: history.map((r) => [r.epoch, r.trainAcc]) },
        { name: 'valid', color: COLORS.valid, points: history.map((r) => [r.epoch, r.validAcc]) },
        // With five classes or fewer every image is in its top five: a line at 100% says nothing.
        ...(this.#card.classes.length > 5
          ? [{ name: 'valid top-5', color: COLORS.validTop5, points: history.map((r): [number, number | null] => [r.epoch, r.validTop5 ?? null]) }]
          : []),
      ],
    }));
  }

  /** A new best epoch's validation: validation.json and the confusion matrix pictures. */
  async validation(best: BestValidation): Promise<void> {
    await writeJson(this.file('validation'), best);
    const title = `Validation confusion matrix, best epoch ${best.epoch} (accuracy ${(best.accuracy * 100).toFixed(1)}%)`;
    await this.#picture('confusionSvg', 'confusionPng', confusionChart(title, best.classes, best.matrix));
  }

  /** A resumed run's best weights so far, brought from its folder into this one. */
  async carryBest(from: string): Promise<void> {
    for (const name of ['best', 'bestCard', 'validation', 'confusionSvg', 'confusionPng'] as const) {
      const data = await fs.readFile(outFile(from, name)).catch(() => undefined);
      if (data) await writeFileAtomic(this.file(name), data);
    }
  }

  async #weights(name: 'last' | 'best', weights: Parameters<typeof savePth>[1]): Promise<void> {
    await savePth(this.file(name), weights);
    await writeCard(this.file(name), this.#card);
  }

  async #picture(svgName: OutFile, pngName: OutFile, svg: string): Promise<void> {
    await writeFileAtomic(this.file(svgName), svg);
    await writeFileAtomic(this.file(pngName), await renderPng(svg));
  }
}

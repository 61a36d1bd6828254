// The --out folder of `finetorch train`: what each file holds and when it is written. Each write
// is atomic, so after Ctrl-C the folder describes the last finished epoch.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ResNet18 } from '../model';
import { savePth } from '../pth';
import type { EpochRecord } from '../train';
import { writeClasses } from './classes';
import type { ConfusionReport } from './confusion';
import { writeFileAtomic, writeJson } from './files';
import { COLORS, confusionChart, lineChart, renderPng } from './plots';

export const OUT_FILES = {
  metricsCsv: 'metrics.csv',
  metricsJson: 'metrics.json',
  best: 'best.pth',
  last: 'last.pth',
  classes: 'classes.json',
  checkpoint: 'checkpoint.pth',
  /** The run's settings, the defaults of a later --resume. */
  settings: 'run.json',
  lossSvg: 'loss.svg',
  lossPng: 'loss.png',
  accuracySvg: 'accuracy.svg',
  accuracyPng: 'accuracy.png',
  confusionSvg: 'confusion.svg',
  confusionPng: 'confusion.png',
} as const;

export type OutFile = keyof typeof OUT_FILES;

const METRIC_COLUMNS: (keyof EpochRecord)[] = ['epoch', 'trainLoss', 'trainAcc', 'validLoss', 'validAcc', 'imagesPerSec', 'seconds', 'lr'];

export function outFile(dir: string, name: OutFile): string {
  return path.join(dir, OUT_FILES[name]);
}

/** The settings an earlier run saved in `dir`, or undefined when it saved none. */
export async function savedSettings(dir: string): Promise<Record<string, string> | undefined> {
  const file = outFile(dir, 'settings');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

export class RunFolder {
  constructor(readonly dir: string) {}

  file(name: OutFile): string {
    return outFile(this.dir, name);
  }

  async start(classes: readonly string[], settings: Record<string, string>): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await writeClasses(this.dir, classes);
    await writeJson(this.file('settings'), settings);
  }

  /** After each epoch: metrics, last.pth (and best.pth when `best`), the curves. */
  async epoch(history: readonly EpochRecord[], net: ResNet18, best: boolean): Promise<void> {
    const csv = [METRIC_COLUMNS.join(','), ...history.map((r) => METRIC_COLUMNS.map((c) => r[c] ?? '').join(','))];
    await writeFileAtomic(this.file('metricsCsv'), `${csv.join('\n')}\n`);
    await writeJson(this.file('metricsJson'), history);
    const weights = await net.stateDict();
    await savePth(this.file('last'), weights);
    if (best) await savePth(this.file('best'), weights);
    await this.picture('lossSvg', 'lossPng', lineChart({
      title: 'Loss per epoch', xLabel: 'epoch', yLabel: 'cross-entropy loss',
      series: [
        { name: 'train', color: COLORS.train, points: history.map((r) => [r.epoch, r.trainLoss]) },
        { name: 'valid', color: COLORS.valid, points: history.map((r) => [r.epoch, r.validLoss]) },
      ],
    }));
    await this.picture('accuracySvg', 'accuracyPng', lineChart({
      title: 'Accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', yDomain: [0, 1],
      yFormat: (v) => `${Math.round(v * 100)}%`,
      series: [
        { name: 'train', color: COLORS.train, points: history.map((r) => [r.epoch, r.trainAcc]) },
        { name: 'valid', color: COLORS.valid, points: history.map((r) => [r.epoch, r.validAcc]) },
      ],
    }));
  }

  confusion(report: ConfusionReport, epoch: number): Promise<void> {
    const title = `Validation confusion matrix, epoch ${epoch} (accuracy ${(report.accuracy * 100).toFixed(1)}%)`;
    return this.picture('confusionSvg', 'confusionPng', confusionChart(title, report.classes, report.matrix));
  }

  private async picture(svgName: OutFile, pngName: OutFile, svg: string): Promise<void> {
    await writeFileAtomic(this.file(svgName), svg);
    await writeFileAtomic(this.file(pngName), await renderPng(svg));
  }
}

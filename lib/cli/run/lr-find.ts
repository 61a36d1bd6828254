// finetorch lr-find, the work: the range test on the training part of the data, the suggestions,
// and the curve as SVG and PNG.
import * as path from 'node:path';
import { DataLoader } from '../../data';
import { lrFind } from '../../train/lr-find';
import type { LrFindResult } from '../../train/lr-range-test';
import { BadImages, trainData } from '../image-folders';
import { writeFileAtomic } from '../files';
import { Interrupts } from '../interrupt';
import type { LrFindSettings } from '../settings';
import { placeModel, startCompute } from '../inference-model';
import { COLORS, lineChart, renderPng } from '../plots';
import { Progress } from '../progress';
import { startingModel } from '../starting-model';

/** fastai's plot leaves out the last five points, where the loss shoots up. */
const SKIP_END = 5;

export async function findLr(s: LrFindSettings): Promise<number> {
  startCompute(s);
  const data = trainData(s.data, s);
  const { net, about, warning } = await startingModel(s.weights, data.classes, { arch: s.arch, seed: s.seed, keepFc: s.keepFc, imageSize: s.imageSize });
  const progress = new Progress(process.stderr, 1, s.batchSize);
  const badImages = new BadImages(s.skipBadImages, (message) => progress.note(message));
  const controller = new AbortController();
  const interrupts = new Interrupts((signal) => {
    progress.note(`${signal}: ending the test after this step (send it again to stop now)`);
    controller.abort();
  }, (signal) => progress.note(`${signal}: stopped now`));
  let result: LrFindResult;
  try {
    await placeModel(net, s.device, s);
    progress.note(`data: ${data.description}`);
    progress.note(`${about}; ${s.mode} on ${s.device}`);
    if (warning) progress.note(warning);
    const loader = new DataLoader(data.train, {
      batchSize: s.batchSize, shuffle: true, seed: s.seed, reuseBuffers: true, concurrency: s.workers, dropLast: data.train.length > s.batchSize,
      onError: badImages.onError,
    });
    result = await lrFind(net, loader, {
      startLr: s.startLr, endLr: s.endLr, numIt: s.numIt, mode: s.mode, fcLrMult: s.fcLrMult, momentum: s.momentum,
      weightDecay: s.weightDecay, signal: controller.signal,
      onStep: (e) => progress.range(e),
    });
  } finally {
    interrupts.dispose();
    net.dispose();
  }
  progress.note(`${result.lrs.length} steps, ${describeStop(result)}`);
  if (badImages.summary()) progress.note(badImages.summary());
  if (s.plot) await writePlot(s.plot, result);
  if (s.json) {
    process.stdout.write(`${JSON.stringify({ ...result, skippedImages: badImages.list() }, null, 2)}\n`);
  } else if (result.suggestions) {
    const { valley, minimum, steep } = result.suggestions;
    process.stdout.write([
      `suggested --lr ${short(valley.lr)} (fastai's valley)`,
      `  minimum/10: ${short(minimum.lr)}   steepest: ${short(steep.lr)}`,
      ...(s.plot ? [`curve: ${s.plot}, ${pngOf(s.plot)}`] : []),
      '',
    ].join('\n'));
  } else {
    process.stdout.write(`no suggestion: too few steps before the test ended; raise --num-it, or lower --start-lr\n`);
  }
  return interrupts.exitCode();
}

function describeStop(r: LrFindResult): string {
  switch (r.stop) {
    case 'numIt': return 'all of --num-it';
    case 'diverged': return `stopped when the smoothed loss passed 4x its minimum (lr ${short(r.lrs.at(-1)!)})`;
    case 'nonFinite': return `stopped at a non-finite loss (lr ${short(r.lrs.at(-1)!)})`;
    case 'aborted': return 'stopped by a signal';
  }
}

function short(x: number): string {
  return x.toExponential(2);
}

function pngOf(svg: string): string {
  const { dir, name } = path.parse(svg);
  return path.join(dir, `${name}.png`);
}

async function writePlot(file: string, r: LrFindResult): Promise<void> {
  const end = Math.max(1, r.lrs.length - SKIP_END);
  const markers = r.suggestions
    ? [{ name: 'valley', color: COLORS.valid, point: r.suggestions.valley.point },
      { name: 'minimum', color: COLORS.validTop5, point: r.suggestions.minimum.point },
      { name: 'steep', color: COLORS.fc, point: r.suggestions.steep.point }]
    : [];
  const svg = lineChart({
    title: 'Learning-rate range test', xLabel: 'learning rate (log scale)', yLabel: 'smoothed training loss', xLog: true, yLog: 'auto',
    series: [{ name: 'loss', color: COLORS.train, points: r.lrs.slice(0, end).map((lr, i) => [lr, r.losses[i]]) }],
    markers,
  });
  await writeFileAtomic(file, svg);
  await writeFileAtomic(pngOf(file), await renderPng(svg));
}

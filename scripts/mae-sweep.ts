// The masking-ratio experiment of MAE's paper (Fig. 5) at a scale this machine runs: small MAEs
// pretrained on Fashion-MNIST classes 0-4 at several masking ratios, each encoder then evaluated
// on classes 5-9 by a linear probe (the head on frozen class-token features) and by fine-tuning
// every layer, over several seeds, tested on held-out images. Runs are started only while the
// time bound (--minutes) lasts; the table and plot say which ran. Whatever the numbers are, they
// are printed as measured. Every setting and image index is written to protocol.json, which
// scripts/mae_sweep_pytorch.py runs in PyTorch (`--pytorch 0.75`: for those ratios, after this side).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fineTune, getNumThreads, linearProbe, MaskedAutoencoder, maePretrain, setNumThreads, VisionTransformer } from '../lib';
import { BatchSource, compose, DataLoader, FashionMNIST, normalize, randomHorizontalFlip, randomResizedCrop, Subset, toTensor } from '../lib/data';
import { writeFileAtomic } from '../lib/base/atomic';
import { lineChart, Marker, renderPng } from '../lib/cli/plots';
import { fashionMnistLabels, perClass, RECIPE, SOURCE_CLASSES, TARGET_CLASSES } from './demo-protocol';
import { batches, demoData } from './demo-data';
import { runPyTorch, testAccuracy } from './demo-runner';
import { requireEcosystemPython } from './python-with-torch';

const { values: flags } = parseArgs({
  options: {
    ratios: { type: 'string', default: '0.4,0.6,0.75,0.9' },
    seeds: { type: 'string', default: '3' },
    'pretrain-per-class': { type: 'string', default: '200' },
    'pretrain-epochs': { type: 'string', default: '5' },
    'target-per-class': { type: 'string', default: '40' },
    'target-epochs': { type: 'string', default: '8' },
    'test-per-class': { type: 'string', default: '100' },
    lr: { type: 'string', default: '1e-3' },
    threads: { type: 'string', default: '1' },
    minutes: { type: 'string', default: '30' },
    pytorch: { type: 'string', default: '0.75' },
    out: { type: 'string', default: 'mae-sweep-out' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`node dist/scripts/mae-sweep.js [--ratios 0.4,0.6,0.75,0.9] [--seeds 3] [--pretrain-per-class 200]
  [--pretrain-epochs 5] [--target-per-class 40] [--target-epochs 8] [--test-per-class 100] [--lr 1e-3]
  [--threads 1] [--minutes 30] [--pytorch 0.75] [--out mae-sweep-out]

No finetorch run starts after --minutes; those not run show as such. --pytorch: the ratios
scripts/mae_sweep_pytorch.py then runs on the same protocol.json, for every seed ('none': no PyTorch side).`);
  process.exit(0);
}
const number = (name: keyof typeof flags, integer: boolean): number => {
  const v = Number(flags[name]);
  if (!(v > 0) || (integer && !Number.isSafeInteger(v))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${flags[name]}`);
    process.exit(2);
  }
  return v;
};
const ratioList = (name: 'ratios' | 'pytorch'): number[] => {
  if (flags[name] === 'none') return [];
  const list = flags[name]!.split(',').map(Number);
  if (list.some((r) => !(r > 0 && r < 1))) {
    console.error(`--${name} must be numbers in (0, 1), got ${flags[name]}`);
    process.exit(2);
  }
  return list;
};
const ratios = ratioList('ratios');
const pytorchRatios = ratioList('pytorch');
const S = {
  seeds: number('seeds', true), pretrainPerClass: number('pretrain-per-class', true), pretrainEpochs: number('pretrain-epochs', true),
  targetPerClass: number('target-per-class', true), targetEpochs: number('target-epochs', true), testPerClass: number('test-per-class', true),
};

const DATA = demoData('fashion-mnist');
const SIZE = DATA.imageSize;
/** 7 x 7 patches of 4 px; a 4-block encoder 64 wide, a 1-block decoder 32 wide; MAE's mlp_ratio 4, pixel loss not normalised. */
const ENCODER = { imgSize: SIZE, patchSize: 4, embedDim: 64, depth: 4, numHeads: 4, mlpRatio: 4 };
const MODEL = { ...ENCODER, decoderEmbedDim: 32, decoderDepth: 1, decoderNumHeads: 4, normPixLoss: false };
const BATCH = 64;

/** The sweep as data: what scripts/mae_sweep_pytorch.py reads to run the same experiment. */
export interface SweepProtocol {
  data: string;
  /** Fashion-MNIST's pixel mean and std (scripts/demo-protocol.ts), on all three channels of the grey image. */
  mean: number;
  std: number;
  sourceClasses: number[];
  targetClasses: number[];
  model: typeof MODEL;
  /**
   * main_pretrain.py's recipe: AdamW (betas) on timm's weight-decay groups, lr warmed up from 0 for
   * warmupEpochs then half-cycle cosine to minLr, set per step; batches of batchSize, the last
   * partial one dropped; each image randomly resized-cropped (scale, bicubic) and flipped.
   */
  pretrain: { lr: number; minLr: number; warmupEpochs: number; epochs: number; weightDecay: number; betas: [number, number]; batchSize: number; cropScale: [number, number] };
  /** The d2l fine-tuning chapter's SGD (scripts/demo-protocol.ts's RECIPE) for the probe and the fine-tune. */
  recipe: typeof RECIPE;
  settings: typeof S;
  /** A batch loss above this counts as a divergence (NaN and infinity always do). */
  maxLoss: number;
  ratios: number[];
  pytorchRatios: number[];
  /** Compute threads, pinned on both sides. */
  threads: number;
  /**
   * Positions in the IDX files (train file for source/target, t10k file for the tests): per seed,
   * the pretraining images of classes 0-4 and the target images of classes 5-9; one test set.
   */
  indices: { source: number[][]; target: number[][]; test: number[] };
}

function makeProtocol(): SweepProtocol {
  const train = fashionMnistLabels(DATA.root, true);
  const epochs = S.pretrainEpochs;
  return {
    data: DATA.root, mean: DATA.mean[0], std: DATA.std[0], sourceClasses: SOURCE_CLASSES, targetClasses: TARGET_CLASSES, model: MODEL,
    pretrain: { lr: number('lr', false), minLr: 0, warmupEpochs: Math.max(1, Math.round(epochs / 10)), epochs, weightDecay: 0.05, betas: [0.9, 0.95], batchSize: BATCH, cropScale: [0.2, 1] },
    recipe: { ...RECIPE, batchSize: BATCH }, settings: S, maxLoss: 100, ratios, pytorchRatios, threads: number('threads', true),
    indices: {
      source: Array.from({ length: S.seeds }, (_, seed) => perClass(train, SOURCE_CLASSES, S.pretrainPerClass, seed)),
      // Each seed draws its own target images; every ratio of a seed sees the same ones.
      target: Array.from({ length: S.seeds }, (_, seed) => perClass(train, TARGET_CLASSES, S.targetPerClass, 1000 + seed)),
      test: perClass(fashionMnistLabels(DATA.root, false), TARGET_CLASSES, S.testPerClass, 0),
    },
  };
}

/** Per ratio and seed: the last pretraining epoch's loss and both test accuracies (the PyTorch side writes the same). */
interface Result { ratio: number; seed: number; pretrainLoss: number; probe: number | null; fineTune: number | null; seconds: number }

/** A ViT holding the pretrained encoder, with a fresh head for classes 5-9. */
async function encoderVit(encoder: Map<string, import('../lib/base/tensor').HostTensor>, seed: number): Promise<VisionTransformer> {
  const vit = await VisionTransformer.create({ ...ENCODER, numClasses: TARGET_CLASSES.length, seed });
  const { missing, unexpected } = await vit.loadStateDict(encoder, { strict: false });
  if (unexpected.length > 0 || missing.some((k) => !k.startsWith('head.'))) throw new Error(`encoder keys: missing ${missing}, unexpected ${unexpected}`);
  return vit;
}

async function run(p: SweepProtocol, ratio: number, seed: number, test: BatchSource): Promise<Result> {
  const start = Date.now();
  const t = p.pretrain;
  // main_pretrain.py's augmentation at 28 px.
  const augmented = compose(randomResizedCrop(SIZE, { scale: t.cropScale, interpolation: 'bicubic' }), randomHorizontalFlip(), toTensor(), normalize([p.mean], [p.std]));
  const source = new Subset(new FashionMNIST(p.data, { train: true, transform: augmented }), p.indices.source[seed]);
  const mae = await MaskedAutoencoder.create({ ...p.model, seed });
  const history = await maePretrain(mae, {
    train: new DataLoader(source, { batchSize: t.batchSize, shuffle: true, dropLast: true, seed }),
    epochs: t.epochs, lr: t.lr, minLr: t.minLr, warmupEpochs: t.warmupEpochs, weightDecay: t.weightDecay, betas: t.betas, maskRatio: ratio, seed,
  });
  const encoder = await mae.encoderStateDict();
  await mae.dispose();
  const r = p.recipe;
  const trainOn = (shuffle: boolean) => batches(DATA, true, p.targetClasses, p.indices.target[seed], { batchSize: r.batchSize, shuffle, seed });
  const probe = await encoderVit(encoder, seed);
  // The probe's features are computed once, so it trains in the protocol's order.
  await linearProbe(probe, { train: trainOn(false), epochs: S.targetEpochs, lr: r.lr * r.fcLrMult, weightDecay: r.weightDecay, momentum: r.momentum, featureCache: true });
  probe.eval();
  const probeAcc = await testAccuracy(probe, test);
  probe.dispose();
  const tuned = await encoderVit(encoder, seed);
  await fineTune(tuned, { train: trainOn(true), epochs: S.targetEpochs, lr: r.lr, fcLrMult: r.fcLrMult, weightDecay: r.weightDecay, momentum: r.momentum });
  tuned.eval();
  const tunedAcc = await testAccuracy(tuned, test);
  tuned.dispose();
  return { ratio, seed, pretrainLoss: history.at(-1)!.loss, probe: probeAcc, fineTune: tunedAcc, seconds: (Date.now() - start) / 1000 };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
// One seed gives no spread: it shows as such rather than as ± 0.
const cell = (xs: number[]) => (xs.length === 0 ? 'not run'
  : `${(100 * mean(xs)).toFixed(1)}${xs.length < 2 ? '' : ` ± ${(100 * sd(xs)).toFixed(1)}`} (${xs.length} seed${xs.length === 1 ? '' : 's'})`);
/** A ratio's accuracies over the seeds (a diverged run has none). */
const of = (results: Result[], ratio: number, key: 'probe' | 'fineTune') =>
  results.filter((r) => r.ratio === ratio && r[key] !== null).map((r) => r[key]!);

function table(side: string, results: Result[], rows: number[]): string {
  const lines = [`\n${side}:`, '| masking ratio | linear probe, % (seeds) | fine-tune, % (seeds) |', '|---|---|---|'];
  for (const ratio of rows) lines.push(`| ${ratio} | ${cell(of(results, ratio, 'probe'))} | ${cell(of(results, ratio, 'fineTune'))} |`);
  return lines.join('\n');
}

async function plot(out: string, mine: Result[], theirs: Result[]): Promise<void> {
  const series = (key: 'probe' | 'fineTune', name: string, color: string) => ({
    // In percent: the chart's x ticks are whole numbers.
    name, color, points: ratios.filter((r) => of(mine, r, key).length > 0).map((r): [number, number] => [100 * r, mean(of(mine, r, key))]),
  });
  const markers = (key: 'probe' | 'fineTune', name: string, color: string): Marker[] => pytorchRatios.filter((r) => of(theirs, r, key).length > 0)
    .map((r) => ({ name, color, point: [100 * r, mean(of(theirs, r, key))] }));
  const svg = lineChart({
    title: 'MAE on Fashion-MNIST, classes 5-9', xLabel: 'masking ratio (%)', yLabel: 'test accuracy (mean over seeds)',
    series: [series('probe', 'linear probe', '#1f77b4'), series('fineTune', 'fine-tune', '#d62728')], yDomain: [0, 1],
    markers: [...markers('probe', 'PyTorch linear probe', '#1f77b4'), ...markers('fineTune', 'PyTorch fine-tune', '#d62728')],
  });
  await writeFileAtomic(path.join(out, 'accuracy.svg'), svg);
  await writeFileAtomic(path.join(out, 'accuracy.png'), await renderPng(svg));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const out = flags.out!;
  const minutes = number('minutes', false);
  fs.mkdirSync(out, { recursive: true });
  const p = makeProtocol();
  setNumThreads(p.threads);
  const protocolFile = path.join(out, 'protocol.json');
  await writeFileAtomic(protocolFile, JSON.stringify(p));
  console.log(`MAE masking-ratio sweep on Fashion-MNIST (${p.data}); LibTorch compute threads: ${getNumThreads()}`);
  console.log(`settings: ${JSON.stringify({ ...S, ratios, pytorchRatios, model: MODEL, pretrain: p.pretrain, recipe: p.recipe })}`);
  const test = batches(DATA, false, p.targetClasses, p.indices.test, { batchSize: 256, shuffle: false, seed: 0 });
  const results: Result[] = [];
  for (let seed = 0; seed < S.seeds; seed++) {
    for (const ratio of ratios) {
      const passed = (Date.now() - t0) / 60000;
      if (passed >= minutes) {
        console.log(`ratio ${ratio}, seed ${seed}: not run (${passed.toFixed(1)} min passed, --minutes ${minutes})`);
        continue;
      }
      const r = await run(p, ratio, seed, test);
      results.push(r);
      console.log(`ratio ${ratio}, seed ${seed}: pretraining loss ${r.pretrainLoss.toFixed(4)}, linear probe ${(100 * r.probe!).toFixed(1)}%, ` +
        `fine-tune ${(100 * r.fineTune!).toFixed(1)}% (${r.seconds.toFixed(0)} s)`);
      await writeFileAtomic(path.join(out, 'results.json'), `${JSON.stringify({ side: 'finetorch', results }, null, 2)}\n`);
    }
  }
  const cpu = process.cpuUsage();
  console.log(`\nfinetorch side: ${results.length} runs in ${((Date.now() - t0) / 60000).toFixed(1)} min (${((cpu.user + cpu.system) / 60e6).toFixed(1)} min of CPU)`);
  let theirs: Result[] = [];
  if (pytorchRatios.length > 0) theirs = (await runPyTorch<{ results: Result[] }>(requireEcosystemPython().python, 'mae_sweep_pytorch.py', protocolFile, out)).results;
  console.log(table('finetorch', results, ratios));
  if (pytorchRatios.length > 0) console.log(table('PyTorch (scripts/mae_sweep_pytorch.py, same protocol.json)', theirs, pytorchRatios));
  await plot(out, results, theirs);
  console.log(`\n${((Date.now() - t0) / 60000).toFixed(1)} min in all; ${out}/protocol.json, results.json${pytorchRatios.length > 0 ? ', results-pytorch.json' : ''}, accuracy.svg, accuracy.png`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// The README's main job: the d2l chapter's claim on real data. On Fashion-MNIST, a source
// ResNet-18 is pretrained on classes 0-4 (the role ImageNet plays in the chapter) and saved as a
// .pth; then a small target set from classes 5-9 is learned three ways (from scratch, linear
// probe, fine-tuning with fc at 10x lr) over several seeds, and tested on held-out test images.
// The protocol is fixed by the flags below; whatever the numbers are, they are printed as measured.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  evaluate, fineTune, linearProbe, ResNet18, savePth, TrainingDivergedError, EpochRecord,
} from '../lib';
import { compose, DataLoader, Dataset, FashionMNIST, normalize, Subset, toTensor } from '../lib/data';
import { mulberry32, randperm } from '../lib/data/random';
import { writeFileAtomic } from '../lib/atomic';
import { lineChart, renderPng } from '../lib/cli/plots';

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const SOURCE_CLASSES = [0, 1, 2, 3, 4];
const TARGET_CLASSES = [5, 6, 7, 8, 9];
// Fashion-MNIST's pixel mean and std, for all three channels of the grey image.
const TRANSFORM = compose(toTensor(), normalize([0.286], [0.353]));

const { values: flags } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '20' },
    seeds: { type: 'string', default: '3' },
    'source-images': { type: 'string', default: '10000' },
    'source-epochs': { type: 'string', default: '1' },
    'target-epochs': { type: 'string', default: '15' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.01' },
    'test-images': { type: 'string', default: '1000' },
    out: { type: 'string', default: 'demo-out' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run demo -- [--per-class 20] [--seeds 3] [--source-images 10000] [--source-epochs 1]
  [--target-epochs 15] [--batch-size 32] [--lr 0.01] [--test-images 1000] [--out demo-out]`);
  process.exit(0);
}
const num = (name: keyof typeof flags): number => {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name} must be a positive number, got ${flags[name]}`);
    process.exit(2);
  }
  return v;
};
const P = {
  perClass: num('per-class'), seeds: num('seeds'), sourceImages: num('source-images'), sourceEpochs: num('source-epochs'),
  targetEpochs: num('target-epochs'), batchSize: num('batch-size'), lr: num('lr'), testImages: num('test-images'),
};

/** `count` samples of each class of `dataset` (class index = targets[i]), chosen with `seed`. */
function perClassSubset(dataset: FashionMNIST, count: number, seed: number): Subset {
  const order = randperm(dataset.length, mulberry32(seed));
  const taken = new Map<number, number>();
  const picked: number[] = [];
  for (const i of order) {
    const t = dataset.targets[i];
    if ((taken.get(t) ?? 0) < count) {
      taken.set(t, (taken.get(t) ?? 0) + 1);
      picked.push(i);
    }
  }
  return new Subset(dataset, picked);
}

const loader = (dataset: Dataset, seed: number, shuffle: boolean) =>
  new DataLoader(dataset, { batchSize: P.batchSize, shuffle, seed });

async function sourceModel(): Promise<string> {
  const key = crypto.createHash('sha1').update(JSON.stringify([P.sourceImages, P.sourceEpochs, P.batchSize])).digest('hex').slice(0, 10);
  const file = path.join('.demo', `source-${key}.pth`);
  if (fs.existsSync(file)) {
    console.log(`source model: ${file} (pretrained by an earlier run)`);
    return file;
  }
  const train = new FashionMNIST(FASHION_MNIST, { classes: SOURCE_CLASSES, transform: TRANSFORM });
  const subset = perClassSubset(train, Math.floor(P.sourceImages / SOURCE_CLASSES.length), 1234);
  console.log(`pretraining the source ResNet-18 on ${subset.length} images of classes 0-4, ${P.sourceEpochs} epoch(s)…`);
  const net = await ResNet18.create({ numClasses: SOURCE_CLASSES.length, seed: 0 });
  const history = await fineTune(net, {
    train: loader(subset, 0, true), epochs: P.sourceEpochs, lr: 0.05, fcLrMult: 1, momentum: 0.9, weightDecay: 5e-4,
    onEpoch: (r) => console.log(`  source epoch ${r.epoch}: loss ${r.trainLoss.toFixed(3)}, acc ${r.trainAcc.toFixed(3)}, ${r.imagesPerSec.toFixed(0)} img/s`),
  });
  fs.mkdirSync('.demo', { recursive: true });
  await savePth(file, await net.stateDict());
  net.dispose();
  console.log(`source model saved: ${file} (train acc ${history.at(-1)!.trainAcc.toFixed(3)}); reloaded as a torchvision .pth, ` +
    `its fc is ${(await ResNet18.load(file).then((n) => { const fc = String(n.fc); n.dispose(); return fc; }))}`);
  return file;
}

type Method = 'scratch' | 'linear probe' | 'fine-tune';
interface Run { method: Method; seed: number; testAcc: number | null; diverged: string | null; seconds: number; history: EpochRecord[] }

async function targetRun(method: Method, seed: number, sourceFile: string, test: Dataset): Promise<Run> {
  const train = perClassSubset(new FashionMNIST(FASHION_MNIST, { classes: TARGET_CLASSES, transform: TRANSFORM }), P.perClass, seed);
  const net = method === 'scratch' ? await ResNet18.create({ numClasses: TARGET_CLASSES.length, seed }) : await ResNet18.load(sourceFile);
  if (method !== 'scratch') net.replaceFc(TARGET_CLASSES.length, { seed });
  // The chapter's rates: scratch trains everything at 10x lr; fine-tuning keeps lr for the
  // pretrained layers and 10x for the new fc; the linear probe's head gets the same 10x.
  const common = { train: loader(train, seed, true), epochs: P.targetEpochs, momentum: 0.9, weightDecay: 1e-3, maxLoss: 100 };
  const start = Date.now();
  const history: EpochRecord[] = [];
  const onEpoch = (r: EpochRecord) => { history.push(r); };
  let diverged: string | null = null;
  try {
    if (method === 'scratch') await fineTune(net, { ...common, lr: P.lr * 10, fcLrMult: 1, onEpoch });
    else if (method === 'fine-tune') await fineTune(net, { ...common, lr: P.lr, fcLrMult: 10, onEpoch });
    else await linearProbe(net, { ...common, lr: P.lr * 10, featureCache: true, onEpoch });
  } catch (err) {
    if (!(err instanceof TrainingDivergedError)) throw err;
    diverged = err.message;
  }
  const testAcc = diverged ? null : (await evaluate(loader(test, 0, false), (b) => net.evalStep(b.input, b.target))).accuracy;
  net.dispose();
  return { method, seed, testAcc, diverged, seconds: (Date.now() - start) / 1000, history };
}

function summary(runs: Run[], method: Method): string {
  const mine = runs.filter((r) => r.method === method);
  const accs = mine.map((r) => r.testAcc).filter((a): a is number => a !== null);
  const mean = accs.reduce((a, b) => a + b, 0) / (accs.length || 1);
  const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accs.length - 1));
  const diverged = mine.length - accs.length;
  const acc = accs.length ? `${mean.toFixed(3)} ± ${sd.toFixed(3)}` : 'n/a';
  const seconds = mine.reduce((a, r) => a + r.seconds, 0) / mine.length;
  return `${method.padEnd(13)} ${acc.padEnd(14)} ${`[${accs.map((a) => a.toFixed(3)).join(', ')}]`.padEnd(24)} ${String(diverged).padStart(8)} ${seconds.toFixed(1).padStart(9)}`;
}

const METHOD_COLORS: Record<Method, string> = { scratch: '#7f7f7f', 'linear probe': '#1f77b4', 'fine-tune': '#d62728' };

/** Per-epoch training curves, averaged over the seeds that did not diverge, as SVG and PNG. */
async function writeCurves(runs: Run[], out: string): Promise<string[]> {
  const mean = (method: Method, field: 'trainLoss' | 'trainAcc'): [number, number][] => {
    const ok = runs.filter((r) => r.method === method && !r.diverged);
    return Array.from({ length: P.targetEpochs }, (_, e) => [e + 1, ok.reduce((a, r) => a + r.history[e][field], 0) / ok.length]);
  };
  const charts = {
    'train-loss': lineChart({ title: 'Target training loss (mean over seeds)', xLabel: 'epoch', yLabel: 'cross-entropy loss',
      series: (Object.keys(METHOD_COLORS) as Method[]).map((m) => ({ name: m, color: METHOD_COLORS[m], points: mean(m, 'trainLoss') })) }),
    'train-accuracy': lineChart({ title: 'Target training accuracy (mean over seeds)', xLabel: 'epoch', yLabel: 'accuracy', yDomain: [0, 1],
      yFormat: (v) => `${Math.round(v * 100)}%`,
      series: (Object.keys(METHOD_COLORS) as Method[]).map((m) => ({ name: m, color: METHOD_COLORS[m], points: mean(m, 'trainAcc') })) }),
  };
  const files: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    await writeFileAtomic(path.join(out, `${name}.svg`), svg);
    await writeFileAtomic(path.join(out, `${name}.png`), await renderPng(svg));
    files.push(`${name}.svg`, `${name}.png`);
  }
  return files;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`finetorch demo: transfer learning on Fashion-MNIST (${JSON.stringify(P)})`);
  const sourceFile = await sourceModel();
  const testAll = new FashionMNIST(FASHION_MNIST, { train: false, classes: TARGET_CLASSES, transform: TRANSFORM });
  const test = perClassSubset(testAll, Math.floor(P.testImages / TARGET_CLASSES.length), 99);
  const runs: Run[] = [];
  for (let seed = 0; seed < P.seeds; seed++) {
    for (const method of ['scratch', 'linear probe', 'fine-tune'] as Method[]) {
      const run = await targetRun(method, seed, sourceFile, test);
      runs.push(run);
      console.log(`  seed ${seed} ${method.padEnd(12)}: ${run.diverged ? `diverged (${run.diverged})` : `test acc ${run.testAcc!.toFixed(3)}`} in ${run.seconds.toFixed(1)} s`);
    }
  }
  console.log(`\ntarget: classes 5-9, ${P.perClass} training images per class, tested on ${test.length} test images, ${P.seeds} seeds`);
  console.log(`${'method'.padEnd(13)} ${'test acc'.padEnd(14)} ${'per seed'.padEnd(24)} diverged  s / run`);
  for (const method of ['scratch', 'linear probe', 'fine-tune'] as Method[]) console.log(summary(runs, method));
  const out = flags.out!;
  fs.mkdirSync(out, { recursive: true });
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify({ protocol: P, runs }, null, 2));
  const curves = await writeCurves(runs, out);
  console.log(`\nresults.json, ${curves.join(', ')} in ${out}/; whole demo ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

// The masking-ratio experiment of MAE's paper (Fig. 5) at a scale this machine runs: small MAEs
// pretrained on Fashion-MNIST classes 0-4 at several masking ratios, each encoder then evaluated
// on classes 5-9 by a linear probe (the head on frozen class-token features) and by fine-tuning
// every layer, over several seeds, tested on held-out images. Runs are started only while the
// time bound (--minutes) lasts; the table and plot say which ran. Whatever the numbers are, they
// are printed as measured.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate, fineTune, getNumThreads, linearProbe, MaskedAutoencoder, maePretrain, VisionTransformer } from '../lib';
import { compose, DataLoader, Dataset, FashionMNIST, normalize, randomHorizontalFlip, randomResizedCrop, Subset, toTensor, Transform } from '../lib/data';
import { mulberry32, randperm } from '../lib/data/random';
import { writeFileAtomic } from '../lib/base/atomic';
import { lineChart, renderPng } from '../lib/cli/plots';
import { FASHION_MNIST } from './demo-protocol';

const { values: flags } = parseArgs({
  options: {
    ratios: { type: 'string', default: '0.4,0.6,0.75,0.9' },
    seeds: { type: 'string', default: '2' },
    'pretrain-per-class': { type: 'string', default: '1000' },
    'pretrain-epochs': { type: 'string', default: '10' },
    'target-per-class': { type: 'string', default: '100' },
    'target-epochs': { type: 'string', default: '10' },
    'test-per-class': { type: 'string', default: '200' },
    lr: { type: 'string', default: '1e-3' },
    minutes: { type: 'string', default: '30' },
    out: { type: 'string', default: 'mae-sweep-out' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`node dist/scripts/mae-sweep.js [--ratios 0.4,0.6,0.75,0.9] [--seeds 2] [--pretrain-per-class 1000]
  [--pretrain-epochs 10] [--target-per-class 100] [--target-epochs 10] [--test-per-class 200] [--lr 1e-3]
  [--minutes 30] [--out mae-sweep-out]

No run starts after --minutes; those not run show as such.`);
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
const ratios = flags.ratios!.split(',').map(Number);
if (ratios.some((r) => !(r > 0 && r < 1))) {
  console.error(`--ratios must be numbers in (0, 1), got ${flags.ratios}`);
  process.exit(2);
}
const S = {
  seeds: number('seeds', true), pretrainPerClass: number('pretrain-per-class', true), pretrainEpochs: number('pretrain-epochs', true),
  targetPerClass: number('target-per-class', true), targetEpochs: number('target-epochs', true), testPerClass: number('test-per-class', true),
  lr: number('lr', false), minutes: number('minutes', false),
};

/** Fashion-MNIST's pixel mean and std (scripts/demo-protocol.ts), on all three channels of the grey image. */
const MEAN = 0.286;
const STD = 0.353;
const SIZE = 28;
/** 7 x 7 patches of 4 px; a 4-block encoder 64 wide, a 1-block decoder 32 wide. */
const ENCODER = { imgSize: SIZE, patchSize: 4, embedDim: 64, depth: 4, numHeads: 4 };
const MODEL = { ...ENCODER, decoderEmbedDim: 32, decoderDepth: 1, decoderNumHeads: 4 };
const BATCH = 64;
/** The d2l fine-tuning chapter's SGD (scripts/demo.ts's recipe): lr 0.01, the head at 10x, weight decay 1e-3. */
const TARGET = { lr: 0.01, fcLrMult: 10, weightDecay: 1e-3, momentum: 0 };

/** `perClass` images of each class, chosen at random (seeded), as a Subset. */
function pick(train: boolean, classes: number[], perClass: number, seed: number, transform: Transform): Subset {
  const dataset = new FashionMNIST(FASHION_MNIST, { train, classes, transform });
  const order = randperm(dataset.length, mulberry32(seed));
  const taken = new Map<number, number>();
  const kept: number[] = [];
  for (const i of order) {
    const label = dataset.targets[i];
    if ((taken.get(label) ?? 0) < perClass) {
      taken.set(label, (taken.get(label) ?? 0) + 1);
      kept.push(i);
    }
  }
  return new Subset(dataset, kept);
}

const plain = compose(toTensor(), normalize([MEAN], [STD]));
// main_pretrain.py's augmentation at 28 px.
const augmented = compose(randomResizedCrop(SIZE, { scale: [0.2, 1], interpolation: 'bicubic' }), randomHorizontalFlip(), toTensor(), normalize([MEAN], [STD]));

interface Result { ratio: number; seed: number; pretrainLoss: number; probe: number; fineTune: number; seconds: number }

async function accuracy(net: VisionTransformer, test: Dataset): Promise<number> {
  net.eval();
  return (await evaluate(new DataLoader(test, { batchSize: 256 }), (b) => net.evalStep(b.input, b.target))).accuracy;
}

/** A ViT holding the pretrained encoder, with a fresh head for classes 5-9. */
async function encoderVit(encoder: Map<string, import('../lib/base/tensor').HostTensor>, seed: number): Promise<VisionTransformer> {
  const vit = await VisionTransformer.create({ ...ENCODER, numClasses: 5, seed });
  const { missing, unexpected } = await vit.loadStateDict(encoder, { strict: false });
  if (unexpected.length > 0 || missing.some((k) => !k.startsWith('head.'))) throw new Error(`encoder keys: missing ${missing}, unexpected ${unexpected}`);
  return vit;
}

async function run(ratio: number, seed: number, target: Dataset, test: Dataset): Promise<Result> {
  const start = Date.now();
  const source = pick(true, [0, 1, 2, 3, 4], S.pretrainPerClass, seed, augmented);
  const mae = await MaskedAutoencoder.create({ ...MODEL, seed });
  const history = await maePretrain(mae, {
    train: new DataLoader(source, { batchSize: BATCH, shuffle: true, dropLast: true, seed }),
    epochs: S.pretrainEpochs, lr: S.lr, warmupEpochs: Math.max(1, Math.round(S.pretrainEpochs / 10)), maskRatio: ratio, seed,
  });
  const encoder = await mae.encoderStateDict();
  await mae.dispose();
  const trainOn = (shuffle: boolean) => new DataLoader(target, { batchSize: BATCH, shuffle, seed });
  const probe = await encoderVit(encoder, seed);
  await linearProbe(probe, { train: trainOn(false), epochs: S.targetEpochs, lr: TARGET.lr * TARGET.fcLrMult, weightDecay: TARGET.weightDecay, featureCache: true });
  const probeAcc = await accuracy(probe, test);
  probe.dispose();
  const tuned = await encoderVit(encoder, seed);
  await fineTune(tuned, { train: trainOn(true), epochs: S.targetEpochs, lr: TARGET.lr, fcLrMult: TARGET.fcLrMult, weightDecay: TARGET.weightDecay });
  const tunedAcc = await accuracy(tuned, test);
  tuned.dispose();
  return { ratio, seed, pretrainLoss: history.at(-1)!.loss, probe: probeAcc, fineTune: tunedAcc, seconds: (Date.now() - start) / 1000 };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
// One seed gives no spread: it shows as such rather than as ± 0.
const cell = (xs: number[]) => (xs.length === 0 ? 'not run'
  : `${(100 * mean(xs)).toFixed(1)}${xs.length < 2 ? '' : ` ± ${(100 * sd(xs)).toFixed(1)}`} (${xs.length} seed${xs.length === 1 ? '' : 's'})`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const out = flags.out!;
  fs.mkdirSync(out, { recursive: true });
  console.log(`MAE masking-ratio sweep on Fashion-MNIST (${FASHION_MNIST}); LibTorch compute threads: ${getNumThreads()}`);
  console.log(`settings: ${JSON.stringify({ ...S, ratios, model: MODEL, batch: BATCH, target: TARGET })}`);
  const results: Result[] = [];
  for (let seed = 0; seed < S.seeds; seed++) {
    // Each seed draws its own target images; every ratio of a seed sees the same ones.
    const target = pick(true, [5, 6, 7, 8, 9], S.targetPerClass, 1000 + seed, plain);
    const test = pick(false, [5, 6, 7, 8, 9], S.testPerClass, 0, plain);
    for (const ratio of ratios) {
      const minutes = (Date.now() - t0) / 60000;
      if (minutes >= S.minutes) {
        console.log(`ratio ${ratio}, seed ${seed}: not run (${minutes.toFixed(1)} min passed, --minutes ${S.minutes})`);
        continue;
      }
      const r = await run(ratio, seed, target, test);
      results.push(r);
      console.log(`ratio ${ratio}, seed ${seed}: pretraining loss ${r.pretrainLoss.toFixed(4)}, linear probe ${(100 * r.probe).toFixed(1)}%, ` +
        `fine-tune ${(100 * r.fineTune).toFixed(1)}% (${r.seconds.toFixed(0)} s)`);
      await writeFileAtomic(path.join(out, 'results.json'), `${JSON.stringify({ settings: { ...S, ratios, model: MODEL }, results }, null, 2)}\n`);
    }
  }
  const of = (ratio: number, key: 'probe' | 'fineTune') => results.filter((r) => r.ratio === ratio).map((r) => r[key]);
  console.log('\n| masking ratio | linear probe, % (seeds) | fine-tune, % (seeds) |\n|---|---|---|');
  for (const ratio of ratios) console.log(`| ${ratio} | ${cell(of(ratio, 'probe'))} | ${cell(of(ratio, 'fineTune'))} |`);
  const series = (key: 'probe' | 'fineTune', name: string, color: string) => ({
    // In percent: the chart's x ticks are whole numbers.
    name, color, points: ratios.filter((r) => of(r, key).length > 0).map((r): [number, number] => [100 * r, mean(of(r, key))]),
  });
  const svg = lineChart({
    title: 'MAE on Fashion-MNIST, classes 5-9', xLabel: 'masking ratio (%)', yLabel: 'test accuracy',
    series: [series('probe', 'linear probe', '#1f77b4'), series('fineTune', 'fine-tune', '#d62728')], yDomain: [0, 1],
  });
  await writeFileAtomic(path.join(out, 'accuracy.svg'), svg);
  await writeFileAtomic(path.join(out, 'accuracy.png'), await renderPng(svg));
  console.log(`\n${results.length} runs in ${((Date.now() - t0) / 60000).toFixed(1)} min; ${out}/results.json, ${out}/accuracy.svg, accuracy.png`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// The README's main job: the d2l fine-tuning chapter's claim on real data, with the chapter's
// optimizer (SGD lr 0.01, fc at 10x, weight decay 0.001, no momentum). On Fashion-MNIST a source
// ResNet-18 learns classes 0-4 (the role ImageNet plays in the chapter) and is saved as a .pth;
// then classes 5-9 are learned from a small target set three ways (from scratch, linear probe,
// fine-tuning) over several seeds and tested on held-out images. protocol.json holds every
// hyper-parameter and image index; scripts/demo_pytorch.py runs the same protocol in PyTorch
// (`--pytorch` runs it after this side and prints both). Whatever the numbers are, they are printed
// as measured.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fineTune, getNumThreads, linearProbe, ResNet18 } from '../lib';
import { compose, DataLoader, Dataset, FashionMNIST, normalize, Subset, toTensor } from '../lib/data';
import { writeFileAtomic } from '../lib/base/atomic';
import { requirePythonWithTorch } from './python-with-torch';
import { METHODS, Method, Protocol, Settings, makeProtocol } from './demo-protocol';
import type { Run } from './demo-report';
import { Source, allRuns, cachedSource, report, targetRun } from './demo-runner';

const { values: flags } = parseArgs({
  options: {
    'source-per-class': { type: 'string', default: '1500' },
    'source-epochs': { type: 'string', default: '3' },
    'target-per-class': { type: 'string', default: '50' },
    'target-epochs': { type: 'string', default: '10' },
    seeds: { type: 'string', default: '5' },
    'test-per-class': { type: 'string', default: '200' },
    out: { type: 'string', default: 'demo-out' },
    pytorch: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run demo -- [--source-per-class 1500] [--source-epochs 3] [--target-per-class 50] [--target-epochs 10]
  [--seeds 5] [--test-per-class 200] [--out demo-out] [--pytorch]

--pytorch also runs scripts/demo_pytorch.py on the same protocol.json and prints both sides.`);
  process.exit(0);
}
const count = (name: keyof typeof flags): number => {
  const v = Number(flags[name]);
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer, got ${flags[name]}`);
    process.exit(2);
  }
  return v;
};
const SETTINGS: Settings = {
  sourcePerClass: count('source-per-class'), sourceEpochs: count('source-epochs'), targetPerClass: count('target-per-class'),
  targetEpochs: count('target-epochs'), seeds: count('seeds'), testPerClass: count('test-per-class'),
};

/** The images at `positions` (IDX file positions) of the kept classes, as a Subset. */
function subsetAt(protocol: Protocol, train: boolean, classes: number[], positions: number[]): Subset {
  const dataset = new FashionMNIST(protocol.data, { train, classes, transform: compose(toTensor(), normalize([protocol.mean], [protocol.std])) });
  const local = new Map(Array.from(dataset.indices, (position, i) => [position, i]));
  return new Subset(dataset, positions.map((p) => local.get(p)!));
}

const loader = (protocol: Protocol, dataset: Dataset, seed: number, shuffle: boolean) =>
  new DataLoader(dataset, { batchSize: protocol.recipe.batchSize, shuffle, seed });

/** The source model: trained once per protocol (the scratch recipe on classes 0-4), then cached. */
function sourceModel(protocol: Protocol): Promise<Source> {
  const { recipe } = protocol;
  return cachedSource('source', [recipe, protocol.settings.sourceEpochs, protocol.indices.source, protocol.mean, protocol.std], async () => {
    const train = subsetAt(protocol, true, protocol.sourceClasses, protocol.indices.source);
    console.log(`training the source ResNet-18 from scratch on ${train.length} images of classes 0-4, ${protocol.settings.sourceEpochs} epochs…`);
    const net = await ResNet18.create({ numClasses: protocol.sourceClasses.length, seed: 0 });
    await fineTune(net, {
      train: loader(protocol, train, 0, true), epochs: protocol.settings.sourceEpochs,
      lr: recipe.lr * recipe.fcLrMult, fcLrMult: 1, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
      onEpoch: (r) => console.log(`  source epoch ${r.epoch}: loss ${r.trainLoss.toFixed(3)}, train acc ${r.trainAcc.toFixed(3)}, ${r.imagesPerSec.toFixed(0)} img/s`),
    });
    const test = subsetAt(protocol, false, protocol.sourceClasses, protocol.indices.sourceTest);
    return { net, test: loader(protocol, test, 0, false), images: test.length };
  });
}

async function runTarget(protocol: Protocol, method: Method, seed: number, sourceFile: string, test: DataLoader): Promise<Run> {
  const { recipe } = protocol;
  const numClasses = protocol.targetClasses.length;
  // The linear probe trains on features computed once, so in one fixed order: the protocol's
  // (already random) order of the images, on both sides. The others reshuffle every epoch.
  const train = loader(protocol, subsetAt(protocol, true, protocol.targetClasses, protocol.indices.target[seed]), seed, method !== 'linear probe');
  const net = method === 'scratch' ? await ResNet18.create({ numClasses, seed }) : await ResNet18.load(sourceFile);
  if (method !== 'scratch') net.replaceFc(numClasses, { seed });
  const common = { train, epochs: protocol.settings.targetEpochs, momentum: recipe.momentum, weightDecay: recipe.weightDecay, maxLoss: protocol.maxLoss };
  return targetRun(method, seed, net, (onEpoch) => {
    if (method === 'scratch') return fineTune(net, { ...common, lr: recipe.lr * recipe.fcLrMult, fcLrMult: 1, onEpoch });
    if (method === 'fine-tune') return fineTune(net, { ...common, lr: recipe.lr, fcLrMult: recipe.fcLrMult, onEpoch });
    return linearProbe(net, { ...common, lr: recipe.lr * recipe.fcLrMult, featureCache: true, onEpoch });
  }, test);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const out = flags.out!;
  const protocol = makeProtocol(SETTINGS);
  console.log(`finetorch demo: transfer learning on Fashion-MNIST; LibTorch compute threads: ${getNumThreads()}`);
  console.log(`recipe ${JSON.stringify(protocol.recipe)}; ${JSON.stringify(SETTINGS)}`);
  fs.mkdirSync(out, { recursive: true });
  await writeFileAtomic(path.join(out, 'protocol.json'), JSON.stringify(protocol));
  const source = await sourceModel(protocol);
  const test = loader(protocol, subsetAt(protocol, false, protocol.targetClasses, protocol.indices.test), 0, false);
  const runs = await allRuns(SETTINGS, protocol.indices.test.length, METHODS, (method, seed) => runTarget(protocol, method, seed, source.file, test));
  await report({ side: 'finetorch', sourceTestAcc: source.testAcc, runs }, out, t0,
    flags.pytorch ? { python: requirePythonWithTorch().python, script: 'demo_pytorch.py' } : undefined);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

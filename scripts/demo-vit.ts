// The transformer demo: MAE's two ways of evaluating a pretrained ViT (linear probing and
// fine-tuning) on real data, side by side with PyTorch (timm's VisionTransformer) running the same
// protocol. A small ViT learns classes 0-4 of Fashion-MNIST from scratch with AdamW (the
// "pretrained" backbone) and is saved as a .pth; then classes 5-9 are learned from a small target
// set by a linear probe and by fine-tuning, over several seeds, and tested on held-out images.
// protocol.json holds every hyper-parameter and image index; scripts/demo_vit_pytorch.py runs it
// (`--pytorch` runs it after this side and prints both). `--data cifar10 DIR` runs the same on
// CIFAR-10's binary version. Whatever the numbers are, they are printed as measured.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  AdamW, BatchSource, fineTune, getNumThreads, linearProbe, setNumThreads, torchVersion, VisionTransformer,
} from '../lib';
import { writeFileAtomic } from '../lib/base/atomic';
import { requireEcosystemPython } from './python-with-torch';
import { DATA_NAMES, DataName, DemoData, batches, demoData, labelsOf } from './demo-data';
import { RECIPE, SOURCE_CLASSES, Settings, TARGET_CLASSES, chooseIndices, Protocol } from './demo-protocol';
import type { Run } from './demo-report';
import { Source, allRuns, cachedSource, report, targetRun } from './demo-runner';

/** The evaluation protocols of the target runs; MAE's joins when linearProbe/fineTune have it. */
const PROTOCOLS = ['d2l'] as const;
const METHODS = ['linear probe', 'fine-tune'] as const;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string', default: 'fashion-mnist' },
    protocol: { type: 'string', default: 'd2l' },
    'source-per-class': { type: 'string', default: '1000' },
    'source-epochs': { type: 'string', default: '4' },
    'target-per-class': { type: 'string', default: '50' },
    'target-epochs': { type: 'string', default: '10' },
    seeds: { type: 'string', default: '5' },
    'test-per-class': { type: 'string', default: '200' },
    width: { type: 'string', default: '96' },
    depth: { type: 'string', default: '4' },
    heads: { type: 'string', default: '3' },
    patch: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string', default: 'demo-vit-out' },
    pytorch: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`node dist/scripts/demo-vit.js [--data fashion-mnist | --data cifar10 DIR] [--protocol d2l]
  [--source-per-class 1000] [--source-epochs 4] [--target-per-class 50] [--target-epochs 10] [--seeds 5] [--test-per-class 200]
  [--width 96] [--depth 4] [--heads 3] [--patch 4] [--threads 1] [--out demo-vit-out] [--pytorch]

--threads: compute threads, the same on both sides (finetorch's setNumThreads, torch.set_num_threads).

--pytorch also runs scripts/demo_vit_pytorch.py (timm) on the same protocol.json and prints both sides.`);
  process.exit(0);
}
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
const count = (name: keyof typeof flags): number => {
  const v = Number(flags[name]);
  if (!Number.isSafeInteger(v) || v < 1) fail(`--${name} must be a positive integer, got ${flags[name]}`);
  return v;
};
const oneOf = <T extends string>(name: string, value: string, choices: readonly T[]): T => {
  if (!(choices as readonly string[]).includes(value)) fail(`--${name} must be one of ${choices.join(', ')}, got ${value}`);
  return value as T;
};
const SETTINGS: Settings = {
  sourcePerClass: count('source-per-class'), sourceEpochs: count('source-epochs'), targetPerClass: count('target-per-class'),
  targetEpochs: count('target-epochs'), seeds: count('seeds'), testPerClass: count('test-per-class'),
};
const DATA: DemoData = (() => {
  const name = oneOf<DataName>('data', flags.data!, DATA_NAMES);
  if (positionals.length > 1) fail(`unexpected arguments ${positionals.join(' ')} (the one argument is the data set's folder)`);
  if (name === 'cifar10' && positionals.length === 0) fail('--data cifar10 needs its folder: --data cifar10 DIR (data_batch_1.bin ... test_batch.bin)');
  return demoData(name, positionals[0]);
})();

/** The small ViT; its image size is the data's. */
interface VitSize { imgSize: number; patchSize: number; embedDim: number; depth: number; numHeads: number; mlpRatio: number }

/** The backbone's own training: AdamW on every parameter, constant lr. */
interface SourceRecipe { lr: number; weightDecay: number; batchSize: number }
const SOURCE_RECIPE: SourceRecipe = { lr: 1e-3, weightDecay: 0.05, batchSize: 64 };

interface VitProtocol extends Omit<Protocol, 'mean' | 'std'> {
  dataset: DataName;
  mean: number[];
  std: number[];
  model: VitSize;
  sourceRecipe: SourceRecipe;
  /** Compute threads, pinned on both sides. */
  threads: number;
  /** How the target runs train: 'd2l' is the chapter's SGD recipe (`recipe`). */
  protocol: (typeof PROTOCOLS)[number];
}

function makeProtocol(): VitProtocol {
  const model: VitSize = {
    imgSize: DATA.imageSize, patchSize: count('patch'), embedDim: count('width'), depth: count('depth'), numHeads: count('heads'), mlpRatio: 4,
  };
  return {
    dataset: DATA.name, data: DATA.root, mean: DATA.mean, std: DATA.std, sourceClasses: SOURCE_CLASSES, targetClasses: TARGET_CLASSES,
    recipe: RECIPE, settings: SETTINGS, maxLoss: 100, model, threads: count('threads'), sourceRecipe: SOURCE_RECIPE, protocol: oneOf('protocol', flags.protocol!, PROTOCOLS),
    indices: chooseIndices(SETTINGS, { train: labelsOf(DATA, true), test: labelsOf(DATA, false) }, SETTINGS.testPerClass),
  };
}

/** The source ViT: trained once per protocol (AdamW on classes 0-4), then cached. */
function sourceModel(p: VitProtocol): Promise<Source> {
  return cachedSource('vit-source', [p.dataset, p.model, p.sourceRecipe, p.settings.sourceEpochs, p.indices.source, p.mean, p.std], async () => {
    const { sourceRecipe: r } = p;
    const train = batches(DATA, true, p.sourceClasses, p.indices.source, { batchSize: r.batchSize, seed: 0, shuffle: true });
    console.log(`training the source ViT from scratch on ${p.indices.source.length} images of classes 0-4, ${p.settings.sourceEpochs} epochs…`);
    const net = await VisionTransformer.create({ ...p.model, numClasses: p.sourceClasses.length, seed: 0 });
    const optimizer = new AdamW(net.parameters(), { lr: r.lr, weightDecay: r.weightDecay });
    for (let epoch = 1; epoch <= p.settings.sourceEpochs; epoch++) {
      train.setEpoch(epoch);
      let [loss, correct, seen] = [0, 0, 0];
      for await (const b of train) {
        const step = await net.trainStep(b.input, b.target, optimizer);
        [loss, correct, seen] = [loss + step.loss * b.target.length, correct + step.correct, seen + b.target.length];
      }
      console.log(`  source epoch ${epoch}: loss ${(loss / seen).toFixed(3)}, train acc ${(correct / seen).toFixed(3)}`);
    }
    const test = batches(DATA, false, p.sourceClasses, p.indices.sourceTest, { batchSize: 256, seed: 0, shuffle: false });
    return { net, test, images: p.indices.sourceTest.length };
  });
}

async function runTarget(p: VitProtocol, method: (typeof METHODS)[number], seed: number, sourceFile: string, test: BatchSource): Promise<Run> {
  const { recipe } = p;
  // The linear probe trains on features computed once, so in one fixed order: the protocol's
  // (already random) order of the images, on both sides. Fine-tuning reshuffles every epoch.
  const train = batches(DATA, true, p.targetClasses, p.indices.target[seed], { batchSize: recipe.batchSize, seed, shuffle: method === 'fine-tune' });
  const net = await VisionTransformer.load(sourceFile, { numHeads: p.model.numHeads });
  net.resetClassifier(p.targetClasses.length, { seed });
  const common = { train, epochs: p.settings.targetEpochs, momentum: recipe.momentum, weightDecay: recipe.weightDecay, maxLoss: p.maxLoss };
  return targetRun(method, seed, net, (onEpoch) => (method === 'fine-tune'
    ? fineTune(net, { ...common, lr: recipe.lr, fcLrMult: recipe.fcLrMult, onEpoch })
    : linearProbe(net, { ...common, lr: recipe.lr * recipe.fcLrMult, featureCache: true, onEpoch })), test);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const out = flags.out!;
  const protocol = makeProtocol();
  setNumThreads(protocol.threads);
  console.log(`finetorch transformer demo on ${DATA.name} (${DATA.root}); LibTorch ${torchVersion}, compute threads: ${getNumThreads()}`);
  console.log(`ViT ${JSON.stringify(protocol.model)}; source ${JSON.stringify(protocol.sourceRecipe)}; target protocol ${protocol.protocol} ` +
    `${JSON.stringify(protocol.recipe)}; ${JSON.stringify(SETTINGS)}`);
  fs.mkdirSync(out, { recursive: true });
  await writeFileAtomic(path.join(out, 'protocol.json'), JSON.stringify(protocol));
  const source = await sourceModel(protocol);
  const test = batches(DATA, false, protocol.targetClasses, protocol.indices.test, { batchSize: 256, seed: 0, shuffle: false });
  const runs = await allRuns(SETTINGS, protocol.indices.test.length, METHODS, (method, seed) => runTarget(protocol, method, seed, source.file, test));
  await report({ side: 'finetorch', sourceTestAcc: source.testAcc, runs }, out, t0,
    flags.pytorch ? { python: requireEcosystemPython().python, script: 'demo_vit_pytorch.py' } : undefined);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

// The README's main job: the d2l fine-tuning chapter's claim on real data, with the chapter's
// optimizer (SGD lr 0.01, fc at 10x, weight decay 0.001, no momentum). On Fashion-MNIST a source
// ResNet-18 learns classes 0-4 (the role ImageNet plays in the chapter) and is saved as a .pth;
// then classes 5-9 are learned from a small target set three ways (from scratch, linear probe,
// fine-tuning) over several seeds and tested on held-out images. protocol.json holds every
// hyper-parameter and image index; scripts/demo_pytorch.py runs the same protocol in PyTorch
// (`--pytorch` runs it after this side and prints both). Whatever the numbers are, they are printed
// as measured.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate, fineTune, getNumThreads, linearProbe, ResNet, ResNet18, savePth, TrainingDivergedError } from '../lib';
import { compose, DataLoader, Dataset, FashionMNIST, normalize, Subset, toTensor } from '../lib/data';
import { writeFileAtomic } from '../lib/base/atomic';
import { requirePythonWithTorch } from './python-with-torch';
import { METHODS, Method, Protocol, Settings, makeProtocol } from './demo-protocol';
import { Run, SideResults, comparisonTable, summaryTable, writeCurves } from './demo-report';

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

async function testAccuracy(net: ResNet, protocol: Protocol, test: Dataset): Promise<number> {
  return (await evaluate(loader(protocol, test, 0, false), (b) => net.evalStep(b.input, b.target))).accuracy;
}

interface Source { file: string; testAcc: number; seconds: number }

/** The source model: trained once per protocol (the scratch recipe on classes 0-4), then cached. */
async function sourceModel(protocol: Protocol): Promise<Source> {
  const { recipe } = protocol;
  const key = crypto.createHash('sha1').update(JSON.stringify([recipe, protocol.settings.sourceEpochs, protocol.indices.source, protocol.mean, protocol.std]))
    .digest('hex').slice(0, 10);
  const file = path.join('.demo', `source-${key}.pth`);
  const infoFile = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(infoFile)) {
    const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as Source;
    console.log(`source model: ${file} (trained by an earlier run in ${info.seconds.toFixed(0)} s; test accuracy on classes 0-4: ${info.testAcc.toFixed(3)})`);
    return info;
  }
  const train = subsetAt(protocol, true, protocol.sourceClasses, protocol.indices.source);
  const test = subsetAt(protocol, false, protocol.sourceClasses, protocol.indices.sourceTest);
  console.log(`training the source ResNet-18 from scratch on ${train.length} images of classes 0-4, ${protocol.settings.sourceEpochs} epochs…`);
  const start = Date.now();
  const net = await ResNet18.create({ numClasses: protocol.sourceClasses.length, seed: 0 });
  await fineTune(net, {
    train: loader(protocol, train, 0, true), epochs: protocol.settings.sourceEpochs,
    lr: recipe.lr * recipe.fcLrMult, fcLrMult: 1, momentum: recipe.momentum, weightDecay: recipe.weightDecay,
    onEpoch: (r) => console.log(`  source epoch ${r.epoch}: loss ${r.trainLoss.toFixed(3)}, train acc ${r.trainAcc.toFixed(3)}, ${r.imagesPerSec.toFixed(0)} img/s`),
  });
  const info: Source = { file, testAcc: await testAccuracy(net, protocol, test), seconds: (Date.now() - start) / 1000 };
  fs.mkdirSync('.demo', { recursive: true });
  await savePth(file, await net.stateDict());
  net.dispose();
  await writeFileAtomic(infoFile, JSON.stringify(info));
  console.log(`source model: ${file}, test accuracy on the ${test.length} test images of classes 0-4: ${info.testAcc.toFixed(3)} (${info.seconds.toFixed(0)} s)`);
  return info;
}

async function targetRun(protocol: Protocol, method: Method, seed: number, sourceFile: string, test: Dataset): Promise<Run> {
  const { recipe } = protocol;
  const numClasses = protocol.targetClasses.length;
  // The linear probe trains on features computed once, so in one fixed order: the protocol's
  // (already random) order of the images, on both sides. The others reshuffle every epoch.
  const train = loader(protocol, subsetAt(protocol, true, protocol.targetClasses, protocol.indices.target[seed]), seed, method !== 'linear probe');
  const net = method === 'scratch' ? await ResNet18.create({ numClasses, seed }) : await ResNet18.load(sourceFile);
  if (method !== 'scratch') net.replaceFc(numClasses, { seed });
  const common = { train, epochs: protocol.settings.targetEpochs, momentum: recipe.momentum, weightDecay: recipe.weightDecay, maxLoss: protocol.maxLoss };
  const start = Date.now();
  const curve: Run['curve'] = [];
  const onEpoch = (r: { trainLoss: number; trainAcc: number }) => { curve.push({ loss: r.trainLoss, acc: r.trainAcc }); };
  let diverged: string | null = null;
  try {
    if (method === 'scratch') await fineTune(net, { ...common, lr: recipe.lr * recipe.fcLrMult, fcLrMult: 1, onEpoch });
    else if (method === 'fine-tune') await fineTune(net, { ...common, lr: recipe.lr, fcLrMult: recipe.fcLrMult, onEpoch });
    else await linearProbe(net, { ...common, lr: recipe.lr * recipe.fcLrMult, featureCache: true, onEpoch });
  } catch (err) {
    if (!(err instanceof TrainingDivergedError)) throw err;
    diverged = err.message;
  }
  const testAcc = diverged ? null : await testAccuracy(net, protocol, test);
  net.dispose();
  return { method, seed, testAcc, diverged, seconds: (Date.now() - start) / 1000, curve };
}

/** scripts/demo_pytorch.py on the same protocol; its results. */
function runPyTorch(protocolFile: string, out: string): Promise<SideResults> {
  const { python } = requirePythonWithTorch();
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'demo_pytorch.py');
  const resultsFile = path.join(out, 'results-pytorch.json');
  console.log(`\nPyTorch: ${python} ${path.relative(process.cwd(), script)} ${protocolFile}`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, protocolFile, resultsFile], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as SideResults);
      else reject(new Error(`demo_pytorch.py exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const out = flags.out!;
  const protocol = makeProtocol(SETTINGS);
  console.log(`finetorch demo: transfer learning on Fashion-MNIST; LibTorch compute threads: ${getNumThreads()}`);
  console.log(`recipe ${JSON.stringify(protocol.recipe)}; ${JSON.stringify(SETTINGS)}`);
  fs.mkdirSync(out, { recursive: true });
  const protocolFile = path.join(out, 'protocol.json');
  await writeFileAtomic(protocolFile, JSON.stringify(protocol));
  const source = await sourceModel(protocol);
  const test = subsetAt(protocol, false, protocol.targetClasses, protocol.indices.test);
  const runs: Run[] = [];
  for (let seed = 0; seed < SETTINGS.seeds; seed++) {
    for (const method of METHODS) {
      const run = await targetRun(protocol, method, seed, source.file, test);
      runs.push(run);
      console.log(`  seed ${seed} ${method.padEnd(12)}: ${run.diverged ? `diverged (${run.diverged})` : `test acc ${run.testAcc!.toFixed(3)}`} in ${run.seconds.toFixed(1)} s`);
    }
  }
  const mine: SideResults = { side: 'finetorch', sourceTestAcc: source.testAcc, runs };
  console.log(`\ntarget: classes 5-9, ${SETTINGS.targetPerClass} training images per class (chosen per seed), ` +
    `tested on ${test.length} test images, ${SETTINGS.seeds} seeds, ${SETTINGS.targetEpochs} epochs`);
  console.log(summaryTable(mine));
  await writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(mine, null, 2));
  const curves = await writeCurves(runs, out);
  // CPU seconds beside wall seconds: on a shared machine the wall clock also measures the neighbours.
  const cpu = process.cpuUsage();
  console.log(`\nprotocol.json, results.json, ${curves.join(', ')} in ${out}/; finetorch side ${((Date.now() - t0) / 1000).toFixed(0)} s ` +
    `(${((cpu.user + cpu.system) / 1e6).toFixed(0)} s of CPU)`);
  if (flags.pytorch) {
    const theirs = await runPyTorch(protocolFile, out);
    console.log(`\nboth sides, same protocol (${out}/protocol.json):\n${comparisonTable(mine, theirs)}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

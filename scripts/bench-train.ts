// Training speed: finetorch against the PyTorch Python equivalent in the same run.
//  - end to end: fineTune (DataLoader + steps) vs torchvision ImageFolder + DataLoader(num_workers=2)
//    + resnet18 + the chapter's SGD, and the compute-only limit (same steps on tensors made in
//    advance), with both sides at 1 and at 2 compute threads, in rounds;
//  - the linear probe with the feature cache vs PyTorch's plain frozen-backbone loop;
//  - the RSS of a 500-step run.
// Usage: node dist/scripts/bench-train.js [IMAGES]
import {
  Batch, DataLoader, fineTune, getNumThreads, ImageFolder, linearProbe, ResNet18, setNumThreads, SGD, Subset, trainTransform,
} from '../lib';
import { HostTensor } from '../lib/base/tensor';
import { runPython } from './reference-python';
import { makeCorpus } from './make-corpus';

export interface TrainBenchOptions {
  images?: number;
  epochs?: number;
  sizes?: number[];
  batchSize?: number;
  log?: (line: string) => void;
}

function randomBatches(count: number, batch: number, size: number): Batch[] {
  return Array.from({ length: count }, (_, k) => ({
    input: { dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i * 0.37 + k)) } as HostTensor,
    target: Int32Array.from({ length: batch }, (_, i) => (i + k) % 10),
  }));
}

const ratio = (a: number, b: number): string => (a / b).toFixed(2);
const ROUNDS = 2;

async function endToEnd(root: string, size: number, batch: number, epochs: number, images: number, threads: number) {
  const defaultThreads = getNumThreads();
  setNumThreads(threads);
  try {
    const data = new ImageFolder(root, { transform: trainTransform({ size }) });
    const subset = new Subset(data, Array.from({ length: Math.min(images, data.length) }, (_, i) => i));
    const loader = new DataLoader(subset, { batchSize: batch, shuffle: true, seed: 0 });
    const net = await ResNet18.create({ numClasses: 10 });
    let start = performance.now();
    const history = await fineTune(net, { train: loader, epochs, lr: 0.01, momentum: 0.9 });
    const seen = history.reduce((n, r) => n + r.imagesPerSec * r.seconds, 0);
    const finetorch = seen / ((performance.now() - start) / 1000);
    const steps = loader.length * epochs;
    const fixed = randomBatches(3, batch, size);
    const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }], { lr: 0.01, momentum: 0.9, weightDecay: 0.001 });
    start = performance.now();
    for (let i = 0; i < steps; i++) await net.trainStep(fixed[i % 3].input, fixed[i % 3].target, opt);
    const compute = seen / ((performance.now() - start) / 1000);
    net.dispose();
    const py = JSON.parse(await runPython('bench_train.py', ['e2e', root, String(size), String(batch), String(epochs), String(images), String(threads)]));
    return { finetorch, compute, py };
  } finally {
    setNumThreads(defaultThreads);
  }
}

/** Rounds of one setting as "a / b". */
const rounds = (values: number[], digits = 1): string => values.map((v) => v.toFixed(digits)).join(' / ');

export async function runTrainBench(options: TrainBenchOptions = {}): Promise<void> {
  const { images = 1000, epochs = 2, sizes = [64], batchSize = 64, log = console.log } = options;
  const root = await makeCorpus({ count: Math.max(images, 1000) });
  const pyDefault = JSON.parse(await runPython('bench_train.py', ['threads'])).threads;
  log(`\nEnd to end: ${images} JPEGs of ${root}, batch ${batchSize}, ${epochs} epochs, randomResizedCrop + flip + normalize.`);
  log(`Default compute threads: finetorch ${getNumThreads()}, PyTorch ${pyDefault}. finetorch decodes on one native thread per core,`);
  log(`torchvision in 2 worker processes. ${ROUNDS} rounds per setting, the two sides taking turns (the machine's speed drifts).`);
  const rows = [];
  for (const size of sizes) {
    for (const threads of [1, 2]) {
      const r = [];
      for (let round = 0; round < ROUNDS; round++) r.push(await endToEnd(root, size, batchSize, epochs, images, threads));
      rows.push({
        size, threads: `both ${threads}`,
        '(1) finetorch img/s': rounds(r.map((x) => x.finetorch)), '(2) PyTorch img/s': rounds(r.map((x) => x.py.imagesPerSec)),
        '(3) compute-only img/s': rounds(r.map((x) => x.compute)), 'PyTorch compute-only': rounds(r.map((x) => x.py.computeImagesPerSec)),
        '(1)/(3)': rounds(r.map((x) => x.finetorch / x.compute), 2), '(1)/(2)': rounds(r.map((x) => x.finetorch / x.py.imagesPerSec), 2),
      });
    }
  }
  console.table(rows);

  const probe = { size: 64, batch: 32, batches: 8, epochs: 10 };
  const data = randomBatches(probe.batches, probe.batch, probe.size);
  const times: Record<string, number> = {};
  for (const featureCache of [true, false]) {
    const net = await ResNet18.create({ numClasses: 10 });
    const start = performance.now();
    await linearProbe(net, { train: data, epochs: probe.epochs, lr: 0.1, momentum: 0.9, featureCache });
    times[featureCache ? 'cached' : 'plain'] = (performance.now() - start) / 1000;
    net.dispose();
  }
  const py = JSON.parse(await runPython('bench_train.py', ['probe', ...Object.values(probe).map(String), '0']));
  log(`\nLinear probe, ${probe.epochs} epochs of ${probe.batches} x ${probe.batch} images at ${probe.size} px`);
  console.table([{
    'finetorch cached s': +times.cached.toFixed(2), 'finetorch plain s': +times.plain.toFixed(2), 'PyTorch plain s': +py.seconds.toFixed(2),
    'PyTorch / cached': ratio(py.seconds, times.cached),
  }]);

  const net = await ResNet18.create({ numClasses: 10 });
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const small = randomBatches(4, 8, 16);
  const rss: Record<string, number> = {};
  for (let i = 1; i <= 500; i++) {
    await net.trainStep(small[i % 4].input, small[i % 4].target, opt);
    if ([50, 100, 200, 300, 400, 500].includes(i)) rss[`step ${i}`] = +(process.memoryUsage().rss / 1048576).toFixed(0);
  }
  net.dispose();
  log('\nRSS (MiB) of a 500-step run (batch 8, 16 px)');
  console.table([rss]);
}

if (require.main === module) {
  runTrainBench({ images: Number(process.argv[2] ?? 1000) }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

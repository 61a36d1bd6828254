// Data loading throughput: finetorch's DataLoader against torchvision's ImageFolder + DataLoader
// (num_workers=2, PIL) on the same files in the same run, as images/s and their ratio, and as CPU
// time per image (all threads / all worker processes; steadier than images/s on a busy machine). Rows:
// the d2l train pipeline (randomResizedCrop(224) + flip + normalize, batches of 64) for the first
// epoch and for later epochs from the pixel cache, the eval pipeline, the same on large photos
// (also with shrinkOnLoad: JPEGs decoded DCT-scaled, not torchvision's pixels), and 28x28
// Fashion-MNIST from its IDX files. "1 thread" rows are the ceiling of decode + augment
// per core (what a GPU's loader gets from each core it is given). Each finetorch row prints the
// peak RSS growth of its epochs beside the loader's bound (prefetch + 1 batches, and a decoded
// image per thread).
// Usage: node dist/scripts/bench-data.js [IMAGES]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CacheOptions, DataLoader, Dataset, FashionMNIST, ImageFolder, Transform, backends, compose, evalTransform, normalize, toTensor,
  trainTransform, IMAGENET_MEAN, IMAGENET_STD,
} from '../lib/data';
import { runPython } from './reference-python';
import { makeCorpus } from './make-corpus';

export interface DataBenchOptions {
  /** JPEGs of 300-600 px in the main corpus (default 1000). */
  images?: number;
  /** Photos of about 3000 x 2000 (default 40). */
  largeImages?: number;
  batchSize?: number;
  /** finetorch's decoding threads (default: the DataLoader's, the machine's cores). */
  concurrency?: number;
  /** torchvision's DataLoader workers (default 2). */
  workers?: number;
  /** Fashion-MNIST IDX files; the row is left out when absent. */
  fashionMnist?: string;
  log?: (line: string) => void;
}

export interface DataBenchRow {
  case: string;
  'finetorch img/s': number;
  'torchvision img/s': number | null;
  'finetorch / torchvision': number | null;
  /** CPU time of all threads (finetorch) or of the process and its workers (torchvision), per image. */
  'finetorch CPU ms/img': number;
  'torchvision CPU ms/img': number | null;
  /** finetorch's peak RSS growth over the row's epochs. */
  'finetorch peak RSS +MiB': number;
}

/** Images/s of a pass, the CPU time it took per image, and the peak RSS growth. */
interface Rate {
  perSec: number;
  cpuMs: number;
  peakGrowth: number;
}

/** Runs the data benchmark and returns its table (also logged as it goes). */
export async function runDataBench(options: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const batchSize = options.batchSize ?? 64;
  const workers = options.workers ?? 2;
  const rows: DataBenchRow[] = [];
  const threads = options.concurrency ?? os.availableParallelism();
  const row = (name: string, ours: Rate, theirs: Rate | null): void => {
    rows.push({
      case: name,
      'finetorch img/s': Math.round(ours.perSec),
      'torchvision img/s': theirs && Math.round(theirs.perSec),
      'finetorch / torchvision': theirs && +(ours.perSec / theirs.perSec).toFixed(2),
      'finetorch CPU ms/img': +ours.cpuMs.toFixed(2),
      'torchvision CPU ms/img': theirs && +theirs.cpuMs.toFixed(2),
      'finetorch peak RSS +MiB': Math.round(ours.peakGrowth / 2 ** 20),
    });
    log(`${name}: finetorch ${ours.perSec.toFixed(0)} img/s${theirs ? `, torchvision ${theirs.perSec.toFixed(0)} img/s` : ''}`);
  };
  const loader = (data: Dataset, cache?: CacheOptions, concurrency = threads) =>
    new DataLoader(data, { batchSize, shuffle: true, seed: 0, concurrency, cache, reuseBuffers: true });
  // torchvision's best of two epochs (the first includes starting the workers).
  const python = async (args: Record<string, unknown>): Promise<Rate> => {
    const out = JSON.parse(await runPython('data_bench.py', [JSON.stringify({ batchSize, workers, epochs: 2, ...args })]));
    const best = out.imagesPerSec.indexOf(Math.max(...out.imagesPerSec));
    return { perSec: out.imagesPerSec[best], cpuMs: out.cpuMsPerImage[best], peakGrowth: 0 };
  };

  log(`JPEGs decoded by ${backends().jpeg}, ${threads} threads; generating the corpora (cached under .bench/)...`);
  const photos = await makeCorpus({ count: options.images ?? 1000 });
  const large = await makeCorpus({ count: options.largeImages ?? 40, classes: 4, minSide: 2000, maxSide: 3000 });

  for (const [label, root] of [['300-600 px', photos], ['~3000x2000 px', large]]) {
    const train = new ImageFolder(root, { transform: trainTransform() });
    const [pyTrain, pyEval] = [await python({ root, pipeline: 'train' }), await python({ root, pipeline: 'eval' })];
    row(`train, ${label}, epoch 1`, (await epochRates(loader(train), 1))[0], pyTrain);
    const shorterSide = label === '300-600 px' ? undefined : 448;
    const cached = (await epochRates(loader(train, { maxBytes: 4e9, shorterSide }), 3)).slice(1);
    row(`train, ${label}, epochs 2-3 from the cache${shorterSide ? ` (shorter side ${shorterSide})` : ''}`, {
      perSec: mean(cached.map((r) => r.perSec)), cpuMs: mean(cached.map((r) => r.cpuMs)), peakGrowth: Math.max(...cached.map((r) => r.peakGrowth)),
    }, pyTrain);
    row(`eval, ${label}`, (await epochRates(loader(new ImageFolder(root, { transform: evalTransform() })), 1))[0], pyEval);
    row(`train, ${label}, 1 thread: decode + augment per core (a ceiling)`, (await epochRates(loader(train, undefined, 1), 1))[0], null);
    if (label === '300-600 px') continue; // No crop of these shrinks 4x: shrinkOnLoad would change nothing.
    const shrunk = (transform: Transform) => loader(new ImageFolder(root, { transform, shrinkOnLoad: true }));
    row(`train, ${label}, epoch 1, shrinkOnLoad (DCT-scaled decode)`, (await epochRates(shrunk(trainTransform()), 1))[0], pyTrain);
    row(`eval, ${label}, shrinkOnLoad (DCT-scaled decode)`, (await epochRates(shrunk(evalTransform()), 1))[0], pyEval);
  }
  const batchBytes = batchSize * 3 * 224 * 224 * 4;
  log(`loader memory bound: (prefetch 2 + 1) batches of ${(batchBytes / 2 ** 20).toFixed(0)} MiB, ` +
    `and per thread one decoded image (at most the decode memory, 1 GiB, for all threads together)`);

  const idxRoot = options.fashionMnist ?? '/usr/share/datasets/fashion-mnist';
  if (fs.existsSync(path.join(idxRoot, 't10k-images-idx3-ubyte.gz'))) {
    const transform: Transform = compose(toTensor(), normalize(IMAGENET_MEAN, IMAGENET_STD));
    const fashion = new FashionMNIST(idxRoot, { train: false, transform });
    const theirs = await python({
      root: path.join(idxRoot, 't10k-images-idx3-ubyte.gz'), labels: path.join(idxRoot, 't10k-labels-idx1-ubyte.gz'), pipeline: 'idx',
    });
    const ours = await epochRates(loader(fashion), 2);
    row('Fashion-MNIST 28x28 (10,000), toTensor + normalize', ours[1], theirs);
  } else {
    log(`no Fashion-MNIST at ${idxRoot}: IDX row left out`);
  }
  return rows;
}

/** Images/s, CPU per image and peak RSS growth of each of `epochs` passes over the loader. */
async function epochRates(loader: DataLoader, epochs: number): Promise<Rate[]> {
  const rates: Rate[] = [];
  for (let e = 0; e < epochs; e++) {
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const { start, cpu } = { start: performance.now(), cpu: process.cpuUsage() };
    let n = 0;
    for await (const batch of loader) n += batch.target.length;
    clearInterval(sampler);
    const used = process.cpuUsage(cpu);
    rates.push({ perSec: n / ((performance.now() - start) / 1000), cpuMs: (used.user + used.system) / 1000 / n, peakGrowth: peak - base });
  }
  return rates;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

if (require.main === module) {
  const images = Number(process.argv[2]) || undefined;
  runDataBench({ images }).then((rows) => {
    console.log(`\nData loading, batches of 64 (Node ${process.version}, JPEGs by ${backends().jpeg})`);
    console.table(rows);
  }, (err) => {
    console.error(err);
    process.exit(1);
  });
}

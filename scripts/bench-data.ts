// Data loading throughput: finetorch's DataLoader against torchvision's ImageFolder + DataLoader
// (num_workers=2, PIL) on the same files in the same run, as images/s and their ratio. Rows:
// the d2l train pipeline (randomResizedCrop(224) + flip + normalize, batches of 64) for the first
// epoch and for later epochs from the pixel cache, the eval pipeline, the same on large photos,
// and 28x28 Fashion-MNIST from its IDX files. "sharp decode" is a limit: decoding alone, no
// transform.
// Usage: node dist/scripts/bench-data.js [IMAGES]
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  CacheOptions, DataLoader, Dataset, FashionMNIST, ImageFolder, Transform, compose, evalTransform, normalize, toTensor,
  trainTransform, IMAGENET_MEAN, IMAGENET_STD,
} from '../lib/data';
import { runPython } from '../test/helpers/python';
import { makeCorpus } from './make-corpus';

export interface DataBenchOptions {
  /** JPEGs of 300-600 px in the main corpus (default 1000). */
  images?: number;
  /** Photos of about 3000 x 2000 (default 40). */
  largeImages?: number;
  batchSize?: number;
  /** finetorch's images decoding at once (default: the DataLoader's). */
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
}

/** Runs the data benchmark and returns its table (also logged as it goes). */
export async function runDataBench(options: DataBenchOptions = {}): Promise<DataBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const batchSize = options.batchSize ?? 64;
  const workers = options.workers ?? 2;
  const rows: DataBenchRow[] = [];
  const row = (name: string, ours: number, theirs: number | null): void => {
    rows.push({
      case: name,
      'finetorch img/s': Math.round(ours),
      'torchvision img/s': theirs === null ? null : Math.round(theirs),
      'finetorch / torchvision': theirs === null ? null : +(ours / theirs).toFixed(2),
    });
    log(`${name}: finetorch ${ours.toFixed(0)} img/s${theirs === null ? '' : `, torchvision ${theirs.toFixed(0)} img/s`}`);
  };
  const loader = (data: Dataset, cache?: CacheOptions) =>
    new DataLoader(data, { batchSize, shuffle: true, seed: 0, concurrency: options.concurrency, cache, reuseBuffers: true });
  const python = async (args: Record<string, unknown>): Promise<number> => {
    const { imagesPerSec } = JSON.parse(await runPython('data_bench.py', [JSON.stringify({ batchSize, workers, epochs: 2, ...args })]));
    return Math.max(...imagesPerSec);
  };

  log('generating the corpora (cached under .bench/)...');
  const photos = await makeCorpus({ count: options.images ?? 1000 });
  const large = await makeCorpus({ count: options.largeImages ?? 40, classes: 4, minSide: 2000, maxSide: 3000 });

  for (const [label, root] of [['300-600 px', photos], ['~3000x2000 px', large]]) {
    row(`sharp decode only, ${label} (a limit)`, await decodeRate(root, options.concurrency ?? 4), null);
    const train = new ImageFolder(root, { transform: trainTransform() });
    const [pyTrain, pyEval] = [await python({ root, pipeline: 'train' }), await python({ root, pipeline: 'eval' })];
    row(`train, ${label}, epoch 1`, (await epochRates(loader(train), 1))[0], pyTrain);
    const cached = await epochRates(loader(train, { maxBytes: 4e9, shorterSide: label === '300-600 px' ? undefined : 448 }), 3);
    row(`train, ${label}, epochs 2-3 from the cache${label === '300-600 px' ? '' : ' (shorter side 448)'}`, mean(cached.slice(1)), pyTrain);
    row(`eval, ${label}`, (await epochRates(loader(new ImageFolder(root, { transform: evalTransform() })), 1))[0], pyEval);
  }

  const idxRoot = options.fashionMnist ?? '/usr/share/datasets/fashion-mnist';
  if (fs.existsSync(path.join(idxRoot, 't10k-images-idx3-ubyte.gz'))) {
    const transform: Transform = compose(toTensor(), normalize(IMAGENET_MEAN, IMAGENET_STD));
    const fashion = new FashionMNIST(idxRoot, { train: false, transform });
    const theirs = await python({
      root: path.join(idxRoot, 't10k-images-idx3-ubyte.gz'), labels: path.join(idxRoot, 't10k-labels-idx1-ubyte.gz'), pipeline: 'idx',
    });
    row('Fashion-MNIST 28x28 (10,000), toTensor + normalize', Math.max(...await epochRates(loader(fashion), 2)), theirs);
  } else {
    log(`no Fashion-MNIST at ${idxRoot}: IDX row left out`);
  }
  return rows;
}

/** Images/s of each of `epochs` passes over the loader. */
async function epochRates(loader: DataLoader, epochs: number): Promise<number[]> {
  const rates: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const start = performance.now();
    let n = 0;
    for await (const batch of loader) n += batch.target.length;
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return rates;
}

/** Images/s of sharp decoding every file of an ImageFolder to raw pixels, `concurrency` at once. */
async function decodeRate(root: string, concurrency: number): Promise<number> {
  const files = new ImageFolder(root).samples.map(([file]) => file);
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < files.length) await sharp(files[next++]).raw().toBuffer();
  }));
  return files.length / ((performance.now() - start) / 1000);
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

if (require.main === module) {
  const images = Number(process.argv[2]) || undefined;
  runDataBench({ images }).then((rows) => {
    console.log(`\nData loading, batches of 64 (Node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips})`);
    console.table(rows);
  }, (err) => {
    console.error(err);
    process.exit(1);
  });
}

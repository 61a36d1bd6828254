// finetorch predict, the work: the top-k classes of each image with softmax probabilities, named
// by the classes.json beside the weights.
import { DataLoader, ImageDataset, ImageSource, Transform } from '../data';
import { checkClassCount, classesNextTo } from './classes';
import { evalPipeline } from './data';
import { requireFile } from './files';
import { loadModel } from './model';
import type { PredictOptions } from './predict';
import { percent } from './progress';
import { table } from './table';

const BATCH = 16;

/** The images named on the command line, as a data set (targets unused). */
class ImageFiles extends ImageDataset {
  constructor(readonly files: readonly string[], transform: Transform) {
    super({ transform });
  }

  get length(): number {
    return this.files.length;
  }

  target(): number {
    return 0;
  }

  protected source(index: number): ImageSource {
    return this.files[index];
  }
}

interface Prediction {
  index: number;
  class: string;
  probability: number;
}

/** Predicts and prints; resolves to the exit code. */
export async function predict({ weights, images, topK, imageSize, device, json }: PredictOptions): Promise<number> {
  for (const image of images) await requireFile(image, 'image');

  const net = await loadModel(weights, device);
  const saved = await classesNextTo(weights);
  if (saved) checkClassCount(saved, net.numClasses, `the classes.json beside ${weights}`);
  else if (!json) process.stderr.write(`no classes.json beside ${weights}: classes are shown by index\n`);
  const names = saved ?? Array.from({ length: net.numClasses }, (_, i) => String(i));

  net.eval();
  const results: { image: string; top: Prediction[] }[] = [];
  for await (const batch of new DataLoader(new ImageFiles(images, evalPipeline(imageSize)), { batchSize: BATCH })) {
    const logits = await net.forward(batch.input);
    const [n, classes] = logits.shape;
    for (let i = 0; i < n; i++) {
      const probabilities = softmax(logits.data.subarray(i * classes, (i + 1) * classes));
      const top = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]).slice(0, topK);
      results.push({ image: images[results.length], top: top.map((index) => ({ index, class: names[index], probability: probabilities[index] })) });
    }
  }
  net.dispose();

  if (json) {
    process.stdout.write(`${JSON.stringify({ weights, results }, null, 2)}\n`);
  } else {
    for (const r of results) {
      const rows = r.top.map((p, rank) => [`  ${rank + 1}.`, p.class, percent(p.probability)]);
      process.stdout.write(`${r.image}\n${table(rows, [false, false, true])}\n`);
    }
  }
  return 0;
}

/** Probabilities from logits, in float64, shifted by the maximum so exp cannot overflow. */
function softmax(logits: Float32Array): Float64Array {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const exp = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

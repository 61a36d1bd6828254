// finetorch predict, the work: the top-k classes of each image with softmax probabilities, named
// by the card (or classes.json) beside the weights. Results stream out batch by batch; an image that
// cannot be read is reported and the rest go on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataLoader, IMG_EXTENSIONS } from '../../data';
import { ImageList } from '../../data/image-list';
import { IMAGENET_CLASSES } from '../../model/imagenet';
import { loadInferenceModel } from '../inference-model';
import { cardFile } from '../model-card';
import type { PredictSettings } from '../settings';
import { percent } from '../progress';
import { table } from '../table';

const BATCH = 16;

interface Prediction {
  index: number;
  class: string;
  probability: number;
}

/** Files as given, folders as the images inside them; what is neither is an error of its own. */
function expand(paths: readonly string[]): { files: string[]; errors: { image: string; error: string }[] } {
  const extensions = new Set(IMG_EXTENSIONS);
  const files: string[] = [];
  const errors: { image: string; error: string }[] = [];
  for (const p of paths) {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      const inside = fs.readdirSync(p, { recursive: true, encoding: 'utf8' })
        .filter((f) => !f.split(path.sep).some((part) => part.startsWith('.')) && extensions.has(path.extname(f).toLowerCase()))
        .sort()
        .map((f) => path.join(p, f));
      if (inside.length === 0) errors.push({ image: p, error: `no images (${IMG_EXTENSIONS.join(', ')}) in this folder` });
      files.push(...inside);
    } else if (stat) {
      files.push(p);
    } else {
      errors.push({ image: p, error: 'does not exist' });
    }
  }
  return { files, errors };
}

/** Predicts and prints; resolves to the exit code (1 when some image could not be read). */
export async function predict({ weights, paths, topK, arch, imageSize, resizeRule, shrinkOnLoad, device, json }: PredictSettings): Promise<number> {
  const { files, errors } = expand(paths);
  const warn = (message: string) => process.stderr.write(`${message}\n`);
  const model = await loadInferenceModel(weights, { device, arch, imageSize, ...resizeRule }, warn);
  const { net } = model;
  // eval says the size in its result; predict's results do not show it, and the size matters.
  if (!model.card && imageSize === undefined) {
    warn(`no ${path.basename(cardFile(weights))} beside ${weights} to say how it was trained: images are resized as ` +
      `torchvision's ImageNet recipe at ${model.imageSize} px (--image-size sets another)`);
  }
  // A model with ImageNet's 1000 outputs and nothing naming them: torchvision's own, most likely.
  const imagenet = !model.classes && net.numClasses === IMAGENET_CLASSES.length;
  if (imagenet) warn(`no .json or classes.json beside ${weights}: its 1000 outputs are named as ImageNet-1K's classes (torchvision's)`);
  else if (!model.classes && !json) warn(`no .json or classes.json beside ${weights}: classes are shown by index`);
  const names = model.classes ?? (imagenet ? IMAGENET_CLASSES : Array.from({ length: net.numClasses }, (_, i) => String(i)));
  for (const e of errors) warn(`${e.image}: error: ${e.error}`);

  const dataset = new ImageList(files, { transform: model.transform, shrinkOnLoad });
  const results: { image: string; top: Prediction[] }[] = [];
  // An image that cannot be read is skipped by the loader and reported in its place, in order.
  const failures = new Map<number, string>();
  const report = (upTo: number) => {
    for (const [index, failure] of [...failures].filter(([i]) => i < upTo)) {
      errors.push({ image: files[index], error: failure });
      warn(`${files[index]}: error: ${failure}`);
      failures.delete(index);
    }
  };
  net.eval();
  try {
    const loader = new DataLoader(dataset, { batchSize: BATCH, onError: (error, index) => failures.set(index, error.message) });
    for await (const batch of loader) {
      const logits = await net.forward(batch.input);
      const classes = logits.shape[1];
      batch.target.forEach((index, i) => {
        report(index);
        const probabilities = softmax(logits.data.subarray(i * classes, (i + 1) * classes));
        const top = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]).slice(0, topK);
        const result = { image: files[index], top: top.map((k) => ({ index: k, class: names[k], probability: probabilities[k] })) };
        results.push(result);
        if (!json) process.stdout.write(`${result.image}\n${table(result.top.map((p, rank) => [`  ${rank + 1}.`, p.class, percent(p.probability)]), [false, false, true])}\n`);
      });
    }
    report(Infinity);
  } finally {
    net.dispose();
  }
  if (json) process.stdout.write(`${JSON.stringify({ weights, results, errors }, null, 2)}\n`);
  if (errors.length === 0) return 0;
  warn(`${errors.length} of ${errors.length + results.length} images could not be read; the others were predicted`);
  return 1;
}

/** Probabilities from logits, in float64, shifted by the maximum so exp cannot overflow. */
function softmax(logits: Float32Array): Float64Array {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const exp = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

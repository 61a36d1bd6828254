// Scores a model over a data set: loss, accuracy, per-class accuracy and the confusion matrix,
// what `finetorch eval` prints and what train plots for the validation set.
import type { LoaderBatch } from '../data';
import type { ResNet18 } from '../model';

export interface ClassScore {
  class: string;
  /** Images of this class. */
  count: number;
  /** Share of them predicted as this class; null when there are none. */
  accuracy: number | null;
}

export interface ConfusionReport {
  count: number;
  loss: number;
  accuracy: number;
  classes: string[];
  perClass: ClassScore[];
  /** matrix[true class][predicted class] = number of images. */
  matrix: number[][];
}

/**
 * `classes` name the model's outputs. `toModelClass` maps the data set's class indices onto
 * them when the two orders differ (a folder holding only some of the model's classes).
 */
export async function confusionReport(
  net: ResNet18, batches: AsyncIterable<LoaderBatch>, classes: string[], toModelClass?: readonly number[],
): Promise<ConfusionReport> {
  const n = classes.length;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let loss = 0;
  let count = 0;
  for await (const batch of batches) {
    const target = toModelClass ? batch.target.map((t) => toModelClass[t]) : batch.target;
    const result = await net.evalStep(batch.input, target, { logits: true });
    const logits = result.logits!.data;
    target.forEach((truth, i) => matrix[truth][argmax(logits, i * n, n)]++);
    loss += result.loss * target.length;
    count += target.length;
  }
  if (count === 0) throw new Error('no images to evaluate');
  const correct = matrix.reduce((sum, row, i) => sum + row[i], 0);
  const perClass = classes.map((name, i) => {
    const total = matrix[i].reduce((a, b) => a + b, 0);
    return { class: name, count: total, accuracy: total ? matrix[i][i] / total : null };
  });
  return { count, loss: loss / count, accuracy: correct / count, classes, perClass, matrix };
}

function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

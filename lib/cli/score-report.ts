// A model's scores on a data set as the CLI shows them: loss, top-1 and top-5 accuracy, per-class
// accuracy and the confusion matrix, classes by name. What `finetorch eval` prints and what train
// keeps of its best epoch's validation.
import { DatasetError, LoaderBatch } from '../data';
import { evaluate } from '../train/evaluate';
import { Scores, perClassAccuracy } from '../train/metrics';
import type { Model } from '../model/model';

export interface ClassScore {
  class: string;
  /** Images of this class. */
  count: number;
  /** Share of them predicted as this class; null when there are none. */
  accuracy: number | null;
}

export interface ScoreReport {
  count: number;
  loss: number;
  accuracy: number;
  top5: number;
  classes: string[];
  perClass: ClassScore[];
  /** matrix[true class][predicted class] = number of images. */
  matrix: number[][];
}

/** The report of scores computed with logits (so top-5 and the matrix are there). */
export function scoreReport(scores: Scores, classes: string[]): ScoreReport {
  if (scores.count === 0) throw new DatasetError('no images to evaluate');
  const matrix = scores.matrix!;
  const perClass = perClassAccuracy(matrix).map((c, i) => ({ class: classes[i], ...c }));
  return { count: scores.count, loss: scores.loss, accuracy: scores.accuracy, top5: scores.top5!, classes, perClass, matrix };
}

/**
 * `classes` name the model's outputs. `toModelClass` maps the data set's class indices onto
 * them when the two orders differ (a folder holding only some of the model's classes).
 */
export async function scoreModel(
  net: Model, batches: AsyncIterable<LoaderBatch> & { length?: number }, classes: string[], toModelClass?: readonly number[],
): Promise<ScoreReport> {
  const source = toModelClass ? relabelled(batches, toModelClass) : batches;
  const scores = await evaluate(source, (b) => net.evalStep(b.input, b.target, { logits: true }));
  return scoreReport(scores, classes);
}

async function* relabelled(batches: AsyncIterable<LoaderBatch>, toModelClass: readonly number[]): AsyncGenerator<LoaderBatch> {
  for await (const b of batches) yield { input: b.input, target: Int32Array.from(b.target, (t) => toModelClass[t]) };
}

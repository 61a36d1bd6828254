// A classifier's scores over a data set: mean loss, top-1 and top-5 accuracy and the confusion
// matrix, accumulated batch by batch from what an eval step returns. What the training loop's
// validation, `finetorch eval` and the CLI's plots all read.
import type { Target } from '../data/batch';
import type { StepResult } from '../model/model';
import { rangeError } from '../base/errors';

export interface Scores {
  /** Images scored. */
  count: number;
  /** Mean cross-entropy. */
  loss: number;
  /** Top-1 accuracy. */
  accuracy: number;
  /**
   * Top-5 accuracy (the true class among the five highest logits; with fewer than five classes,
   * among all of them, as timm's validate computes it). Null when the step returned no logits.
   */
  top5: number | null;
  /** matrix[true class][predicted class] = images; null when the step returned no logits. */
  matrix: number[][] | null;
}

/** Sums one batch at a time; `scores()` gives the means. */
export class ScoreAccumulator {
  #loss = 0;
  #correct = 0;
  #correct5 = 0;
  #count = 0;
  #matrix: number[][] | null = null;
  #withLogits: boolean | undefined;

  /** `result` of an eval step on a batch whose labels are `target` (the model's class indices). */
  add(result: StepResult, target: Target): void {
    const n = target.length;
    if (this.#withLogits !== undefined && this.#withLogits !== (result.logits !== undefined)) {
      throw rangeError('ERR_FINETORCH_INVALID_ARG', 'ScoreAccumulator: some batches came with logits and some without');
    }
    this.#withLogits = result.logits !== undefined;
    this.#loss += result.loss * n;
    this.#correct += result.correct;
    this.#count += n;
    if (result.logits) this.#addLogits(result.logits.data, result.logits.shape[1], target);
  }

  scores(): Scores {
    const count = this.#count;
    return {
      count,
      loss: count ? this.#loss / count : NaN,
      accuracy: count ? this.#correct / count : NaN,
      top5: this.#matrix && count ? this.#correct5 / count : null,
      matrix: this.#matrix,
    };
  }

  /** @internal The sums behind the scores: [loss x count, correct, correct in the top 5, count], and the matrix. */
  sums(): { totals: number[]; matrix: number[][] | null } {
    return { totals: [this.#loss, this.#correct, this.#correct5, this.#count], matrix: this.#matrix };
  }

  /** @internal Replaces the sums (with a data-parallel job's other ranks' added in). */
  setSums(totals: number[], matrix: number[][] | null): void {
    [this.#loss, this.#correct, this.#correct5, this.#count] = totals;
    this.#matrix = matrix;
  }

  #addLogits(logits: Float32Array, classes: number, target: Target): void {
    this.#matrix ??= Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    const k = Math.min(5, classes);
    for (let i = 0; i < target.length; i++) {
      const truth = Number(target[i]);
      const row = logits.subarray(i * classes, (i + 1) * classes);
      let predicted = 0;
      // Rank of the true class: how many logits beat it (ties count for the truth, as topk's order is unspecified).
      let above = 0;
      for (let j = 0; j < classes; j++) {
        if (row[j] > row[predicted]) predicted = j;
        if (row[j] > row[truth]) above++;
      }
      this.#matrix[truth][predicted]++;
      if (above < k) this.#correct5++;
    }
  }
}

/** Per-class accuracy from a confusion matrix: the share of each true class predicted right (null without images). */
export function perClassAccuracy(matrix: readonly (readonly number[])[]): { count: number; accuracy: number | null }[] {
  return matrix.map((row, i) => {
    const count = row.reduce((a, b) => a + b, 0);
    return { count, accuracy: count ? row[i] / count : null };
  });
}

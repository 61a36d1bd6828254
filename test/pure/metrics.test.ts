// Scores from eval steps: loss and accuracy weighted by batch size, top-5 and the confusion matrix
// computed from logits.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScoreAccumulator, perClassAccuracy } from '../../lib/train/metrics';

const logits = (rows: number[][]) => ({ dtype: 'float32' as const, shape: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) });

describe('ScoreAccumulator', () => {
  it('weights loss and accuracy by batch size; top-5 and the matrix from the logits', () => {
    const scores = new ScoreAccumulator();
    // Seven classes. Image 0: truth 0 ranked first. Image 1: truth 6 ranked sixth. Image 2: truth 3 ranked fifth.
    scores.add({ loss: 1, correct: 1, logits: logits([[9, 1, 2, 3, 4, 5, 0], [7, 6, 5, 4, 3, 0, 2]]) }, Int32Array.from([0, 6]));
    scores.add({ loss: 4, correct: 0, logits: logits([[9, 8, 7, 5, 6, 0, 1]]) }, BigInt64Array.from([3n]));
    const s = scores.scores();
    assert.equal(s.count, 3);
    assert.equal(s.loss, (1 * 2 + 4) / 3);
    assert.equal(s.accuracy, 1 / 3);
    assert.equal(s.top5, 2 / 3);
    assert.equal(s.matrix![0][0], 1);
    assert.equal(s.matrix![6][0], 1);
    assert.equal(s.matrix![3][0], 1);
    assert.equal(s.matrix!.flat().reduce((a, b) => a + b, 0), 3);
    assert.deepEqual(perClassAccuracy([[2, 1], [0, 0]]), [{ count: 3, accuracy: 2 / 3 }, { count: 0, accuracy: null }]);
  });

  it('without logits: loss and accuracy only; mixing both is an error', () => {
    const scores = new ScoreAccumulator();
    scores.add({ loss: 2, correct: 1 }, Int32Array.from([0, 1]));
    assert.deepEqual(scores.scores(), { count: 2, loss: 2, accuracy: 0.5, top5: null, matrix: null });
    assert.throws(() => scores.add({ loss: 1, correct: 0, logits: logits([[1, 2]]) }, Int32Array.from([0])), /some batches came with logits/);
    assert.ok(Number.isNaN(new ScoreAccumulator().scores().loss));
  });
});

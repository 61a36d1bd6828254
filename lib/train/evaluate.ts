// Scoring a model over a data source: each batch's eval step into a ScoreAccumulator, and in a
// data-parallel job every rank's share added up, so that each rank gets the whole data's scores.
import type { Batch, BatchSource } from '../data/batch';
import { stepwise } from '../data/loader';
import { dist } from '../dist/process-group';
import type { StepResult } from '../model/model';
import { ScoreAccumulator, Scores } from './metrics';

/**
 * Scores a model over a data source in eval mode: `evalStep` is e.g.
 * `(b) => net.evalStep(b.input, b.target, { logits: true })` (with logits, top-5 and the confusion
 * matrix come too). `onBatch(batch, batches)` follows the progress.
 */
export async function evaluate(
  source: BatchSource, evalStep: (b: Batch) => Promise<StepResult>,
  options: { onBatch?: (batch: number, batches: number | undefined) => void } = {},
): Promise<Scores> {
  const scores = new ScoreAccumulator();
  let batch = 0;
  for await (const b of stepwise(source)) {
    scores.add(await evalStep(b), b.target);
    options.onBatch?.(++batch, source.length);
  }
  // In a data-parallel job each rank scored its share: the scores are the whole job's.
  await mergeOverRanks(scores);
  return scores.scores();
}

/** Validation scores of every rank's share added up (each sample is on exactly one rank). */
async function mergeOverRanks(scores: ScoreAccumulator): Promise<void> {
  if (!dist.isInitialized) return;
  const { totals, matrix } = scores.sums();
  // A rank without batches has no confusion matrix yet: agree on its size first.
  const [classes] = await dist.allReduce([matrix?.length ?? 0], 'max');
  const flat = new Float64Array(totals.length + classes * classes);
  flat.set(totals);
  matrix?.forEach((row, i) => flat.set(row, totals.length + i * classes));
  await dist.allReduce(flat);
  const merged = classes ? Array.from({ length: classes }, (_, i) => [...flat.subarray(totals.length + i * classes, totals.length + (i + 1) * classes)]) : null;
  scores.setSums([...flat.subarray(0, totals.length)], merged);
}

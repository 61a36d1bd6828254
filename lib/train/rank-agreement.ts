// What the training loop does differently inside a data-parallel job (dist.init()): the epoch's
// and the validation's figures come from every rank, decisions to stop are taken together (no
// rank may leave the others waiting in a collective), every rank evaluates rank 0's model, and
// only rank 0 writes files. Outside a job each of these is what a single process does.
import type { EpochTotals } from './history';
import { dist } from '../dist/process-group';
import type { Model } from '../model/model';
import type { StopSignal } from './stop-signal';

/** Whether this process writes the run's files: rank 0 of a job, or a process outside one. */
export function writesFiles(): boolean {
  return !dist.isInitialized || dist.rank === 0;
}

/** Whether any rank's loss exceeds `max`; every rank gets the same answer, so all stop or none. */
export async function anyRankAbove(loss: number, max: number): Promise<boolean> {
  if (!dist.isInitialized || max === Infinity) return loss > max;
  const [worst] = await dist.allReduce([loss], 'max');
  return worst > max;
}

/** Whether any rank was asked to stop (Ctrl-C reaches the ranks at slightly different steps). */
export async function anyRankStopped(signal: StopSignal | undefined): Promise<boolean> {
  if (!signal || !dist.isInitialized) return signal?.aborted ?? false;
  const [stopped] = await dist.allReduce([signal.aborted ? 1 : 0], 'max');
  return stopped > 0;
}

/** An epoch's totals for the whole job: sums of loss, correct and count, the slowest rank's time. */
export async function totalsOverRanks(totals: EpochTotals): Promise<EpochTotals> {
  if (!dist.isInitialized) return totals;
  const [loss, correct, count] = await dist.allReduce([totals.loss, totals.correct, totals.count]);
  const [seconds] = await dist.allReduce([totals.seconds], 'max');
  return { ...totals, loss, correct, count, seconds };
}

/**
 * The totals a rank resumes an epoch with: a checkpoint holds the job's (rank 0 carries them on,
 * the others start from nothing, so that the sums stay right).
 */
export function resumedTotals(partial: EpochTotals): EpochTotals {
  return writesFiles() ? partial : { ...partial, loss: 0, correct: 0, count: 0, seconds: 0 };
}

/** Before evaluating: every rank takes rank 0's BatchNorm statistics, so all evaluate one model. */
export async function syncForEvaluation(net: Model): Promise<void> {
  if (dist.isInitialized && net.isDistributed) await net.syncBuffers();
}

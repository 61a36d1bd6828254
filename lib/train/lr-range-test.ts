// The learning-rate range test as fastai's Learner.lr_find runs it (fastai/callback/schedule.py:
// LRFinder, valley/minimum/steep; fastai/learner.py: AvgSmoothLoss), over any step that trains
// one batch at an lr: the lr grows exponentially from startLr towards endLr over numIt steps, the
// loss is smoothed (exponential average, beta 0.98, bias-corrected), and the test stops once it
// passes 4x its minimum; then fastai's suggestions. Arithmetic only: lr-find.ts runs it on a model.
import { bool, checkOptions, func, int, num } from '../base/check';
import { StopSignal, stopSignal } from './stop-signal';

/** The range test's own options (lrFind takes them too). */
export interface RangeTestOptions {
  /** Default 1e-7. */
  startLr?: number;
  /** Default 10. */
  endLr?: number;
  /** Steps at most; default 100 (fastai raises anything under 6 to 6). */
  numIt?: number;
  /** Stop once the smoothed loss exceeds 4x its minimum; default true. */
  stopDiv?: boolean;
  signal?: StopSignal;
  onStep?: (event: { step: number; numIt: number; lr: number; loss: number; smoothLoss: number }) => void;
}

export interface Suggestion {
  /** The suggested lr. */
  lr: number;
  /** The point fastai marks on the plot: [lr, smoothed loss]. */
  point: [number, number];
}

export interface Suggestions {
  /** fastai's default: two thirds of the way down the longest valley. */
  valley: Suggestion;
  /** One tenth of the lr at the minimum loss. */
  minimum: Suggestion;
  /** Where the loss falls fastest per log-lr. */
  steep: Suggestion;
}

export interface LrFindResult {
  /** The lr of each step. */
  lrs: number[];
  /** The smoothed loss after each step (fastai's recorder.losses). */
  losses: number[];
  /** Each step's batch loss. */
  rawLosses: number[];
  /** Why the test ended: all numIt steps, the loss passing 4x its minimum, a non-finite loss, or the signal. */
  stop: 'numIt' | 'diverged' | 'nonFinite' | 'aborted';
  /** Null when too few points remain after fastai's trimming (stopped too early). */
  suggestions: Suggestions | null;
}

const BETA = 0.98;
/** @internal RangeTestOptions' rules (lrFind adds its own). */
export const RANGE_TEST_SCHEMA = {
  startLr: num({ above: 0 }).default(1e-7),
  endLr: num({ above: 0 }).default(10),
  numIt: int({ min: 1 }).default(100),
  stopDiv: bool().default(true),
  signal: stopSignal,
  onStep: func<NonNullable<RangeTestOptions['onStep']>>().orUndefined(),
};

/**
 * The range test itself over any `step(lr)` that trains one batch at lr and returns its loss (NaN
 * when it was not finite: the step refused it, and the test ends there); exported for tests on
 * synthetic loss curves.
 */
export async function rangeTest(
  step: (lr: number) => Promise<number>,
  options: RangeTestOptions = {},
): Promise<LrFindResult> {
  const o = checkOptions('rangeTest', options, RANGE_TEST_SCHEMA);
  const numIt = Math.max(6, o.numIt);
  const lrs: number[] = [];
  const losses: number[] = [];
  const rawLosses: number[] = [];
  let average = 0;
  let best = Infinity;
  let stop: LrFindResult['stop'] = 'numIt';
  for (let i = 0; i < numIt; i++) {
    if (o.signal?.aborted) {
      stop = 'aborted';
      break;
    }
    const lr = o.startLr * (o.endLr / o.startLr) ** (i / numIt);
    const loss = await step(lr);
    average = BETA * average + (1 - BETA) * loss;
    const smooth = average / (1 - BETA ** (i + 1));
    lrs.push(lr);
    rawLosses.push(loss);
    losses.push(smooth);
    o.onStep?.({ step: i + 1, numIt, lr, loss, smoothLoss: smooth });
    if (smooth < best) best = smooth;
    if (o.stopDiv && smooth > 4 * best) {
      stop = 'diverged';
      break;
    }
    // fastai would record NaN from here on (a NaN never passes 4x the minimum); the step refused it.
    if (Number.isNaN(loss)) {
      stop = 'nonFinite';
      break;
    }
  }
  return { lrs, losses, rawLosses, stop, suggestions: suggestLrs(lrs, losses, numIt) };
}

/**
 * fastai's suggestions from a range test's record: its lr_find drops the first numIt/10 points
 * and the last five, and everything from the first NaN; null when fewer than two points remain.
 * A record that ends in NaN is read as fastai's would be, NaN on to numIt (the last-five cut
 * then falls past it).
 */
export function suggestLrs(lrs: readonly number[], losses: readonly number[], numIt: number): Suggestions | null {
  const recorded = Number.isNaN(losses.at(-1)) ? Math.max(losses.length, numIt) : losses.length;
  let end = Math.min(losses.length, recorded - 5);
  const firstNaN = losses.findIndex((l) => Number.isNaN(l));
  if (firstNaN >= 0) end = Math.min(end, firstNaN);
  const start = Math.floor(numIt / 10);
  if (end - start < 2) return null;
  const x = lrs.slice(start, end);
  const y = losses.slice(start, end);
  return { valley: valley(x, y), minimum: minimum(x, y), steep: steep(x, y) };
}

/** The longest decreasing run of losses (not necessarily adjacent), and two thirds down it. */
function valley(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const n = losses.length;
  const runs = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && runs[i] < runs[j] + 1) runs[i] = runs[j] + 1;
      if (runs[maxEnd] < runs[i]) {
        maxEnd = i;
        maxStart = maxEnd - runs[maxEnd];
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const index = maxStart + Math.trunc(sections) + Math.trunc(sections / 2);
  return { lr: lrs[index], point: [lrs[index], losses[index]] };
}

function minimum(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const index = argmin(losses);
  return { lr: lrs[index] / 10, point: [lrs[index], losses[index]] };
}

function steep(lrs: readonly number[], losses: readonly number[]): Suggestion {
  const slopes = losses.slice(1).map((l, i) => (l - losses[i]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i])));
  const index = argmin(slopes);
  return { lr: lrs[index], point: [lrs[index], losses[index]] };
}

/** The first index of the smallest value, as torch.argmin. */
function argmin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}

// The demo's results as tables (one side, or finetorch beside PyTorch) and mean training curves.
import * as path from 'node:path';
import { writeFileAtomic } from '../lib/base/atomic';
import { lineChart, renderPng } from '../lib/cli/plots';
import { table } from '../lib/cli/table';
import type { Method } from './demo-protocol';

export interface Run {
  method: Method;
  seed: number;
  testAcc: number | null;
  diverged: string | null;
  seconds: number;
  /** Per epoch: mean training loss and accuracy. */
  curve: { loss: number; acc: number }[];
}

/** What each side writes (results.json, results-pytorch.json); demo_pytorch.py writes the same shape. */
export interface SideResults {
  side: string;
  sourceTestAcc: number;
  runs: Run[];
}

interface Stats { mean: number; sd: number; n: number; diverged: number; accs: number[]; seconds: number }

function stats(results: SideResults, method: Method): Stats {
  const mine = results.runs.filter((r) => r.method === method);
  const accs = mine.map((r) => r.testAcc).filter((a): a is number => a !== null);
  const n = accs.length;
  const mean = accs.reduce((a, b) => a + b, 0) / (n || 1);
  // The sample standard deviation (n - 1), as numpy's std(ddof=1) and torch.std.
  const sd = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { mean, sd, n, diverged: mine.length - n, accs, seconds: mine.reduce((a, r) => a + r.seconds, 0) / (mine.length || 1) };
}

/** The methods the runs hold, in the order they first appear (the order they ran). */
const methodsOf = (runs: Run[]): Method[] => [...new Set(runs.map((r) => r.method))];

const meanSd = (s: Stats) => (s.n ? `${s.mean.toFixed(3)} ± ${s.sd.toFixed(3)}` : 'n/a');

export function summaryTable(results: SideResults): string {
  return table([
    ['method', 'test acc (mean ± sd)', 'per seed', 'diverged', 's / run'],
    ...methodsOf(results.runs).map((m) => {
      const s = stats(results, m);
      return [m, meanSd(s), `[${s.accs.map((a) => a.toFixed(3)).join(', ')}]`, String(s.diverged), s.seconds.toFixed(1)];
    }),
  ]);
}

/**
 * Both sides per method; "difference / se" is the difference of the means over its standard
 * error, sqrt(sd1²/n1 + sd2²/n2): within about 2, the two sides agree within their spread.
 */
export function comparisonTable(a: SideResults, b: SideResults): string {
  return table([
    ['', a.side, b.side, 'difference', 'difference / se', `diverged (${a.side} / ${b.side})`],
    ['source model, test acc on classes 0-4', a.sourceTestAcc.toFixed(3), b.sourceTestAcc.toFixed(3), (a.sourceTestAcc - b.sourceTestAcc).toFixed(3), '', ''],
    ...methodsOf(a.runs).map((m) => {
      const [x, y] = [stats(a, m), stats(b, m)];
      const se = Math.sqrt(x.sd ** 2 / Math.max(1, x.n) + y.sd ** 2 / Math.max(1, y.n));
      const d = x.mean - y.mean;
      return [`${m}, test acc on classes 5-9`, meanSd(x), meanSd(y), d.toFixed(3), se > 0 ? (d / se).toFixed(2) : 'n/a', `${x.diverged} / ${y.diverged}`];
    }),
  ]);
}

const METHOD_COLORS: Record<Method, string> = { scratch: '#7f7f7f', 'linear probe': '#1f77b4', 'fine-tune': '#d62728' };

/** Per-epoch training curves, averaged over the seeds that did not diverge, as SVG and PNG. */
export async function writeCurves(runs: Run[], out: string): Promise<string[]> {
  const mean = (method: Method, field: 'loss' | 'acc'): [number, number][] => {
    const ok = runs.filter((r) => r.method === method && !r.diverged);
    const epochs = Math.min(...ok.map((r) => r.curve.length));
    return Array.from({ length: ok.length ? epochs : 0 }, (_, e) => [e + 1, ok.reduce((a, r) => a + r.curve[e][field], 0) / ok.length]);
  };
  const series = (field: 'loss' | 'acc') => methodsOf(runs).map((m) => ({ name: m, color: METHOD_COLORS[m], points: mean(m, field) }));
  const charts = {
    'train-loss': lineChart({ title: 'Target training loss (mean over seeds)', xLabel: 'epoch', yLabel: 'cross-entropy loss', series: series('loss') }),
    'train-accuracy': lineChart({ title: 'Target training accuracy (mean over seeds)', xLabel: 'epoch', yLabel: 'accuracy', yDomain: [0, 1],
      yFormat: (v) => `${Math.round(v * 100)}%`, series: series('acc') }),
  };
  const files: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    await writeFileAtomic(path.join(out, `${name}.svg`), svg);
    await writeFileAtomic(path.join(out, `${name}.png`), await renderPng(svg));
    files.push(`${name}.svg`, `${name}.png`);
  }
  return files;
}

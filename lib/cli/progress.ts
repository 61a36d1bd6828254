// Training progress on stderr. On a terminal: one bar per epoch redrawn in place (\r, at most every
// 100 ms), then the epoch's summary line. Elsewhere (CI logs, pipes): only the summary lines.
import type { BatchEvent, EpochRecord } from '../train';

/** What Progress needs of a stream: process.stderr, or a test's stand-in. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;

export class Progress {
  private readonly live: boolean;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly epochs: number,
    private readonly batchSize: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.live = stream.isTTY === true;
  }

  batch(e: BatchEvent): void {
    if (!this.live) return;
    const t = this.now();
    if (t - this.lastDraw < REDRAW_MS && e.batch !== e.batches) return;
    this.lastDraw = t;
    this.stream.write(`\r${this.bar(e)}\x1b[K`);
    this.drawn = true;
  }

  epoch(record: EpochRecord, best: boolean): void {
    this.clear();
    this.stream.write(`${epochLine(record, this.epochs)}${best ? '  (best)' : ''}\n`);
  }

  /** A message on its own line, clearing a half-drawn bar first. */
  note(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
  }

  private clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  private bar(e: BatchEvent): string {
    const total = e.batches;
    const remaining = total === undefined ? undefined : ((total - e.batch) * this.batchSize) / e.imagesPerSec;
    const head = `epoch ${e.epoch}/${this.epochs} `;
    const tail = ` ${e.batch}/${total ?? '?'}  loss ${e.meanLoss.toFixed(4)}  acc ${percent(e.meanAcc)}  ` +
      `${e.imagesPerSec.toFixed(0)} img/s  ETA ${remaining === undefined ? '?' : clock(remaining)}`;
    const columns = this.stream.columns || 80; // 0 under some pseudo-terminals
    const width = Math.max(0, Math.min(30, columns - 1 - head.length - tail.length));
    const filled = total ? Math.round((width * e.batch) / total) : 0;
    // Kept under the terminal width: a wrapped line cannot be redrawn with \r.
    return `${head}${'█'.repeat(filled)}${'░'.repeat(width - filled)}${tail}`.slice(0, columns - 1);
  }
}

export function epochLine(r: EpochRecord, epochs: number): string {
  const valid = r.validLoss === null || r.validAcc === null ? '' : `  valid loss ${r.validLoss.toFixed(4)} acc ${percent(r.validAcc)}`;
  return `epoch ${r.epoch}/${epochs}  train loss ${r.trainLoss.toFixed(4)} acc ${percent(r.trainAcc)}${valid}` +
    `  ${r.imagesPerSec.toFixed(0)} img/s  ${r.seconds.toFixed(1)} s  lr ${r.lr}`;
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Seconds as m:ss or h:mm:ss. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

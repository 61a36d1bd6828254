// Training progress on stderr. On a terminal: one bar per epoch redrawn in place (\r, at most every
// 100 ms), another while validating, then the epoch's summary line. Elsewhere (CI logs, pipes): a
// line every `logEvery` batches, and the summary lines.
import type { EpochRecord } from '../train/history';
import type { BatchEvent, ValidBatchEvent } from '../train/loop';
import type { MaeBatchEvent } from '../train/mae-pretrain';

/** What Progress needs of a stream: process.stderr, or a test's stand-in. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;

export class Progress {
  readonly #live: boolean;
  readonly #logEvery: number;
  readonly #top5: boolean;
  readonly #freezeEpochs: number;
  readonly #now: () => number;
  #lastDraw = -Infinity;
  #drawn = false;

  readonly #stream: ProgressStream;
  readonly #epochs: number;
  readonly #batchSize: number;

  constructor(
    stream: ProgressStream,
    epochs: number,
    batchSize: number,
    options: { logEvery?: number; top5?: boolean; freezeEpochs?: number; now?: () => number } = {},
  ) {
    this.#stream = stream;
    this.#epochs = epochs;
    this.#batchSize = batchSize;
    this.#live = stream.isTTY === true;
    this.#logEvery = options.logEvery ?? 0;
    this.#top5 = options.top5 ?? true;
    this.#freezeEpochs = options.freezeEpochs ?? 0;
    this.#now = options.now ?? (() => performance.now());
  }

  batch(e: BatchEvent): void {
    if (!this.#live) {
      if (this.#logEvery > 0 && e.batch % this.#logEvery === 0) {
        this.#stream.write(`${stepLine(e, this.#epochs, this.#batchSize, e.epoch <= this.#freezeEpochs)}\n`);
      }
      return;
    }
    const tail = ` ${e.batch}/${e.batches ?? '?'}  loss ${e.meanLoss.toFixed(4)}  acc ${percent(e.meanAcc)}  ` +
      `${e.imagesPerSec.toFixed(0)} img/s  ETA ${clock(remaining(e, this.#batchSize))}`;
    this.#draw(e, `epoch ${e.epoch}/${this.#epochs} `, tail);
  }

  /** A step of MAE's pretraining: the reconstruction loss, no accuracy. */
  maeBatch(e: MaeBatchEvent): void {
    const tail = ` ${e.batch}/${e.batches}  loss ${e.meanLoss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${e.imagesPerSec.toFixed(1)} img/s`;
    if (this.#live) this.#draw(e, `epoch ${e.epoch}/${this.#epochs} `, tail);
    else if (this.#logEvery > 0 && e.batch % this.#logEvery === 0) this.#stream.write(`epoch ${e.epoch}/${this.#epochs}${tail}\n`);
  }

  /** A step of the lr finder. */
  range(e: { step: number; numIt: number; lr: number; smoothLoss: number }): void {
    if (this.#live) this.#draw({ batch: e.step, batches: e.numIt }, 'lr-find ', ` ${e.step}/${e.numIt}  lr ${e.lr.toExponential(2)}  loss ${e.smoothLoss.toFixed(4)}`);
  }

  validBatch(e: ValidBatchEvent): void {
    if (this.#live) this.#draw(e, `epoch ${e.epoch}/${this.#epochs} validating `, ` ${e.batch}/${e.batches ?? '?'}`);
  }

  epoch(record: EpochRecord, best: boolean): void {
    this.#clear();
    this.#stream.write(`${epochLine(record, this.#epochs, this.#top5, record.epoch <= this.#freezeEpochs)}${best ? '  (best)' : ''}\n`);
  }

  /** A message on its own line, clearing a half-drawn bar first. */
  note(message: string): void {
    this.#clear();
    this.#stream.write(`${message}\n`);
  }

  #clear(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }

  #draw(e: { batch: number; batches?: number }, head: string, tail: string): void {
    const t = this.#now();
    if (t - this.#lastDraw < REDRAW_MS && e.batch !== e.batches) return;
    this.#lastDraw = t;
    const columns = this.#stream.columns || 80; // 0 under some pseudo-terminals
    const width = Math.max(0, Math.min(30, columns - 1 - head.length - tail.length));
    const filled = e.batches ? Math.round((width * e.batch) / e.batches) : 0;
    // Kept under the terminal width: a wrapped line cannot be redrawn with \r.
    this.#stream.write(`\r${`${head}${'█'.repeat(filled)}${'░'.repeat(width - filled)}${tail}`.slice(0, columns - 1)}\x1b[K`);
    this.#drawn = true;
  }
}

function remaining(e: BatchEvent, batchSize: number): number {
  return e.batches === undefined ? NaN : ((e.batches - e.batch) * batchSize) / e.imagesPerSec;
}

/** The lr, and fc's when it differs (fine-tuning's 10x); while the backbone is frozen, fc's alone trains. */
function lrs(lr: number, fcLr: number | undefined, frozen = false): string {
  const short = (x: number) => String(Number(x.toPrecision(4)));
  if (frozen) return `fc lr ${short(fcLr ?? lr)} (backbone frozen)`;
  return fcLr === undefined || fcLr === lr ? `lr ${short(lr)}` : `lr ${short(lr)} (fc ${short(fcLr)})`;
}

export function stepLine(e: BatchEvent, epochs: number, batchSize: number, frozen = false): string {
  return `epoch ${e.epoch}/${epochs}  batch ${e.batch}/${e.batches ?? '?'}  step ${e.step}  loss ${e.loss.toFixed(4)}` +
    ` (mean ${e.meanLoss.toFixed(4)})  acc ${percent(e.meanAcc)}  ${lrs(e.lr, e.fcLr, frozen)}  ${e.imagesPerSec.toFixed(0)} img/s` +
    `  ETA ${clock(remaining(e, batchSize))}`;
}

/** `withTop5`: false with five classes or fewer, where every image is in its top five. `frozen`: fc alone trained. */
export function epochLine(r: EpochRecord, epochs: number, withTop5 = true, frozen = false): string {
  const top5 = !withTop5 || r.validTop5 === null || r.validTop5 === undefined ? '' : ` top-5 ${percent(r.validTop5)}`;
  const valid = r.validLoss === null || r.validAcc === null ? '' : `  valid loss ${r.validLoss.toFixed(4)} acc ${percent(r.validAcc)}${top5}`;
  return `epoch ${r.epoch}/${epochs}  train loss ${r.trainLoss.toFixed(4)} acc ${percent(r.trainAcc)}${valid}` +
    `  ${r.imagesPerSec.toFixed(0)} img/s  ${r.seconds.toFixed(1)} s  ${lrs(r.lr, r.fcLr, frozen)}`;
}

/** "1 image", "3 images": a count with its noun (plural by an s unless given). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
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

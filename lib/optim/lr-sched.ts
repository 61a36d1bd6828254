// MAE's learning-rate rules: util/lr_sched.py's per-iteration schedule (linear warm-up from 0, then
// a half-cycle cosine to minLr, at fractional epochs) and main_*.py's linear scaling of a base lr
// by the effective batch size.
import { checkOptions, num } from '../base/check';

export interface HalfCycleCosineOptions {
  /** The peak lr (MAE's args.lr). */
  lr: number;
  /** Where the cosine ends; default 0. */
  minLr?: number;
  /** Epochs of linear warm-up from 0. */
  warmupEpochs: number;
  /** All epochs; the cosine runs from warmupEpochs to epochs. */
  epochs: number;
}

/**
 * lr_sched.adjust_learning_rate's lr at `epoch`, a fraction (MAE calls it with
 * epoch + step / steps per epoch before every step): lr x epoch / warmupEpochs during the warm-up,
 * then minLr + (lr - minLr) x (1 + cos(pi x (epoch - warmupEpochs) / (epochs - warmupEpochs))) / 2.
 */
export function halfCycleCosineLr(epoch: number, options: HalfCycleCosineOptions): number {
  const { lr, minLr = 0, warmupEpochs, epochs } = options;
  if (epoch < warmupEpochs) return lr * epoch / warmupEpochs;
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * (epoch - warmupEpochs) / (epochs - warmupEpochs)));
}

/**
 * MAE's linear scaling rule (main_finetune.py, main_linprobe.py, main_pretrain.py):
 * lr = blr x effective batch size / 256, the effective batch being batch size x accumulation
 * steps x processes.
 */
export function absoluteLr(options: { blr: number; effectiveBatchSize: number }): number {
  const o = checkOptions('absoluteLr', options, { blr: num({ min: 0 }), effectiveBatchSize: num({ above: 0 }) });
  return o.blr * o.effectiveBatchSize / 256;
}

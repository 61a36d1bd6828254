// Learning-rate schedules, as torch.optim.lr_scheduler computes them (and MAE's util/lr_sched.py),
// applied to every group's initial lr, times the group's lrScale where it has one (MAE's lr_scale).
// The training loop steps them per batch or per epoch (`per`).
import { halfCycleCosineLr } from './optim/lr-sched';
import type { GroupExtras } from './optim/optimizer';

export type Schedule = (
  | { kind: 'constant' }
  /** StepLR: lr * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number }
  /** CosineAnnealingLR: minLr + (lr - minLr) * (1 + cos(pi * t / total)) / 2. */
  | { kind: 'cosine'; total: number; minLr?: number }
  /** LinearLR warm-up from startFactor * lr to lr over `warmup` steps, then `then` (shifted). */
  | { kind: 'warmup'; warmup: number; startFactor?: number; then?: Schedule }
  /**
   * MAE's util/lr_sched.py: linear warm-up from 0 over warmupEpochs, then a half-cycle cosine to
   * minLr (default 0) at `epochs`, in fractional epochs: per 'step' it moves every step, at
   * epoch t / stepsPerEpoch, as MAE adjusts the lr before every iteration.
   */
  | { kind: 'halfCycleCosine'; warmupEpochs: number; epochs: number; minLr?: number; stepsPerEpoch?: number }
) & { per?: 'step' | 'epoch' };

function checkPositive(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new RangeError(`schedule: ${what} must be positive, got ${value}`);
}

export function checkSchedule(s: Schedule): void {
  if (s.per !== undefined && s.per !== 'step' && s.per !== 'epoch') throw new RangeError(`schedule: per must be 'step' or 'epoch', got ${String(s.per)}`);
  switch (s.kind) {
    case 'constant': return;
    case 'step': checkPositive(s.stepSize, 'stepSize'); checkPositive(s.gamma, 'gamma'); return;
    case 'cosine': checkPositive(s.total, 'total'); return;
    case 'warmup':
      checkPositive(s.warmup, 'warmup');
      if (s.startFactor !== undefined && !(s.startFactor > 0 && s.startFactor <= 1)) throw new RangeError('schedule: startFactor must be in (0, 1]');
      if (s.then) checkSchedule(s.then);
      return;
    case 'halfCycleCosine':
      checkPositive(s.epochs, 'epochs');
      if (!(Number.isFinite(s.warmupEpochs) && s.warmupEpochs >= 0 && s.warmupEpochs < s.epochs)) {
        throw new RangeError(`schedule: warmupEpochs must be in [0, epochs), got ${s.warmupEpochs}`);
      }
      if (s.minLr !== undefined && !(Number.isFinite(s.minLr) && s.minLr >= 0)) throw new RangeError(`schedule: minLr must be >= 0, got ${s.minLr}`);
      if ((s.per ?? 'epoch') === 'step' ? !Number.isInteger(s.stepsPerEpoch) || s.stepsPerEpoch! < 1 : s.stepsPerEpoch !== undefined) {
        throw new RangeError(`schedule: stepsPerEpoch must be a positive integer with per 'step' (and only then), got ${s.stepsPerEpoch}`);
      }
      return;
    default: throw new RangeError(`schedule: unknown kind ${String((s as { kind: unknown }).kind)}`);
  }
}

/** The lr at schedule position t for a group whose initial lr is baseLr. */
export function scheduledLr(s: Schedule, baseLr: number, t: number): number {
  switch (s.kind) {
    case 'constant': return baseLr;
    case 'step': return baseLr * (s.gamma ?? 0.1) ** Math.floor(t / s.stepSize);
    case 'cosine': {
      const minLr = s.minLr ?? 0;
      return minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * t / s.total)) / 2; // periodic past total, as PyTorch
    }
    case 'warmup': {
      const start = s.startFactor ?? 1 / 3;
      if (t < s.warmup) return baseLr * (start + (1 - start) * t / s.warmup);
      return s.then ? scheduledLr(s.then, baseLr, t - s.warmup) : baseLr;
    }
    case 'halfCycleCosine': {
      const epoch = (s.per ?? 'epoch') === 'step' ? t / s.stepsPerEpoch! : t;
      return halfCycleCosineLr(epoch, { lr: baseLr, minLr: s.minLr, warmupEpochs: s.warmupEpochs, epochs: s.epochs });
    }
  }
}

export class LRScheduler {
  /** Schedule position: steps or epochs taken. */
  t = 0;

  constructor(readonly optimizer: { readonly paramGroups: readonly (GroupExtras & { lr: number })[] }, readonly schedule: Schedule) {
    checkSchedule(schedule);
    this.apply();
  }

  get per(): 'step' | 'epoch' {
    return this.schedule.per ?? 'epoch';
  }

  step(): void {
    this.t++;
    this.apply();
  }

  stateDict(): { t: number } {
    return { t: this.t };
  }

  loadStateDict(state: { t: number }): void {
    this.t = state.t;
    this.apply();
  }

  private apply(): void {
    for (const group of this.optimizer.paramGroups) group.lr = scheduledLr(this.schedule, group.initialLr, this.t) * (group.lrScale ?? 1);
  }
}

// Learning-rate schedules, as torch.optim.lr_scheduler computes them, applied to every group's
// initial lr. The training loop steps them per batch or per epoch (`per`).
import type { SGD } from './optim';

export type Schedule = (
  | { kind: 'constant' }
  /** StepLR: lr * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number }
  /** CosineAnnealingLR: minLr + (lr - minLr) * (1 + cos(pi * t / total)) / 2. */
  | { kind: 'cosine'; total: number; minLr?: number }
  /** LinearLR warm-up from startFactor * lr to lr over `warmup` steps, then `then` (shifted). */
  | { kind: 'warmup'; warmup: number; startFactor?: number; then?: Schedule }
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
  }
}

export class LRScheduler {
  /** Schedule position: steps or epochs taken. */
  t = 0;

  constructor(readonly optimizer: SGD, readonly schedule: Schedule) {
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
    for (const group of this.optimizer.paramGroups) group.lr = scheduledLr(this.schedule, group.initialLr, this.t);
  }
}

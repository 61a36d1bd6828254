// Learning-rate schedules, as torch.optim.lr_scheduler computes them, applied to every group's
// initial lr. The training loop steps them per batch or per epoch (`per`). The one-cycle schedule
// also cycles every group's momentum, as OneCycleLR does by default.
import { internalError, rangeError } from '../base/errors';
import type { SGD } from './sgd';

export type Schedule = (
  | { kind: 'constant' }
  /** StepLR: lr * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number }
  /** CosineAnnealingLR: minLr + (lr - minLr) * (1 + cos(pi * t / total)) / 2. */
  | { kind: 'cosine'; total: number; minLr?: number }
  /** LinearLR warm-up from startFactor * lr to lr over `warmup` steps, then `then` (shifted). */
  | { kind: 'warmup'; warmup: number; startFactor?: number; then?: Schedule }
  | OneCycle
) & { per?: 'step' | 'epoch' };

/**
 * OneCycleLR (Smith's 1cycle, fastai's fit_one_cycle) over `total` steps, each group's lr being its
 * max_lr: from max_lr / divFactor up to max_lr over the first pctStart of the steps, then down to
 * max_lr / divFactor / finalDivFactor (threePhase: back to the start first, then down). With
 * cycleMomentum, momentum goes the other way, maxMomentum -> baseMomentum -> maxMomentum, in
 * place of the optimizer's. Defaults are PyTorch's. Past `total` the final lr holds (PyTorch raises).
 */
export interface OneCycle {
  kind: 'onecycle';
  total: number;
  /** Default 0.3. */
  pctStart?: number;
  /** Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** Default 25. */
  divFactor?: number;
  /** Default 1e4. */
  finalDivFactor?: number;
  /** Default false. */
  threePhase?: boolean;
  /** Default true. */
  cycleMomentum?: boolean;
  /** Default 0.85. */
  baseMomentum?: number;
  /** Default 0.95. */
  maxMomentum?: number;
}

function checkPositive(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: ${what} must be positive, got ${value}`);
}

export function checkSchedule(s: Schedule): void {
  if (s.per !== undefined && s.per !== 'step' && s.per !== 'epoch') throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: per must be 'step' or 'epoch', got ${String(s.per)}`);
  switch (s.kind) {
    case 'constant': return;
    case 'step': checkPositive(s.stepSize, 'stepSize'); checkPositive(s.gamma, 'gamma'); return;
    case 'cosine': checkPositive(s.total, 'total'); return;
    case 'warmup':
      checkPositive(s.warmup, 'warmup');
      if (s.startFactor !== undefined && !(s.startFactor > 0 && s.startFactor <= 1)) throw rangeError('ERR_FINETORCH_INVALID_ARG', 'schedule: startFactor must be in (0, 1]');
      if (s.then) checkSchedule(s.then);
      return;
    case 'onecycle':
      if (!(Number.isSafeInteger(s.total) && s.total > 0)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: total must be a positive integer, got ${s.total}`);
      if (s.pctStart !== undefined && !(s.pctStart >= 0 && s.pctStart <= 1)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: pctStart must be in [0, 1], got ${s.pctStart}`);
      if (s.annealStrategy !== undefined && s.annealStrategy !== 'cos' && s.annealStrategy !== 'linear') {
        throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: annealStrategy must be 'cos' or 'linear', got ${String(s.annealStrategy)}`);
      }
      checkPositive(s.divFactor, 'divFactor');
      checkPositive(s.finalDivFactor, 'finalDivFactor');
      for (const m of [s.baseMomentum, s.maxMomentum]) {
        if (m !== undefined && !(m >= 0 && m <= 1)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: momentum must be in [0, 1], got ${m}`);
      }
      // Each phase must hold a step: PyTorch divides by its length (and fails on an empty one).
      oneCyclePhases(s, 1).reduce((start, phase) => {
        if (!(phase.end > start)) {
          throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: a one-cycle of ${s.total} steps with pctStart ${s.pctStart ?? 0.3}${s.threePhase ? ' (three phases)' : ''} ` +
            'leaves a phase without steps');
        }
        return phase.end;
      }, 0);
      return;
    default: throw rangeError('ERR_FINETORCH_INVALID_ARG', `schedule: unknown kind ${String((s as { kind: unknown }).kind)}`);
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
    case 'onecycle': return oneCycleAt(s, t, baseLr, (phase) => phase.lr);
  }
}

/** The momentum a schedule sets at position t (the one-cycle's), or undefined when it leaves momentum alone. */
export function scheduledMomentum(s: Schedule, t: number): number | undefined {
  if (s.kind === 'warmup') return s.then && t >= s.warmup ? scheduledMomentum(s.then, t - s.warmup) : undefined;
  if (s.kind !== 'onecycle' || s.cycleMomentum === false) return undefined;
  return oneCycleAt(s, t, 1, (phase) => phase.momentum);
}

/** A phase of the one-cycle: the step it ends at, and the lr and momentum it anneals from and to. */
interface Phase {
  end: number;
  lr: [number, number];
  momentum: [number, number];
}

/** OneCycleLR's phases for a group whose max_lr is `maxLr`. */
function oneCyclePhases(s: OneCycle, maxLr: number): Phase[] {
  const pct = s.pctStart ?? 0.3;
  const initial = maxLr / (s.divFactor ?? 25);
  const min = initial / (s.finalDivFactor ?? 1e4);
  const [low, high] = [s.baseMomentum ?? 0.85, s.maxMomentum ?? 0.95];
  if (!s.threePhase) {
    return [{ end: pct * s.total - 1, lr: [initial, maxLr], momentum: [high, low] }, { end: s.total - 1, lr: [maxLr, min], momentum: [low, high] }];
  }
  return [
    { end: pct * s.total - 1, lr: [initial, maxLr], momentum: [high, low] },
    { end: 2 * pct * s.total - 2, lr: [maxLr, initial], momentum: [low, high] },
    { end: s.total - 1, lr: [initial, min], momentum: [high, high] },
  ];
}

/** OneCycleLR.get_lr at step t: the anneal across the phase that holds it, between the ends `pick` gives. */
function oneCycleAt(s: OneCycle, t: number, maxLr: number, pick: (phase: Phase) => [number, number]): number {
  const phases = oneCyclePhases(s, maxLr);
  const step = Math.min(t, s.total - 1);
  let start = 0;
  for (const [i, phase] of phases.entries()) {
    if (step <= phase.end || i === phases.length - 1) {
      const [from, to] = pick(phase);
      const pct = (step - start) / (phase.end - start);
      return s.annealStrategy === 'linear' ? (to - from) * pct + from : to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
    }
    start = phase.end;
  }
  throw internalError('unreachable: the last phase takes every step');
}

export class LRScheduler {
  /** Schedule position: steps or epochs taken. */
  t = 0;

  constructor(readonly optimizer: SGD, readonly schedule: Schedule) {
    checkSchedule(schedule);
    this.#apply();
  }

  get per(): 'step' | 'epoch' {
    return this.schedule.per ?? 'epoch';
  }

  step(): void {
    this.t++;
    this.#apply();
  }

  stateDict(): { t: number } {
    return { t: this.t };
  }

  loadStateDict(state: { t: number }): void {
    this.t = state.t;
    this.#apply();
  }

  #apply(): void {
    const momentum = scheduledMomentum(this.schedule, this.t);
    for (const group of this.optimizer.paramGroups) {
      group.lr = scheduledLr(this.schedule, group.initialLr, this.t);
      if (momentum !== undefined) group.momentum = momentum;
    }
  }
}

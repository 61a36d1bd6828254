// train's --sched, --warmup-epochs, --min-lr, --decay-epochs, --decay-rate and --pct-start as one
// Schedule, stepped every batch: torchvision's reference recipe, a LinearLR warm-up from lr/100
// followed (SequentialLR) by StepLR, CosineAnnealingLR down to --min-lr over the rest, or a
// constant lr; or OneCycleLR over every step (its own warm-up, and momentum cycled).
import type { Schedule } from '../optim/schedule';
import type { ScheduleSettings } from './settings';

export const WARMUP_START_FACTOR = 0.01;

export function cliSchedule(s: ScheduleSettings, stepsPerEpoch: number): Schedule {
  if (s.sched === 'onecycle') return { kind: 'onecycle', total: Math.max(1, s.epochs * stepsPerEpoch), pctStart: s.pctStart, per: 'step' };
  const warmup = Math.round(s.warmupEpochs * stepsPerEpoch);
  const rest = Math.max(1, s.epochs * stepsPerEpoch - warmup);
  const main: Schedule = s.sched === 'cosine' ? { kind: 'cosine', total: rest, minLr: s.minLr }
    : s.sched === 'step' ? { kind: 'step', stepSize: s.decayEpochs * stepsPerEpoch, gamma: s.decayRate }
      : { kind: 'constant' };
  return warmup > 0 ? { kind: 'warmup', warmup, startFactor: WARMUP_START_FACTOR, then: main, per: 'step' } : { ...main, per: 'step' };
}

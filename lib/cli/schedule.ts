// train's --sched, --warmup-epochs, --min-lr, --decay-epochs and --decay-rate as one Schedule,
// stepped every batch: torchvision's reference recipe, a LinearLR warm-up from lr/100 followed
// (SequentialLR) by StepLR, CosineAnnealingLR down to --min-lr over the rest, or a constant lr.
import type { Schedule } from '../schedule';

export interface ScheduleFlags {
  sched: 'constant' | 'step' | 'cosine';
  epochs: number;
  warmupEpochs: number;
  minLr: number;
  decayEpochs: number;
  decayRate: number;
}

export const WARMUP_START_FACTOR = 0.01;

export function cliSchedule(s: ScheduleFlags, stepsPerEpoch: number): Schedule {
  const warmup = Math.round(s.warmupEpochs * stepsPerEpoch);
  const rest = Math.max(1, s.epochs * stepsPerEpoch - warmup);
  const main: Schedule = s.sched === 'cosine' ? { kind: 'cosine', total: rest, minLr: s.minLr }
    : s.sched === 'step' ? { kind: 'step', stepSize: s.decayEpochs * stepsPerEpoch, gamma: s.decayRate }
      : { kind: 'constant' };
  return warmup > 0 ? { kind: 'warmup', warmup, startFactor: WARMUP_START_FACTOR, then: main, per: 'step' } : { ...main, per: 'step' };
}

// Learning-rate schedules against torch.optim.lr_scheduler, step by step.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LRScheduler, ResNet18, Schedule, SGD } from '../../lib';
import { cliSchedule } from '../../lib/cli/lr-schedule';
import { runPython } from '../helpers/python';

describe('LRScheduler matches torch.optim.lr_scheduler', () => {
  let net: ResNet18;
  let expected: Record<string, number[][]>;
  before(async () => {
    net = await ResNet18.create({ numClasses: 2 });
    expected = JSON.parse(await runPython('schedule_reference.py'));
  });
  after(() => net.dispose());

  const cases: Record<string, Schedule> = {
    step: { kind: 'step', stepSize: 3, gamma: 0.5 },
    cosine: { kind: 'cosine', total: 10, minLr: 0.001 },
    warmup: { kind: 'warmup', warmup: 4, startFactor: 0.25 },
    'warmup+cosine': { kind: 'warmup', warmup: 4, startFactor: 0.25, then: { kind: 'cosine', total: 8 } },
    // What train's flags make of it, with 3 steps an epoch.
    'cli step': cliSchedule({ sched: 'step', epochs: 4, warmupEpochs: 1, minLr: 0, decayEpochs: 2, decayRate: 0.5, pctStart: 0.3 }, 3),
    'cli cosine': cliSchedule({ sched: 'cosine', epochs: 4, warmupEpochs: 1, minLr: 0.001, decayEpochs: 30, decayRate: 0.1, pctStart: 0.3 }, 3),
    // OneCycleLR: each group's lr is its max_lr; the momentum of both groups cycles too (expected after the lrs).
    onecycle: { kind: 'onecycle', total: 12 },
    'onecycle linear, three phases': {
      kind: 'onecycle', total: 12, pctStart: 0.25, annealStrategy: 'linear', divFactor: 10, finalDivFactor: 100, threePhase: true,
      baseMomentum: 0.8, maxMomentum: 0.9,
    },
    'onecycle without momentum': { kind: 'onecycle', total: 12, cycleMomentum: false },
    'cli onecycle': cliSchedule({ sched: 'onecycle', epochs: 4, warmupEpochs: 0, minLr: 0, decayEpochs: 30, decayRate: 0.1, pctStart: 0.25 }, 3),
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);
  for (const [name, schedule] of Object.entries(cases)) {
    it(name, () => {
      const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }], { lr: 0.01 });
      const scheduler = new LRScheduler(opt, schedule);
      for (const [t, values] of expected[name].entries()) {
        const [lrs, momenta] = [values.slice(0, 2), values.slice(2)];
        opt.paramGroups.forEach((g, i) => assert.ok(close(g.lr, lrs[i]), `${name} t=${t} group ${i}: ${g.lr} vs ${lrs[i]}`));
        momenta.forEach((m, i) => assert.ok(close(opt.paramGroups[i].momentum, m), `${name} t=${t} group ${i} momentum: ${opt.paramGroups[i].momentum} vs ${m}`));
        scheduler.step();
      }
    });
  }

});

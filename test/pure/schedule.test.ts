// LRScheduler's checks of a schedule, before it touches an optimizer's groups (test/parity/
// schedule.test.ts holds the schedules against torch.optim.lr_scheduler).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LRScheduler, Schedule } from '../../lib/optim/schedule';
import type { SGD } from '../../lib/optim/sgd';

describe('LRScheduler', () => {
  it('rejects bad schedules with a clear message', () => {
    const opt = { paramGroups: [{ lr: 0.1, momentum: 0, initialLr: 0.1 }] } as unknown as SGD;
    assert.throws(() => new LRScheduler(opt, { kind: 'step', stepSize: 0 }), /stepSize must be positive/);
    assert.throws(() => new LRScheduler(opt, { kind: 'bogus' } as unknown as Schedule), /unknown kind bogus/);
    // PyTorch divides by zero there.
    assert.throws(() => new LRScheduler(opt, { kind: 'onecycle', total: 3 }), /a one-cycle of 3 steps with pctStart 0\.3 leaves a phase without steps/);
  });
});

// lrFind on a model: the data cycled, the exponential schedule followed, the weights put back, and
// its options checked (test/parity/lr-find.test.ts holds the range test against fastai's).
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Batch, lrFind, ResNet18 } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { closeTo } from '../helpers/compare';

describe('lrFind on a model', () => {
  let net: ResNet18;
  const x: HostTensor = { dtype: 'float32', shape: [4, 3, 16, 16], data: Float32Array.from({ length: 4 * 3 * 256 }, (_, i) => Math.sin(i)) };
  const batches: Batch[] = [{ input: x, target: Int32Array.from([0, 1, 2, 1]) }, { input: x, target: Int32Array.from([2, 1, 0, 0]) }];
  before(async () => {
    net = await ResNet18.create({ numClasses: 3, seed: 4 });
  });
  after(() => net.dispose());

  it('cycles the data, follows the exponential schedule, and puts weights and BatchNorm statistics back', async () => {
    const initial = await net.stateDict();
    const steps: number[] = [];
    const result = await lrFind(net, batches, { startLr: 1e-4, endLr: 1, numIt: 9, onStep: (e) => steps.push(e.step) });
    assert.ok(result.lrs.length >= 2 && result.lrs.length <= 9);
    assert.deepEqual(steps, result.lrs.map((_, i) => i + 1));
    result.lrs.forEach((lr, i) => closeTo(lr, 1e-4 * 1e4 ** (i / 9), 1e-12, `lr ${i}`));
    assert.ok(result.rawLosses.every((l) => l > 0));
    const final = await net.stateDict();
    for (const [name, t] of initial) assert.deepEqual(final.get(name)!.data, t.data, `${name} not restored`);
  });

  it('refuses unknown options with the one meant', async () => {
    await assert.rejects(lrFind(net, batches, { start_lr: 1e-5 } as never), /lrFind: unknown option 'start_lr' \(did you mean 'startLr'\?\)/);
    await assert.rejects(lrFind(net, [], {}), /lrFind: the training data gave no batches/);
  });
});

// AdamW, LARS, MAE's schedule on their groups, Mixup and random erasing without PyTorch:
// validation with codes, state dicts refused when they cannot be honoured, failed steps that change
// nothing, soft targets in the step, and erasing in the data loader (layer-wise lr decay and the
// samplers: test/pure/layer-decay.test.ts).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  absoluteLr, AdamW, compose, DataLoader, halfCycleCosineLr, ImageDataset, LARS, LRScheduler, Mixup, normalize,
  randomErasing, randomHorizontalFlip, ResNet, SGD, scheduledLr, toPipeline, toTensor,
} from '../../lib';
import { mulberry32 } from '../../lib/data/random';
import { HostTensor } from '../../lib/base/tensor';
import { assertCode } from '../helpers/errors';

const SIZE = 16;

function batch(n: number, seed: number, fill?: number): { input: HostTensor<'float32'>; target: Int32Array } {
  const rng = mulberry32(seed);
  const data = Float32Array.from({ length: n * 3 * SIZE * SIZE }, () => fill ?? rng.next() * 2 - 1);
  return { input: { dtype: 'float32', shape: [n, 3, SIZE, SIZE], data }, target: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

describe('AdamW and LARS', () => {
  it('validate their options as torch does, with did-you-mean and coded errors', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    assert.throws(() => new AdamW(net.parameters(), { betas: [0.9, 1] }), /betas must be an array of 2 finite numbers in \[0, 1\), got \[0.9,1\]/);
    assert.throws(() => new AdamW(net.parameters(), { lr: -1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    assert.throws(() => new AdamW(net.parameters(), { amsgrad: true }), assertCode('ERR_FINETORCH_UNSUPPORTED'));
    assert.throws(() => new AdamW(net.parameters(), { weight_decay: 0.1 } as never), /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/);
    assert.throws(() => new LARS([{ params: net.parameters(), trustCoeficient: 0.1 } as never]), /did you mean 'trustCoefficient'/);
    assert.throws(() => new LARS([{ params: net.fc.parameters() }, { params: net.fc.parameters() }]), /more than one parameter group/);
    const opt = new AdamW(net.parameters());
    assert.deepEqual({ ...opt.paramGroups[0], params: undefined }, {
      params: undefined, lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, initialLr: 1e-3,
    });
    opt.paramGroups[0].eps = -1;
    await assert.rejects(net.trainStep(batch(2, 1).input, batch(2, 1).target, opt), /AdamW group 0: eps must be a finite number >= 0, got -1/);
    net.dispose();
  });

  it('a NaN loss leaves weights and AdamW state as they were; the next good step goes on from there', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 2 });
    const opt = new AdamW(net.parameters(), { lr: 0.01 });
    const good = batch(2, 3);
    await net.trainStep(good.input, good.target, opt);
    const [weights, state] = [await net.stateDict(), await opt.stateDict()];
    const bad = batch(2, 4, NaN);
    await assert.rejects(net.trainStep(bad.input, bad.target, opt), assertCode('ERR_FINETORCH_NONFINITE_LOSS'));
    for (const [name, t] of await net.stateDict()) assert.deepEqual(t.data, weights.get(name)!.data, name);
    const after = await opt.stateDict();
    for (const [i, entry] of state.state) {
      for (const [slot, t] of Object.entries(entry)) assert.deepEqual(after.state.get(i)![slot].data, t.data, `state[${i}].${slot}`);
    }
    assert.equal(opt.stepCount, 1);
    await net.trainStep(good.input, good.target, opt);
    assert.equal((await opt.stateDict()).state.get(0)!.step.data[0], 2);
    net.dispose();
  });

  it('loadStateDict refuses what it cannot honour, before changing anything', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 5 });
    const opt = new AdamW([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }]);
    const { input, target } = batch(2, 6);
    await net.trainStep(input, target, opt);
    const saved = await opt.stateDict();
    const refuse = (change: (sd: typeof saved) => void, message: RegExp) => {
      const copy = { state: new Map(saved.state), param_groups: saved.param_groups.map((g) => ({ ...g })) };
      change(copy);
      return assert.rejects(opt.loadStateDict(copy), (err: Error & { code?: string }) => err.code === 'ERR_FINETORCH_STATE_DICT' && message.test(err.message));
    };
    await refuse((sd) => (sd.param_groups[1].maximize = true), /maximize true, which finetorch's AdamW does not implement/);
    await refuse((sd) => (sd.param_groups[0].amsgrad = true), /amsgrad is not implemented/);
    await refuse((sd) => (sd.param_groups[0].nesterov = true), /keys finetorch's AdamW does not know: nesterov/);
    await refuse((sd) => delete sd.param_groups[0].betas, /param_groups\[0\] has no 'betas'/);
    await refuse((sd) => sd.param_groups.pop(), /it holds 1 parameter groups, this optimizer has 2/);
    await refuse((sd) => sd.state.set(0, { ...sd.state.get(0)!, exp_avg: sd.state.get(1)!.exp_avg }), /'exp_avg' has shape/);
    await refuse((sd) => sd.state.set(0, { ...sd.state.get(0)!, max_exp_avg_sq: sd.state.get(0)!.exp_avg }), /max_exp_avg_sq, which this optimizer does not keep/);
    await refuse((sd) => sd.state.set(999, sd.state.get(0)!), /an entry 999 for no parameter/);
    const sgd = new SGD(net.parameters(), { lr: 0.1 });
    await assert.rejects(sgd.loadStateDict(saved), /SGD.loadStateDict: it holds 2 parameter groups, this optimizer has 1/);
    // What was refused changed nothing: the saved state still loads and matches.
    await opt.loadStateDict(saved);
    assert.deepEqual((await opt.stateDict()).param_groups, saved.param_groups);
    net.dispose();
  });

  it('a schedule sets lr = schedule(initialLr) x lrScale, as MAE\'s lr_sched.py', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = new LARS([{ params: net.fc.parameters(), lrScale: 0.5 }, { params: net.parameters({ include: ['layer4'] }) }], { lr: 0.2 });
    const scheduler = new LRScheduler(opt, { kind: 'halfCycleCosine', per: 'step', stepsPerEpoch: 3, warmupEpochs: 2, epochs: 5, minLr: 0.01 });
    const lrs: number[][] = [];
    for (let t = 0; t < 16; t++) {
      lrs.push(opt.paramGroups.map((g) => g.lr));
      scheduler.step();
    }
    lrs.forEach(([scaled, plain], t) => {
      const lr = halfCycleCosineLr(t / 3, { lr: 0.2, minLr: 0.01, warmupEpochs: 2, epochs: 5 });
      assert.equal(plain, lr);
      assert.equal(scaled, lr * 0.5);
    });
    assert.equal(lrs[0][1], 0, 'the warm-up starts at 0');
    assert.equal(lrs[6][1], 0.2, 'the peak after the warm-up');
    assert.ok(Math.abs(lrs[15][1] - 0.01) < 1e-15, 'min lr at the end');
    assert.throws(() => new LRScheduler(opt, { kind: 'halfCycleCosine', per: 'step', warmupEpochs: 1, epochs: 3 }), /stepsPerEpoch must be a positive integer/);
    assert.throws(() => new LRScheduler(opt, { kind: 'halfCycleCosine', warmupEpochs: 3, epochs: 3 }), /warmupEpochs must be in \[0, epochs\)/);
    assert.equal(scheduledLr({ kind: 'halfCycleCosine', warmupEpochs: 0, epochs: 4 }, 1, 2), 0.5);
    assert.equal(absoluteLr({ blr: 1e-3, effectiveBatchSize: 1024 }), 4e-3);
    // OneCycleLR cycles AdamW's first beta where SGD's momentum would be.
    const adamw = new AdamW(net.parameters(), { betas: [0.9, 0.98] });
    const cycle = new LRScheduler(adamw, { kind: 'onecycle', total: 10, per: 'step' });
    assert.deepEqual(adamw.paramGroups[0].betas, [0.95, 0.98]);
    for (let t = 0; t < 2; t++) cycle.step();
    assert.deepEqual(adamw.paramGroups[0].betas, [0.85, 0.98]);
    assert.equal('momentum' in adamw.paramGroups[0], false);
    net.dispose();
  });
});

describe('Mixup', () => {
  it('validates options and batches', async () => {
    assert.throws(() => new Mixup({ mode: 'elem' as never }), assertCode('ERR_FINETORCH_UNSUPPORTED'));
    assert.throws(() => new Mixup({ mixupAlpha: 0 }), /one of mixupAlpha > 0, cutmixAlpha > 0, cutmixMinmax must be given/);
    assert.throws(() => new Mixup({ mixup_alpha: 1 } as never), /did you mean 'mixupAlpha'/);
    const { input, target } = batch(3, 1);
    await assert.rejects(new Mixup().apply({ input, target }, 0), /batch size must be even/);
    await assert.rejects(new Mixup({ numClasses: 2 }).apply(batch(4, 1), 0), assertCode('ERR_FINETORCH_BAD_INPUT'));
  });

  it('prob 0 leaves the images and gives label-smoothed one-hot targets; the same seed and step draw the same', async () => {
    const b = batch(4, 2);
    const copy = b.input.data.slice();
    const { target, lam } = await new Mixup({ prob: 0, numClasses: 3, labelSmoothing: 0.3 }).apply(b, 5);
    assert.equal(lam, 1);
    assert.deepEqual(b.input.data, copy);
    assert.deepEqual([...target.data].map((v) => Math.round(v * 1e6) / 1e6), [...b.target].flatMap((y) => [0, 1, 2].map((c) => (c === y ? 0.8 : 0.1))));
    const mixup = new Mixup({ mixupAlpha: 0.8, cutmixAlpha: 1, numClasses: 3, seed: 4 });
    const runs = await Promise.all([0, 1].map(() => mixup.apply(batch(4, 2), 7)));
    assert.deepEqual(runs[0].input.data, runs[1].input.data);
    assert.deepEqual(runs[0].target.data, runs[1].target.data);
    const others = await Promise.all([8, 9, 10].map((step) => mixup.apply(batch(4, 2), step)));
    assert.ok(others.some((o) => o.lam !== runs[0].lam), 'other steps draw other numbers');
  });

  it('soft targets train: trainStep takes them, counts correct by their top class, refuses wrong shapes', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = new SGD(net.parameters(), { lr: 0.01 });
    const mixed = await new Mixup({ numClasses: 3 }).apply(batch(4, 3), 0);
    const r = await net.trainStep(mixed.input, mixed.target, opt);
    assert.ok(Number.isFinite(r.loss) && r.correct >= 0 && r.correct <= 4);
    const wrong: HostTensor<'float32'> = { dtype: 'float32', shape: [4, 2], data: new Float32Array(8) };
    await assert.rejects(net.trainStep(mixed.input, wrong, opt), /soft targets must be float32 \[4, 3\], got float32 \[4, 2\]/);
    await assert.rejects(net.trainStep(mixed.input, Int32Array.from([0, 1, 2, 0]), opt, { labelSmoothing: 2 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    net.dispose();
  });
});

/** Solid-colour images in memory. */
class Colours extends ImageDataset {
  readonly length = 6;
  protected source(index: number) {
    const data = new Uint8Array(SIZE * SIZE * 3).map((_, i) => (index * 40 + (i % 3) * 70 + (i >> 4)) % 256);
    return { data, width: SIZE, height: SIZE, channels: 3 as const };
  }
  target(index: number): number {
    return index % 2;
  }
}

describe('randomErasing', () => {
  it('must come last, after toTensor', () => {
    assert.throws(() => toPipeline(compose(randomErasing(), toTensor())), /randomErasing\(.*\) needs toTensor\(\)/);
    assert.throws(() => toPipeline(compose(toTensor(), randomErasing(), normalize([0.5], [0.5]))), /must be the last transform/);
    assert.throws(() => randomErasing({ minArea: 0.5, maxArea: 0.1 }), /minArea 0.5 exceeds maxArea 0.1/);
  });

  it('in a DataLoader: the same batches but for boxes of normal noise, the same per seed and epoch', async () => {
    const plain = compose(randomHorizontalFlip(), toTensor(), normalize([0.5], [0.25]));
    const erased = compose(plain, randomErasing({ probability: 0.9, mode: 'pixel' }));
    const load = async (t: typeof plain, epoch: number) => {
      const loader = new DataLoader(new Colours({ transform: t }), { batchSize: 6, seed: 3 });
      loader.setEpoch(epoch);
      for await (const b of loader) return b.input.data;
      throw new Error('no batch');
    };
    const [before, after, again, other] = await Promise.all([load(plain, 1), load(erased, 1), load(erased, 1), load(erased, 2)]);
    assert.deepEqual(after, again);
    assert.notDeepEqual(after, other);
    const changed = after.map((v, i) => (v === before[i] ? 0 : 1));
    const fraction = changed.reduce((a: number, b) => a + b, 0) / changed.length;
    assert.ok(fraction > 0.01 && fraction < 0.4, `${fraction} of the values erased`);
    const noise = Array.from(after).filter((v, i) => v !== before[i]);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / noise.length);
    assert.ok(Math.abs(mean) < 0.15 && Math.abs(sd - 1) < 0.15, `noise mean ${mean}, sd ${sd}`);
    const single = await new Colours({ transform: erased }).get(2, { seed: 3, epoch: 1 });
    const per = 3 * SIZE * SIZE;
    assert.deepEqual(single.input.data, after.slice(2 * per, 3 * per), 'get() erases as the loader does');
  });
});

// SGD and the training steps on a model, and the loops' options, stops, resumes and phases: what
// needs LibTorch but no reference (test/parity/train.test.ts holds the runs against PyTorch).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Batch, DataLoader, EpochRecord, fineTune, ImageDataset, linearProbe, readCheckpointInfo, ResNet18, saveCheckpoint, SGD, trainTransform,
} from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { tempDir } from '../helpers/python';

describe('SGD and steps', () => {
  let net: ResNet18;
  const x: HostTensor = { dtype: 'float32', shape: [4, 3, 16, 16], data: Float32Array.from({ length: 4 * 3 * 256 }, (_, i) => Math.sin(i)) };
  const y = Int32Array.from([0, 1, 2, 1]);
  before(async () => {
    net = await ResNet18.create({ numClasses: 1000, seed: 1 });
    assert.equal(String(net.fc), 'Linear(in_features=512, out_features=1000, bias=True)');
    net.replaceFc(3, { init: 'xavier', seed: 2 });
  });
  after(() => net.dispose());

  it('replaceFc prints as torch does and keeps the other layers', async () => {
    const before = await net.stateDict();
    assert.equal(String(net.replaceFc(2)), 'Linear(in_features=512, out_features=2, bias=True)');
    const afterReplace = await net.stateDict();
    assert.deepEqual(afterReplace.get('layer4.1.conv2.weight')!.data, before.get('layer4.1.conv2.weight')!.data);
    assert.deepEqual(afterReplace.get('fc.weight')!.shape, [2, 512]);
    net.replaceFc(3);
    assert.deepEqual(net.fc.parameters().map((p) => p.name), ['fc.weight', 'fc.bias']);
    assert.equal(net.parameters({ exclude: ['fc'] }).length, 60);
    assert.equal(net.parameters().length, 62);
  });

  it('validates options as PyTorch does', () => {
    assert.throws(() => new SGD(net.parameters(), { lr: -1 }), /SGD defaults: lr must be a finite number >= 0, got -1/);
    assert.throws(() => new SGD(net.parameters(), { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
    assert.throws(() => new SGD([{ params: net.parameters() }, { params: net.fc.parameters() }], { lr: 0.1 }), /more than one parameter group/);
    assert.throws(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  });

  it('a group lr changed in paramGroups takes effect at the next step', async () => {
    const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }], { lr: 0.01, weightDecay: 0.001 });
    opt.paramGroups.forEach((g) => (g.lr = 0));
    const before = await net.stateDict();
    await net.trainStep(x, y, opt);
    const after = await net.stateDict();
    assert.deepEqual(after.get('fc.weight')!.data, before.get('fc.weight')!.data, 'lr 0 must not move fc');
    opt.paramGroups[1].lr = 0.1;
    await net.trainStep(x, y, opt);
    assert.notDeepEqual((await net.stateDict()).get('fc.weight')!.data, before.get('fc.weight')!.data);
  });

  it('bad labels, shapes and a NaN loss are Errors that leave model and optimizer unchanged', async () => {
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    await net.trainStep(x, y, opt);
    const model0 = await net.stateDict();
    const momentum0 = await opt.stateDict();
    await assert.rejects(net.trainStep(x, Int32Array.from([0, 1, 3, 0]), opt), /trainStep: label 3 at index 2 is out of range for 3 classes/);
    await assert.rejects(net.trainStep(x, Int32Array.from([0, -1, 0, 0]), opt), /label -1 at index 1/);
    await assert.rejects(net.trainStep(x, Int32Array.from([0, 1]), opt), /target holds 2 labels for a batch of 4/);
    await assert.rejects(net.trainStep({ dtype: 'float32', shape: [4, 3, 16], data: new Float32Array(4 * 3 * 16) }, y, opt), /\[N, 3, H, W\]/);
    const nan: HostTensor = { dtype: 'float32', shape: x.shape, data: (x.data as Float32Array).map((v, i) => (i === 5 ? NaN : v)) };
    await assert.rejects(net.trainStep(nan, y, opt), /step 2: the loss is -?nan/);
    const one: HostTensor = { dtype: 'float32', shape: [1, 3, 16, 16], data: (x.data as Float32Array).slice(0, 3 * 256) };
    await assert.rejects(net.trainStep(one, Int32Array.from([0]), opt), /Expected more than 1 value per channel when training/);
    await assert.rejects(net.trainStep({ dtype: 'float32', shape: [0, 3, 16, 16], data: new Float32Array(0) }, new Int32Array(0), opt), /the batch is empty/);
    assert.equal(opt.stepCount, 1);
    const model1 = await net.stateDict();
    for (const [name, t] of model0) assert.deepEqual(model1.get(name)!.data, t.data, `${name} changed by a failed step`);
    const momentum1 = await opt.stateDict();
    for (const [i, s] of momentum0.state) assert.deepEqual(momentum1.state.get(i)!.momentum_buffer.data, s.momentum_buffer.data);
  });

  it('steps run off the JS thread: a timer keeps firing; overlapping calls are queued in order', async () => {
    const big: HostTensor = { dtype: 'float32', shape: [16, 3, 64, 64], data: new Float32Array(16 * 3 * 64 * 64).fill(0.1) };
    const labels = new Int32Array(16);
    const opt = new SGD(net.parameters(), { lr: 0.001 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = Date.now();
    const [a, b] = await Promise.all([net.trainStep(big, labels, opt), net.trainStep(big, labels, opt)]);
    const elapsed = Date.now() - t0;
    clearInterval(timer);
    assert.ok(ticks >= Math.min(3, elapsed / 20), `timer fired ${ticks} times in ${elapsed} ms`);
    assert.equal(opt.stepCount, 2);
    assert.ok(b.loss < a.loss, 'the second step saw the first one\'s update');
  });
});

describe('the loops: options, stops, resumes, phases', () => {
  const x: HostTensor = { dtype: 'float32', shape: [4, 3, 16, 16], data: Float32Array.from({ length: 4 * 3 * 256 }, (_, i) => Math.sin(i * 0.37)) };
  const batch = (k: number): Batch => ({
    input: { ...x, data: (x.data as Float32Array).map((v, i) => v + 0.1 * Math.cos(i * (k + 1))) },
    target: Int32Array.from([k % 3, (k + 1) % 3, (k + 2) % 3, k % 3]),
  });
  const train = [0, 1, 2, 3].map(batch);
  const valid = [batch(7)];
  const withoutTimes = (h: EpochRecord[]) => h.map(({ seconds: _s, imagesPerSec: _i, ...rest }) => rest);
  const fresh = () => ResNet18.create({ numClasses: 3, seed: 5 });
  const recipe = { train, valid, epochs: 2, lr: 0.01, momentum: 0.9, schedule: { kind: 'cosine', total: 8, per: 'step' } as const };

  it('a checkpoint keeps every real number a number: a loss of 4.4e23 (integral, past 2^53) comes back as one', async () => {
    const tmp = tempDir();
    const net = await fresh();
    try {
      const record: EpochRecord = { epoch: 1, trainLoss: 6.4, trainAcc: 1, validLoss: 4.4e23, validAcc: 0.5, validTop5: null,
        imagesPerSec: 30, seconds: 1.5, lr: 0.01, fcLr: 0.1 };
      const file = path.join(tmp.dir, 'ckpt.pth');
      await saveCheckpoint(file, { net, optimizer: new SGD(net.parameters(), { lr: 0.01 }) }, { epoch: 1, history: [record] });
      assert.deepEqual((await readCheckpointInfo(file)).history, [record]);
      assert.equal(JSON.stringify((await readCheckpointInfo(file)).history), JSON.stringify([record]));
    } finally {
      net.dispose();
      tmp.cleanup();
    }
  });

  it('refuses unknown options with the one meant, and bad values naming the option', async () => {
    const net = await fresh();
    try {
      await assert.rejects(fineTune(net, { ...recipe, learning_rate: 1 } as never),
        (e: Error & { code?: string }) => /fineTune: unknown option 'learning_rate'/.test(e.message) && e.code === 'ERR_FINETORCH_UNKNOWN_OPTION');
      await assert.rejects(fineTune(net, { ...recipe, fc_lr_mult: 1 } as never), /did you mean 'fcLrMult'\?/);
      await assert.rejects(linearProbe(net, { ...recipe, epochs: -1 }), /linearProbe: epochs must be an integer >= 0, got -1/);
      await assert.rejects(fineTune(net, { ...recipe, train: 5 } as never), /train must be an iterable of batches/);
      await assert.rejects(fineTune(net, { ...recipe, valid: undefined, patience: 2 }), /patience needs a valid source/);
    } finally {
      net.dispose();
    }
  });

  it('a stop mid-epoch saves the position; the resume ends bit-identical to an unbroken run, history included', async () => {
    const tmp = tempDir();
    try {
      const straight = await fresh();
      const unbroken = await fineTune(straight, recipe);
      const expected = await straight.stateDict();
      straight.dispose();

      const net = await fresh();
      const checkpoint = path.join(tmp.dir, 'ckpt.pth');
      const controller = new AbortController();
      const saved: { epoch: number; batch: number; step: number }[] = [];
      const partial = await fineTune(net, {
        ...recipe, checkpoint, signal: controller.signal,
        onBatch: (e) => e.epoch === 1 && e.batch === 2 && controller.abort(),
        onCheckpoint: (p) => saved.push(p),
      });
      assert.deepEqual(partial, [], 'no epoch finished');
      assert.deepEqual(saved, [{ epoch: 0, batch: 2, step: 2 }]);
      const info = await readCheckpointInfo(checkpoint);
      assert.equal(info.batch, 2);
      assert.equal(info.partial!.count, 8);
      net.dispose();

      const resumed = await fresh();
      const starts: unknown[] = [];
      const history = await fineTune(resumed, { ...recipe, resume: checkpoint, onStart: (s) => void starts.push(s) });
      assert.deepEqual(starts, [{ epoch: 0, batch: 2, history: [] }]);
      assert.deepEqual(withoutTimes(history), withoutTimes(unbroken));
      const actual = await resumed.stateDict();
      for (const [name, t] of expected) assert.deepEqual(actual.get(name)!.data, t.data, `${name} differs after the resume`);
      resumed.dispose();
    } finally {
      tmp.cleanup();
    }
  });

  it('checkpointEvery saves inside epochs; a resume takes lr and momentum from its options, not the checkpoint', async () => {
    const tmp = tempDir();
    try {
      const net = await fresh();
      const checkpoint = path.join(tmp.dir, 'ckpt.pth');
      const saved: number[] = [];
      await fineTune(net, { ...recipe, epochs: 1, checkpoint, checkpointEvery: 3, onCheckpoint: (p) => saved.push(p.step) });
      assert.deepEqual(saved, [3, 4], 'step 3 inside the epoch, then the epoch\'s end');
      const history = await fineTune(net, { ...recipe, epochs: 2, lr: 0.1, resume: checkpoint });
      // Cosine over 8 steps, 4 done: halfway, from the new lr.
      assert.ok(Math.abs(history[1].lr - 0.05) < 1e-12 && Math.abs(history[1].fcLr - 0.5) < 1e-12, JSON.stringify(history[1]));
      net.dispose();
    } finally {
      tmp.cleanup();
    }
  });

  it('freezeEpochs: fc alone first (backbone and its BatchNorm statistics untouched), then every layer', async () => {
    const net = await fresh();
    const initial = await net.stateDict();
    const snapshots: Map<string, HostTensor>[] = [];
    await fineTune(net, { ...recipe, freezeEpochs: 1, onEpoch: async () => {
      snapshots.push(await net.stateDict());
    } });
    for (const [name, t] of initial) {
      const same = snapshots[0].get(name)!.data.every((v, i) => v === t.data[i]);
      assert.equal(same, !name.startsWith('fc.'), `${name} after the frozen epoch`);
    }
    const backbone = [...initial.keys()].filter((name) => !name.startsWith('fc.') && name.endsWith('.weight'));
    const moved = backbone.filter((name) => snapshots[1].get(name)!.data.some((v, i) => v !== snapshots[0].get(name)!.data[i]));
    assert.deepEqual(moved, backbone, 'every backbone weight trained in epoch 2');
    net.dispose();
  });

  it('patience ends training after that many epochs without a better validation accuracy', async () => {
    const net = await fresh();
    // A probe at lr 0 (BatchNorm statistics frozen too) scores every epoch alike: never better after the first.
    const history = await linearProbe(net, { ...recipe, epochs: 10, lr: 0, patience: 2 });
    assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3]);
    net.dispose();
  });

  it('validation gives top-5 and a confusion matrix to onEpoch, once per epoch', async () => {
    const net = await fresh();
    let validations = 0;
    const matrices: number[][][] = [];
    const counting = { [Symbol.iterator]: function* () {
      validations++;
      yield* valid;
    } };
    await fineTune(net, { ...recipe, valid: counting, onEpoch: (r, scores) => {
      matrices.push(scores!.matrix!);
      assert.equal(r.validTop5, 1, 'three classes: every image is in its top five');
      assert.equal(scores!.accuracy, r.validAcc);
    } });
    assert.equal(validations, 2);
    for (const m of matrices) assert.equal(m.flat().reduce((a, b) => a + b, 0), 4);
    net.dispose();
  });

  it('the feature cache warns that it freezes a random transform and shuffling', async () => {
    class Noise extends ImageDataset {
      get length(): number {
        return 4;
      }
      target(i: number): number {
        return i % 3;
      }
      protected source(i: number) {
        return { data: new Uint8Array(20 * 20 * 3).map((_, k) => (k * (i + 3)) % 251), width: 20, height: 20, channels: 3 as const };
      }
    }
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    const net = await fresh();
    try {
      await linearProbe(net, { train: new DataLoader(new Noise({ transform: trainTransform({ size: 16 }) }), { batchSize: 2, shuffle: true }),
        epochs: 1, lr: 0.01, featureCache: true });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
      net.dispose();
    }
    const warning = warnings.find((w) => (w as Error & { code?: string }).code === 'FINETORCH_FROZEN_AUGMENTATION');
    assert.ok(warning, 'warned');
    assert.match(warning.message, /the train source's random transforms \(randomResizedCrop\(16, scale \[0\.08, 1\], ratio \[0\.75, 1\.333\], bilinear\), randomHorizontalFlip\(0\.5\)\) and shuffling are frozen: every epoch trains on the same images in the same order/);
  });
});


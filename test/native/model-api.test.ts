// The model's API contract without PyTorch: one queue per model, metadata without waiting,
// errors with codes and classes, PyTorch's eval-mode semantics, validation of options.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  BatchEvent, cpuMemory, cuda, hasCode, DataLoader, FashionMNIST, fineTune, getNumThreads, linearProbe, lrFind, ResNet, ResNet18, setNumThreads, SGD,
  TrainingDivergedError,
} from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertCode } from '../helpers/errors';

const SIZE = 32;

function batch(n: number, seed: number, fill?: number): { input: HostTensor<'float32'>; target: Int32Array } {
  const data = new Float32Array(n * 3 * SIZE * SIZE);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    data[i] = fill ?? s / 2 ** 30 - 1;
  }
  return { input: { dtype: 'float32', shape: [n, 3, SIZE, SIZE], data }, target: Int32Array.from({ length: n }, (_, i) => i % 3) };
}

const chapterSgd = (net: ResNet, momentum = 0.9) => new SGD(
  [{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }], { lr: 0.01, weightDecay: 1e-3, momentum });

describe('one owner of model state', () => {
  it('a step not awaited is still in the optimizer state read after it (calls run in call order)', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const { input, target } = batch(2, 1);
    const step = net.trainStep(input, target, opt);
    const state = await opt.stateDict(); // queued after the step
    assert.equal(state.state.size, net.parameters().length, 'every momentum buffer exists after step 1');
    assert.equal((await step).correct >= 0, true);
    assert.equal(opt.stepCount, 1);
    net.dispose();
  });

  it('getters answer while a step runs, from metadata kept in JS', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const { input, target } = batch(2, 2);
    const step = net.trainStep(input, target, opt);
    assert.equal(net.numClasses, 3);
    assert.equal(net.device, 'cpu');
    assert.equal(String(net.fc), 'Linear(in_features=512, out_features=3, bias=True)');
    assert.equal(net.parameters()[0].requiresGrad, true);
    net.freeze({ except: ['fc'] }); // queued after the step; metadata changes at once
    assert.equal(net.parameters()[0].requiresGrad, false);
    assert.equal(net.fc.parameters()[0].requiresGrad, true);
    await step;
    net.unfreeze();
    assert.ok(net.parameters().every((p) => p.requiresGrad));
    net.dispose();
  });

  it('freeze keeps the backbone bit-identical through a step; unfreeze trains it again', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    net.freeze({ except: ['fc'] });
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const before = await net.stateDict();
    await net.trainStep(batch(2, 3).input, batch(2, 3).target, opt);
    const after = await net.stateDict();
    assert.deepEqual(after.get('conv1.weight')!.data, before.get('conv1.weight')!.data);
    assert.deepEqual(after.get('bn1.running_mean')!.data, before.get('bn1.running_mean')!.data, 'frozen BN stays in eval mode');
    assert.notDeepEqual(after.get('fc.weight')!.data, before.get('fc.weight')!.data);
    net.unfreeze();
    await net.trainStep(batch(2, 3).input, batch(2, 3).target, opt);
    assert.notDeepEqual((await net.stateDict()).get('conv1.weight')!.data, after.get('conv1.weight')!.data);
    net.dispose();
  });

  it('an optimizer steps the fc it was made with, as torch.optim.SGD (replaceFc later does not change it)', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = new SGD(net.fc.parameters(), { lr: 0.5 });
    net.replaceFc(4, { seed: 5 });
    assert.equal(net.numClasses, 4);
    const before = (await net.stateDict()).get('fc.weight')!;
    const { input } = batch(2, 4);
    await net.trainStep(input, Int32Array.from([3, 0]), opt);
    assert.deepEqual((await net.stateDict()).get('fc.weight')!.data, before.data, 'the new fc is not in the optimizer');
    net.dispose();
  });

  it('the native lock is only a safety net: calls that bypass the queue fail with ERR_FINETORCH_BUSY, never wait', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const input: HostTensor = { dtype: 'float32', shape: [16, 3, 64, 64], data: new Float32Array(16 * 3 * 64 * 64).fill(0.5) };
    const direct = Array.from({ length: 4 }, () => net.handle.forward({ input, training: false }));
    const settled = await Promise.allSettled(direct);
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    assert.ok(settled.some((s) => s.status === 'fulfilled'));
    assert.ok(rejected.length >= 1, 'four calls at once on the libuv pool overlap');
    for (const r of rejected) assert.equal(r.reason.code, 'ERR_FINETORCH_BUSY');
    net.dispose();
  });

  it('dispose waits for queued calls; later calls fail with ERR_FINETORCH_DISPOSED', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const { input, target } = batch(2, 5);
    const step = net.trainStep(input, target, opt);
    net.dispose();
    assert.ok(Number.isFinite((await step).loss), 'the step queued before dispose ran');
    await assert.rejects(net.forward(input), assertCode('ERR_FINETORCH_DISPOSED'));
    assert.throws(() => net.replaceFc(2), assertCode('ERR_FINETORCH_DISPOSED'));
    await assert.rejects(opt.stateDict(), assertCode('ERR_FINETORCH_DISPOSED'));
    net.dispose(); // a second dispose is a no-op
  });
});

describe('errors with codes', () => {
  it('a NaN batch is a TrainingDivergedError; the model and optimizer are left as they were', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const good = batch(2, 6);
    await net.trainStep(good.input, good.target, opt);
    const before = await net.stateDict();
    const momentum = await opt.stateDict();
    const bad = batch(2, 7, NaN);
    await assert.rejects(net.trainStep(bad.input, bad.target, opt), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_FINETORCH_NONFINITE_LOSS');
      assert.match(err.message, /^step 2: the loss is nan/);
      return true;
    });
    assert.equal(opt.stepCount, 1);
    const after = await net.stateDict();
    for (const [name, t] of before) assert.deepEqual(after.get(name)!.data, t.data, `${name} changed`);
    const momentumAfter = await opt.stateDict();
    for (const [i, s] of momentum.state) assert.deepEqual(momentumAfter.state.get(i)!.momentum_buffer.data, s.momentum_buffer.data);

    await assert.rejects(fineTune(net, { train: [bad], epochs: 1, lr: 0.01 }), (err: unknown) => {
      assert.ok(err instanceof TrainingDivergedError);
      assert.equal(err.code, 'ERR_FINETORCH_NONFINITE_LOSS');
      assert.equal(err.epoch, 1);
      return true;
    });
    await assert.rejects(fineTune(net, { train: [good], epochs: 1, lr: 0.01, maxLoss: 1e-9 }), (err: unknown) => {
      assert.ok(err instanceof TrainingDivergedError);
      assert.equal(err.code, 'ERR_FINETORCH_LOSS_ABOVE_MAX');
      return true;
    });
    net.dispose();
  });

  it('bad input keeps its class and code; nothing reaches the native side', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const { input } = batch(2, 8);
    await assert.rejects(net.trainStep(input, Int32Array.from([0, 3]), opt), (err: unknown) => {
      assertCode('ERR_FINETORCH_BAD_INPUT', RangeError)(err);
      assert.match((err as Error).message, /label 3 at index 1 is out of range for 3 classes/);
      return true;
    });
    await assert.rejects(async () => net.forward(null as unknown as HostTensor), assertCode('ERR_FINETORCH_INVALID_ARG', TypeError));
    await assert.rejects(async () => net.forward({ dtype: 'float32', shape: [2, 3, 4], data: new Float32Array(24) }),
      assertCode('ERR_FINETORCH_BAD_INPUT', RangeError));
    await assert.rejects(async () => net.to('gpu' as 'cpu'), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    await assert.rejects(net.to('cuda'), assertCode('ERR_FINETORCH_DEVICE'));
    assert.throws(() => net.setPrecision({ amp: 'fp16' }), (err: unknown) => {
      assertCode('ERR_FINETORCH_DEVICE')(err);
      assert.match((err as Error).message, /needs the model on a CUDA device/);
      return true;
    });
    const other = await ResNet.create({ numClasses: 3, seed: 2 });
    await assert.rejects(other.trainStep(input, Int32Array.from([0, 1]), opt), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    other.dispose();
    net.dispose();
  });

  it('state dict mismatches are ERR_FINETORCH_STATE_DICT and change nothing', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const state = await net.stateDict();
    const before = state.get('conv1.weight')!.data.slice();
    state.set('fc.weight', { dtype: 'float32', shape: [4, 512], data: new Float32Array(2048) });
    (state.get('conv1.weight')!.data as Float32Array).fill(0);
    await assert.rejects(net.loadStateDict(state), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_FINETORCH_STATE_DICT');
      assert.match(err.message, /size mismatch for fc\.weight: copying a param with shape \[4, 512\]/);
      return true;
    });
    assert.deepEqual((await net.stateDict()).get('conv1.weight')!.data, before);
    net.dispose();
  });
});

describe('PyTorch semantics', () => {
  it('trainStep in eval mode uses and keeps the BatchNorm running statistics', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    net.eval();
    const before = await net.stateDict();
    await net.trainStep(batch(2, 9).input, batch(2, 9).target, opt);
    const after = await net.stateDict();
    for (const [name, t] of before) {
      const same = JSON.stringify([...t.data.slice(0, 8)].map(String)) === JSON.stringify([...after.get(name)!.data.slice(0, 8)].map(String));
      if (/running_|num_batches/.test(name)) assert.ok(same, `${name} moved in eval mode`);
    }
    assert.notDeepEqual(after.get('conv1.weight')!.data, before.get('conv1.weight')!.data, 'parameters still train');
    net.train();
    await net.trainStep(batch(2, 9).input, batch(2, 9).target, opt);
    assert.notDeepEqual((await net.stateDict()).get('bn1.running_mean')!.data, after.get('bn1.running_mean')!.data);
    net.dispose();
  });

  it("fineTune and linearProbe default to the d2l fine-tuning chapter's lr: 0.01, fc at 10x", async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const lrs: [number, number | undefined][] = [];
    const onBatch = (e: BatchEvent) => lrs.push([e.lr, e.fcLr]);
    await fineTune(net, { train: [batch(2, 9)], epochs: 1, onBatch });
    await linearProbe(net, { train: [batch(2, 9)], epochs: 1, onBatch });
    assert.deepEqual(lrs, [[0.01, 0.1], [0.01, 0.01]]);
    net.dispose();
  });

  it('String(net) prints the module tree as print(model), with fc\'s real in_features', async () => {
    const net = await ResNet.create({ arch: 'resnet50', numClasses: 7 });
    const text = String(net);
    assert.match(text, /^ResNet\(\n {2}\(conv1\): Conv2d\(3, 64, kernel_size=\(7, 7\), stride=\(2, 2\), padding=\(3, 3\), bias=False\)\n/);
    assert.match(text, /\n {2}\(fc\): Linear\(in_features=2048, out_features=7, bias=True\)\n\)$/);
    assert.equal(net.fc.inFeatures, 2048);
    net.dispose();
  });
});

describe('one validation rule', () => {
  it('PyTorch-style option names are refused with the name meant', async () => {
    const net = await ResNet18.create({ numClasses: 3 });
    const ds = { length: 1 } as unknown as FashionMNIST;
    assert.throws(() => new DataLoader(ds, { batch_size: 32 } as never),
      /DataLoader: unknown option 'batch_size' \(did you mean 'batchSize'\?\)/);
    assert.throws(() => new SGD(net.parameters(), { lr: 0.1, weight_decay: 0.5 } as never),
      /SGD defaults: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/);
    assert.throws(() => net.parameters({ exclude: ['fcc'] }), /no module or parameter 'fcc' \(did you mean 'fc'\?\)/);
    await assert.rejects(ResNet.create({ arch: 'resnet19' as 'resnet18' }), /arch must be one of 'resnet18', /);
    // A class count is no loading option (timm's num_classes): the nearest option would mislead.
    for (const load of [() => ResNet.load('any.pth', { num_classes: 3 } as never), () => ResNet18.pretrained({ numClasses: 3 } as never)]) {
      await assert.rejects(load(), (e: Error & { code?: string }) => e.code === 'ERR_FINETORCH_UNKNOWN_OPTION' &&
        /: '(num_classes|numClasses)' is not an option: the number of classes comes from the weights .*net\.replaceFc\(numClasses\)/.test(e.message) &&
        !/maxClasses/.test(e.message));
    }
    net.dispose();
  });

  it('fineTune, linearProbe and lrFind refuse a model of one class: its cross-entropy is 0 whatever it sees', async () => {
    const net = await ResNet.create({ numClasses: 1, seed: 1 });
    const one = { ...batch(2, 9), target: new Int32Array(2) };
    await assert.rejects(fineTune(net, { train: [one], epochs: 1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    await assert.rejects(linearProbe(net, { train: [one], epochs: 1 }), /linearProbe: the model has 1 output \(fc out_features=1\): .* at least 2 classes/);
    await assert.rejects(lrFind(net, [one], { numIt: 2 }), /lrFind: the model has 1 output/);
    net.dispose();
  });

  it('setNumThreads reaches the workers; a bad count is a RangeError', () => {
    const before = getNumThreads();
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    assert.throws(() => setNumThreads(0), RangeError);
    setNumThreads(before);
  });
});

describe("LibTorch's CPU memory", () => {
  // Minor page faults of this process so far (field 10 of /proc/self/stat).
  const minorFaults = (): number => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);

  it('a step reuses the blocks the step before freed: a steady cache, few page faults; emptyCache, fineTune and lrFind give them back', async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 1 });
    const opt = chapterSgd(net);
    const { input, target } = batch(8, 5);
    cpuMemory.emptyCache(); // what earlier tests left
    assert.equal(cpuMemory.cachedBytes(), 0);
    for (let i = 0; i < 2; i++) await net.trainStep(input, target, opt);
    const cached = cpuMemory.cachedBytes();
    assert.ok(cached > 0, 'blocks freed by the steps are kept');
    const faults = minorFaults();
    for (let i = 0; i < 3; i++) await net.trainStep(input, target, opt);
    const perStep = (minorFaults() - faults) / 3;
    assert.equal(cpuMemory.cachedBytes(), cached, 'the same blocks serve every step');
    // Without the cache a step here faults in about 15,000 fresh pages.
    assert.ok(perStep < 2000, `${perStep} page faults per step`);
    cpuMemory.emptyCache();
    assert.equal(cpuMemory.cachedBytes(), 0);
    await fineTune(net, { train: [{ input, target }], epochs: 1, lr: 0.01 });
    assert.equal(cpuMemory.cachedBytes(), 0, 'fineTune gives the memory back when it ends');
    await lrFind(net, [{ input, target }], { numIt: 2 });
    assert.equal(cpuMemory.cachedBytes(), 0, 'lrFind gives the memory back when it ends');
    net.dispose();
  });
});

describe('ResNet18 on bad input and devices', () => {
  it('a wrong batch shape or dtype is an Error naming the expected shape', async () => {
    const net = await ResNet18.create({ numClasses: 3 });
    await assert.rejects(net.forward({ dtype: 'float32', shape: [2, 1, 8, 8], data: new Float32Array(128) }),
      /forward: input must be float32 of shape \[N, 3, H, W\], got float32 \[2, 1, 8, 8\]/);
    await assert.rejects(net.forward({ dtype: 'float64', shape: [1, 3, 8, 8], data: new Float64Array(192) }), /got float64/);
    await assert.rejects(net.forward({ dtype: 'float32', shape: [2, 3, 8, 8], data: new Float32Array(5) }), /holds 384 elements but data has 5/);
    const out = await net.forward({ dtype: 'float32', shape: [2, 3, 32, 32], data: new Float32Array(2 * 3 * 32 * 32) });
    assert.deepEqual(out.shape, [2, 3]);
    net.dispose();
    await assert.rejects(net.forward({ dtype: 'float32', shape: [1, 3, 8, 8], data: new Float32Array(192) }), /disposed/);
  });

  it('cuda reports no GPU here and net.to("cuda") fails clearly when there is none', async (t) => {
    const net = await ResNet18.create({ numClasses: 2 });
    if (cuda.isAvailable()) {
      assert.ok(cuda.deviceCount() > 0);
      await net.to('cuda');
      assert.match(net.device, /^cuda/);
    } else {
      assert.equal(cuda.deviceCount(), 0);
      // The cause, named: a CPU-only LibTorch, or a CUDA one and what LibTorch says of the machine.
      const cause = cuda.isBuilt()
        ? new RegExp(`built against LibTorch [^ ]+ with CUDA ${cuda.version!.replace('.', '\\.')} and CUDA cannot be used here \\(LibTorch says: .+\\)`)
        : /built against LibTorch [^ ]+, a CPU-only build: for a GPU, install a CUDA build/;
      assert.match(cuda.unavailableReason()!, cause);
      await assert.rejects(net.to('cuda'), (err: Error) => hasCode(err, 'ERR_FINETORCH_DEVICE') && cause.test(err.message));
      await assert.rejects(net.to('cuda:1'), (err: Error) => hasCode(err, 'ERR_FINETORCH_DEVICE') && cause.test(err.message));
      assert.equal(net.device, 'cpu');
    }
    assert.equal(cuda.isBuilt(), cuda.version !== null);
    await assert.rejects(net.to('tpu' as 'cpu'), /to: /);
    net.dispose();
    t.diagnostic(`cuda.isAvailable() = ${cuda.isAvailable()}`);
  });

});

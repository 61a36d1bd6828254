// MAE's protocols without PyTorch: the probe head's keys, print and state dict, the head
// initialisations, drop path set on a live ViT, the options each protocol refuses with coded
// errors, and a checkpointed 'mae' run resumed exactly.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Batch, fineTune, linearProbe, ResNet, savePth, VisionTransformer } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { native } from '../../lib/base/binding';
import { inferModel } from '../../lib/model/infer';
import { reprStyle } from '../../lib/model/module-tree';
import { assertCode } from '../helpers/errors';
import { tempDir } from '../helpers/python';

const tmp = tempDir('finetorch-protocols-');
after(() => tmp.cleanup());

const TINY = { imgSize: 16, patchSize: 8, embedDim: 24, depth: 2, numHeads: 2, numClasses: 3 } as const;

function batches(count: number, n: number, seed: number): Batch[] {
  let s = seed;
  return Array.from({ length: count }, (_, b) => {
    const data = new Float32Array(n * 3 * 16 * 16);
    for (let i = 0; i < data.length; i++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      data[i] = s / 2 ** 30 - 1;
    }
    return { input: { dtype: 'float32', shape: [n, 3, 16, 16], data } as HostTensor, target: Int32Array.from({ length: n }, (_, k) => (b + k) % 3) };
  });
}

describe("MAE's probe head", () => {
  it("is Sequential(BatchNorm1d(affine=False, eps=1e-6), Linear) under MAE's keys, trunc_normal std 0.01 and a zero bias", async () => {
    const net = await VisionTransformer.create(TINY);
    const head = net.resetClassifier(5, { head: 'mae-probe', seed: 0 });
    assert.equal(net.headKind, 'mae-probe');
    assert.deepEqual(head.parameters().map((p) => p.name), ['head.1.weight', 'head.1.bias']);
    assert.match(String(head), /^Sequential\(\n {2}\(0\): BatchNorm1d\(24, eps=1e-06, momentum=0\.1, affine=False(, bias=True)?, track_running_stats=True\)\n {2}\(1\): Linear\(in_features=24, out_features=5, bias=True\)\n\)$/);
    assert.match(String(net), /\(head\): Sequential\(\n {4}\(0\): BatchNorm1d/);
    const state = await net.stateDict();
    const keys = [...state.keys()].filter((k) => k.startsWith('head.'));
    assert.deepEqual(keys, ['head.0.running_mean', 'head.0.running_var', 'head.0.num_batches_tracked', 'head.1.weight', 'head.1.bias']);
    const weight = state.get('head.1.weight')!.data as Float32Array;
    const std = Math.sqrt(weight.reduce((a, v) => a + v * v, 0) / weight.length);
    assert.ok(std > 0.006 && std < 0.014, `weight std ${std}`);
    assert.ok((state.get('head.1.bias')!.data as Float32Array).every((v) => v === 0));
    // Its state dict loads back (strict), as MAE's probe checkpoints hold it.
    const other = await VisionTransformer.create(TINY);
    other.resetClassifier(5, { head: 'mae-probe', seed: 9 });
    assert.deepEqual(await other.loadStateDict(state), { missing: [], unexpected: [] });
    assert.deepEqual((await other.stateDict()).get('head.1.weight')!.data, weight);
    // A file of it (MAE's probe checkpoints' keys) loads as a ViT with the probe head.
    const file = path.join(tmp.dir, 'probe.pth');
    await savePth(file, state);
    const loaded = await VisionTransformer.load(file, { numHeads: 2 });
    assert.equal(loaded.headKind, 'mae-probe');
    assert.equal(loaded.numClasses, 5);
    assert.equal(String(loaded), String(net));
    assert.deepEqual((await loaded.stateDict()).get('head.1.weight')!.data, weight);
    // What inspect and checkpoints read off the keys, without a model.
    const inferred = inferModel(new Map([...state].map(([k, t]) => [k, t.shape])), file);
    assert.equal(inferred.numClasses, 5);
    assert.match(inferred.repr(reprStyle(native.runtime.torchVersion)), /\(head\): Sequential\(\n {4}\(0\): BatchNorm1d\(24, eps=1e-06/);
    const relabelled = await VisionTransformer.load(file, { numHeads: 2, numClasses: 2 });
    assert.equal(relabelled.headKind, 'linear');
    [loaded, relabelled].forEach((n) => n.dispose());
    // And a Linear again: head.weight, head.bias.
    net.resetClassifier(3);
    assert.deepEqual(net.parameters({ include: ['head'] }).map((p) => p.name), ['head.weight', 'head.bias']);
    net.dispose();
    other.dispose();
  });

  it("MAE's fine-tuning init (trunc-normal std 2e-5) and the refused combinations", async () => {
    const net = await VisionTransformer.create(TINY);
    net.resetClassifier(3, { init: 'trunc-normal', std: 2e-5, seed: 1 });
    const w = (await net.stateDict()).get('head.weight')!.data as Float32Array;
    assert.ok(w.every((v) => Math.abs(v) < 2e-4) && w.some((v) => v !== 0));
    assert.throws(() => net.resetClassifier(3, { init: 'xavier', std: 0.1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    assert.throws(() => net.resetClassifier(3, { head: 'probe' as 'mae-probe' }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    net.dispose();
  });

  it('setDropPathRate changes the config and print(model)', async () => {
    const net = await VisionTransformer.create(TINY);
    net.setDropPathRate(0.1);
    assert.equal(net.config.dropPathRate, 0.1);
    assert.match(String(net), /DropPath\(drop_prob=0\.100\)/);
    assert.throws(() => net.setDropPathRate(1), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    net.dispose();
  });
});

describe("protocol 'mae'", () => {
  it('refuses what it cannot honour with coded errors', async () => {
    const net = await VisionTransformer.create(TINY);
    const train = batches(2, 4, 1);
    await assert.rejects(linearProbe(net, { protocol: 'mae', train, epochs: 1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    await assert.rejects(fineTune(net, { protocol: 'mae', train, epochs: 1, fcLrMult: 10 }), assertCode('ERR_FINETORCH_UNKNOWN_OPTION', TypeError));
    await assert.rejects(fineTune(net, { protocol: 'mae', train, epochs: 1, momentum: 0.9 }), assertCode('ERR_FINETORCH_UNKNOWN_OPTION', TypeError));
    await assert.rejects(fineTune(net, { train, epochs: 1, layerDecay: 0.65 }), assertCode('ERR_FINETORCH_UNKNOWN_OPTION', TypeError));
    await assert.rejects(fineTune(net, { protocol: 'maee' as 'mae', train, epochs: 1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    await assert.rejects(fineTune(net, { protocol: 'mae', train, epochs: 3, warmupEpochs: 3 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    // No length, no per-iteration schedule; no batch size, no blr scaling.
    const endless = { *[Symbol.iterator]() { yield* train; } };
    await assert.rejects(fineTune(net, { protocol: 'mae', train: endless, epochs: 1, lr: 1e-3 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    const resnet = await ResNet.create({ arch: 'resnet18', numClasses: 3 });
    await assert.rejects(fineTune(resnet, { protocol: 'mae', train, epochs: 1 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    resnet.dispose();
    net.dispose();
  });

  it('fineTune with mixup mixes a copy of each batch (the source stays) into soft targets', async () => {
    const train = batches(2, 4, 3);
    const before = train.map((b) => (b.input.data as Float32Array).slice());
    const losses = async (extra: { mixup?: number; cutmix?: number }) => {
      const net = await VisionTransformer.create({ ...TINY, globalPool: 'avg' });
      const seen: number[] = [];
      await fineTune(net, { protocol: 'mae', train, epochs: 2, blr: 0.05, dropPath: 0, ...extra, onBatch: (e) => seen.push(e.loss) });
      net.dispose();
      return seen;
    };
    const plain = await losses({});
    const mixed = await losses({ mixup: 0.8, cutmix: 1 });
    train.forEach((b, i) => assert.deepEqual(b.input.data, before[i], `batch ${i} unchanged`));
    assert.equal(mixed.length, plain.length);
    assert.notDeepEqual(mixed, plain);
    assert.deepEqual(await losses({ mixup: 0.8, cutmix: 1 }), mixed, 'the same draws again');
  });

  for (const which of ['linearProbe', 'fineTune'] as const) {
    it(`${which}: stopped after epoch 1 of 3 with a checkpoint, resumed, ends where an uninterrupted run does`, async () => {
      const train = batches(3, 4, 7);
      const make = async () => {
        const net = await VisionTransformer.create({ ...TINY, globalPool: which === 'fineTune' ? 'avg' : 'token' });
        if (which === 'linearProbe') net.resetClassifier(3, { head: 'mae-probe', seed: 1 });
        return net;
      };
      const run = (net: VisionTransformer, extra: { checkpoint?: string; resume?: string; signal?: AbortSignal; onEpoch?: () => void; epochs: number }) =>
        (which === 'linearProbe' ? linearProbe(net, { protocol: 'mae', train, blr: 10, featureCache: true, ...extra })
          : fineTune(net, { protocol: 'mae', train, blr: 0.05, dropPath: 0, ...extra }));
      const whole = await make();
      await run(whole, { epochs: 3 });
      const first = await make();
      const checkpoint = path.join(tmp.dir, `${which}.ckpt`);
      // The schedule spans all 3 epochs: the first run is stopped after its first, not shortened.
      const stop = new AbortController();
      await run(first, { epochs: 3, checkpoint, signal: stop.signal, onEpoch: () => stop.abort() });
      const resumed = await make();
      const history = await run(resumed, { epochs: 3, resume: checkpoint });
      assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3]);
      const a = await whole.stateDict();
      const b = await resumed.stateDict();
      for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, k);
      [whole, first, resumed].forEach((n) => n.dispose());
    });
  }
});

// Training against torch.optim.SGD step for step, and checkpoints torch.load reads (the loops' options,
// stops and resumes without a reference: test/native/train-loops.test.ts).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Batch, fineTune, getNumThreads, linearProbe, loadPth, ResNet18, saveCheckpoint } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { runPython, tempDir } from '../helpers/python';
import { assertStateClose, chapterSgd, pinComputeThreads, readBatches } from '../helpers/training';

describe('training parity with torch.optim.SGD', () => {
  const tmp = tempDir();
  let batches: Batch[];
  const start = () => path.join(tmp.dir, 'start.pth');
  pinComputeThreads();
  before(async () => {
    await runPython('train_reference.py', ['make', tmp.dir]);
    batches = readBatches(tmp.dir);
  });
  after(() => tmp.cleanup());

  for (const mode of ['finetune', 'nesterov'] as const) {
    it(`${mode}: 10 steps, every loss within 1e-4 and every tensor after within 1e-4`, async () => {
      await runPython('train_reference.py', ['run', tmp.dir, mode, '10']);
      const net = await ResNet18.load(start());
      const opt = chapterSgd(net, { momentum: 0.9, nesterov: mode === 'nesterov' });
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) losses.push((await net.trainStep(batches[i].input, batches[i].target, opt)).loss);
      const expected = JSON.parse(fs.readFileSync(path.join(tmp.dir, `${mode}-cpu-losses.json`), 'utf8')) as number[];
      assertClose(losses, expected, 1e-4, 'losses');
      losses.forEach((l, i) => assert.ok(Math.abs(l - expected[i]) <= 1e-4 * Math.abs(expected[i]), `step ${i + 1}: ${l} vs ${expected[i]}`));
      assertStateClose(await net.stateDict(), await loadPth(path.join(tmp.dir, `${mode}-cpu-final.pth`)), 1e-4);
      net.dispose();
    });
  }

  it('bf16 autocast on the CPU: 5 steps as torch.autocast(\'cpu\', torch.bfloat16) around forward and loss', async () => {
    await runPython('train_reference.py', ['run', tmp.dir, 'bf16', '5']);
    const net = await ResNet18.load(start());
    net.setPrecision({ amp: 'bf16' });
    const opt = chapterSgd(net, { momentum: 0.9 });
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push((await net.trainStep(batches[i].input, batches[i].target, opt)).loss);
    const expected = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'bf16-cpu-losses.json'), 'utf8')) as number[];
    assertClose(losses, expected, 1e-4, 'losses');
    assertStateClose(await net.stateDict(), await loadPth(path.join(tmp.dir, 'bf16-cpu-final.pth')), 1e-4);
    net.dispose();
  });

  it('linear probe: backbone bit-identical to its start, fc as PyTorch\'s frozen eval-mode run', async () => {
    await runPython('train_reference.py', ['run', tmp.dir, 'probe', '6']);
    const net = await ResNet18.load(start());
    const initial = await net.stateDict();
    net.freeze({ except: ['fc'] });
    const opt = chapterSgd(net, { momentum: 0.9 });
    for (let i = 0; i < 6; i++) await net.trainStep(batches[i].input, batches[i].target, opt);
    const final = await net.stateDict();
    for (const [name, t] of initial) {
      if (!name.startsWith('fc.')) assert.deepEqual(final.get(name)!.data, t.data, `${name} changed`);
    }
    assertStateClose(final, await loadPth(path.join(tmp.dir, 'probe-cpu-final.pth')), 1e-4);
    net.dispose();
  });

  it('the feature cache gives the same head as the uncached probe within 1e-5', async () => {
    const heads: Map<string, HostTensor>[] = [];
    for (const featureCache of [false, true]) {
      const net = await ResNet18.load(start());
      await linearProbe(net, { train: batches.slice(0, 4), epochs: 3, lr: 0.1, momentum: 0.9, featureCache });
      heads.push(new Map([...(await net.stateDict())].filter(([k]) => k.startsWith('fc.'))));
      net.dispose();
    }
    assertStateClose(heads[1], heads[0], 1e-5);
  });

  it('train 4 steps == train 2, checkpoint, resume in a new process, train 2 (identical parameters)', async () => {
    const net = await ResNet18.load(start());
    const opt = chapterSgd(net, { momentum: 0.9 });
    for (let i = 0; i < 2; i++) await net.trainStep(batches[i].input, batches[i].target, opt);
    const ckpt = path.join(tmp.dir, 'two-steps.ckpt');
    await saveCheckpoint(ckpt, { net, optimizer: opt });
    for (let i = 2; i < 4; i++) await net.trainStep(batches[i].input, batches[i].target, opt);
    const straight = await net.stateDict();
    net.dispose();

    const resumed = path.join(tmp.dir, 'resumed.pth');
    const script = path.resolve(__dirname, '..', 'helpers', 'resume-two-steps.js');
    await promisify(execFile)(process.execPath, [script, tmp.dir, ckpt, resumed, String(getNumThreads())]);
    const other = await loadPth(resumed);
    for (const [name, t] of straight) assert.deepEqual(other.get(name)!.data, t.data, `${name} differs after resume`);
  });
});

describe('checkpoints torch.load reads', () => {
  const x: HostTensor = { dtype: 'float32', shape: [4, 3, 16, 16], data: Float32Array.from({ length: 4 * 3 * 256 }, (_, i) => Math.sin(i)) };
  const y = Int32Array.from([0, 1, 2, 1]);

  it('fineTune returns a per-epoch history, emits events, follows the schedule, and checkpoints', async () => {
    const fresh = await ResNet18.create({ numClasses: 3, seed: 3 });
    const tmp = tempDir();
    const batchEvents: number[] = [];
    const history = await fineTune(fresh, {
      train: [{ input: x, target: y }, { input: x, target: y }], valid: [{ input: x, target: y }],
      epochs: 3, lr: 0.01, momentum: 0.9, schedule: { kind: 'step', stepSize: 1, gamma: 0.5 },
      checkpoint: path.join(tmp.dir, 'ckpt.pth'), onBatch: (e) => batchEvents.push(e.batch),
    });
    assert.deepEqual(history.map((r) => r.epoch), [1, 2, 3]);
    assert.deepEqual(history.map((r) => r.lr), [0.01, 0.005, 0.0025]);
    assert.deepEqual(batchEvents, [1, 2, 1, 2, 1, 2]);
    for (const r of history) {
      assert.ok(r.trainLoss > 0 && r.trainAcc >= 0 && r.trainAcc <= 1 && r.validLoss! > 0 && r.imagesPerSec > 0 && r.seconds > 0);
    }
    // What Python sees: torch.load(weights_only=True) reads it, real numbers as 0-d float64 tensors.
    const seen = JSON.parse(await runPython('checkpoint_check.py', [path.join(tmp.dir, 'ckpt.pth')]));
    assert.deepEqual(seen.history, history, `torch ${seen.torch}`);
    assert.deepEqual([seen.epoch, seen.batch, seen.step, seen.model, seen.momentum_buffers], [3, 0, 6, 122, 62]);
    assert.deepEqual(seen.param_groups.map((g: { lr: number; initial_lr: number }) => [g.lr, g.initial_lr]), [[0.00125, 0.01], [0.0125, 0.1]]);
    const resumed = await fineTune(fresh, { train: [{ input: x, target: y }], epochs: 4, lr: 0.01, momentum: 0.9,
      schedule: { kind: 'step', stepSize: 1, gamma: 0.5 }, resume: path.join(tmp.dir, 'ckpt.pth') });
    assert.deepEqual(resumed.map((r) => r.epoch), [1, 2, 3, 4]);
    assert.equal(resumed[3].lr, 0.00125);
    fresh.dispose();
    tmp.cleanup();
  });
});

// AdamW with layer-wise lr decay and MAE's schedule, LARS, the linear probe with LARS, and soft
// targets against PyTorch step for step (torch.optim.AdamW and the test's transcriptions of MAE's
// lars.py / lr_decay.py / lr_sched.py in test/python/optim_reference.py); state dicts that
// torch.optim loads; exact resume from checkpoints.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  AdamW, LARS, LRScheduler, Mixup, Optimizer, PthValue, ResNet18, loadCheckpoint, loadPth, paramGroupsLrd, readPth, saveCheckpoint, savePth,
  SGD, SoftTarget, Target,
} from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { runPython } from '../helpers/python';
import { assertStateClose, referenceRun } from '../helpers/training';

type Mode = 'adamw-lrd' | 'lars' | 'lars-probe' | 'soft';

interface Setup {
  optimizer: Optimizer;
  scheduler?: LRScheduler;
  labelSmoothing?: number;
}

/** ResNet stages as the layers of layer-wise decay (the stem 0, layerK K, fc last), as optim_reference.py. */
const resnetLayerId = (name: string, numLayers: number): number =>
  name.startsWith('layer') ? Number(name[5]) : name.startsWith('fc') ? numLayers : 0;

/** The optimizer and schedule of each mode, as optim_reference.py's setup() makes them. */
function setup(net: ResNet18, mode: Mode): Setup {
  switch (mode) {
    case 'adamw-lrd': {
      const groups = paramGroupsLrd(net.parameters(), { layerDecay: 0.65, weightDecay: 0.05, numLayers: 5, layerId: resnetLayerId, noWeightDecayList: [] });
      const optimizer = new AdamW(groups, { lr: 1e-3 });
      const scheduler = new LRScheduler(optimizer, { kind: 'halfCycleCosine', per: 'step', stepsPerEpoch: 4, warmupEpochs: 1, epochs: 3, minLr: 1e-6 });
      return { optimizer, scheduler, labelSmoothing: 0.1 };
    }
    case 'lars':
      return { optimizer: new LARS(net.parameters(), { lr: 0.1, weightDecay: 0.05 }) };
    case 'lars-probe': {
      net.freeze({ except: ['fc'] }).eval();
      const optimizer = new LARS(net.fc.parameters(), { lr: 0.1 });
      return { optimizer, scheduler: new LRScheduler(optimizer, { kind: 'halfCycleCosine', per: 'step', stepsPerEpoch: 2, warmupEpochs: 1, epochs: 4 }) };
    }
    case 'soft':
      return { optimizer: new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }) };
  }
}

async function train(net: ResNet18, s: Setup, batches: { input: HostTensor; target: Target | SoftTarget }[], steps: number[]) {
  const losses: number[] = [];
  const lrs: number[][] = [];
  for (const step of steps) {
    lrs.push(s.optimizer.paramGroups.map((g) => g.lr));
    const b = batches[step % batches.length];
    losses.push((await net.trainStep(b.input, b.target, s.optimizer, { labelSmoothing: s.labelSmoothing ?? 0 })).loss);
    s.scheduler?.step();
  }
  return { losses, lrs };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * The group keys torch 2.x added after 1.13, at their defaults: torch.optim's load_state_dict sets
 * them when a state_dict lacks them, so finetorch's (torch 1.13's keys) need not hold them.
 */
const TORCH2_FLAG_DEFAULTS: Record<string, PthValue> = { differentiable: false, fused: null, decoupled_weight_decay: true };

/**
 * Every key torch's group holds is in ours with the same value (but lr under a schedule: ours is
 * already the next step's, MAE sets it before each step; and torch 2.x's flags at their defaults);
 * ours adds only initial_lr.
 */
function assertGroupsMatch(ours: Record<string, PthValue>[], theirs: Map<string, PthValue>[], scheduled: boolean): void {
  assert.equal(ours.length, theirs.length);
  theirs.forEach((g, i) => {
    for (const [key, value] of g) {
      if (key === 'params' || (scheduled && key === 'lr')) continue;
      if (!(key in ours[i]) && key in TORCH2_FLAG_DEFAULTS && value === TORCH2_FLAG_DEFAULTS[key]) continue;
      assert.ok(key in ours[i], `group ${i} lacks ${key}`);
      if (typeof value === 'number') assert.ok(Math.abs((ours[i][key] as number) - value) <= 1e-12 * Math.abs(value), `group ${i} ${key}: ${String(ours[i][key])} vs ${value}`);
      else assert.deepEqual(ours[i][key], value, `group ${i} ${key}`);
    }
    assert.deepEqual(Object.keys(ours[i]).filter((k) => !g.has(k)), ['initial_lr'], `group ${i}: keys torch lacks`);
  });
}

describe('optimizers against PyTorch: AdamW with layer decay, LARS, the probe, soft targets', () => {
  const run = referenceRun();

  for (const mode of ['adamw-lrd', 'lars', 'lars-probe'] as const) {
    it(`${mode}: 10 steps (losses, lrs, weights, optimizer state within 1e-4), and torch.optim continues from our state_dict`, async () => {
      await runPython('optim_reference.py', ['run', run.dir, mode, '10']);
      const net = await ResNet18.load(run.start);
      const s = setup(net, mode);
      const { losses, lrs } = await train(net, s, run.batches, Array.from({ length: 10 }, (_, i) => i));
      const expectedLosses = readJson<number[]>(path.join(run.dir, `${mode}-losses.json`));
      losses.forEach((l, i) => assert.ok(Math.abs(l - expectedLosses[i]) <= 1e-4 * Math.abs(expectedLosses[i]), `step ${i + 1}: loss ${l} vs ${expectedLosses[i]}`));
      assertClose(lrs.flat(), readJson<number[][]>(path.join(run.dir, `${mode}-lrs.json`)).flat(), 1e-12, 'lrs');
      assertStateClose(await net.stateDict(), await loadPth(path.join(run.dir, `${mode}-final.pth`)), 1e-4);

      const ours = await s.optimizer.stateDict();
      const theirs = await readPth(path.join(run.dir, `${mode}-optim.pth`)) as Map<string, PthValue>;
      assertGroupsMatch(ours.param_groups, theirs.get('param_groups') as Map<string, PthValue>[], s.scheduler !== undefined);
      const theirState = theirs.get('state') as Map<number, Map<string, HostTensor>>;
      assert.deepEqual([...ours.state.keys()], [...theirState.keys()], 'parameters with state');
      for (const [i, entry] of theirState) {
        assert.deepEqual(Object.keys(ours.state.get(i)!), [...entry.keys()], `state[${i}] slots`);
        for (const [slot, t] of entry) {
          assert.deepEqual(ours.state.get(i)![slot].shape, t.shape, `state[${i}].${slot} shape`);
          assertClose(ours.state.get(i)![slot].data as Float32Array, t.data as Float32Array, 1e-4, `state[${i}].${slot}`);
        }
      }

      // torch 1.13 and the ecosystem's torch 2.x (whose torch.load is weights_only) load it.
      await savePth(path.join(run.dir, `js-${mode}-optim.pth`), ours);
      await runPython('optim_reference.py', ['resume', run.dir, mode, '10']);
      await runPython('optim_reference.py', ['resume', run.dir, mode, '10', '-ecosystem'], { ecosystem: true });
      await train(net, s, run.batches, [10]);
      for (const tag of ['', '-ecosystem']) {
        assertStateClose(await net.stateDict(), await loadPth(path.join(run.dir, `${mode}-resumed${tag}.pth`)), 1e-4);
      }
      net.dispose();
    });
  }

  it('soft targets from Mixup/CutMix: 10 SGD steps of timm\'s SoftTargetCrossEntropy within 1e-4', async () => {
    const mixup = new Mixup({ mixupAlpha: 0.8, cutmixAlpha: 1, numClasses: 5 });
    const mixed: { input: HostTensor; target: SoftTarget; lam: number }[] = [];
    for (let i = 0; i < run.batches.length; i++) {
      const input = { ...run.batches[i].input, data: (run.batches[i].input.data as Float32Array).slice() };
      mixed.push(await mixup.apply({ input, target: run.batches[i].target as Int32Array }, i));
    }
    const lams = mixed.map((b) => b.lam);
    assert.ok(lams.some((l) => l !== 1) && new Set(lams).size > 1, `the draws mix: ${lams.join(', ')}`);
    fs.writeFileSync(path.join(run.dir, 'soft-input.f32'), Buffer.concat(mixed.map((b) => Buffer.from((b.input.data as Float32Array).buffer))));
    fs.writeFileSync(path.join(run.dir, 'soft-target.f32'), Buffer.concat(mixed.map((b) => Buffer.from(b.target.data.buffer))));
    await runPython('optim_reference.py', ['run', run.dir, 'soft', '10']);
    const net = await ResNet18.load(run.start);
    const { losses } = await train(net, setup(net, 'soft'), mixed, Array.from({ length: 10 }, (_, i) => i));
    assertClose(losses, readJson<number[]>(path.join(run.dir, 'soft-losses.json')), 1e-4, 'losses');
    assertStateClose(await net.stateDict(), await loadPth(path.join(run.dir, 'soft-final.pth')), 1e-4);
    net.dispose();
  });

  for (const mode of ['adamw-lrd', 'lars'] as const) {
    it(`${mode}: 4 steps == 2 steps, checkpoint, a fresh model and optimizer resumed, 2 steps (identical weights, state and lrs)`, async () => {
      const net = await ResNet18.load(run.start);
      const s = setup(net, mode);
      await train(net, s, run.batches, [0, 1]);
      const ckpt = path.join(run.dir, `${mode}.ckpt`);
      await saveCheckpoint(ckpt, { net, optimizer: s.optimizer, scheduler: s.scheduler });
      // torch 1.13's torch.load(weights_only=True) reads it, the groups' settings as they were.
      const seen = JSON.parse(await runPython('checkpoint_check.py', [ckpt])) as { param_groups: Record<string, unknown>[] };
      const groups = (await s.optimizer.stateDict()).param_groups.map(({ params: _params, ...g }) => g);
      assert.deepEqual(seen.param_groups, JSON.parse(JSON.stringify(groups)));
      const straight = await train(net, s, run.batches, [2, 3]);
      const expected = { weights: await net.stateDict(), optimizer: await s.optimizer.stateDict() };
      net.dispose();

      const fresh = await ResNet18.load(run.start);
      const r = setup(fresh, mode);
      await loadCheckpoint(ckpt, { net: fresh, optimizer: r.optimizer, scheduler: r.scheduler });
      assert.equal(r.optimizer.stepCount, 2);
      const resumed = await train(fresh, r, run.batches, [2, 3]);
      assert.deepEqual(resumed, straight);
      for (const [name, t] of expected.weights) assert.deepEqual((await fresh.stateDict()).get(name)!.data, t.data, `${name} differs after resume`);
      const state = await r.optimizer.stateDict();
      for (const [i, entry] of expected.optimizer.state) {
        for (const [slot, t] of Object.entries(entry)) assert.deepEqual(state.state.get(i)![slot].data, t.data, `state[${i}].${slot}`);
      }
      assert.deepEqual(state.param_groups, expected.optimizer.param_groups);
      fresh.dispose();
    });
  }
});

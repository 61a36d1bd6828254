// Data-parallel training against PyTorch's DistributedDataParallel (gloo): the same ResNet-18,
// batches and SGD on every rank of a job of separate processes, BatchNorm in train and eval mode.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPth } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { requirePythonWithTorch } from '../../scripts/python-with-torch';
import { PYTHON_DIR, runPython, tempDir } from '../helpers/python';
import { assertAllSucceeded, runRanks } from '../helpers/ranks';

const WORKER = path.resolve(__dirname, '..', 'helpers', 'dist-ddp-worker.js');
const MODES = ['train', 'eval'];

interface RankResult {
  losses: number[];
  buckets: number[][];
}

/** max |a - b| over every float tensor, and whether all tensors are bit-identical. */
function compareStates(actual: Map<string, HostTensor>, expected: Map<string, HostTensor>): { maxDiff: number; identical: boolean } {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  let maxDiff = 0;
  let identical = true;
  for (const [name, t] of expected) {
    const a = actual.get(name)!.data;
    if (t.dtype === 'int64') {
      assert.deepEqual(a, t.data, name);
      continue;
    }
    for (let i = 0; i < t.data.length; i++) {
      const d = Math.abs((a[i] as number) - (t.data[i] as number));
      if (d > maxDiff) maxDiff = d;
      if (!Object.is(a[i], t.data[i])) identical = false;
    }
  }
  return { maxDiff, identical };
}

async function job(dir: string, world: number): Promise<void> {
  const { python } = requirePythonWithTorch();
  const modes = MODES.join(',');
  assertAllSucceeded(await runRanks(world, () => [python, path.join(PYTHON_DIR, 'dist_ddp.py'), 'run', dir, modes]), 'PyTorch DDP');
  assertAllSucceeded(await runRanks(world, () => [process.execPath, WORKER, dir, modes]), 'finetorch');
}

describe('data-parallel training against PyTorch DistributedDataParallel (gloo, 2 processes)', () => {
  const tmp = tempDir('finetorch-ddp-');
  before(async () => {
    await runPython('dist_ddp.py', ['make', tmp.dir, '2']);
    await job(tmp.dir, 2);
  });
  after(() => tmp.cleanup());

  for (const bn of MODES) {
    for (const rank of [0, 1]) {
      it(`BatchNorm ${bn}, rank ${rank}: weights and losses as PyTorch's (<= 1e-6; bit-identical expected), same buckets`, async (t) => {
        const file = (who: string, ext: string) => path.join(tmp.dir, `${who}-${bn}-rank${rank}.${ext}`);
        const ours = JSON.parse(fs.readFileSync(file('finetorch', 'json'), 'utf8')) as RankResult;
        const theirs = JSON.parse(fs.readFileSync(file('torch', 'json'), 'utf8')) as RankResult;
        const { maxDiff, identical } = compareStates(await loadPth(file('finetorch', 'pth')), await loadPth(file('torch', 'pth')));
        t.diagnostic(`max |finetorch - PyTorch| = ${maxDiff}; bit-identical: ${identical}`);
        assert.ok(maxDiff <= 1e-6, `weights differ by up to ${maxDiff}`);
        ours.losses.forEach((l, i) => assert.ok(Math.abs(l - theirs.losses[i]) <= 1e-6, `step ${i + 1}: loss ${l} vs ${theirs.losses[i]}`));
        // DDP's rebuilt buckets: parameter indices in gradient-ready order, cut at 1 MiB then 25 MiB.
        assert.deepEqual(ours.buckets, theirs.buckets);
      });
    }
  }

  it("both ranks end with the same parameters (BatchNorm statistics are each rank's own until the next forward)", async () => {
    const parameters = (m: Map<string, HostTensor>) => new Map([...m].filter(([name]) => !/running_|num_batches/.test(name)));
    for (const bn of MODES) {
      const [a, b] = await Promise.all([0, 1].map((r) => loadPth(path.join(tmp.dir, `finetorch-${bn}-rank${r}.pth`))));
      assert.ok(compareStates(parameters(a), parameters(b)).identical, `BatchNorm ${bn}: the ranks' parameters differ`);
    }
  });
});

describe('data-parallel training against PyTorch DDP at 3 processes (where the bucket layout decides the sums)', () => {
  const tmp = tempDir('finetorch-ddp3-');
  after(() => tmp.cleanup());

  it('BatchNorm train, every rank: weights and losses as PyTorch\'s', async () => {
    await runPython('dist_ddp.py', ['make', tmp.dir, '3']);
    const { python } = requirePythonWithTorch();
    assertAllSucceeded(await runRanks(3, () => [python, path.join(PYTHON_DIR, 'dist_ddp.py'), 'run', tmp.dir, 'train']), 'PyTorch DDP');
    assertAllSucceeded(await runRanks(3, () => [process.execPath, WORKER, tmp.dir, 'train']), 'finetorch');
    for (const rank of [0, 1, 2]) {
      const file = (who: string, ext: string) => path.join(tmp.dir, `${who}-train-rank${rank}.${ext}`);
      const { maxDiff } = compareStates(await loadPth(file('finetorch', 'pth')), await loadPth(file('torch', 'pth')));
      assert.ok(maxDiff <= 1e-6, `rank ${rank}: weights differ by up to ${maxDiff}`);
      const ours = JSON.parse(fs.readFileSync(file('finetorch', 'json'), 'utf8')) as RankResult;
      const theirs = JSON.parse(fs.readFileSync(file('torch', 'json'), 'utf8')) as RankResult;
      ours.losses.forEach((l, i) => assert.ok(Math.abs(l - theirs.losses[i]) <= 1e-6, `rank ${rank}, step ${i + 1}: loss ${l} vs ${theirs.losses[i]}`));
    }
  });
});

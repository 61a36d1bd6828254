// Data-parallel jobs that go wrong: a rank killed in the middle of training, and a rank that never
// comes. The others must fail with a clear error instead of hanging, and leave the files of the
// last finished epoch intact.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPth, readCheckpointInfo, ResNet18, savePth } from '../../lib';
import { makeCorpus } from '../../scripts/make-corpus';
import { tempDir } from '../helpers/python';
import { freePort } from '../../lib/cli/launch';
import { rankEnv, run, start } from '../helpers/ranks';

const MAIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
const RANK = path.resolve(__dirname, '..', 'helpers', 'dist-rank.js');

describe('data-parallel faults', () => {
  const tmp = tempDir('finetorch-dist-faults-');
  after(() => tmp.cleanup());

  it('rank 0 killed mid-step: rank 1 fails at once with a clear error; the last checkpoint stays whole', { timeout: 180_000 }, async (t) => {
    const data = await makeCorpus({ dir: tmp.dir, count: 36, classes: 3, minSide: 40, maxSide: 56 });
    const weights = path.join(tmp.dir, 'start.pth');
    const net = await ResNet18.create({ numClasses: 3, seed: 0 });
    await savePth(weights, await net.stateDict());
    net.dispose();
    const out = path.join(tmp.dir, 'out');
    const argv = [process.execPath, MAIN, 'train', '--data', data, '--weights', weights, '--out', out, '--epochs', '4',
      '--image-size', '32', '--batch-size', '4'];
    const port = await freePort();
    // The ranks as torchrun starts them, with no launcher to stop them: only the dead peer can.
    let killedAt = 0;
    const survivor = start(argv, rankEnv(1, 2, port));
    const victim = start(argv, rankEnv(0, 2, port), (text) => {
      // Epoch 1's files are written before its line is printed; epoch 2's steps are under way.
      if (!killedAt && /epoch 1\/4/.test(text)) {
        killedAt = performance.now();
        victim.child.kill('SIGKILL');
      }
    });
    await victim.exit;
    const r = await survivor.exit;
    t.diagnostic(`rank 1 exited ${((performance.now() - killedAt) / 1000).toFixed(1)} s after rank 0 was killed: ${r.stderr.trim().split('\n').at(-1)}`);
    assert.ok(killedAt > 0, 'rank 0 never finished epoch 1');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rank 1: .* failed .*another rank has probably stopped/);
    assert.equal((await readCheckpointInfo(path.join(out, 'checkpoint.pth'))).epoch, 1);
    assert.ok((await loadPth(path.join(out, 'last.pth'))).size > 0);
  });

  it("a rank that never comes: the others fail at the start-up deadline, naming it and the store's address", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const alone0 = await run([process.execPath, RANK, 'join', '3000'], rankEnv(0, 2, port));
    assert.equal(alone0.code, 1);
    assert.match(alone0.stdout, new RegExp(`ERR_FINETORCH_DIST: rank 0: rank 1 of 2 did not join the rendezvous at 127\\.0\\.0\\.1:${port} within 3 s`));
    const alone1 = await run([process.execPath, RANK, 'join', '3000'], rankEnv(1, 2, port));
    assert.equal(alone1.code, 1);
    assert.match(alone1.stdout, new RegExp(`ERR_FINETORCH_DIST: rank 1: no rendezvous store answered at 127\\.0\\.0\\.1:${port} within 3 s \\(rank 0 hosts it`));
    // With everyone there, the same job starts.
    const both = await Promise.all([0, 1].map((rank) => run([process.execPath, RANK, 'join', '60000'], rankEnv(rank, 2, port))));
    for (const [rank, r] of both.entries()) assert.match(r.stdout, new RegExp(`joined as rank ${rank} of 2; sum of ranks \\+ 1 = 3`), r.stdout);
  });

  it('a NaN loss on one rank: every rank refuses the step, none waits for the other, the next step runs', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const [r0, r1] = await Promise.all([0, 1].map((rank) => run([process.execPath, RANK, 'nonfinite'], rankEnv(rank, 2, port))));
    assert.match(r0.stdout, /refused: ERR_FINETORCH_NONFINITE_LOSS: .*the loss of another rank is not finite; no rank stepped/, r0.stdout + r0.stderr);
    assert.match(r1.stdout, /refused: ERR_FINETORCH_NONFINITE_LOSS: .*the loss is nan/, r1.stdout + r1.stderr);
    // Both ranks stepped once, from the same weights: the same loss.
    const after = (r: { stdout: string }) => /then stepped: loss (\S+), step 1/.exec(r.stdout)?.[1];
    assert.ok(after(r0) !== undefined && after(r0) === after(r1), r0.stdout + r1.stdout);
  });
});

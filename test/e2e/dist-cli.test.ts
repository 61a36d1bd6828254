// `finetorch train` as a data-parallel job: the launcher (--nproc-per-node), resuming it, torchrun
// starting the same command, one rank's failure stopping all, and two nodes (two network
// namespaces) giving the one-node run's weights.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPth, readCheckpointInfo, ResNet18, savePth } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { makeCorpus } from '../../scripts/make-corpus';
import { requirePythonWithTorch } from '../../scripts/python-with-torch';
import { namespacesUnavailable, twoHosts } from '../helpers/netns';
import { tempDir } from '../helpers/python';
import { freePort } from '../../lib/cli/launch';
import { Exit, run } from '../helpers/ranks';

const MAIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
const ENV = { ...process.env, FINETORCH_DEBUG: '', OMP_NUM_THREADS: '1' };

function sameWeights(a: Map<string, HostTensor>, b: Map<string, HostTensor>): boolean {
  return [...a].every(([name, t]) => {
    const u = b.get(name)!;
    return t.data.length === u.data.length && t.data.every((v, i) => Object.is(v, u.data[i]));
  });
}

function epochsIn(out: string): number[] {
  return (JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { epoch: number }[]).map((r) => r.epoch);
}

function assertExit(r: Exit, code: number): void {
  assert.equal(r.code, code, `exit ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
}

describe('finetorch train as a data-parallel job', () => {
  const tmp = tempDir('finetorch-dist-cli-');
  let data: string;
  let weights: string;
  const train = (out: string, ...more: string[]) => [MAIN, 'train', '--data', data, '--weights', weights, '--out', out,
    '--image-size', '32', '--batch-size', '4', '--seed', '3', ...more];
  const oneNode = () => path.join(tmp.dir, 'one-node');

  before(async () => {
    // train/ and valid/: the validation set the job shards is one `finetorch eval` can score alone.
    data = path.join(tmp.dir, 'data');
    for (const [split, count, seed] of [['train', 36, 0], ['valid', 13, 1]] as const) {
      const corpus = await makeCorpus({ dir: path.join(tmp.dir, split), count, classes: 3, minSide: 40, maxSide: 56, seed });
      fs.mkdirSync(data, { recursive: true });
      fs.renameSync(corpus, path.join(data, split));
    }
    weights = path.join(tmp.dir, 'start.pth');
    const net = await ResNet18.create({ numClasses: 3, seed: 0 });
    await savePth(weights, await net.stateDict());
    net.dispose();
  });
  after(() => tmp.cleanup());

  it('--nproc-per-node 2: rank-prefixed output, one set of outputs written by rank 0, then resumable', async () => {
    const port = String(await freePort());
    const r = await run([process.execPath, ...train(oneNode(), '--epochs', '2', '--nproc-per-node', '2', '--master-port', port)], ENV);
    assertExit(r, 0);
    // Each rank scored its share of valid/ (7 and 6 images): the epoch's figures are the whole set's.
    const last = (JSON.parse(fs.readFileSync(path.join(oneNode(), 'metrics.json'), 'utf8')) as { validLoss: number; validAcc: number }[]).at(-1)!;
    const alone = await run([process.execPath, MAIN, 'eval', '--weights', path.join(oneNode(), 'last.pth'), '--data', path.join(data, 'valid'), '--json'], ENV);
    assertExit(alone, 0);
    const whole = JSON.parse(alone.stdout) as { count: number; loss: number; accuracy: number };
    assert.equal(whole.count, 13);
    assert.equal(last.validAcc, whole.accuracy);
    assert.ok(Math.abs(last.validLoss - whole.loss) <= 1e-5 * Math.abs(whole.loss), `valid loss ${last.validLoss} vs ${whole.loss}`);
    assert.match(r.stderr, /^\[rank 0\] epoch 2\/2 /m);
    assert.doesNotMatch(r.stderr, /^\[rank 1\] epoch/m, 'only rank 0 reports progress');
    assert.match(r.stdout, /^\[rank 0\] best valid accuracy /m);
    assert.doesNotMatch(r.stdout, /^\[rank 1\]/m, 'only rank 0 prints the summary');
    assert.equal(JSON.parse(fs.readFileSync(path.join(oneNode(), 'run.json'), 'utf8'))['world-size'], '2');
    assert.deepEqual(epochsIn(oneNode()), [1, 2]);
    for (const file of ['last.pth', 'best.pth', 'checkpoint.pth']) assert.ok(fs.existsSync(path.join(oneNode(), file)), file);
    assert.deepEqual(fs.readdirSync(oneNode()).filter((f) => /tmp|rank/.test(f)), [], 'no stray files');
    // The run continues where it stopped, as a data-parallel job again.
    fs.cpSync(oneNode(), path.join(tmp.dir, 'resumed'), { recursive: true });
    const resumed = await run([process.execPath, MAIN, 'train', '--resume', path.join(tmp.dir, 'resumed'), '--epochs', '3',
      '--nproc-per-node', '2', '--master-port', String(await freePort())], ENV);
    assertExit(resumed, 0);
    assert.deepEqual(epochsIn(path.join(tmp.dir, 'resumed')), [1, 2, 3]);
    assert.equal((await readCheckpointInfo(path.join(tmp.dir, 'resumed', 'checkpoint.pth'))).epoch, 3);
    // In one process: half the images per step, said before it trains on.
    const oneProcess = await run([process.execPath, MAIN, 'train', '--resume', path.join(tmp.dir, 'resumed'), '--epochs', '4'], ENV);
    assertExit(oneProcess, 0);
    assert.match(oneProcess.stderr, /^warning: the run trained with 2 processes \(8 images per step at --batch-size 4\); this resume runs 1 process/m);
  });

  it('runs under torchrun --no-python alike (the agent hosts the store)', async () => {
    const { python } = requirePythonWithTorch();
    const out = path.join(tmp.dir, 'torchrun');
    // Debian's torchrun needs --redirects/--tee/--log_dir on Python 3.11.
    const r = await run([python, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', String(await freePort()),
      '--redirects', '1', '--tee', '1', '--log_dir', path.join(tmp.dir, 'torchrun-logs'), '--no_python',
      process.execPath, ...train(out, '--epochs', '2')], ENV);
    assertExit(r, 0);
    assert.ok(sameWeights(await loadPth(path.join(out, 'last.pth')), await loadPth(path.join(oneNode(), 'last.pth'))),
      "torchrun's job trains the launcher's weights");
  });

  it('a rank that dies stops every other rank, and the launcher exits non-zero', async () => {
    const out = path.join(tmp.dir, 'killed');
    let killed = false;
    const r = await run([process.execPath, ...train(out, '--epochs', '3', '--nproc-per-node', '2', '--master-port', String(await freePort()))],
      ENV, (text) => {
        // Once rank 0 has finished epoch 1, kill rank 1 (the launcher names each rank's pid).
        const pid = /rank 1 of 2 started \(pid (\d+)\)/.exec(text)?.[1];
        if (pid && !killed && /\[rank 0\] epoch 1\/3/.test(text)) {
          killed = true;
          process.kill(Number(pid), 'SIGKILL');
        }
      });
    assert.ok(killed, `rank 1 was never killed:\n${r.stderr}`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /finetorch train: rank 1 was killed by SIGKILL; stopping the other ranks/);
  });

  const noNamespaces = namespacesUnavailable();
  it('two nodes (two network namespaces, --nnodes 2): the weights of the one-node 2-process run', { skip: noNamespaces }, async () => {
    const hosts = twoHosts(String(process.pid % 10000));
    try {
      const out = path.join(tmp.dir, 'two-nodes');
      const port = String(await freePort());
      const nodes = [0, 1].map((k) => run([...hosts.exec(k as 0 | 1), process.execPath, ...train(out, '--epochs', '2',
        '--nproc-per-node', '1', '--nnodes', '2', '--node-rank', String(k), '--master-addr', hosts.addresses[0], '--master-port', port)], ENV));
      for (const r of await Promise.all(nodes)) assertExit(r, 0);
      assert.ok(sameWeights(await loadPth(path.join(out, 'last.pth')), await loadPth(path.join(oneNode(), 'last.pth'))));
    } finally {
      hosts.remove();
    }
  });
});

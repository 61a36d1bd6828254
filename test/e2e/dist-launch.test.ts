// The data-parallel launcher without LibTorch: each rank's variables, the flags' checks, output
// prefixed by rank, and one failing rank stopping the others.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Flags, UsageError } from '../../lib/cli/args';
import { LAUNCH_OPTIONS, jobLayout, launch, rankEnv } from '../../lib/cli/launch';

const SPEC = { name: 'train', usage: [], options: { ...LAUNCH_OPTIONS } };

function sink(): Writable & { text: string } {
  const out = new Writable({
    write(chunk, _encoding, done) {
      out.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  out.text = '';
  return out;
}

describe('launcher', () => {
  it("gives each rank torchrun's variables and a share of the cores", () => {
    const env = rankEnv({ nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29500 }, 1, {});
    assert.deepEqual(
      [env.RANK, env.LOCAL_RANK, env.WORLD_SIZE, env.LOCAL_WORLD_SIZE, env.GROUP_RANK, env.MASTER_ADDR, env.MASTER_PORT],
      ['3', '1', '4', '2', '1', '10.0.0.1', '29500']);
    assert.equal(env.OMP_NUM_THREADS, String(Math.max(1, Math.floor(os.availableParallelism() / 2))));
    assert.equal(rankEnv({ nprocPerNode: 2, nnodes: 1, nodeRank: 0, masterAddr: 'h', masterPort: 1 }, 0, { OMP_NUM_THREADS: '3' }).OMP_NUM_THREADS, '3');
  });

  it('reads the launcher flags, and refuses what cannot work', async () => {
    const layout = (given: Record<string, string>, env: NodeJS.ProcessEnv = {}) => jobLayout(new Flags(SPEC, given), env);
    assert.equal(await layout({}), undefined);
    const one = await layout({ 'nproc-per-node': '2' });
    assert.deepEqual({ ...one, masterPort: 0 }, { nprocPerNode: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: 0 });
    assert.ok(one!.masterPort > 0, 'a free port on one machine');
    assert.equal((await layout({ nnodes: '2', 'master-addr': 'h' }))!.masterPort, 29500);
    await assert.rejects(layout({ nnodes: '2' }), new UsageError('--nnodes needs --master-addr: the address of node 0 that every node can reach'));
    await assert.rejects(layout({ nnodes: '2', 'node-rank': '2', 'master-addr': 'h' }), /--node-rank must be below --nnodes \(2\), got 2/);
    await assert.rejects(layout({ 'master-port': '70000' }), /--master-port must be a port number/);
    await assert.rejects(layout({ 'nproc-per-node': '2' }, { TORCHELASTIC_RUN_ID: 'x' }), /under torchrun, leave the launcher flags out/);
  });

  it('prefixes every line with its rank; a failing rank stops the others and gives its exit code', async () => {
    // Rank 0 talks, marks that it has, and would run for a minute; rank 1 waits for the mark (else
    // it could stop rank 0 before rank 0 prints), says why it fails and exits 3.
    const said = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'finetorch-launch-')), 'rank0-said');
    const script = `const fs = require('fs'); const r = process.env.RANK; console.log('hello from ' + r + '\\nsecond line');
      if (r === '0') { fs.writeFileSync(${JSON.stringify(said)}, ''); setTimeout(() => {}, 60000); }
      else setInterval(() => { if (fs.existsSync(${JSON.stringify(said)})) { console.error('bad things'); process.exit(3); } }, 20);`;
    const io = { stdout: sink(), stderr: sink() };
    const code = await launch({ nprocPerNode: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: 1 }, ['-e', script], io);
    fs.rmSync(path.dirname(said), { recursive: true, force: true });
    assert.equal(code, 3);
    assert.match(io.stdout.text, /^\[rank 1\] hello from 1\n\[rank 1\] second line$/m);
    assert.match(io.stdout.text, /^\[rank 0\] hello from 0$/m);
    assert.match(io.stderr.text, /^\[rank 1\] bad things$/m);
    assert.match(io.stderr.text, /finetorch train: rank 1 exited with code 3; stopping the other ranks/);
  });
});

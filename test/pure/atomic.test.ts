// lib/base/atomic.ts: the temporary files of writers that died (kill -9) are removed by the next write
// to the same target; those of live writers, other hosts, other targets are left alone.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from '../../lib/base/atomic';
import { tempDir } from '../helpers/python';

const HOST = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('writeFileAtomic and the temporary files of dead writers', () => {
  const tmp = tempDir('finetorch-atomic-');
  let live: ChildProcess;
  before(() => {
    live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  });
  after(() => {
    live.kill('SIGKILL');
    tmp.cleanup();
  });

  it('removes the temps of dead writers of the target, in the current and the earlier name format', async () => {
    const dir = fs.mkdtempSync(path.join(tmp.dir, 'dead-'));
    const dead = await deadPid();
    const stale = [`.model.pth.${HOST}.${dead}-12345.0123456789ab.tmp`, `.model.pth.${dead}.abcdefabcdef.tmp`];
    for (const name of stale) fs.writeFileSync(path.join(dir, name), 'half a file');
    await writeFileAtomic(path.join(dir, 'model.pth'), 'whole');
    assert.deepEqual(fs.readdirSync(dir), ['model.pth']);
    assert.equal(fs.readFileSync(path.join(dir, 'model.pth'), 'utf8'), 'whole');
  });

  it('keeps the temps of live writers, of other hosts and of other targets, and files that only look alike', async () => {
    const dir = fs.mkdtempSync(path.join(tmp.dir, 'keep-'));
    const dead = await deadPid();
    const kept = [
      `.model.pth.${HOST}.${live.pid}-0.0123456789ab.tmp`, // a live writer whose start time is unknown
      `.model.pth.${live.pid}.0123456789ab.tmp`, // the same, in the earlier format
      `.model.pth.${HOST}.${process.pid}-0.aaaaaaaaaaaa.tmp`, // this very process
      `.model.pth.0badc0de.${dead}-1.0123456789ab.tmp`, // another host: its processes are not ours to judge
      `.other.pth.${HOST}.${dead}-1.0123456789ab.tmp`, // another target
      `.model.pth.${dead}.notes.tmp`, // not a temp name
    ];
    for (const name of kept) fs.writeFileSync(path.join(dir, name), '');
    await writeFileAtomic(path.join(dir, 'model.pth'), 'whole');
    assert.deepEqual(fs.readdirSync(dir).sort(), [...kept, 'model.pth'].sort());
  });

  it('judges a reused pid by its start time: a live process that started at another time is not the writer', async () => {
    const dir = fs.mkdtempSync(path.join(tmp.dir, 'reused-'));
    const reused = `.model.pth.${HOST}.${live.pid}-1.0123456789ab.tmp`;
    fs.writeFileSync(path.join(dir, reused), '');
    await writeFileAtomic(path.join(dir, 'model.pth'), 'whole');
    // Start times are known where /proc is: elsewhere any live process with the pid counts as the writer.
    assert.deepEqual(fs.readdirSync(dir).sort(), fs.existsSync('/proc/self/stat') ? ['model.pth'] : [reused, 'model.pth'].sort());
  });

  it('names its own temps so that they survive concurrent writes to the same target', async () => {
    const dir = fs.mkdtempSync(path.join(tmp.dir, 'concurrent-'));
    const file = path.join(dir, 'model.pth');
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(file, [Buffer.alloc(200_000, i), Buffer.from([i])])));
    const data = fs.readFileSync(file);
    assert.equal(data.length, 200_001);
    assert.ok(data.every((b) => b === data[0]), 'one whole write, not a mix');
    assert.deepEqual(fs.readdirSync(dir), ['model.pth']);
  });
});

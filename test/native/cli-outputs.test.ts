// The --out folder of finetorch train: on a read-only file system the error says so (Node's
// recursive mkdir alone says ENOENT), and a run starting in a folder removes the temporary files
// that killed runs left for any of its files.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ResNet18 } from '../../lib';
import { modelCard } from '../../lib/cli/model-card';
import { RunFolder, OUT_FILES } from '../../lib/cli/outputs';
import { tempDir } from '../helpers/python';

describe('RunFolder', () => {
  const tmp = tempDir('finetorch-outputs-');
  const card = modelCard('resnet18', ['a', 'b'], 32);
  after(() => tmp.cleanup());

  it('names the read-only file system when --out cannot be created there', async (t) => {
    const readOnly = path.join(tmp.dir, 'read-only');
    fs.mkdirSync(readOnly);
    // A read-only mount needs root (CAP_SYS_ADMIN); permissions alone do not stop root.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro', 'tmpfs', readOnly]);
    if (mounted.status !== 0) {
      t.skip(`no read-only mount for this test (mount: ${mounted.stderr?.toString().trim() || mounted.error?.message})`);
      return;
    }
    try {
      const out = path.join(readOnly, 'run', 'nested');
      await assert.rejects(new RunFolder(out, card).start({}, { clear: false }), (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'EROFS');
        assert.match(err.message, new RegExp(`cannot create the output folder ${out}: EROFS: read-only file system`));
        return true;
      });
    } finally {
      spawnSync('umount', [readOnly]);
    }
  });

  it('plots valid top-5 only with more than five classes (with fewer, every image is in its top five)', async () => {
    const net = await ResNet18.create({ numClasses: 2, seed: 0 });
    try {
      const history = [{ epoch: 1, trainLoss: 1, trainAcc: 0.5, validLoss: 1, validAcc: 0.5, validTop5: 1, imagesPerSec: 1, seconds: 1, lr: 0.1, fcLr: 1 }];
      for (const classes of [['a', 'b'], ['a', 'b', 'c', 'd', 'e', 'f']]) {
        const dir = path.join(tmp.dir, `top5-${classes.length}`);
        const folder = new RunFolder(dir, modelCard('resnet18', classes, 32));
        await folder.start({}, { clear: false });
        await folder.epoch(history, net, false);
        assert.equal(fs.readFileSync(path.join(dir, OUT_FILES.accuracySvg), 'utf8').includes('valid top-5'), classes.length > 5, `${classes.length} classes`);
      }
    } finally {
      net.dispose();
    }
  });

  it('removes the temporaries of dead writers of every run file when a run starts', async () => {
    const run = path.join(tmp.dir, 'run');
    fs.mkdirSync(run);
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim();
    const stale = Object.values(OUT_FILES).map((name) => `.${name}.${dead}.0123456789ab.tmp`);
    for (const name of stale) fs.writeFileSync(path.join(run, name), '');
    await new RunFolder(run, card).start({}, { clear: false });
    assert.deepEqual(fs.readdirSync(run).filter((f) => f.endsWith('.tmp')), []);
  });
});

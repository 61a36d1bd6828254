// finetorch train --protocol mae-linprobe | mae-finetune: MAE's two protocols from an MAE-style
// encoder (the probe head written in MAE's keys, eval reading it back, --resume continuing it),
// and the flags a protocol cannot honour refused as usage errors before anything runs.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPth, savePth, VisionTransformer } from '../../lib';
import { FAST, Result, cli, makeImageFolder } from '../helpers/cli';
import { tempDir } from '../helpers/python';

/** A usage error: exit 2, the reason on the first line (the usage follows). */
function assertUsageError(r: Result, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.split('\n')[0], pattern);
}

describe("finetorch train --protocol: MAE's linear probe and fine-tuning", () => {
  const tmp = tempDir('finetorch-cli-protocols-');
  const data = path.join(tmp.dir, 'data');
  const encoder = path.join(tmp.dir, 'encoder.pth');

  before(async () => {
    await makeImageFolder(data);
    const net = await VisionTransformer.create({ arch: 'vit_tiny_patch16', imgSize: 32, numClasses: 10, seed: 1 });
    const state = await net.stateDict();
    await savePth(encoder, new Map([['model', new Map([...state].filter(([k]) => !k.startsWith('head.')))]]));
    net.dispose();
  });
  after(() => tmp.cleanup());

  it('mae-linprobe trains the probe head (MAE\'s keys), eval reads it, --resume continues it', async () => {
    const out = path.join(tmp.dir, 'probe');
    const r = await cli(['train', '--data', data, '--weights', encoder, '--out', out, '--epochs', '1', '--protocol', 'mae-linprobe', ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /head replaced: .* -> Sequential\(/);
    assert.match(r.stderr, /--protocol mae-linprobe on cpu/);
    const best = await loadPth(path.join(out, 'best.pth'));
    assert.deepEqual([...best.keys()].filter((k) => k.startsWith('head.')),
      ['head.0.running_mean', 'head.0.running_var', 'head.0.num_batches_tracked', 'head.1.weight', 'head.1.bias']);
    const scored = await cli(['eval', '--weights', path.join(out, 'best.pth'), '--data', data, '--json']);
    assert.equal(scored.code, 0, scored.stderr);
    const resumed = await cli(['train', '--resume', out, '--epochs', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assertUsageError(await cli(['train', '--resume', out, '--epochs', '3', '--protocol', 'mae-finetune']), /--protocol cannot change on --resume/);
  });

  it('mae-finetune with Mixup/CutMix and drop path', async () => {
    const out = path.join(tmp.dir, 'finetune');
    const r = await cli(['train', '--data', data, '--weights', encoder, '--out', out, '--epochs', '1', '--protocol', 'mae-finetune',
      '--mixup', '0.8', '--cutmix', '1.0', '--drop-path', '0.1', '--layer-decay', '0.65', '--blr', '5e-4', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).epochs, 1);
    const best = await loadPth(path.join(out, 'best.pth'));
    assert.ok(best.has('fc_norm.weight') && !best.has('norm.weight'), 'global pool with fc_norm, as main_finetune.py');
  });

  it('refuses the flags a protocol cannot honour', async () => {
    const base = ['train', '--data', data, '--weights', encoder, '--out', path.join(tmp.dir, 'x'), ...FAST];
    assertUsageError(await cli([...base, '--protocol', 'mae-linprobe', '--momentum', '0.9']), /--momentum is the d2l recipe's/);
    assertUsageError(await cli([...base, '--protocol', 'mae-finetune', '--fc-lr-mult', '10']), /--fc-lr-mult is the d2l recipe's/);
    assertUsageError(await cli([...base, '--blr', '0.1']), /--blr applies to --protocol mae-linprobe or mae-finetune, not d2l/);
    assertUsageError(await cli([...base, '--protocol', 'mae-linprobe', '--mixup', '0.8']), /--mixup applies to --protocol mae-finetune, not mae-linprobe/);
    assertUsageError(await cli([...base, '--protocol', 'mae-finetune', '--mixup', '0.8', '--batch-size', '5']), /--batch-size must be even/);
    assertUsageError(await cli([...base, '--protocol', 'mae']), /--protocol must be one of/);
  });
});

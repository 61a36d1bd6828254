// finetorch train --protocol mae-linprobe | mae-finetune: MAE's two protocols from an MAE-style
// encoder (the probe head written in MAE's keys, eval reading it back, --resume continuing it),
// the train and valid transforms each protocol logs (MAE's data recipe, and the one warning for
// what finetorch lacks), and the flags a protocol cannot honour refused as usage errors.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPth, savePth, VisionTransformer } from '../../lib';
import { FAST, Result, cli, makeImageFolder } from '../helpers/cli';
import { tempDir } from '../helpers/python';

/** How many times stderr carries the warning for what MAE applies and finetorch lacks. */
function recipeWarnings(stderr: string): number {
  return stderr.split('\n').filter((line) => line.includes('[FINETORCH_MAE_RECIPE] Warning:')).length;
}

const NORMALIZE = 'normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])';
/** util/datasets.py's eval transform at 32 px: the shorter side bicubic to int(32 / 0.875), the centre crop. */
const MAE_VALID = `valid transform: resize(36, bicubic) -> centerCrop(32) -> ${NORMALIZE}\n`;

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
    // main_linprobe.py: util/crop.py's RandomResizedCrop(interpolation=3) + flip; nothing left out, so no warning.
    assert.ok(r.stderr.includes(`train transform: maeRandomResizedCrop(32, scale [0.08, 1], ratio [0.75, 1.333], bicubic) -> ` +
      `randomHorizontalFlip(0.5) -> ${NORMALIZE}\n`), r.stderr);
    assert.ok(r.stderr.includes(MAE_VALID), r.stderr);
    assert.equal(recipeWarnings(r.stderr), 0);
    const card = JSON.parse(await fs.readFile(path.join(out, 'best.json'), 'utf8'));
    assert.deepEqual(card.eval, { resize: 36, cropMode: 'center', cropPct: 0.875, interpolation: 'bicubic', centerCrop: 32,
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
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
      '--mixup', '0.8', '--cutmix', '1.0', '--drop-path', '0.1', '--layer-decay', '0.65', '--blr', '5e-4', '--remode', 'rand', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // main_finetune.py: timm's bicubic crop, flip, RandomErasing (0.25 of MAE's, --remode as given); RandAugment said once.
    assert.ok(r.stderr.includes(`train transform: randomResizedCrop(32, scale [0.08, 1], ratio [0.75, 1.333], bicubic) -> ` +
      `randomHorizontalFlip(0.5) -> ${NORMALIZE} -> randomErasing({"probability":0.25,"minArea":0.02,"maxArea":0.3333333333333333,` +
      '"minAspect":0.3,"maxAspect":3.3333333333333335,"mode":"rand","minCount":1,"maxCount":1})\n'), r.stderr);
    assert.ok(r.stderr.includes(MAE_VALID), r.stderr);
    assert.equal(recipeWarnings(r.stderr), 1, r.stderr);
    assert.match(r.stderr, /RandAugment \('rand-m9-mstd0.5-inc1', bicubic\)/);
    assert.equal(JSON.parse(r.stdout).epochs, 1);
    const best = await loadPth(path.join(out, 'best.pth'));
    assert.ok(best.has('fc_norm.weight') && !best.has('norm.weight'), 'global pool with fc_norm, as main_finetune.py');
  });

  it("d2l keeps the chapter's transforms: bilinear, squash resize, no erasing, no warning", async () => {
    const r = await cli(['train', '--data', data, '--weights', encoder, '--out', path.join(tmp.dir, 'd2l'), '--epochs', '1', ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`train transform: randomResizedCrop(32, scale [0.08, 1], ratio [0.75, 1.333], bilinear) -> ` +
      `randomHorizontalFlip(0.5) -> ${NORMALIZE}\n`), r.stderr);
    assert.ok(r.stderr.includes(`valid transform: resize([37,37], bilinear) -> centerCrop(32) -> ${NORMALIZE}\n`), r.stderr);
    assert.equal(recipeWarnings(r.stderr), 0);
  });

  it('refuses the flags a protocol cannot honour', async () => {
    const base = ['train', '--data', data, '--weights', encoder, '--out', path.join(tmp.dir, 'x'), ...FAST];
    assertUsageError(await cli([...base, '--protocol', 'mae-linprobe', '--momentum', '0.9']), /--momentum is the d2l recipe's/);
    assertUsageError(await cli([...base, '--protocol', 'mae-finetune', '--fc-lr-mult', '10']), /--fc-lr-mult is the d2l recipe's/);
    assertUsageError(await cli([...base, '--blr', '0.1']), /--blr applies to --protocol mae-linprobe or mae-finetune, not d2l/);
    assertUsageError(await cli([...base, '--protocol', 'mae-linprobe', '--mixup', '0.8']), /--mixup applies to --protocol mae-finetune, not mae-linprobe/);
    assertUsageError(await cli([...base, '--protocol', 'mae-finetune', '--mixup', '0.8', '--batch-size', '5']), /--batch-size must be even/);
    assertUsageError(await cli([...base, '--protocol', 'mae']), /--protocol must be one of/);
    assertUsageError(await cli([...base, '--protocol', 'mae-linprobe', '--reprob', '0.5']), /--reprob applies to --protocol mae-finetune, not mae-linprobe/);
    assertUsageError(await cli([...base, '--protocol', 'mae-finetune', '--remode', 'pix']), /--remode must be one of const, rand, pixel/);
  });
});

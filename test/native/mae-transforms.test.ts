// MAE's data recipe from finetorch's transforms: main_finetune.py's train transform (bicubic crop,
// flip, RandomErasing 0.25 'pixel') and main_linprobe.py's (util/crop.py's crop), the eval resize
// of util/datasets.py, the pixels each gives, and the one coded warning for RandAugment.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ImageFolder, MAE_RECIPE_WARNING, describeTransform, evalRecipe, evalTransform, maeEvalRule, maeTrainTransform, toPipeline } from '../../lib';
import { maeCropBox } from '../../lib/data/mae-transforms';
import { Rng } from '../../lib/data/random';
import { assertCode } from '../helpers/errors';
import { tempDir } from '../helpers/python';

// Listening from the file's start: the warning is once per process, and this file is its process.
const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));
const nextTick = () => new Promise((resolve) => setImmediate(resolve));

/** An Rng that returns `values` in turn. */
function fixed(...values: number[]): Rng {
  let i = 0;
  return { next: () => values[i++ % values.length] };
}

const tmp = tempDir('finetorch-mae-transforms-');
after(() => tmp.cleanup());

describe("MAE's train and eval transforms", () => {
  it("fine-tuning: timm's create_transform as main_finetune.py calls it, less RandAugment, said once with a code", async () => {
    const ours = () => warnings.filter((w) => (w as { code?: string }).code === MAE_RECIPE_WARNING);
    // The CLI's ranks past 0 leave it to rank 0.
    maeTrainTransform('finetune', { size: 32, warn: false });
    await nextTick();
    assert.equal(ours().length, 0);
    const t = maeTrainTransform('finetune', { size: 32 });
    maeTrainTransform('finetune', { size: 64, reprob: 0.5, remode: 'const' });
    maeTrainTransform('linprobe', { size: 32 });
    await nextTick();
    assert.equal(ours().length, 1, 'one warning per process');
    assert.match(ours()[0].message, /RandAugment \('rand-m9-mstd0.5-inc1'/);
    const p = toPipeline(t);
    assert.deepEqual(p.image.map((x) => x.name), ['randomResizedCrop(32, scale [0.08, 1], ratio [0.75, 1.333], bicubic)', 'randomHorizontalFlip(0.5)']);
    assert.deepEqual([...p.mean, ...p.std], [0.485, 0.456, 0.406, 0.229, 0.224, 0.225]);
    assert.deepEqual(p.erasing?.options, { probability: 0.25, minArea: 0.02, maxArea: 1 / 3, minAspect: 0.3, maxAspect: 1 / 0.3, mode: 'pixel', minCount: 1, maxCount: 1 });
    assert.match(describeTransform(t), /bicubic\) -> randomHorizontalFlip\(0\.5\) -> normalize\(.*\) -> randomErasing\(/);
  });

  it("linear probe: util/crop.py's crop, bicubic, a flip, no erasing", () => {
    const p = toPipeline(maeTrainTransform('linprobe', { size: 32, hflip: 0.25 }));
    assert.deepEqual(p.image.map((x) => x.name), ['maeRandomResizedCrop(32, scale [0.08, 1], ratio [0.75, 1.333], bicubic)', 'randomHorizontalFlip(0.25)']);
    assert.equal(p.erasing, undefined);
    assert.throws(() => maeTrainTransform('linprobe', { reprob: 0.25 }), assertCode('ERR_FINETORCH_INVALID_ARG', RangeError));
    assert.throws(() => maeTrainTransform('finetune', { reprb: 0.25 } as never), assertCode('ERR_FINETORCH_UNKNOWN_OPTION', TypeError));
  });

  it("util/crop.py's box: one draw, rounded half to even, clamped to the image (torchvision would draw again)", () => {
    // area 64 x 48 x 0.5 = 1536, ratio 1: sides round(39.19) = 39, placed at the draws' 0.
    assert.deepEqual(maeCropBox(48, 64, [0.5, 0.5], [1, 1], fixed(0)), { top: 0, left: 0, height: 39, width: 39 });
    // ratio 4: width round(78.38) clamped to 64, height round(19.60) = 20; the last draw places it at the far edge.
    assert.deepEqual(maeCropBox(48, 64, [0.5, 0.5], [4, 4], fixed(0, 0, 0.999, 0.5)), { top: 28, left: 0, height: 20, width: 64 });
    // The whole image and more: clamped on both sides.
    assert.deepEqual(maeCropBox(10, 10, [1, 1], [1, 1], fixed(0.5)), { top: 0, left: 0, height: 10, width: 10 });
  });

  it("eval: util/datasets.py's resize of the shorter side to int(size / crop_pct), bicubic, then the centre crop", () => {
    const at = (size: number) => evalRecipe(size, maeEvalRule(size));
    assert.deepEqual([at(224).resize, at(224).cropMode, at(224).interpolation, at(224).centerCrop], [256, 'center', 'bicubic', 224]);
    assert.equal(at(32).resize, 36, 'int(32 / 0.875)');
    assert.equal(at(384).resize, 384, 'crop_pct 1 above 224');
    const built = evalTransform({ size: 224, cropMode: 'center', cropPct: 224 / 256, interpolation: 'bicubic' });
    assert.equal(describeTransform(built), 'resize(256, bicubic) -> centerCrop(224) -> normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])');
  });

  it('each transform gives images of the crop size from a real image folder', async () => {
    const root = path.join(tmp.dir, 'folder');
    for (const c of ['a', 'b']) {
      const dir = path.join(root, c);
      await fs.mkdir(dir, { recursive: true });
      await sharp({ create: { width: 50, height: 40, channels: 3, background: c === 'a' ? '#c04020' : '#2040c0' } }).png().toFile(path.join(dir, '0.png'));
    }
    for (const transform of [maeTrainTransform('finetune', { size: 16 }), maeTrainTransform('linprobe', { size: 16 }),
      evalTransform({ size: 16, ...maeEvalRule(16) })]) {
      const { input } = await new ImageFolder(root, { transform }).get(0);
      assert.deepEqual(input.shape, [3, 16, 16], describeTransform(transform));
    }
  });
});

// Transforms: torchvision's arithmetic (sizes, crop offsets, RandomResizedCrop's sampling) and the
// pipeline's order rules (test/native/data-transforms-pixels.test.ts: the pixels that come out).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Transform, centerCrop, compose, evalTransform, normalize, randomHorizontalFlip, randomResizedCropBox, resize, toPipeline, toTensor, trainTransform,
} from '../../lib/data/transforms';
import { View, roundHalfEven } from '../../lib/data/geometry';
import { mulberry32 } from '../../lib/data/random';

test('roundHalfEven rounds like Python', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

test('resize(int) sets the shorter side and truncates the longer, as torchvision', () => {
  const sizes = [[320, 240], [240, 320], [100, 100], [333, 250]].map(([w, h]) => {
    const view = new View(w, h);
    resize(100).apply(view, mulberry32(0));
    return [view.width, view.height];
  });
  assert.deepEqual(sizes, [[133, 100], [100, 133], [100, 100], [133, 100]]);
});

/** The [width, height] after each image transform of a pipeline, on an image of width x height. */
function sizesThrough(transform: Transform, width: number, height: number): [number, number][] {
  const view = new View(width, height);
  return toPipeline(transform).image.map((t) => {
    t.apply(view, mulberry32(0));
    return [view.width, view.height];
  });
}

test('evalTransform scales its resize with size (round(size * 256 / 224)), squashed or by the shorter side', () => {
  assert.deepEqual(sizesThrough(evalTransform(), 400, 300), [[256, 256], [224, 224]]);
  assert.deepEqual(sizesThrough(evalTransform({ size: 64 }), 400, 300), [[73, 73], [64, 64]]);
  assert.deepEqual(sizesThrough(evalTransform({ size: 320 }), 400, 300), [[366, 366], [320, 320]]);
  assert.deepEqual(sizesThrough(evalTransform({ size: [64, 96] }), 400, 300), [[110, 73], [96, 64]]);
  // torchvision's T.Resize(73) + CenterCrop(64): the aspect ratio kept (timm's crop_mode 'center').
  assert.deepEqual(sizesThrough(evalTransform({ size: 64, cropMode: 'center' }), 400, 300), [[97, 73], [64, 64]]);
  // timm's crop_pct: floor(224 / 0.95) = 235 on the shorter side.
  assert.deepEqual(sizesThrough(evalTransform({ size: 224, cropPct: 0.95, cropMode: 'center' }), 300, 400), [[235, 313], [224, 224]]);
  assert.deepEqual(sizesThrough(evalTransform({ size: 64, resize: [80, 80] }), 400, 300), [[80, 80], [64, 64]]);
});

test('evalTransform refuses a crop that does not fit its resize, and resize given twice', () => {
  const refused = (options: Parameters<typeof evalTransform>[0], message: RegExp) =>
    assert.throws(() => evalTransform(options), (e: Error & { code?: string }) =>
      e instanceof RangeError && e.code === 'ERR_FINETORCH_INVALID_ARG' && message.test(e.message));
  refused({ size: 320, resize: [256, 256] }, /a centre crop of 320 does not fit in resize \[256,256\]/);
  refused({ size: [64, 100], resize: 80 }, /does not fit in resize 80/);
  refused({ resize: 256, cropPct: 0.9 }, /leave out cropPct/);
  refused({ resize: 256, cropMode: 'center' }, /leave out cropMode/);
  refused({ cropPct: 1.2 }, /cropPct must be in \(0, 1\]/);
  assert.throws(() => evalTransform({ cropMode: 'centre' as 'center' }), /cropMode must be one of 'squash', 'center', got 'centre' \(did you mean 'center'\?\)/);
});

test("trainTransform's augmentation options: RandomResizedCrop's scale and ratio, the flip's probability", () => {
  for (let seed = 0; seed < 20; seed++) {
    const views = [0, 1].map((hflip) => {
      const view = new View(200, 100);
      for (const t of toPipeline(trainTransform({ size: 32, scale: [0.125, 0.125], ratio: [2, 2], hflip })).image) t.apply(view, mulberry32(seed));
      return view;
    });
    // An eighth of 200 x 100 (2500 pixels) at ratio 2 (width / height): round(70.7) x round(35.4), then resized to 32 x 32.
    for (const view of views) assert.deepEqual([view.pre.width, view.pre.height, view.width, view.height], [71, 35, 32, 32]);
    assert.deepEqual(views.map((v) => v.flipped), [false, true]);
  }
  assert.throws(() => trainTransform({ scale: [0.5, 0.1] }), /randomResizedCrop: bad scale \[0\.5,0\.1\]/);
  assert.throws(() => trainTransform({ hflip: 2 }), /trainTransform: hflip must be a finite number >= 0 and <= 1, got 2/);
});

test('centerCrop offsets round half to even; larger crops pad', () => {
  const offsets = [[10, 4], [11, 4], [9, 4], [13, 6]].map(([size, crop]) => {
    const view = new View(size, size);
    centerCrop(crop).apply(view, mulberry32(0));
    return view.pre.left;
  });
  assert.deepEqual(offsets, [3, 4, 2, 4]);
});

test('randomResizedCropBox falls back to torchvision center crops after 10 tries', () => {
  const rng = mulberry32(1);
  assert.deepEqual(randomResizedCropBox(10, 100, [0.5, 1], [3 / 4, 4 / 3], rng), { top: 0, left: 43, height: 10, width: 13 });
  assert.deepEqual(randomResizedCropBox(100, 10, [0.5, 1], [3 / 4, 4 / 3], rng), { top: 43, left: 0, height: 13, width: 10 });
  assert.deepEqual(randomResizedCropBox(50, 60, [2, 3], [1, 1], rng), { top: 0, left: 5, height: 50, width: 50 });
});

test('randomResizedCropBox draws boxes inside the image with area and ratio in range', () => {
  const rng = mulberry32(7);
  const areas: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const box = randomResizedCropBox(300, 400, [0.08, 1], [3 / 4, 4 / 3], rng);
    assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 300 && box.left + box.width <= 400, JSON.stringify(box));
    const ratio = box.width / box.height;
    assert.ok(ratio > 0.7 && ratio < 1.43, `ratio ${ratio}`);
    areas.push((box.width * box.height) / (300 * 400));
  }
  assert.ok(Math.min(...areas) >= 0.07 && Math.max(...areas) <= 1);
  // torchvision's get_params gives a mean of 0.435 here (large boxes of extreme ratio do not fit).
  const mean = areas.reduce((a, b) => a + b) / areas.length;
  assert.ok(Math.abs(mean - 0.435) < 0.02, `mean area ${mean}`);
  // Same seed, same boxes.
  const again = (seed: number) => randomResizedCropBox(300, 400, [0.08, 1], [3 / 4, 4 / 3], mulberry32(seed));
  assert.deepEqual(again(3), again(3));
  assert.notDeepEqual(again(3), again(4));
});

test('toPipeline: order rules, default normalisation, folded normalisations', () => {
  assert.throws(() => toPipeline(compose(toTensor(), resize(3))), /before toTensor/);
  assert.throws(() => toPipeline(normalize([0.5], [0.5])), /needs toTensor/);
  assert.throws(() => normalize([0, 0], [1, 1]), RangeError);
  assert.throws(() => normalize([0], [0]), RangeError);
  assert.throws(() => resize(0), RangeError);
  const plain = toPipeline(resize(3));
  assert.deepEqual([plain.mean, plain.std, plain.deterministicPrefix], [[0, 0, 0], [1, 1, 1], 1]);
  const p = toPipeline(compose(resize(8), randomHorizontalFlip(), centerCrop(4), toTensor(), normalize([0.5], [0.5]), normalize([1, 2, 3], [2, 2, 2])));
  assert.equal(p.deterministicPrefix, 1);
  assert.deepEqual(p.mean, [1, 1.5, 2]);
  assert.deepEqual(p.std, [1, 1, 1]);
});


// Transforms on pixels: what the sharp and native pipelines make of images whose pixels encode
// their own coordinates, checked exactly (test/pure/data-transforms.test.ts: torchvision's arithmetic).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawPixels, Transform, centerCrop, compose, normalize, randomHorizontalFlip, randomResizedCrop, resize, toTensor } from '../../lib/data';
import { ImageList } from '../../lib/data/image-list';
import { mulberry32 } from '../../lib/data/random';
import { coordinates } from '../helpers/data-fixtures';

function grid(width: number, height: number): RawPixels {
  return { data: coordinates(width, height), width, height, channels: 3 };
}

/** Loads sample 0 as 8-bit pixels (the transform's geometry only). */
async function pixels(image: RawPixels, transform: Transform, seed = 0) {
  return (await new ImageList([image], { transform }).loadPixels(0, { rng: mulberry32(seed) })).image;
}

/** Pixel (x, y) of an RGB image. */
function at(image: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [...image.data.subarray(i, i + 3)];
}

test('centerCrop and flips cut exactly the expected pixels', async () => {
  const image = grid(40, 30);
  const crop = await pixels(image, centerCrop([10, 16]));
  assert.deepEqual([crop.width, crop.height], [16, 10]);
  assert.deepEqual(at(crop, 0, 0), [12, 10, 12 ^ 10]);
  assert.deepEqual(at(crop, 15, 9), [27, 19, 27 ^ 19]);
  const flipped = await pixels(image, compose(randomHorizontalFlip(1), centerCrop([10, 16])));
  assert.deepEqual(at(flipped, 0, 0), at(crop, 15, 0));
  assert.deepEqual(at(flipped, 15, 9), at(crop, 0, 9));
  const untouched = await pixels(image, randomHorizontalFlip(0));
  assert.deepEqual(untouched.data, image.data);
});

test('centerCrop pads with zeros like torchvision, also when mirrored', async () => {
  const image = grid(10, 6);
  // Width 10 -> 13: pad 1 left, 2 right; height 6 -> 4: rows 1..4.
  const crop = await pixels(image, centerCrop([4, 13]));
  assert.deepEqual([crop.width, crop.height], [13, 4]);
  assert.deepEqual(at(crop, 0, 0), [0, 0, 0]);
  assert.deepEqual(at(crop, 1, 0), [0, 1, 1]);
  assert.deepEqual(at(crop, 10, 3), [9, 4, 9 ^ 4]);
  assert.deepEqual(at(crop, 11, 3), [0, 0, 0]);
  const mirrored = await pixels(image, compose(centerCrop([4, 13]), randomHorizontalFlip(1)));
  for (let x = 0; x < 13; x++) assert.deepEqual(at(mirrored, x, 2), at(crop, 12 - x, 2));
});

test('enlarging keeps flat colour flat to the borders (edges clamp, no dark frame)', async () => {
  const flat = { data: new Uint8Array(9 * 7 * 3).fill(200), width: 9, height: 7, channels: 3 as const };
  for (const t of [resize([23, 37]), resize([7, 30]), compose(resize(50), centerCrop(40), randomHorizontalFlip(1))]) {
    const out = await pixels(flat, t);
    assert.ok(out.data.every((v) => v === 200), `not flat: min ${Math.min(...out.data)}`);
  }
});

test('enlarging by an integer factor samples pixel centres as PIL does', async () => {
  // A 2x enlargement of a ramp 0, 10, 20, ... gives 0, 2.5, 7.5, 12.5, ... (clamped at the ends).
  const ramp = { data: new Uint8Array(8 * 3).map((_, i) => Math.floor(i / 3) * 10), width: 8, height: 1, channels: 3 as const };
  const out = await pixels(ramp, resize([1, 16]));
  const red = Array.from({ length: 16 }, (_, x) => at(out, x, 0)[0]);
  const expected = Array.from({ length: 16 }, (_, x) => Math.min(70, Math.max(0, ((x + 0.5) / 2 - 0.5) * 10)));
  red.forEach((v, x) => assert.ok(Math.abs(v - expected[x]) <= 1, `x=${x}: ${v} vs ${expected[x]}`));
});

test('randomResizedCrop always yields size x size, and the same seed the same pixels', async () => {
  const image = grid(60, 45);
  const t = compose(randomResizedCrop(24), randomHorizontalFlip());
  for (let seed = 0; seed < 20; seed++) {
    const a = await pixels(image, t, seed);
    assert.deepEqual([a.width, a.height], [24, 24]);
    assert.deepEqual(a.data, (await pixels(image, t, seed)).data);
  }
});

test('get() normalises: (x / 255 - mean) / std in CHW order', async () => {
  const image = grid(5, 4);
  const set = new ImageList([image], { transform: compose(toTensor(), normalize([0.5, 0.25, 0], [0.5, 0.25, 1])) });
  const { input, target } = await set.get(0);
  assert.deepEqual(input.shape, [3, 4, 5]);
  assert.equal(target, 0);
  const [x, y] = [3, 2];
  const expected = [(x / 255 - 0.5) / 0.5, (y / 255 - 0.25) / 0.25, (x ^ y) / 255];
  expected.forEach((v, c) => assert.ok(Math.abs(input.data[c * 20 + y * 5 + x] - v) < 1e-5));
});

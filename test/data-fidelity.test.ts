// The same files through finetorch's deterministic pipelines and torchvision's (PIL, bilinear with
// antialias) agree to within 2/255 per pixel on average, whether they shrink or enlarge. Needs
// Python with torch: fails without it.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import {
  IMAGENET_MEAN, IMAGENET_STD, ImageFolder, Transform, centerCrop, compose, evalTransform, normalize, resize, toTensor,
} from '../lib/data';
import { coordinates, meanAbsDiff, photo, write } from './data-fixtures';
import { readFloat32, runPython, tempDir } from './helpers/python';

const { dir, cleanup } = tempDir('finetorch-data-fidelity-');
after(cleanup);

const imagenet = (...t: Transform[]): Transform => compose(...t, toTensor(), normalize(IMAGENET_MEAN, IMAGENET_STD));

// finetorch's transform and the same steps as data_transform.py spells them.
const PIPELINES: [string, Transform, unknown[]][] = [
  ['evalTransform(): resize([256, 256]) + centerCrop(224)', evalTransform(), [['resize', [256, 256]], ['centerCrop', 224]]],
  ['resize(100) + centerCrop(90)', imagenet(resize(100), centerCrop(90)), [['resize', 100], ['centerCrop', 90]]],
  ['centerCrop(140) + resize([96, 64])', imagenet(centerCrop(140), resize([96, 64])), [['centerCrop', 140], ['resize', [96, 64]]]],
  ['resize(64) + centerCrop([80, 60]) (pads)', imagenet(resize(64), centerCrop([80, 60])), [['resize', 64], ['centerCrop', [80, 60]]]],
];

let reference: { classes: string[]; samples: [string, number][] };

before(async () => {
  await write(dir, 'cat/photo.jpg', (await photo(320, 240, 1)).jpeg({ quality: 90 }));
  await write(dir, 'cat/small.png', (await photo(200, 150, 2)).png());
  await write(dir, 'cat/tall.webp', (await photo(150, 300, 3)).webp({ quality: 90 }));
  await write(dir, 'cat/large.jpg', (await photo(700, 520, 8)).jpeg({ quality: 90 }));
  await write(dir, 'dog/gray.png', (await photo(300, 200, 4)).toColourspace('b-w').png());
  await write(dir, 'dog/opaque-rgba.png', (await photo(180, 180, 5)).ensureAlpha(1).png());
  await write(dir, 'dog/rotated.jpg', (await photo(240, 320, 6)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }));
  await write(dir, 'dog/deep.png', sharp(coordinates(64, 48), { raw: { width: 64, height: 48, channels: 3 } }).toColourspace('rgb16').png());
  await write(dir, 'dog/scan.tif', (await photo(260, 190, 7)).tiff());
  const out = path.join(dir, 'torchvision');
  reference = JSON.parse(await runPython('data_transform.py', [dir, out, JSON.stringify(PIPELINES.map(([, , spec]) => spec))]));
});

test('ImageFolder finds the classes and samples torchvision finds', () => {
  const folder = new ImageFolder(dir);
  assert.deepEqual(folder.classes, reference.classes);
  assert.deepEqual(folder.samples, reference.samples);
});

PIPELINES.forEach(([name, transform], k) => {
  test(`matches torchvision: ${name}`, async () => {
    const folder = new ImageFolder(dir, { transform });
    const expected = readFloat32(path.join(dir, `torchvision.${k}.f32`));
    const perImage = expected.length / folder.length;
    const plane = perImage / 3;
    const pixels = (data: Float32Array): Float32Array =>
      data.map((v, j) => v * IMAGENET_STD[Math.floor(j / plane)] + IMAGENET_MEAN[Math.floor(j / plane)]);
    for (let i = 0; i < folder.length; i++) {
      const { input } = await folder.get(i);
      assert.equal(input.data.length, perImage);
      const mad = meanAbsDiff(pixels(input.data), pixels(expected.subarray(i * perImage, (i + 1) * perImage)));
      assert.ok(mad <= 2 / 255, `${path.basename(folder.samples[i][0])}: mean abs difference ${(mad * 255).toFixed(2)}/255`);
    }
  });
});

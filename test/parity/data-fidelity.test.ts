// The same files through finetorch's deterministic pipelines and torchvision's (PIL, bilinear with
// antialias) agree to within 2/255 per pixel on average, whether they shrink or enlarge. Needs
// Python with torch: fails without it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import {
  IMAGENET_MEAN, IMAGENET_STD, ImageFolder, Transform, centerCrop, compose, evalTransform, normalize, resize, toTensor,
} from '../../lib/data';
import { View } from '../../lib/data/geometry';
import { render } from '../../lib/data/image';
import { coordinates, meanAbsDiff, photo, write } from '../helpers/data-fixtures';
import { readFloat32, runPython, tempDir } from '../helpers/python';

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

test('crops resized, mirrored and padded from pixels in memory match PIL (torchvision resized_crop + hflip)', async () => {
  const width = 320;
  const height = 240;
  const { data } = await (await photo(width, height, 9)).raw().toBuffer({ resolveWithObject: true });
  // [top, left, height, width, out height, out width, interpolation, flip]: shrinking, enlarging,
  // both at once, every filter, crops at the edges.
  const cases: [number, number, number, number, number, number, 'nearest' | 'bilinear' | 'bicubic', boolean][] = [
    [10, 20, 200, 280, 64, 64, 'bilinear', false],
    [0, 0, 240, 320, 224, 224, 'bilinear', true],
    [100, 150, 40, 30, 96, 112, 'bilinear', false],
    [5, 7, 230, 60, 50, 120, 'bicubic', true],
    [0, 200, 120, 120, 37, 37, 'bicubic', false],
    [30, 40, 90, 100, 45, 200, 'nearest', true],
  ];
  const pixelsFile = path.join(dir, 'pixels.rgb');
  const out = path.join(dir, 'resampled.rgb');
  await write(dir, 'pixels.rgb', data);
  await runPython('resample_reference.py', [pixelsFile, String(width), String(height), JSON.stringify(cases), out]);
  const expected = fs.readFileSync(out);
  let offset = 0;
  for (const [top, left, h, w, outH, outW, interpolation, flip] of cases) {
    const view = new View(width, height);
    view.crop(top, left, h, w);
    view.resize(outW, outH, interpolation);
    if (flip) view.flip();
    const image = await render({ data, width, height, channels: 3 }, view, { width, height, shrinksOnLoad: false });
    const theirs = expected.subarray(offset, offset + outW * outH * 3);
    offset += theirs.length;
    let worst = 0;
    let total = 0;
    image.data.forEach((v, i) => {
      const d = Math.abs(v - theirs[i]);
      worst = Math.max(worst, d);
      total += d;
    });
    const label = `${h}x${w} at (${top}, ${left}) -> ${outH}x${outW} ${interpolation}${flip ? ' flipped' : ''}`;
    // PIL computes in fixed point, finetorch in floats: a level apart here and there at most.
    assert.ok(worst <= 1 && total / image.data.length < 0.05, `${label}: worst ${worst}, mean ${(total / image.data.length).toFixed(3)}`);
  }
});

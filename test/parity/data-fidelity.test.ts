// finetorch's images against PIL's and torchvision's, on the same files: the addon's JPEG, Netpbm
// and BMP decodes equal PIL's bit for bit (whole and cropped: the JPEG decoder decodes only the
// crop box); the deterministic pipelines match torchvision's (PIL, bilinear with antialias; MAE's
// eval bicubic) to a fraction of a level per pixel, with torchvision's default loader and with EXIF orientation
// applied; crops resized, mirrored and padded from pixels in memory match PIL's. Needs Python with
// torch: fails without it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import {
  IMAGENET_MEAN, IMAGENET_STD, ImageFolder, Transform, centerCrop, compose, evalTransform, maeEvalRule, normalize, resize, toTensor,
} from '../../lib/data';
import { View } from '../../lib/data/geometry';
import { imageInfo } from '../../lib/data/image';
import { renderJobs } from '../../lib/data/render';
import { mulberry32, randint } from '../../lib/data/random';
import { bmp24, coordinates, jpegTool, meanAbsDiff, netpbm, photo, write } from '../helpers/data-fixtures';
import { readFloat32, runPython, tempDir } from '../helpers/python';

const { dir, cleanup } = tempDir('finetorch-data-fidelity-');
after(cleanup);

const imagenet = (...t: Transform[]): Transform => compose(...t, toTensor(), normalize(IMAGENET_MEAN, IMAGENET_STD));

// finetorch's transform and the same steps as data_transform.py spells them.
const PIPELINES: [string, Transform, unknown[]][] = [
  ['evalTransform(): resize([256, 256]) + centerCrop(224)', evalTransform(), [['resize', [256, 256]], ['centerCrop', 224]]],
  ['evalTransform({ size: 64 }): resize([73, 73]) + centerCrop(64)', evalTransform({ size: 64 }), [['resize', [73, 73]], ['centerCrop', 64]]],
  ["evalTransform({ size: 64, cropMode: 'center' }): resize(73) + centerCrop(64)", evalTransform({ size: 64, cropMode: 'center' }),
    [['resize', 73], ['centerCrop', 64]]],
  // util/datasets.py's eval transform (MAE's): Resize(256, PIL.Image.BICUBIC) + CenterCrop(224).
  ["MAE's eval, evalTransform({ size: 224, ...maeEvalRule(224) }): resize(256, bicubic) + centerCrop(224)",
    evalTransform({ size: 224, ...maeEvalRule(224) }), [['resize', 256, 'bicubic'], ['centerCrop', 224]]],
  ['resize(100) + centerCrop(90)', imagenet(resize(100), centerCrop(90)), [['resize', 100], ['centerCrop', 90]]],
  ['centerCrop(140) + resize([96, 64])', imagenet(centerCrop(140), resize([96, 64])), [['centerCrop', 140], ['resize', [96, 64]]]],
  ['resize(64) + centerCrop([80, 60]) (pads)', imagenet(resize(64), centerCrop([80, 60])), [['resize', 64], ['centerCrop', [80, 60]]]],
];

// Mean absolute difference allowed per image, in levels of 255 (finetorch's pipeline with sharp
// decoding allowed 2). The addon decodes as PIL does and resamples in floats where PIL uses fixed
// point: a level apart at a few pixels. sharp turns 16-bit PNGs into 8 bits by rounding where PIL
// truncates. A JPEG reduced 4x or more is decoded at full size, as PIL does, unless shrinkOnLoad
// asks for a DCT-scaled decode.
const BOUND = { decodedAsPil: 0.05, sixteenBit: 1, dctScaled: 1 };
const boundOf = (name: string) => (name === 'deep.png' ? BOUND.sixteenBit : BOUND.decodedAsPil);

const pipelinesRoot = path.join(dir, 'pipelines');
const decodeRoot = path.join(dir, 'decode');
let reference: { classes: string[]; samples: [string, number][] };

before(async () => {
  const root = pipelinesRoot;
  await write(root, 'cat/photo.jpg', (await photo(320, 240, 1)).jpeg({ quality: 90 }));
  await write(root, 'cat/small.png', (await photo(200, 150, 2)).png());
  await write(root, 'cat/tall.webp', (await photo(150, 300, 3)).webp({ quality: 90 }));
  await write(root, 'cat/large.jpg', (await photo(700, 520, 8)).jpeg({ quality: 90 }));
  await write(root, 'cat/progressive.jpg', (await photo(333, 251, 10)).jpeg({ quality: 85, progressive: true }));
  await write(root, 'dog/gray.png', (await photo(300, 200, 4)).toColourspace('b-w').png());
  await write(root, 'dog/gray.jpg', (await photo(300, 200, 11)).toColourspace('b-w').jpeg({ quality: 90 }));
  await write(root, 'dog/opaque-rgba.png', (await photo(180, 180, 5)).ensureAlpha(1).png());
  await write(root, 'dog/rotated.jpg', (await photo(240, 320, 6)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }));
  await write(root, 'dog/deep.png', sharp(coordinates(64, 48), { raw: { width: 64, height: 48, channels: 3 } }).toColourspace('rgb16').png());
  await write(root, 'dog/scan.tif', (await photo(260, 190, 7)).tiff());
  await write(root, 'dog/photo.ppm', netpbm(210, 170, (await (await photo(210, 170, 12)).raw().toBuffer())));
  await write(root, 'dog/photo.bmp', bmp24(190, 150, (await (await photo(190, 150, 13)).raw().toBuffer())));
  const spec = JSON.stringify(PIPELINES.map(([, , s]) => s));
  reference = JSON.parse(await runPython('data_transform.py', [root, path.join(dir, 'torchvision'), spec]));
  await runPython('data_transform.py', [root, path.join(dir, 'torchvision-exif'), spec, 'exif']);
});

test('ImageFolder finds the classes and samples torchvision finds', () => {
  const folder = new ImageFolder(pipelinesRoot);
  assert.deepEqual(folder.classes, reference.classes);
  assert.deepEqual(folder.samples, reference.samples);
});

/** Checks every image of the folder against torchvision's tensors, within its bound. */
async function matchesTorchvision(folder: ImageFolder, expected: Float32Array): Promise<void> {
  const perImage = expected.length / folder.length;
  const plane = perImage / 3;
  const pixels = (data: Float32Array): Float32Array =>
    data.map((v, j) => v * IMAGENET_STD[Math.floor(j / plane)] + IMAGENET_MEAN[Math.floor(j / plane)]);
  for (let i = 0; i < folder.length; i++) {
    const { input } = await folder.get(i);
    assert.equal(input.data.length, perImage);
    const name = path.basename(folder.samples[i][0]);
    const mad = meanAbsDiff(pixels(input.data), pixels(expected.subarray(i * perImage, (i + 1) * perImage))) * 255;
    const bound = boundOf(name);
    assert.ok(mad <= bound, `${name}: mean abs difference ${mad.toFixed(3)}/255 (bound ${bound})`);
  }
}

PIPELINES.forEach(([name, transform], k) => {
  test(`matches torchvision: ${name}`, async () => {
    await matchesTorchvision(new ImageFolder(pipelinesRoot, { transform }), readFloat32(path.join(dir, `torchvision.${k}.f32`)));
  });
});

test('exifTranspose: matches torchvision with ImageOps.exif_transpose in its loader', async () => {
  for (const [k, [, transform]] of PIPELINES.entries()) {
    const folder = new ImageFolder(pipelinesRoot, { transform, exifTranspose: true });
    await matchesTorchvision(folder, readFloat32(path.join(dir, `torchvision-exif.${k}.f32`)));
  }
});

test("a JPEG reduced 4x or more: torchvision's pixels by default; shrinkOnLoad: true decodes it DCT-scaled, close to them", async () => {
  const root = path.join(dir, 'huge');
  await write(root, 'x/huge.jpg', (await photo(1600, 1200, 14)).jpeg({ quality: 90 }));
  const out = path.join(dir, 'torchvision-huge');
  await runPython('data_transform.py', [root, out, JSON.stringify([PIPELINES[0][2]])]);
  const expected = readFloat32(`${out}.0.f32`);
  const mad = async (shrinkOnLoad?: boolean) => {
    const { input } = await new ImageFolder(root, { transform: evalTransform(), shrinkOnLoad }).get(0);
    return meanAbsDiff(input.data.map((v, j) => v * IMAGENET_STD[Math.floor(j / (224 * 224))]),
      expected.map((v, j) => v * IMAGENET_STD[Math.floor(j / (224 * 224))])) * 255;
  };
  const [byDefault, exact, scaled] = [await mad(), await mad(false), await mad(true)];
  assert.ok(byDefault <= BOUND.decodedAsPil, `by default: ${byDefault.toFixed(3)}/255`);
  assert.equal(byDefault, exact);
  assert.ok(scaled <= BOUND.dctScaled && scaled > exact, `DCT-scaled: ${scaled.toFixed(3)}/255 (exact ${exact.toFixed(3)})`);
});

test("the addon's decodes equal PIL's bit for bit: JPEG flavours whole and cropped, Netpbm, BMP", async () => {
  const root = decodeRoot;
  const ppm = netpbm(203, 151, await (await photo(203, 151, 20)).raw().toBuffer());
  const jpeg = await (await photo(203, 151, 20)).jpeg({ quality: 90 }).toBuffer();
  const files = [
    await write(root, 'sharp-420.jpg', jpeg),
    await write(root, 'sharp-444.jpg', (await photo(203, 151, 20)).jpeg({ quality: 90, chromaSubsampling: '4:4:4' })),
    await write(root, 'sharp-progressive.jpg', (await photo(203, 151, 20)).jpeg({ quality: 90, progressive: true })),
    await write(root, 'gray.jpg', (await photo(203, 151, 20)).toColourspace('b-w').jpeg({ quality: 90 })),
    await write(root, 'rotated-exif.jpg', (await photo(150, 100, 21)).jpeg({ quality: 90 }).withMetadata({ orientation: 6 })),
    await write(root, 'cjpeg-422.jpg', jpegTool('cjpeg', ppm, ['-quality', '85', '-sample', '2x1'])),
    await write(root, 'cjpeg-440.jpg', jpegTool('cjpeg', ppm, ['-quality', '85', '-sample', '1x2'])),
    await write(root, 'cjpeg-411.jpg', jpegTool('cjpeg', ppm, ['-quality', '85', '-sample', '4x1'])),
    await write(root, 'restart-markers.jpg', jpegTool('jpegtran', jpeg, ['-restart', '1'])),
    await write(root, 'restart-progressive.jpg', jpegTool('jpegtran', jpeg, ['-restart', '2', '-progressive'])),
    await write(root, 'arithmetic.jpg', jpegTool('jpegtran', jpeg, ['-arithmetic'])),
    await write(root, 'tiny.jpg', (await photo(17, 9, 22)).jpeg({ quality: 90 })),
    await write(root, 'photo.ppm', ppm),
    await write(root, 'gray.pgm', netpbm(61, 43, (await (await photo(61, 43, 23)).toColourspace('b-w').raw().toBuffer()), 1)),
    await write(root, 'photo.bmp', bmp24(61, 43, await (await photo(61, 43, 24)).raw().toBuffer())),
  ];
  // Crop boxes: random ones, and the edges (where a JPEG crop's upsampling could differ).
  const rng = mulberry32(7);
  const spec = await Promise.all(files.map(async (file) => {
    const { width, height } = await imageInfo(file);
    const crops: [number, number, number, number][] = [[0, 0, 1, 1], [width - 1, height - 1, 1, 1], [0, 0, width, 1], [1, 1, width - 2, height - 2]];
    for (let c = 0; c < 12; c++) {
      const [w, h] = [randint(rng, 1, width + 1), randint(rng, 1, height + 1)];
      crops.push([randint(rng, 0, width - w + 1), randint(rng, 0, height - h + 1), w, h]);
    }
    return { file, crops };
  }));
  const out = path.join(dir, 'pil-decoded.rgb');
  const sizes: [number, number][] = JSON.parse(await runPython('data_decode.py', [JSON.stringify(spec), out]));
  const expected = fs.readFileSync(out);
  let offset = 0;
  for (const [i, { file, crops }] of spec.entries()) {
    const info = await imageInfo(file);
    assert.deepEqual([info.width, info.height], sizes[i], path.basename(file));
    assert.ok(info.native, `${path.basename(file)} is decoded by the addon`);
    for (const [left, top, width, height] of [[0, 0, info.width, info.height], ...crops]) {
      const view = new View(info.width, info.height);
      view.crop(top, left, height, width);
      const mine = new Uint8Array(width * height * 3);
      const [error] = await renderJobs([{ source: file, info, view, decode: {} }], { bytes: [mine] }, { threads: 1, decodeMemory: 1e9 });
      assert.equal(error, undefined);
      const theirs = expected.subarray(offset, offset + mine.length);
      offset += mine.length;
      assert.ok(Buffer.from(mine).equals(theirs), `${path.basename(file)}, box ${[left, top, width, height]}: differs from PIL`);
    }
  }
  assert.equal(offset, expected.length);
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
    const image = new Uint8Array(outW * outH * 3);
    const [error] = await renderJobs([{ source: { data, width, height, channels: 3 }, view, decode: {} }], { bytes: [image] },
      { threads: 1, decodeMemory: 1e9 });
    assert.equal(error, undefined);
    const theirs = expected.subarray(offset, offset + outW * outH * 3);
    offset += theirs.length;
    let worst = 0;
    let total = 0;
    image.forEach((v, i) => {
      const d = Math.abs(v - theirs[i]);
      worst = Math.max(worst, d);
      total += d;
    });
    const label = `${h}x${w} at (${top}, ${left}) -> ${outH}x${outW} ${interpolation}${flip ? ' flipped' : ''}`;
    // PIL computes in fixed point, finetorch in floats: a level apart here and there at most.
    assert.ok(worst <= 1 && total / image.length < 0.05, `${label}: worst ${worst}, mean ${(total / image.length).toFixed(3)}`);
  }
});

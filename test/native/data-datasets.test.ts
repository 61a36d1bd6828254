// Datasets: ImageFolder's layout rules and errors, every input format to 3-channel RGB (JPEG,
// Netpbm and BMP decoded by the addon, the rest by sharp), EXIF orientation, bad files, IDX and
// CIFAR-10 files, Subset and randomSplit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  CIFAR10, DataLoader, DatasetError, FashionMNIST, IMG_EXTENSIONS, IdxDataset, ImageDecodeError, ImageFolder, ImageTransform, Subset,
  backends, centerCrop, compose, normalize, randomSplit, resize, toTensor,
} from '../../lib/data';
import { parseImageHeader, readImageHeader } from '../../lib/data/header';
import { bmp24, coordinates, jpegTool, netpbm, photo, pngHeaderBomb, withClaimedSize, write } from '../helpers/data-fixtures';
import { tempDir } from '../helpers/python';

const { dir, cleanup } = tempDir('finetorch-data-datasets-');
after(cleanup);

const solid = (width: number, height: number, channels: 3 | 4, background: sharp.Color) =>
  sharp({ create: { width, height, channels, background } });

describe('ImageFolder', () => {
  const root = path.join(dir, 'folder');
  before(async () => {
    await write(root, 'zebra/b.JPG', solid(8, 6, 3, 'white').jpeg());
    await write(root, 'zebra/a.png', solid(8, 6, 3, 'white').png());
    await write(root, 'zebra/notes.txt', 'not an image');
    await write(root, 'zebra/nested/c.Webp', solid(8, 6, 3, 'white').webp());
    await write(root, 'zebra/.hidden.png', solid(8, 6, 3, 'white').png());
    await write(root, 'ant/x.jpeg', solid(8, 6, 3, 'black').jpeg());
    await write(root, 'ant/y.tiff', solid(8, 6, 3, 'black').tiff());
    await write(root, 'ant/w.gif', solid(8, 6, 3, 'black').gif());
    await write(path.join(dir, 'elsewhere'), 'z.ppm', netpbm(8, 6, new Uint8Array(8 * 6 * 3)));
    await write(path.join(dir, 'elsewhere'), 'deep.bmp', bmp24(8, 6, new Uint8Array(8 * 6 * 3)));
    fs.symlinkSync(path.join(dir, 'elsewhere', 'z.ppm'), path.join(root, 'ant', 'linked.ppm'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(root, 'bee'));
    fs.symlinkSync(path.join(root, 'ant'), path.join(root, 'ant', 'loop'));
    fs.mkdirSync(path.join(root, '.ipynb_checkpoints'));
  });

  test('classes are sorted subfolders (symlinks followed); samples sorted per class', () => {
    const folder = new ImageFolder(root);
    assert.deepEqual(folder.classes, ['ant', 'bee', 'zebra']);
    assert.deepEqual(folder.classToIdx, { ant: 0, bee: 1, zebra: 2 });
    const rel = folder.samples.map(([file, target]) => [path.relative(root, file), target]);
    assert.deepEqual(rel, [
      ['ant/linked.ppm', 0], ['ant/x.jpeg', 0], ['ant/y.tiff', 0],
      ['bee/deep.bmp', 1], ['bee/z.ppm', 1],
      ['zebra/a.png', 2], ['zebra/b.JPG', 2], ['zebra/nested/c.Webp', 2],
    ]);
    assert.deepEqual(folder.targets, [0, 0, 0, 1, 1, 2, 2, 2]);
    assert.equal(folder.length, 8);
  });

  test("the default extensions are torchvision's; others when asked, with or without dots, any case", () => {
    assert.deepEqual(IMG_EXTENSIONS, ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp']);
    const folder = new ImageFolder(root, { extensions: ['PNG', '.gif', 'ppm'] });
    assert.deepEqual(folder.samples.map(([file]) => path.basename(file)), ['linked.ppm', 'w.gif', 'z.ppm', 'a.png']);
  });

  test('every sample decodes to 3 channels', async () => {
    const folder = new ImageFolder(root, { transform: resize([4, 4]) });
    for (let i = 0; i < folder.length; i++) assert.deepEqual((await folder.get(i)).input.shape, [3, 4, 4]);
    assert.equal((await folder.get(5)).input.data[0], 1); // white
  });

  test('withTransform: the same samples under another transform, the original unchanged', async () => {
    const folder = new ImageFolder(root, { transform: resize([4, 4]) });
    await folder.get(0);
    const other = folder.withTransform(resize([2, 3]));
    assert.deepEqual((await other.get(0)).input.shape, [3, 2, 3]);
    assert.deepEqual((await folder.get(0)).input.shape, [3, 4, 4]);
    assert.equal(other.target(5), folder.target(5));
  });

  test('clear errors: missing root, a file as root, no class folders, empty class folders', async () => {
    assert.throws(() => new ImageFolder(path.join(dir, 'missing')), (e: Error) => e instanceof DatasetError && /does not exist/.test(e.message));
    assert.throws(() => new ImageFolder(path.join(root, 'zebra', 'a.png')), /is not a folder/);
    fs.mkdirSync(path.join(dir, 'flat'));
    await write(path.join(dir, 'flat'), 'a.png', solid(4, 4, 3, 'red').png());
    assert.throws(() => new ImageFolder(path.join(dir, 'flat')), /no class folders/);
    fs.mkdirSync(path.join(dir, 'some-empty', 'cats'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'some-empty', 'dogs'));
    await write(path.join(dir, 'some-empty'), 'cats/a.png', solid(4, 4, 3, 'red').png());
    await write(path.join(dir, 'some-empty'), 'dogs/readme.txt', 'no images here');
    assert.throws(() => new ImageFolder(path.join(dir, 'some-empty')), /no images .* "dogs"/);
  });
});

describe('input formats', () => {
  const root = path.join(dir, 'formats');
  const teal = { r: 0, g: 128, b: 128 };
  const tealPixels = (n: number) => Uint8Array.from({ length: 3 * n }, (_, i) => [0, 128, 128][i % 3]);
  before(async () => {
    const base = () => solid(16, 16, 3, teal);
    await write(root, 'all/gray.png', solid(6, 6, 3, teal).toColourspace('b-w').png());
    await write(root, 'all/gray-alpha.png', solid(6, 6, 4, { ...teal, alpha: 0.5 }).toColourspace('b-w').png());
    await write(root, 'all/rgba.png', solid(6, 6, 4, { ...teal, alpha: 1 }).png());
    await write(root, 'all/palette.png', solid(6, 6, 3, teal).png({ palette: true }));
    await write(root, 'all/deep.png', solid(6, 6, 3, teal).toColourspace('rgb16').png());
    await write(root, 'all/deep-gray.png', solid(6, 6, 3, teal).toColourspace('grey16').png());
    await write(root, 'all/anim.gif', solid(6, 6, 3, teal).gif());
    await write(root, 'all/photo.avif', solid(6, 6, 3, teal).avif({ quality: 90 }));
    await write(root, 'all/photo.webp', solid(6, 6, 3, teal).webp({ lossless: true }));
    await write(root, 'all/photo.ppm', netpbm(6, 6, tealPixels(36)));
    await write(root, 'all/gray.pgm', netpbm(6, 6, new Uint8Array(36).fill(90), 1));
    await write(root, 'all/photo.bmp', bmp24(6, 6, tealPixels(36)));
    // JPEGs: the addon's (baseline, progressive, gray, restart markers, arithmetic coding) and
    // sharp's (CMYK, which the addon declines).
    const jpeg = await base().jpeg({ quality: 95 }).toBuffer();
    await write(root, 'all/baseline.jpg', jpeg);
    await write(root, 'all/progressive.jpg', base().jpeg({ quality: 95, progressive: true }));
    await write(root, 'all/gray.jpg', base().toColourspace('b-w').jpeg({ quality: 95 }));
    await write(root, 'all/restart.jpg', jpegTool('jpegtran', jpeg, ['-restart', '1B']));
    await write(root, 'all/arithmetic.jpg', jpegTool('jpegtran', jpeg, ['-arithmetic']));
    await write(root, 'all/cmyk.jpg', base().toColourspace('cmyk').jpeg({ quality: 100 }));
  });

  test('every format comes out as 8-bit RGB: gray, alpha, palette, 16-bit, GIF, AVIF, WebP, PPM/PGM, BMP, JPEG flavours', async () => {
    const folder = new ImageFolder(root, { extensions: [...IMG_EXTENSIONS, '.gif', '.avif'] });
    assert.equal(folder.length, 18);
    for (let i = 0; i < folder.length; i++) {
      const { image } = await folder.loadPixels(i, { rng: { next: Math.random } });
      const name = path.basename(folder.samples[i][0]);
      assert.equal(image.data.length, image.width * image.height * 3, name);
      const [r, g, b] = image.data;
      if (name.includes('gray')) assert.ok(r === g && g === b, `${name}: ${[r, g, b]}`);
      else assert.ok(r < 40 && Math.abs(g - 128) < 20 && Math.abs(b - 128) < 20, `${name}: ${[r, g, b]}`);
    }
  });

  test('EXIF orientation: stored pixels by default (as torchvision), upright with exifTranspose', async () => {
    const raw = { raw: { width: 40, height: 20, channels: 3 as const } };
    // Orientation 6: the stored pixels are the upright image turned 90 degrees anticlockwise.
    const stored = sharp(coordinates(40, 20), raw).rotate(-90);
    await write(root, 'exif/stored.png', stored.clone().png());
    await write(root, 'exif/upright.png', sharp(coordinates(40, 20), raw).png());
    await write(root, 'exif/turned.jpg', await stored.clone().jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer());
    const pixels = async (folder: ImageFolder, file: string) =>
      (await folder.loadPixels(folder.samples.findIndex(([f]) => f.endsWith(`exif/${file}`)), { rng: { next: Math.random } })).image;
    const mad = (a: { data: Uint8Array }, b: { data: Uint8Array }) => a.data.reduce((sum, v, i) => sum + Math.abs(v - b.data[i]), 0) / a.data.length;
    const plain = new ImageFolder(root, { extensions: ['jpg', 'png'] });
    const [asStored, storedPng] = [await pixels(plain, 'turned.jpg'), await pixels(plain, 'stored.png')];
    assert.deepEqual([asStored.width, asStored.height], [20, 40]);
    assert.ok(mad(asStored, storedPng) < 3, `mean abs difference ${mad(asStored, storedPng)}`);
    const turned = new ImageFolder(root, { extensions: ['jpg', 'png'], exifTranspose: true });
    const [upright, uprightPng] = [await pixels(turned, 'turned.jpg'), await pixels(turned, 'upright.png')];
    assert.deepEqual([upright.width, upright.height], [40, 20]);
    assert.ok(mad(upright, uprightPng) < 3, `mean abs difference ${mad(upright, uprightPng)}`);
  });

  test('backends() says which decoder takes JPEGs (libjpeg-turbo in this build)', () => {
    assert.match(backends().jpeg, /^libjpeg-turbo \d+\.\d+\.\d+$/);
  });
});

describe('image headers', () => {
  test('JPEG, PNG, BMP and Netpbm sizes read in JavaScript agree with the decoders; EXIF orientation reported', async () => {
    const root = path.join(dir, 'headers');
    const base = () => sharp(coordinates(40, 24), { raw: { width: 40, height: 24, channels: 3 } });
    const files = [
      await write(root, 'plain.jpg', base().jpeg()),
      await write(root, 'progressive.jpg', base().jpeg({ progressive: true })),
      await write(root, 'cmyk.jpg', base().toColourspace('cmyk').jpeg()),
      await write(root, 'gray.png', base().toColourspace('b-w').png()),
      await write(root, 'interlaced.png', base().png({ progressive: true })),
      ...await Promise.all([2, 3, 5, 6, 7, 8].map((o) => write(root, `o${o}.jpg`, base().jpeg().withMetadata({ orientation: o })))),
      await write(root, 'o6.png', base().png().withMetadata({ orientation: 6 })),
    ];
    let parsed = 0;
    for (const file of files) {
      const header = readImageHeader(file);
      const meta = await sharp(file).metadata();
      if (header) {
        parsed++;
        const orientation = header.orientation ?? meta.orientation;
        assert.deepEqual([header.width, header.height, header.format, orientation], [meta.width, meta.height, meta.format, meta.orientation ?? 1], path.basename(file));
      }
    }
    assert.ok(parsed >= files.length - 1, `only ${parsed} of ${files.length} parsed`);
    const bmp = readImageHeader(await write(root, 'a.bmp', bmp24(7, 5, new Uint8Array(105))));
    const ppm = readImageHeader(await write(root, 'a.ppm', netpbm(7, 5, new Uint8Array(105))));
    assert.deepEqual([bmp?.format, bmp?.width, bmp?.height, ppm?.format, ppm?.width, ppm?.height], ['bmp', 7, 5, 'netpbm', 7, 5]);
    assert.equal(parseImageHeader(Buffer.from('not an image')), undefined);
    assert.equal(parseImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00])), undefined);
  });
});

describe('bad files', () => {
  const root = path.join(dir, 'bad');
  // A crop of the first rows only: a decoder that stops after them must still find the damage below.
  const topLeft: ImageTransform = { kind: 'image', name: 'topLeft', random: false, apply: (view) => view.crop(0, 0, 4, 4) };
  const jpeg = async (options: sharp.JpegOptions = {}) => (await photo(64, 64)).jpeg(options).toBuffer();
  const cut = (file: Buffer) => file.subarray(0, Math.floor(file.length * 0.8));
  const cases: [string, string | Buffer | (() => Promise<Buffer>)][] = [
    ['empty.jpg', Buffer.alloc(0)],
    ['text.jpg', 'this is not a JPEG, only a text file named like one'],
    ['bomb.png', pngHeaderBomb(20000, 20000)],
    ['bomb.jpg', async () => withClaimedSize(await jpeg(), { width: 60000, height: 60000 })],
    // Cut in the scan data, well after the headers.
    ['truncated.jpg', async () => cut(await jpeg())],
    ['truncated-progressive.jpg', async () => cut(await jpeg({ progressive: true }))],
    // The header claims more rows than the data holds, or fewer (data is left over).
    ['taller-than-its-data.jpg', async () => withClaimedSize(await jpeg(), { height: 96 })],
    ['shorter-than-its-data.jpg', async () => withClaimedSize(await jpeg(), { height: 32 })],
    ['truncated.ppm', netpbm(64, 64, new Uint8Array(64 * 64 * 3)).subarray(0, 500)],
    ['truncated.bmp', bmp24(64, 64, new Uint8Array(64 * 64 * 3)).subarray(0, 500)],
    ['bomb.ppm', 'P6\n60000 60000\n255\n'],
  ];
  before(async () => {
    await write(root, 'ok/good.png', solid(4, 4, 3, 'red').png());
    for (const [name, content] of cases) await write(root, `ok/${name}`, typeof content === 'function' ? await content() : content);
  });

  for (const [name] of cases) {
    test(`${name}: an ImageDecodeError naming the file, in bounded memory, whichever crop is drawn`, async () => {
      const rss = process.memoryUsage().rss;
      for (const transform of [centerCrop(4), topLeft]) {
        const folder = new ImageFolder(root, { transform });
        const index = folder.samples.findIndex(([file]) => file.endsWith(name));
        await assert.rejects(folder.get(index), (e: Error) => e instanceof ImageDecodeError && e.file === folder.samples[index][0] && e.message.includes(name));
      }
      assert.ok(process.memoryUsage().rss - rss < 200e6, 'memory grew by more than 200 MB');
    });
  }

  test('a smaller maxPixels refuses big images early', async () => {
    const folder = new ImageFolder(root, { maxPixels: 10 });
    const index = folder.samples.findIndex(([file]) => file.endsWith('good.png'));
    await assert.rejects(folder.get(index), /good\.png: 4x4 exceeds the limit of 10 pixels/);
  });
});

describe('IDX', () => {
  const idx = (dims: number[], data: Uint8Array): Buffer => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.set([0, 0, 8, dims.length]);
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([header, data]);
  };
  const labels = Uint8Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
  const images = Uint8Array.from({ length: 8 * 4 * 3 }, (_, i) => (i * 7) % 256);
  const files = { images: path.join(dir, 'idx', 'images-idx3-ubyte.gz'), labels: path.join(dir, 'idx', 'labels-idx1-ubyte') };
  before(() => {
    fs.mkdirSync(path.join(dir, 'idx'));
    fs.writeFileSync(files.images, zlib.gzipSync(idx([8, 4, 3], images)));
    fs.writeFileSync(files.labels, idx([8], labels));
  });

  test('reads gzipped and plain files; gray becomes 3 equal channels, exactly', async () => {
    const set = new IdxDataset(files.images, files.labels);
    assert.equal(set.length, 8);
    assert.deepEqual(Array.from(set.targets), Array.from(labels));
    assert.equal(set.classes.length, 10);
    const { input, target } = await set.get(2);
    assert.equal(target, 4);
    assert.deepEqual(input.shape, [3, 4, 3]);
    const gray = images.subarray(2 * 12, 3 * 12);
    for (let c = 0; c < 3; c++) gray.forEach((v, i) => assert.ok(Math.abs(input.data[c * 12 + i] - v / 255) < 1e-6));
  });

  test('normalised in a batch: each channel (x / 255 - mean) / std, as float32 x * scale + shift', async () => {
    const mean = [0.5, 0.4, 0.3];
    const std = [0.2, 0.25, 0.3];
    const set = new IdxDataset(files.images, files.labels, { transform: compose(toTensor(), normalize(mean, std)) });
    let batch;
    for await (const b of new DataLoader(set, { batchSize: 8 })) batch ??= b;
    assert.ok(batch);
    const f = Math.fround;
    images.forEach((v, p) => {
      const [n, i] = [Math.floor(p / 12), p % 12];
      for (let c = 0; c < 3; c++) {
        const [m, sd] = [f(mean[c]), f(std[c])];
        assert.equal(batch.input.data[(n * 3 + c) * 12 + i], f(f(v * f(1 / f(255 * sd))) + f(-m / sd)));
      }
    });
  });

  test('a subset of classes, relabelled in the order given', () => {
    const set = new IdxDataset(files.images, files.labels, { classes: [9, 1], classNames: 'abcdefghij'.split('') });
    assert.deepEqual(Array.from(set.indices), [1, 3, 5]);
    assert.deepEqual(Array.from(set.targets), [1, 1, 0]);
    assert.deepEqual(set.classes, ['j', 'b']);
  });

  test('bad files: wrong magic, sizes that do not match, missing files', () => {
    const bad = path.join(dir, 'idx', 'bad');
    fs.writeFileSync(bad, Buffer.from([1, 2, 3, 4, 5]));
    assert.throws(() => new IdxDataset(bad, files.labels), /not an IDX file/);
    fs.writeFileSync(bad, idx([9, 4, 3], images));
    assert.throws(() => new IdxDataset(bad, files.labels), /needs 108 bytes of data, the file has 96/);
    assert.throws(() => new IdxDataset(path.join(dir, 'nope'), files.labels), DatasetError);
    assert.throws(() => new FashionMNIST(dir), /train-images-idx3-ubyte\[\.gz\] not found/);
  });

  const debian = '/usr/share/datasets/fashion-mnist';
  test('Fashion-MNIST from Debian\'s dataset-fashion-mnist, classes 5-9 as 0-4', { skip: !fs.existsSync(debian) && `${debian} not installed` }, async () => {
    const set = new FashionMNIST(debian, { train: false, classes: [5, 6, 7, 8, 9], transform: resize(32) });
    assert.equal(set.length, 5000);
    assert.deepEqual(set.classes, ['Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    assert.ok(set.targets.every((t) => t >= 0 && t < 5));
    const { input } = await set.get(0);
    assert.deepEqual(input.shape, [3, 32, 32]);
  });
});

describe('CIFAR10', () => {
  const root = path.join(dir, 'cifar', 'cifar-10-batches-bin');
  const record = (label: number, seed: number) => Uint8Array.from({ length: 3073 }, (_, i) => (i === 0 ? label : (i * seed) % 256));
  before(() => {
    fs.mkdirSync(root, { recursive: true });
    for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(root, `data_batch_${b}.bin`), Buffer.concat([record(b, b), record(9, 100 + b)]));
    fs.writeFileSync(path.join(root, 'test_batch.bin'), Buffer.concat([record(7, 3), record(0, 5), record(2, 11)]));
  });

  test('reads the batches; planes become RGB pixels', async () => {
    const train = new CIFAR10(path.dirname(root));
    assert.equal(train.length, 10);
    assert.deepEqual(Array.from(train.targets), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    const test_ = new CIFAR10(path.dirname(root), { train: false });
    const { input, target } = await test_.get(2);
    assert.equal(target, 2);
    assert.deepEqual(input.shape, [3, 32, 32]);
    const planes = record(2, 11).subarray(1);
    planes.forEach((v, i) => assert.ok(Math.abs(input.data[i] - v / 255) < 1e-6, `element ${i}`));
    assert.equal(test_.classes[target], 'bird');
  });

  test('a file that is not whole records is refused', () => {
    const bad = path.join(dir, 'cifar-bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'test_batch.bin'), Buffer.alloc(100));
    assert.throws(() => new CIFAR10(bad, { train: false }), /not a whole number of 3073-byte records/);
  });
});

describe('Subset and randomSplit', () => {
  test('subsets index into the parent; randomSplit is a seeded partition', async () => {
    const root = path.join(dir, 'split');
    for (let i = 0; i < 10; i++) await write(root, `c${i % 2}/${i}.png`, solid(4, 4, 3, { r: i * 20, g: 0, b: 0 }).png());
    const folder = new ImageFolder(root);
    const sub = new Subset(folder, [9, 0]);
    assert.equal(sub.length, 2);
    assert.equal((await sub.get(0)).target, folder.targets[9]);
    assert.throws(() => new Subset(folder, [10]), RangeError);

    const [a, b] = randomSplit(folder, [7, 3], 1);
    assert.deepEqual([a.length, b.length], [7, 3]);
    assert.deepEqual([...a.indices, ...b.indices].sort((x, y) => x - y), [...Array(10).keys()]);
    assert.deepEqual(randomSplit(folder, [7, 3], 1)[1].indices, b.indices);
    assert.notDeepEqual(randomSplit(folder, [7, 3], 2)[1].indices, b.indices);
    assert.deepEqual(randomSplit(folder, [0.75, 0.25]).map((s) => s.length), [8, 2]);
    assert.throws(() => randomSplit(folder, [5, 4]), /summing to 10/);
  });
});

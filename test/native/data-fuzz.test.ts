// The image path fuzzed: mutants of real JPEG, BMP, Netpbm and PNG files (scripts/fuzz-image.ts)
// through the public loaders (a whole decode, a random crop, a batch with a good image beside the
// mutant). Every outcome must be pixels or an ImageDecodeError that names the file; a crash ends
// the run. A fixed-seed pass of 300 mutants by default (about 10 s); FINETORCH_FUZZ_MUTANTS=N runs
// N, FINETORCH_FUZZ_SEED another seed. The files in test/fuzz-corpus/images (inputs that once
// failed) are replayed each run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { DataLoader, ImageFolder, trainTransform } from '../../lib/data';
import { mixSeed, mulberry32 } from '../../lib/data/random';
import { ImageFormat, ImageSeed, judgeImageError, mutateImage } from '../../scripts/fuzz-image';
import { bmp24, bmpIndexed, jpegTool, netpbm, photo } from '../helpers/data-fixtures';
import { tempDir } from '../helpers/python';

const { dir, cleanup } = tempDir('finetorch-data-fuzz-');
after(cleanup);

const MUTANTS = Number(process.env.FINETORCH_FUZZ_MUTANTS ?? 300);
const SEED = Number(process.env.FINETORCH_FUZZ_SEED ?? 1);
const REGRESSIONS = path.resolve(__dirname, '..', '..', '..', 'test', 'fuzz-corpus', 'images');
// Small enough that no mutant's claimed size takes the machine; the limit's own refusal is tested elsewhere.
const MAX_PIXELS = 1 << 22;
const EXTENSION: Record<ImageFormat, string> = { jpeg: '.jpg', bmp: '.bmp', netpbm: '.ppm', png: '.png' };

const seeds: ImageSeed[] = [];

before(async () => {
  const rgb = async (w: number, h: number, s: number) => (await photo(w, h, s)).raw().toBuffer();
  const jpeg = await (await photo(48, 40, 1)).jpeg({ quality: 85 }).toBuffer();
  const add = (name: string, format: ImageFormat, bytes: Buffer) => seeds.push({ name, format, bytes });
  add('baseline-420.jpg', 'jpeg', jpeg);
  add('baseline-444.jpg', 'jpeg', await (await photo(33, 17, 2)).jpeg({ quality: 85, chromaSubsampling: '4:4:4' }).toBuffer());
  add('progressive.jpg', 'jpeg', await (await photo(40, 24, 3)).jpeg({ quality: 80, progressive: true }).toBuffer());
  add('gray.jpg', 'jpeg', await (await photo(24, 24, 4)).toColourspace('b-w').jpeg({ quality: 80 }).toBuffer());
  add('restart.jpg', 'jpeg', jpegTool('jpegtran', jpeg, ['-restart', '1']));
  add('arithmetic.jpg', 'jpeg', jpegTool('jpegtran', jpeg, ['-arithmetic']));
  add('cjpeg-422.jpg', 'jpeg', jpegTool('cjpeg', netpbm(21, 13, await rgb(21, 13, 5)), ['-sample', '2x1']));
  add('cmyk.jpg', 'jpeg', await (await photo(16, 16, 6)).toColourspace('cmyk').jpeg().toBuffer());
  const indices = Uint8Array.from({ length: 13 * 7 }, (_, i) => (i * 7) % 16);
  const palette = Uint8Array.from({ length: 16 * 3 }, (_, i) => (i * 37) % 256);
  add('rgb.bmp', 'bmp', bmp24(13, 7, await rgb(13, 7, 7)));
  add('palette.bmp', 'bmp', bmpIndexed(13, 7, indices, palette, 0));
  add('rle8.bmp', 'bmp', bmpIndexed(13, 7, indices, palette, 1));
  add('rle4.bmp', 'bmp', bmpIndexed(13, 7, indices, palette, 2));
  add('rgb.ppm', 'netpbm', netpbm(11, 9, await rgb(11, 9, 8)));
  add('gray.pgm', 'netpbm', netpbm(11, 9, Uint8Array.from({ length: 99 }, (_, i) => i), 1));
  add('plain.ppm', 'netpbm', Buffer.from('P3\n# plain\n2 2\n15\n0 1 2 3 4 5 6 7 8 9 10 15\n', 'latin1'));
  add('deep.pgm', 'netpbm', Buffer.concat([Buffer.from('P5 3 2 1000\n', 'latin1'), Buffer.from([0, 1, 3, 232, 1, 0, 0, 255, 2, 0, 0, 9])]));
  add('bits.pbm', 'netpbm', Buffer.from('P1\n5 2\n10101 0 1 0 1 0\n', 'latin1'));
  add('photo.png', 'png', await sharp(await rgb(12, 10, 9), { raw: { width: 12, height: 10, channels: 3 } }).png().toBuffer());
});

type Outcome = 'loaded' | 'clear';

/** Runs `f` without the warning each skipped sample prints (the skips are counted instead). */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return await f();
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Runs one file through the loaders; returns each loader's outcome, and throws on an unclear error. */
async function load(root: string, file: string, good: string, label: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const judge = (err: unknown): Outcome => {
    const verdict = judgeImageError(err, file);
    assert.equal(verdict.kind, 'clear', `${label}: ${verdict.why}: ${verdict.message}`);
    return 'clear';
  };
  const whole = new ImageFolder(root, { maxPixels: MAX_PIXELS });
  const index = whole.samples.findIndex(([f]) => f === file);
  outcomes.push(await whole.loadPixels(index, { rng: mulberry32(1) }).then(() => 'loaded' as const, judge));
  const cropped = new ImageFolder(root, { maxPixels: MAX_PIXELS, transform: trainTransform({ size: 16 }) });
  outcomes.push(await cropped.get(index, { seed: 3 }).then(() => 'loaded' as const, judge));
  // In a batch beside a good image, with onError: 'skip': the good one always comes through.
  const loader = new DataLoader(cropped, { batchSize: 2, onError: 'skip' });
  let images = 0;
  for await (const batch of loader) images += batch.target.length;
  assert.equal(images, 2 - loader.skipped, `${label}: ${images} images, ${loader.skipped} skipped`);
  assert.ok(whole.samples.some(([f]) => f === good));
  return outcomes;
}

test(`${MUTANTS} mutants of JPEG, BMP, Netpbm and PNG files: pixels or an ImageDecodeError naming the file`, async (t) => {
  const counts: Record<string, number> = {};
  await quietly(async () => {
    for (let i = 0; i < MUTANTS; i++) {
      const rng = mulberry32(mixSeed(SEED, i));
      const seed = seeds[i % seeds.length];
      const { bytes, how } = mutateImage(seed, seeds, rng);
      const root = path.join(dir, `m${i}`);
      fs.mkdirSync(path.join(root, 'c'), { recursive: true });
      const file = path.join(root, 'c', `mutant${EXTENSION[seed.format]}`);
      const good = path.join(root, 'c', 'good.png');
      fs.writeFileSync(file, bytes);
      fs.writeFileSync(good, seeds[seeds.length - 1].bytes);
      for (const outcome of await load(root, file, good, `${seed.name} #${i}: ${how.join('; ')}`)) {
        counts[`${seed.format} ${outcome}`] = (counts[`${seed.format} ${outcome}`] ?? 0) + 1;
      }
      fs.rmSync(root, { recursive: true });
    }
  });
  t.diagnostic(`loader calls by outcome: ${JSON.stringify(counts)}`);
  assert.ok(Object.keys(counts).some((k) => k.endsWith('clear')) && Object.keys(counts).some((k) => k.endsWith('loaded')));
});

test('the regression corpus (test/fuzz-corpus/images) loads or fails clearly', async () => {
  const files = fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS).filter((f) => !f.endsWith('.json')) : [];
  for (const [k, name] of files.entries()) {
    const root = path.join(dir, `r${k}`);
    fs.mkdirSync(path.join(root, 'c'), { recursive: true });
    const file = path.join(root, 'c', name);
    const good = path.join(root, 'c', 'good.png');
    fs.copyFileSync(path.join(REGRESSIONS, name), file);
    fs.writeFileSync(good, seeds[seeds.length - 1].bytes);
    await quietly(() => load(root, file, good, name));
  }
});

// DataLoader: batch shapes and counts, seeded shuffling and augmentation (independent of
// concurrency, of the decode memory and of the cache), skipping bad files inside a batch,
// cancelling, buffer reuse.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  LoaderBatch, DataLoader, DataLoaderOptions, Dataset, ImageDecodeError, ImageFolder, Subset, centerCrop, compose, randomResizedCrop,
  Transform, randomHorizontalFlip, resize, trainTransform, evalTransform,
} from '../../lib/data';
import { View } from '../../lib/data/geometry';
import { imageInfo } from '../../lib/data/image';
import { renderJobs } from '../../lib/data/render';
import { evaluate } from '../../lib/train/evaluate';
import { photo, write } from '../helpers/data-fixtures';
import { tempDir } from '../helpers/python';

const { dir, cleanup } = tempDir('finetorch-data-loader-');
after(cleanup);

const N = 13;
const root = path.join(dir, 'images');
const jpegRoot = path.join(dir, 'jpegs');

before(async () => {
  // Images of varied sizes: PNGs decoded by sharp, JPEGs by the addon, only the crop a view needs.
  for (let i = 0; i < N; i++) {
    const name = `c${i % 3}/${String(i).padStart(2, '0')}`;
    await write(root, `${name}.png`, (await photo(40 + 7 * i, 60 - 2 * i, i)).png());
    await write(jpegRoot, `${name}.jpg`, (await photo(40 + 7 * i, 60 - 2 * i, i)).jpeg({ quality: 90, progressive: i % 2 === 1 }));
  }
});

const folder = (transform: Transform = trainTransform({ size: 24 }), at = root) => new ImageFolder(at, { transform });

async function collect(dataset: Dataset, options: DataLoaderOptions, epochs = 1): Promise<LoaderBatch[]> {
  const loader = new DataLoader(dataset, options);
  const batches: LoaderBatch[] = [];
  for (let e = 0; e < epochs; e++) for await (const batch of loader) batches.push(batch);
  return batches;
}

const SCHED_IDLE = 5;

/** The scheduling policy (sched(7)) of each of this process's threads now. */
function threadPolicies(): number[] {
  return fs.readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Field 41 of proc(5); the fields after the command name start at field 3.
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3])];
    } catch {
      return []; // the thread ended
    }
  });
}

/** The order of samples, told apart by their first pixel values. */
const fingerprint = (batches: LoaderBatch[]) => batches.map((b) => Array.from(b.input.data.subarray(0, 4)).join(','));

describe('DataLoader', () => {
  test('batches of [n, 3, h, w] float32 and Int32 targets; length; dropLast', async () => {
    const data = folder();
    const batches = await collect(data, { batchSize: 5 });
    assert.deepEqual(batches.map((b) => b.input.shape), [[5, 3, 24, 24], [5, 3, 24, 24], [3, 3, 24, 24]]);
    assert.ok(batches.every((b) => b.input.data instanceof Float32Array && b.target instanceof Int32Array));
    assert.deepEqual(batches.flatMap((b) => Array.from(b.target)), data.targets);
    assert.equal(new DataLoader(data, { batchSize: 5 }).length, 3);
    assert.equal(new DataLoader(data, { batchSize: 5, dropLast: true }).length, 2);
    assert.equal((await collect(data, { batchSize: 5, dropLast: true })).length, 2);
    assert.throws(() => new DataLoader(data, { batchSize: 0 }), RangeError);
  });

  test('shuffle visits every sample once per epoch, in a new order each epoch, reproducibly', async () => {
    const data = folder(centerCrop(8));
    const identity = Array.from({ length: N }, (_, i) => i);
    const order = async (options: DataLoaderOptions, epochs = 1) =>
      (await collect(data, { batchSize: 1, ...options }, epochs)).map((b) => fingerprint([b])[0]);
    const plain = await order({});
    const byPixels = new Map(plain.map((p, i) => [p, i]));
    const indices = async (options: DataLoaderOptions, epochs = 1) => (await order(options, epochs)).map((p) => byPixels.get(p) as number);
    const twoEpochs = await indices({ shuffle: true, seed: 5 }, 2);
    const [first, second] = [twoEpochs.slice(0, N), twoEpochs.slice(N)];
    assert.deepEqual([...first].sort((a, b) => a - b), identity);
    assert.deepEqual([...second].sort((a, b) => a - b), identity);
    assert.notDeepEqual(first, second);
    assert.notDeepEqual(first, identity);
    assert.deepEqual(await indices({ shuffle: true, seed: 5 }), first);
    assert.notDeepEqual(await indices({ shuffle: true, seed: 6 }), first);
    // setEpoch(1) replays the second epoch.
    const loader = new DataLoader(data, { batchSize: 1, shuffle: true, seed: 5 });
    loader.setEpoch(1);
    const replay: number[] = [];
    for await (const b of loader) replay.push(byPixels.get(fingerprint([b])[0]) as number);
    assert.deepEqual(replay, second);
  });

  for (const [kind, at] of [['PNG', root], ['JPEG', jpegRoot]]) {
    test(`augmented batches depend on seed and epoch only: not on concurrency, prefetch, decode memory or the cache (${kind})`, async () => {
      // A cached image is decoded whole and cropped afterwards; a JPEG decoded directly only in its
      // crop box: the pixels are the same.
      const data = folder(trainTransform({ size: 24 }), at);
      const reference = await collect(data, { batchSize: 4, shuffle: true, seed: 3, concurrency: 1, prefetch: 1 }, 2);
      for (const options of [{ concurrency: 8, prefetch: 3 }, { concurrency: 3, cache: { maxBytes: 1e8 } }, { concurrency: 4, decodeMemory: 1 }]) {
        const batches = await collect(data, { batchSize: 4, shuffle: true, seed: 3, ...options }, 2);
        assert.equal(batches.length, reference.length);
        batches.forEach((b, i) => {
          assert.deepEqual(b.target, reference[i].target);
          assert.deepEqual(b.input.data, reference[i].input.data, `batch ${i} with ${JSON.stringify(options)}`);
        });
      }
      const otherSeed = await collect(data, { batchSize: 4, shuffle: true, seed: 4 });
      assert.notDeepEqual(otherSeed[0].input.data, reference[0].input.data);
    });
  }

  test('the cache stays within maxBytes, holds eval outputs whole, and shrinks before random crops', async () => {
    const evalLoader = new DataLoader(folder(evalTransform({ resize: [20, 20], size: 16 })), { batchSize: 4, cache: { maxBytes: 5 * 16 * 16 * 3 } });
    for await (const _ of evalLoader) { /* fill */ }
    assert.equal(evalLoader.cache?.size, 5);
    assert.equal(evalLoader.cache?.bytes, 5 * 16 * 16 * 3);
    const shrinking = new DataLoader(folder(), { batchSize: 4, cache: { maxBytes: 1e8, shorterSide: 16 } });
    const batches: LoaderBatch[] = [];
    for (let e = 0; e < 2; e++) for await (const b of shrinking) batches.push(b);
    const entry = shrinking.cache?.get(N - 1);
    assert.ok(entry && Math.min(entry.image.width, entry.image.height) === 16, JSON.stringify(entry && [entry.image.width, entry.image.height]));
    assert.ok(batches.every((b) => b.input.shape[2] === 24 && b.input.shape[3] === 24));
  });

  test('onError "skip" warns and keeps batches full, a function is told instead; "throw" names the file', async () => {
    const bad = path.join(dir, 'with-bad');
    fs.cpSync(root, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'c0', '00.png'), 'corrupt');
    fs.writeFileSync(path.join(bad, 'c1', '01.png'), (await fs.promises.readFile(path.join(root, 'c1', '01.png'))).subarray(0, 100));
    const data = new ImageFolder(bad, { transform: centerCrop(8) });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const loader = new DataLoader(data, { batchSize: 4, onError: 'skip' });
    const batches: LoaderBatch[] = [];
    for await (const b of loader) batches.push(b);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.deepEqual(batches.map((b) => b.target.length), [4, 4, 3]);
    assert.equal(loader.skipped, 2);
    assert.ok(warnings.some((w) => w.includes('00.png')) && warnings.some((w) => w.includes('01.png')), warnings.join('\n'));

    // A function is told instead of the warning, with the sample's index.
    const told: [string, number][] = [];
    const telling = new DataLoader(data, { batchSize: 4, onError: (e, index) => told.push([path.basename(e.file), index]) });
    for await (const _ of telling) { /* all */ }
    assert.deepEqual(told, [['00.png', data.samples.findIndex(([f]) => f.endsWith('00.png'))], ['01.png', data.samples.findIndex(([f]) => f.endsWith('01.png'))]]);
    assert.equal(telling.skipped, 2);

    const strict = new DataLoader(data, { batchSize: 4 });
    await assert.rejects(async () => {
      for await (const _ of strict) { /* until the bad file */ }
    }, (e: Error) => e instanceof ImageDecodeError && e.file.endsWith('00.png'));
  });

  test('bad JPEGs inside a batch: each skipped alone, the batch made of the others in order', async () => {
    const bad = path.join(dir, 'jpegs-with-bad');
    fs.cpSync(jpegRoot, bad, { recursive: true });
    const good = (await fs.promises.readFile(path.join(jpegRoot, 'c1', '04.jpg')));
    fs.writeFileSync(path.join(bad, 'c1', '04.jpg'), good.subarray(0, Math.floor(good.length * 0.7)));
    fs.writeFileSync(path.join(bad, 'c2', '05.jpg'), 'not a JPEG');
    const clean = path.join(dir, 'jpegs-clean');
    fs.cpSync(jpegRoot, clean, { recursive: true });
    fs.rmSync(path.join(clean, 'c1', '04.jpg'));
    fs.rmSync(path.join(clean, 'c2', '05.jpg'));
    const onWarning = () => {};
    process.on('warning', onWarning);
    const loader = new DataLoader(folder(centerCrop(16), bad), { batchSize: 4, onError: 'skip' });
    const batches = await collect(folder(centerCrop(16), bad), { batchSize: 4, onError: 'skip' });
    for await (const _ of loader) { /* count the skips */ }
    process.off('warning', onWarning);
    assert.equal(loader.skipped, 2);
    const expected = await collect(folder(centerCrop(16), clean), { batchSize: 4 });
    assert.deepEqual(batches.map((b) => b.input.shape), [[4, 3, 16, 16], [4, 3, 16, 16], [3, 3, 16, 16]]);
    batches.forEach((b, i) => {
      assert.deepEqual(b.target, expected[i].target);
      assert.deepEqual(b.input.data, expected[i].input.data, `batch ${i}`);
    });
  });

  test('breaking out of an epoch stops loading; the loader runs again afterwards', async () => {
    const loader = new DataLoader(folder(), { batchSize: 2, prefetch: 1 });
    for await (const _ of loader) break;
    let count = 0;
    for await (const b of loader) count += b.target.length;
    assert.equal(count, N);
  });

  test('reuseBuffers recycles a batch buffer once the next batch is requested', async () => {
    const loader = new DataLoader(folder(centerCrop(8)), { batchSize: 2, prefetch: 1, reuseBuffers: true });
    const buffers = new Set<ArrayBufferLike>();
    for await (const b of loader) buffers.add(b.input.data.buffer);
    assert.ok(buffers.size <= 4, `${buffers.size} buffers for 7 batches`);
  });

  test("the library's loops recycle a loader's batch buffers; iterating it yourself keeps every batch", async () => {
    const loader = new DataLoader(folder(centerCrop(8)), { batchSize: 2, prefetch: 1 });
    const seen: Float32Array[] = [];
    const copies: Float32Array[] = [];
    await evaluate(loader, async (b) => {
      seen.push(b.input.data as Float32Array);
      copies.push((b.input.data as Float32Array).slice());
      return { loss: 0, correct: 0 };
    });
    assert.equal(seen.length, 7);
    const buffers = new Set(seen.map((data) => data.buffer));
    assert.ok(buffers.size <= 4, `${buffers.size} buffers for 7 batches`);
    // The batches a loop saw were whole when it saw them: the same pixels as a plain iteration's.
    const plain = await collect(folder(centerCrop(8)), { batchSize: 2 });
    assert.equal(new Set(plain.map((b) => b.input.data.buffer)).size, 7);
    assert.deepEqual(copies, plain.map((b) => b.input.data));
  });

  test('a JPEG is read to its end until it once decoded cleanly; after that, at the same size, only down to its crop', async () => {
    const at = path.join(dir, 'checked');
    const file = await write(at, 'a/tall.jpg', (await photo(48, 640)).jpeg({ quality: 90 }));
    const data = new ImageFolder(at, { transform: centerCrop(32) });
    const epoch = async (dataset: Dataset) => {
      for await (const b of new DataLoader(dataset)) assert.deepEqual(b.input.shape, [1, 3, 32, 32]);
    };
    await epoch(data);
    // Damage in the last rows, far below the crop, keeping the size: an early end-of-image marker.
    const bytes = fs.readFileSync(file);
    bytes.fill(0, bytes.length - 200, bytes.length - 2);
    bytes.set([0xff, 0xd9], bytes.length - 200);
    fs.writeFileSync(file, bytes);
    await epoch(data);
    await assert.rejects(epoch(new ImageFolder(at, { transform: centerCrop(32) })), (err: Error) =>
      err instanceof ImageDecodeError && err.message.includes(file));
    // A file whose size changed is read to its end again.
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(epoch(data), ImageDecodeError);
  });

  test('a batch made ahead of need runs at the lowest CPU priority until something waits for it; the pixels are the same', async () => {
    const at = path.join(dir, 'priority');
    const files: string[] = [];
    for (let i = 0; i < 8; i++) files.push(await write(at, `a/${i}.jpg`, (await photo(800, 600, i)).jpeg({ quality: 90 })));
    const info = await imageInfo(files[0]);
    const jobs = Array.from({ length: 48 }, (_, i) => ({ source: files[i % 8], info, view: new View(800, 600), decode: {} }));
    // Makes the jobs, noting the scheduling policy of every thread of the process each millisecond.
    const render = async (waitedFor?: Int32Array, eachPoll?: () => void) => {
      const bytes = jobs.map(() => new Uint8Array(800 * 600 * 3));
      const policies = new Set<number>();
      let done = false;
      const made = renderJobs(jobs, { bytes }, { threads: 2, decodeMemory: 1 << 30, waitedFor }).finally(() => (done = true));
      while (!done) {
        threadPolicies().forEach((p) => policies.add(p));
        eachPoll?.();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      assert.deepEqual(await made, jobs.map(() => undefined));
      return { bytes, policies };
    };
    const plain = await render();
    assert.ok(!plain.policies.has(SCHED_IDLE), 'no flag: normal priority');
    const ahead = await render(new Int32Array(1));
    assert.ok(ahead.policies.has(SCHED_IDLE), `made ahead: a thread at SCHED_IDLE (policies seen: ${[...ahead.policies]})`);
    assert.deepEqual(ahead.bytes, plain.bytes);
    const waited = await render(Int32Array.of(1));
    assert.ok(!waited.policies.has(SCHED_IDLE), 'waited for from the start: normal priority');
    // Waited for halfway: threads at normal priority finish it.
    const flag = new Int32Array(1);
    let polls = 0;
    assert.deepEqual((await render(flag, () => ++polls === 5 && Atomics.store(flag, 0, 1))).bytes, plain.bytes);
    assert.ok(polls >= 5, 'the flag was set while the batch was being made');

    // A DataLoader whose consumer is busy makes the next batches ahead, at SCHED_IDLE.
    const seen = new Set<number>();
    for await (const b of new DataLoader(new ImageFolder(at, { transform: centerCrop(64) }), { batchSize: 2, prefetch: 2 })) {
      assert.deepEqual(b.input.shape, [2, 3, 64, 64]);
      for (let t = 0; t < 20; t++) {
        threadPolicies().forEach((p) => seen.add(p));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    assert.ok(seen.has(SCHED_IDLE), `a loader working ahead: a thread at SCHED_IDLE (policies seen: ${[...seen]})`);
  });

  test('samples of different sizes in one batch are an error that says what to do', async () => {
    await assert.rejects(collect(folder(resize(10)), { batchSize: 4 }), /end the transform with a crop or a \[height, width\] resize/);
  });

  test('works on a Subset, with the parent transform', async () => {
    const data = folder(compose(randomResizedCrop(12), randomHorizontalFlip()));
    const batches = await collect(new Subset(data, [1, 2, 3]), { batchSize: 2 });
    assert.deepEqual(batches.map((b) => b.input.shape), [[2, 3, 12, 12], [1, 3, 12, 12]]);
    assert.deepEqual(Array.from(batches[0].target), [data.targets[1], data.targets[2]]);
  });

  test('raw-pixel datasets batch without files', async () => {
    const gray = sharp({ create: { width: 5, height: 5, channels: 3, background: 'gray' } });
    await write(dir, 'g/a/x.png', gray.png());
    const batches = await collect(new ImageFolder(path.join(dir, 'g')), { batchSize: 2 });
    assert.deepEqual(batches[0].input.shape, [1, 3, 5, 5]);
  });
});

// The .pth codec against real PyTorch: files torch.save wrote (both formats, every dtype, views,
// checkpoints) read back bit for bit; files savePth wrote load in torch.load(weights_only=True);
// hostile or broken files are refused with an error naming the file.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEEDS_DIR } from '../../scripts/fuzz';
import { peakRssGrowth } from '../../scripts/fuzz-memory';
import { PthError, loadPth, locatePth, pthFormat, readPth, savePth } from '../../lib/pth';
import { isHostTensor } from '../../lib/pth/value';
import { DType, DTYPES, HostTensor, TypedArray, zeros } from '../../lib/base/tensor';
import { pthRefusal } from '../helpers/pth-refusal';
import { runPython, tempDir } from '../helpers/python';

/** pth_common.describe's JSON, computed on the JavaScript side. */
type Desc = null | { [kind: string]: unknown };

function describeValue(value: unknown): Desc {
  if (value === null) return null;
  if (isHostTensor(value)) {
    const { dtype, shape, data } = value;
    return { tensor: { dtype, shape, sha256: createHash('sha256').update(bytesOf(data)).digest('hex') } };
  }
  if (value instanceof Map) return { OrderedDict: [...value].map(([k, v]) => [describeValue(k), describeValue(v)]) };
  if (Array.isArray(value)) return { [Object.isFrozen(value) ? 'tuple' : 'list']: value.map(describeValue) };
  switch (typeof value) {
    case 'boolean': return { bool: value };
    case 'bigint': return { int: String(value) };
    case 'string': return { str: value };
    case 'number': return Number.isInteger(value) ? { int: String(value) } : { float: bytesOf(new Float64Array([value])).toString('hex') };
    default: return { dict: Object.entries(value as object).map(([k, v]) => [describeValue(k), describeValue(v)]) };
  }
}

/** readPth gives a Map for dict and OrderedDict alike: compare kinds of dict as one. */
function dictsAsOne(desc: unknown): unknown {
  return JSON.parse(JSON.stringify(desc).replace(/"OrderedDict":/g, '"dict":'));
}

function bytesOf(data: TypedArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A tensor of random bits (bool: 0/1) with NaN payloads and extremes left as they come. */
function randomTensor(dtype: DType, shape: number[]): HostTensor {
  const tensor = zeros(dtype, shape);
  const bytes = bytesOf(tensor.data);
  bytes.set(randomBytes(bytes.length));
  if (dtype === 'bool') bytes.forEach((b, i) => { bytes[i] = b & 1; });
  return tensor;
}

interface Fixture { file: string; expect: Desc }

const tmp = tempDir('finetorch-pth-');
let fixtures: Record<string, Fixture>;
let hostile: { marker: string; files: Record<string, string>; loads: Record<string, Desc>; torch_refuses: string[] };
before(async () => {
  fixtures = JSON.parse(await runPython('pth_fixtures.py', [tmp.dir]));
  const hostileDir = path.join(tmp.dir, 'hostile');
  fs.mkdirSync(hostileDir);
  hostile = JSON.parse(await runPython('pth_hostile.py', [hostileDir]));
});
after(() => tmp.cleanup());

describe('reading files torch.save wrote', () => {
  for (const format of ['zip', 'legacy'] as const) {
    it(`reads a seeded torchvision resnet18 state dict (${format}): 122 keys in order, bit-equal`, async () => {
      const { file, expect } = fixtures[`resnet18-${format}`];
      const stateDict = await loadPth(file);
      assert.equal(stateDict.size, 122);
      assert.deepEqual(describeValue(stateDict), expect);
      const info = await pthFormat(file);
      assert.equal(info.format, format);
      assert.equal(info.entries.filter((e) => /(^|\/)data\/\w+$/.test(e.name)).length, 122, 'one storage per tensor');
      if (format === 'zip') {
        // Contiguous tensors are views over one buffer, the file's bytes: nothing was copied.
        assert.equal(new Set([...stateDict.values()].map((t) => t.data.buffer)).size, 1);
      }
    });
  }

  for (const name of ['views', 'dtypes', 'storages', 'checkpoint-state_dict', 'checkpoint-model', 'data-parallel']) {
    for (const format of ['zip', 'legacy']) {
      it(`reads ${name} (${format}) as torch.load does`, async () => {
        const { file, expect } = fixtures[`${name}-${format}`];
        assert.deepEqual(dictsAsOne(describeValue(await readPth(file))), dictsAsOne(expect));
      });
    }
  }

  for (const name of ['protocol4', 'legacy-2017', 'deflated']) {
    it(`reads ${name}`, async () => {
      const { file, expect } = fixtures[name];
      assert.deepEqual(dictsAsOne(describeValue(await readPth(file))), dictsAsOne(expect));
    });
  }

  it('gives contiguous row-major tensors: views where the file allows, copies for strided ones', async () => {
    const views = await loadPth(fixtures['views-zip'].file);
    const base = views.get('base')!;
    assert.deepEqual([...views.get('transposed')!.data.slice(0, 3)], [0, 5, 10]);
    assert.deepEqual([...views.get('block')!.data.slice(0, 5)], [11.5, 12, 12.5, 13, 16.5]);
    assert.deepEqual(views.get('expanded')!.data, new Float32Array([1.5, 2.5, 1.5, 2.5, 1.5, 2.5]));
    assert.deepEqual(views.get('scalar')!.shape, []);
    assert.deepEqual(views.get('empty')!.shape, [0, 3]);
    assert.equal(views.get('slice')!.data.buffer, base.data.buffer);
    assert.equal(views.get('slice')!.data.byteOffset, base.data.byteOffset + 40);
    assert.notEqual(views.get('transposed')!.data.buffer, base.data.buffer);
  });

  it('unwraps checkpoints and strips the DataParallel module. prefix', async () => {
    const keysOf = async (name: string) => [...(await loadPth(fixtures[name].file)).keys()];
    const viewKeys = await keysOf('views-zip');
    assert.deepEqual(await keysOf('checkpoint-state_dict-legacy'), viewKeys);
    assert.deepEqual(await keysOf('data-parallel-zip'), viewKeys);
    assert.deepEqual(await keysOf('checkpoint-model-zip'), await keysOf('dtypes-zip'));
  });

  it('reads the fuzzer\'s seeds (test/fuzz-corpus/seeds, made by torch.save) as torch.load does', async () => {
    const expected: Record<string, Desc> = JSON.parse(await runPython('pth_fuzz_seeds.py', ['check', SEEDS_DIR]));
    assert.ok(Object.keys(expected).length >= 8);
    for (const [name, expect] of Object.entries(expected)) {
      assert.deepEqual(dictsAsOne(describeValue(await readPth(path.join(SEEDS_DIR, name)))), dictsAsOne(expect), name);
    }
  });

  it('reads a 2017-era state dict without num_batches_tracked as it is', async () => {
    const keys = [...(await loadPth(fixtures['legacy-2017'].file)).keys()];
    assert.ok(keys.includes('bn1.running_var') && !keys.some((k) => k.endsWith('num_batches_tracked')));
  });
});

describe('writing files torch.load reads', () => {
  const everyDtype = () => new Map<string, HostTensor>(DTYPES.flatMap((dtype): [string, HostTensor][] => [
    [dtype, randomTensor(dtype, [3, 4, 5])],
    [`${dtype}.scalar`, randomTensor(dtype, [])],
    [`${dtype}.empty`, randomTensor(dtype, [2, 0])],
  ]));

  async function roundTrip(name: string, value: Parameters<typeof savePth>[1], floats = false) {
    const file = path.join(tmp.dir, `${name}.pth`);
    await savePth(file, value);
    const checked = JSON.parse(await runPython('pth_check.py', floats ? [file, '--floats'] : [file]));
    assert.equal(checked.crc_ok, true, 'zip CRCs');
    assert.equal(checked.aligned, true, 'record data 64-byte aligned');
    assert.deepEqual(checked.value, describeValue(value), 'what torch.load sees');
    assert.deepEqual(dictsAsOne(describeValue(await readPth(file))), dictsAsOne(describeValue(value)), 'what readPth sees');
    return checked;
  }

  it('saves tensors of every dtype that torch.load(weights_only=True) reads bit for bit', async () => {
    const checked = await roundTrip('every-dtype', everyDtype());
    assert.equal(checked.weights_only, true);
    assert.deepEqual(checked.records.slice(0, 2), ['archive/data.pkl', 'archive/byteorder']);
    assert.equal(checked.records.at(-1), 'archive/version');
  });

  it('saves nested checkpoints: dicts, OrderedDicts, lists, tuples, ints, strings, bools, None', async () => {
    const shared = randomTensor('float32', [2, 3]);
    const checkpoint = {
      epoch: 7, step: 2n ** 70n, negative: -123456789012, name: 'resnet18 ✓', done: false, missing: null,
      state_dict: new Map<string, HostTensor>([['fc.weight', shared], ['fc.bias', randomTensor('float32', [3])]]),
      history: [1, [2, 3], Object.freeze(['a', true]), {}],
      by_number: new Map<number | string, unknown>([[1, 'one'], [-2, shared], ['x', new Map()]]),
    };
    const checked = await roundTrip('checkpoint', checkpoint as never);
    assert.equal(checked.weights_only, true);
  });

  it('saves floats (torch 1.13 only reads them without weights_only)', async () => {
    await roundTrip('floats', { lr: 0.1, momentum: [0.9, -1e-300, Infinity, NaN], half: 2.5 }, true);
  });

  it('saves a state dict that round-trips through loadPth unchanged', async () => {
    const { file, expect } = fixtures['resnet18-legacy'];
    const again = path.join(tmp.dir, 'resnet18-again.pth');
    await savePth(again, await loadPth(file));
    assert.deepEqual(describeValue(await loadPth(again)), expect);
    assert.deepEqual(JSON.parse(await runPython('pth_check.py', [again])).value, expect);
  });

  it('writes atomically: a failed save leaves the old file and no temporary files', async () => {
    const dir = path.join(tmp.dir, 'atomic');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'model.pth');
    await savePth(file, everyDtype());
    const before = fs.readFileSync(file);
    await assert.rejects(savePth(file, { ok: randomTensor('int8', [2]), bad: (() => 1) as never }),
      (err: Error) => err instanceof PthError && err.message.includes(file) && /value\["bad"\]: cannot save function/.test(err.message));
    await assert.rejects(savePth(file, { t: { dtype: 'float32', shape: [3], data: new Float32Array(2) } as HostTensor }), /value\["t"\]: shape \[3\] holds 3 elements/);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    await assert.rejects(savePth(file, cyclic as never), /contains itself/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(fs.readdirSync(dir), ['model.pth']);
  });
});

describe('hostile and broken files', () => {
  const refusal = pthRefusal;
  const rejects = (file: string, pattern: RegExp) => assert.rejects(readPth(file), refusal(file, pattern));
  /** Every public reader refuses the file alike (locatePth: the path net.loadPth and ResNet18.load take). */
  const everyReaderRejects = async (file: string, pattern: RegExp) => {
    for (const read of [readPth, loadPth, locatePth]) await assert.rejects(read(file), refusal(file, pattern), read.name);
  };

  for (const format of ['zip', 'legacy', 'protocol4']) {
    it(`refuses a pickle that calls os.system (${format}), running nothing`, async () => {
      await rejects(hostile.files[`os-system-${format}`], /Python global 'posix\.system'/);
      assert.equal(fs.existsSync(hostile.marker), false);
    });
  }

  it('refuses a pickled nn.Module', () => rejects(hostile.files['whole-module'], /'torch\.nn\.modules\.linear\.Linear'/));
  it('refuses an opcode outside the allowed set', () => rejects(hostile.files['text-opcode'], /unsupported opcode INT \(0x49\)/));

  it('refuses forged sizes before allocating anything', async () => {
    await rejects(hostile.files['huge-storage'], /declares 1099511627776 float32 elements .* holds 16 bytes/);
    await rejects(hostile.files['huge-expand'], /tensor of size \[1048576,1048576\] \(stride \[0,0\]\) .* would add 4398046511104 bytes, over the budget of \d+ bytes/);
    await rejects(hostile.files['out-of-bounds'], /reaches element 5 of storage '0', which holds 4/);
    await rejects(hostile.files['huge-count-legacy'], /holds 1152921504606846976 elements but the pickle declares 6/);
  });

  // The three bombs of issue 14: each loaded, or failed only after allocating 1.5-3 GiB.
  for (const [name, pattern] of [
    ['stride0-bomb', /tensor of size \[67108864\] \(stride \[0\]\) .* would add 268435456 bytes, over the budget of \d+ bytes .*pass a larger maxBytes/],
    ['deflate-bomb', /record archive\/data\.pkl \(\d+ bytes deflated, 1610612736 inflated\) would add \d+ bytes, over the budget of \d+ bytes/],
    ['overlap-bomb', /records archive\/data\/0 \(bytes \d+\.\.\d+\) and archive\/data\/1 \(from byte \d+\) overlap/],
  ] as const) {
    it(`refuses the ${name} with every reader, before allocating`, async () => {
      const growth = await peakRssGrowth(() => everyReaderRejects(hostile.files[name], pattern));
      if (process.platform === 'linux') {
        assert.ok(growth !== undefined, 'peak RSS is readable on Linux');
        assert.ok(growth < 64 * 2 ** 20, `peak RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
      }
    });
  }

  it('names the function and its arity when a pickle calls a tensor rebuild with too few arguments', async () => {
    assert.ok(hostile.torch_refuses.includes('rebuild-few-args'));
    await everyReaderRejects(hostile.files['rebuild-few-args'],
      /data\.pkl, byte \d+: torch\._utils\._rebuild_tensor_v2\(storage, .*metadata\) takes 6 to 7 arguments, got 1/);
  });

  for (const opcode of ['inst', 'obj']) {
    it(`refuses ${opcode.toUpperCase()} by the global it imports (os.system), as GLOBAL is refused`, async () => {
      assert.ok(hostile.torch_refuses.includes(`${opcode}-os-system`));
      await everyReaderRejects(hostile.files[`${opcode}-os-system`], /refusing to load Python global 'os\.system'/);
      assert.equal(fs.existsSync(hostile.marker), false);
    });
  }

  it('refuses a legacy file whose storage key list omits a storage a tensor uses (torch reads uninitialised memory)', () =>
    everyReaderRejects(hostile.files['storage-unlisted-legacy'], /storage '\d+' is used by a tensor but missing from the storage key list/));

  it('loads empty tensors whose offset lies past their storage, as torch.load does', async () => {
    const file = hostile.files['empty-past-storage'];
    assert.deepEqual(dictsAsOne(describeValue(await readPth(file))), dictsAsOne(hostile.loads['empty-past-storage']));
    const places = (await locatePth(file))!;
    assert.deepEqual([...places.values()].map((p) => p.shape), [[0], [0, 3]]);
    assert.ok([...places.values()].every((p) => p.position + 4 <= fs.statSync(file).size), 'an empty tensor is placed inside the file');
  });

  it('charges expanded tensors to maxBytes: the default allows a small expansion, a lower budget refuses it', async () => {
    const file = hostile.files['expanded-1000']; // torch.tensor([1.5]).expand(1000), stride 0
    const expect = dictsAsOne(hostile.loads['expanded-1000']);
    assert.deepEqual(dictsAsOne(describeValue(await readPth(file))), expect);
    assert.deepEqual(dictsAsOne(describeValue(await readPth(file, { maxBytes: 4000 }))), expect);
    for (const read of [readPth, loadPth, locatePth]) {
      await assert.rejects(read(file, { maxBytes: 3999 }), refusal(file, /would add 4000 bytes, over the budget of 3999 bytes .*\(maxBytes\)/));
    }
  });

  it('refuses a zip whose central directory claims more bytes than the file has', async () => {
    const bytes = fs.readFileSync(fixtures['views-zip'].file);
    const central = bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1')); // data.pkl's entry
    bytes.writeUInt32LE(0x7fffffff, central + 20);
    bytes.writeUInt32LE(0x7fffffff, central + 24);
    const file = path.join(tmp.dir, 'forged-size.pth');
    fs.writeFileSync(file, bytes);
    await rejects(file, /runs past the end of the data/);
  });

  it('refuses corrupt tensor data by its CRC', async () => {
    const file = path.join(tmp.dir, 'corrupt.pth');
    await savePth(file, new Map([['w', randomTensor('float32', [64])]]));
    const bytes = fs.readFileSync(file);
    const data = bytes.indexOf(Buffer.from('archive/data/0', 'latin1')) + 14;
    bytes[data + 100] ^= 0x01; // inside the padding-aligned record data
    fs.writeFileSync(file, bytes);
    await rejects(file, /CRC mismatch in record archive\/data\/0/);
  });

  for (const format of ['zip', 'legacy']) {
    it(`refuses ${format} files truncated anywhere`, async () => {
      const bytes = fs.readFileSync(fixtures[`views-${format}`].file);
      for (const length of [0, 1, 3, 10, 100, bytes.length >> 1, bytes.length - 30, bytes.length - 1]) {
        const file = path.join(tmp.dir, `cut-${format}-${length}.pth`);
        fs.writeFileSync(file, bytes.subarray(0, length));
        await rejects(file, /truncated|not a PyTorch|not a zip/);
      }
    });
  }

  it('refuses random bytes, a wrong magic number and a missing file', async () => {
    const random = path.join(tmp.dir, 'random.pth');
    fs.writeFileSync(random, randomBytes(4096));
    await rejects(random, /not a PyTorch \.pth file/);
    const magic = path.join(tmp.dir, 'magic.pth');
    const legacy = fs.readFileSync(fixtures['views-legacy'].file);
    legacy[5] ^= 0xff; // inside the LONG1 magic number
    fs.writeFileSync(magic, legacy);
    await rejects(magic, /wrong magic number/);
    await rejects(path.join(tmp.dir, 'nope.pth'), /ENOENT/);
  });

  it('still reads good files afterwards', async () => {
    assert.equal((await loadPth(fixtures['resnet18-zip'].file)).size, 122);
  });
});


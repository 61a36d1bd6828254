// The safetensors codec on hand-made files (no Python: test/parity/safetensors.test.ts has the
// files Python's safetensors writes): the layout rules (no overlap, no gap, sizes, the end of the
// file), the JSON header read by its schema (duplicate keys, integers, escapes, nesting), budgets,
// zero-copy views, the writer's checks, and the sniffing that tells the formats apart
// (test/native/safetensors-models.test.ts: models from the files, and finetorch inspect on them).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { savePth } from '../../lib/pth';
import { loadSafetensors, locateSafetensors, looksLikeSafetensors, readSafetensorsHeader, saveSafetensors } from '../../lib/safetensors';
import { HostTensor } from '../../lib/base/tensor';
import { weightsFormat } from '../../lib/model/weights-file';
import { peakRssGrowth } from '../../scripts/fuzz-memory';
import { safetensorsRefusal as refusal } from '../helpers/pth-refusal';
import { tempDir } from '../helpers/python';
import { safetensorsInfo as info, safetensorsWriter } from '../helpers/safetensors-files';

const tmp = tempDir('finetorch-safetensors-unit-');
after(() => tmp.cleanup());
const stFile = safetensorsWriter(tmp.dir);

function f32(...values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Every reader refuses `file` with a message matching `pattern`. */
async function refusedByAll(file: string, pattern: RegExp): Promise<void> {
  for (const read of [loadSafetensors, readSafetensorsHeader, locateSafetensors]) await assert.rejects(read(file), refusal(file, pattern));
}


describe('the layout', () => {
  it('reads tensors in the order of their bytes, whatever the header order', async () => {
    const file = stFile({ b: info('F32', [1], 8, 12), a: info('F32', [2], 0, 8), __metadata__: { k: 'v' } }, f32(1, 2, 3));
    const state = await loadSafetensors(file);
    assert.deepEqual([...state.keys()], ['a', 'b']);
    assert.deepEqual([...state.get('a')!.data], [1, 2]);
    assert.deepEqual([...state.get('b')!.data], [3]);
    assert.deepEqual((await readSafetensorsHeader(file)).metadata, new Map([['k', 'v']]));
    const places = await locateSafetensors(file);
    const headerEnd = 8 + fs.statSync(file).size - 8 - 12;
    assert.deepEqual(places.get('b'), { dtype: 'float32', shape: [1], stride: [1], position: headerEnd + 8 });
  });

  it('refuses overlaps, gaps, inverted offsets and sizes that disagree with dtype and shape', async () => {
    const data = f32(1, 2, 3, 4);
    await refusedByAll(stFile({ a: info('F32', [2], 0, 8), b: info('F32', [2], 4, 12) }, data.subarray(0, 12)), /tensor "b" \(data_offsets \[4, 12\]\) overlaps "a", which ends at 8/);
    await refusedByAll(stFile({ a: info('F32', [2], 0, 8), b: info('F32', [1], 12, 16) }, data), /tensor "b" .* leaves bytes 8\.\.12 of the buffer unused/);
    await refusedByAll(stFile({ a: info('F32', [0], 8, 0) }, data), /tensor "a" .* overlaps|tensor "a" .* ends before it begins/);
    await refusedByAll(stFile({ a: info('F32', [3], 0, 8) }, data.subarray(0, 8)), /tensor "a" \(data_offsets \[0, 8\]\) spans 8 bytes, but F32 \[3\] takes 12/);
    await refusedByAll(stFile({ a: info('F4', [3], 0, 2) }, data.subarray(0, 2)), /3 F4 elements do not fill a whole number of bytes/);
    await refusedByAll(stFile({ a: info('F32', [2 ** 40, 2 ** 23], 0, 8) }, data.subarray(0, 8)), /more bits than 64 bits count/);
  });

  it('refuses a file whose tensors do not end where the file ends', async () => {
    await refusedByAll(stFile({ a: info('F32', [2], 0, 8) }, f32(1)), /the tensors cover 8 bytes after the \d+-byte header, but the file holds 4 there \(truncated file\?\)/);
    await refusedByAll(stFile({ a: info('F32', [1], 0, 4) }, f32(1, 2)), /but the file holds 8 there \(bytes no tensor uses\)/);
  });

  it('refuses header lengths past the format limit or the file, and files too short for one', async () => {
    await refusedByAll(stFile('{}', undefined, 100_000_001n), /the header length 100000001 is over the format's limit of 100000000 bytes/);
    await refusedByAll(stFile('{}', undefined, 2n ** 64n - 1n), /the header length 18446744073709551615 is over/);
    await refusedByAll(stFile('{}', undefined, 3n), /the header length 3 runs past the end of the 10-byte file/);
    const short = path.join(tmp.dir, 'short.safetensors');
    fs.writeFileSync(short, Buffer.from([1, 0, 0]));
    await refusedByAll(short, /not a safetensors file: 3 bytes are too few for the 8-byte header length/);
  });

  it('reads empty files, scalars and empty tensors', async () => {
    assert.equal((await loadSafetensors(stFile({}))).size, 0);
    const state = await loadSafetensors(stFile({ s: info('F64', [], 0, 8), e: info('I64', [0, 3], 8, 8) }, new Uint8Array(new Float64Array([2.5]).buffer)));
    assert.deepEqual(state.get('s'), { dtype: 'float64', shape: [], data: new Float64Array([2.5]) });
    assert.deepEqual(state.get('e'), { dtype: 'int64', shape: [0, 3], data: new BigInt64Array(0) });
  });
});

describe('the JSON header, read by its schema', () => {
  const one = (entry: string) => stFile(`{${entry}}`, f32(7));
  const good = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';

  it('refuses what JSON.parse would silently take: duplicate keys, integers past 2^53', async () => {
    await refusedByAll(one(`${good},${good}`), /tensor "a" appears twice/);
    await refusedByAll(one('"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}'), /tensor "a" has two 'dtype' fields/);
    await refusedByAll(one(`"__metadata__":{},"__metadata__":{},${good}`), /'__metadata__' appears twice/);
    await refusedByAll(one(`"__metadata__":{"k":"1","k":"2"},${good}`), /'__metadata__' names "k" twice/);
    await refusedByAll(one('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,9007199254740996]}'), /'data_offsets' holds 9007199254740996, past 2\^53 - 1/);
  });

  it('takes only non-negative integers for shapes and offsets, exactly two offsets, and every field', async () => {
    for (const [value, pattern] of [
      ['[1.0]', /'shape' must hold non-negative integers, got 1\.0/],
      ['[-1]', /'shape' must hold non-negative integers, got -1/],
      ['[1e0]', /got 1e0/],
      ['"1"', /'shape' must be a list of non-negative integers/],
      ['[01]', /expected ',' or '\]' in tensor "a": 'shape'/],
    ] as const) {
      await refusedByAll(one(`"a":{"dtype":"F32","shape":${value},"data_offsets":[0,4]}`), pattern);
    }
    await refusedByAll(one('"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}'), /'data_offsets' must be \[begin, end\], got 3 numbers/);
    await refusedByAll(one('"a":{"dtype":"F32","data_offsets":[0,4]}'), /tensor "a" has no 'shape'/);
    await refusedByAll(one('"a":[]'), /tensor "a" must be an object/);
    await refusedByAll(one('"a":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}'), /tensor "a" has dtype "F128", which is not one of the format's \(BOOL, F4/);
    await refusedByAll(one(`"__metadata__":{"k":1},${good}`), /'__metadata__' values must be strings \("k" is not\)/);
  });

  it('skips unknown fields as serde does, up to serde_json\'s nesting limit', async () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const skipped = await loadSafetensors(one(`"a":{"x":{"y":[1,-2.5e+3,true,null,"s\\u00e9"]},"z":${nested(126)},"dtype":"F32","shape":[1],"data_offsets":[0,4]}`));
    assert.deepEqual([...skipped.get('a')!.data], [7]);
    await refusedByAll(one(`"a":{"z":${nested(127)},${good.slice(5)}`), /nested deeper than 128 levels/);
  });

  it('decodes escapes, keeps surrogate pairs, refuses lone surrogates, control characters and bad syntax', async () => {
    const names = [...(await loadSafetensors(one('"\\u00e9\\ud83d\\ude00\\n\\"\\/":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'))).keys()];
    assert.deepEqual(names, ['é😀\n"/']);
    await refusedByAll(one('"\\ud83d":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), /lone high surrogate/);
    await refusedByAll(one('"\\ude00":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), /lone low surrogate/);
    await refusedByAll(one('"a\tb":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), /control character in a string/);
    await refusedByAll(one('"\\x":{}'), /invalid escape \\x/);
    await refusedByAll(stFile(`{${good},}`, f32(7)), /expected a quoted key/);
    await refusedByAll(stFile(`{${good}} x`, f32(7)), /trailing characters after the header object/);
    await refusedByAll(stFile(`{${good}`, f32(7)), /malformed at its end: expected ',' or '\}'/);
    await refusedByAll(stFile(Buffer.from([0x7b, 0xff, 0x7d])), /the JSON header is not valid UTF-8/);
  });

  it('reads a header padded with spaces, as save_file pads it', async () => {
    assert.equal((await loadSafetensors(stFile(`{${good}}      `, f32(7)))).size, 1);
  });
});

describe('budgets and views', () => {
  it('charges the parsed header to the budget: a header of tiny entries is refused before it takes the memory', async () => {
    const entries = Array.from({ length: 400_000 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    const file = stFile(`{${entries.join(',')}}`);
    const size = fs.statSync(file).size;
    let growth: number | undefined;
    for (const read of [loadSafetensors, readSafetensorsHeader, locateSafetensors]) {
      growth = await peakRssGrowth(() => assert.rejects(read(file), refusal(file, new RegExp(`(tensor "t\\d+"|a string) in the header would add \\d+ bytes after \\d+ bytes spent on earlier ones, over the budget of ${size + 2 ** 20} bytes`))));
      if (growth !== undefined) assert.ok(growth < 6 * size, `${read.name}: peak RSS grew by ${growth} bytes for a ${size}-byte file`);
    }
    assert.equal((await readSafetensorsHeader(file, { maxBytes: 2 ** 28 })).tensors.length, 400_000);
  });

  it('gives views of one buffer when aligned, and copies (charged) when not', async () => {
    const header = `{"a":${JSON.stringify(info('F32', [2], 0, 8))}}`;
    const alignedFile = stFile(header.padEnd(Math.ceil(header.length / 8) * 8, ' '), f32(1, 2));
    const a = (await loadSafetensors(alignedFile)).get('a')!;
    assert.equal(a.data.buffer.byteLength, fs.statSync(alignedFile).size, 'a view of the file buffer');
    const misaligned = stFile(`${header} `, f32(1, 2));
    assert.notEqual((8 + fs.statSync(misaligned).size - 16) % 4, 0);
    const copied = (await loadSafetensors(misaligned)).get('a')!;
    assert.deepEqual([...copied.data], [1, 2]);
    assert.equal(copied.data.buffer.byteLength, 8);
    // The least budget the header takes: the copy's 8 bytes more are needed to load.
    let headerCost = 0;
    while (!(await readSafetensorsHeader(misaligned, { maxBytes: headerCost }).then(() => true, () => false))) headerCost++;
    await assert.rejects(loadSafetensors(misaligned, { maxBytes: headerCost + 7 }), refusal(misaligned, /tensor "a", copied to align its F32 elements, would add 8 bytes/));
    assert.deepEqual([...(await loadSafetensors(misaligned, { maxBytes: headerCost + 8 })).get('a')!.data], [1, 2]);
  });

  it('checks its options like every call', async () => {
    for (const read of [loadSafetensors, readSafetensorsHeader, locateSafetensors]) {
      await assert.rejects(read('x', { maxBytes: -1 }), { code: 'ERR_FINETORCH_INVALID_ARG', message: `${read.name}: maxBytes must be an integer >= 0, got -1` });
      await assert.rejects(read('x', { max_bytes: 1 } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    }
  });
});

describe('saveSafetensors', () => {
  const t = (dtype: HostTensor['dtype'], data: HostTensor['data'], shape = [data.length]): HostTensor => ({ dtype, shape, data } as HostTensor);

  it('lays tensors out by dtype alignment then name, pads the header to 8 bytes, and reads back', async () => {
    const file = path.join(tmp.dir, 'written.safetensors');
    const tensors = new Map<string, HostTensor>([
      ['z', t('uint8', new Uint8Array([1, 2, 3]))], ['b', t('float32', new Float32Array([1.5]))],
      ['a', t('float32', new Float32Array([2.5, 3]))], ['i', t('int64', new BigInt64Array([5n]))],
    ]);
    await saveSafetensors(file, tensors, { metadata: new Map([['format', 'pt']]) });
    const bytes = fs.readFileSync(file);
    const length = Number(bytes.readBigUInt64LE(0));
    assert.equal(length % 8, 0);
    assert.equal(bytes.subarray(8, 8 + length).toString(), `${'{"__metadata__":{"format":"pt"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
      '"z":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}}'}`.padEnd(length, ' '));
    const back = await loadSafetensors(file);
    for (const [name, tensor] of tensors) assert.deepEqual(back.get(name), tensor);
    assert.deepEqual(fs.readdirSync(tmp.dir).filter((f) => f.includes('written') && f.endsWith('.tmp')), []);
  });

  it('refuses names it cannot write faithfully and metadata that is not text, writing nothing', async () => {
    const file = path.join(tmp.dir, 'refused.safetensors');
    const ok = t('float32', new Float32Array([1]));
    await assert.rejects(saveSafetensors(file, { __metadata__: ok }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /tensor names must be strings other than '__metadata__'/ });
    await assert.rejects(saveSafetensors(file, { ['\ud800']: ok }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /without lone surrogates/ });
    await assert.rejects(saveSafetensors(file, { a: ok }, { metadata: { k: 1 as never } }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /metadata must be a Map or object of strings/ });
    await assert.rejects(saveSafetensors(file, { a: { dtype: 'float32', shape: [2], data: new Float32Array(1) } }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /tensors\['a'\]: shape \[2\] holds 2 elements but data has 1/ });
    assert.equal(fs.existsSync(file), false);
  });
});

describe('telling the formats apart by content', () => {
  it('a safetensors file is one whatever its name; a .pth is one whatever its name', async () => {
    const st = path.join(tmp.dir, 'weights.pth');
    await saveSafetensors(st, { a: { dtype: 'float32', shape: [1], data: new Float32Array([1]) } });
    const pth = path.join(tmp.dir, 'weights.safetensors');
    await savePth(pth, new Map([['a', { dtype: 'float32', shape: [1], data: new Float32Array([1]) }]]));
    assert.equal(await weightsFormat(st), 'safetensors');
    assert.equal(await weightsFormat(pth), 'pth');
  });

  it('a legacy pickle whose first bytes read as a small length is still no safetensors file', () => {
    // PROTO 2 then LONG1: 0x80 0x02 ... as a length would be huge; a length of 0x0280 followed by
    // anything but '{' (after spaces) is not a header either.
    const legacy = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]);
    assert.equal(looksLikeSafetensors(legacy, 10_000), false);
    const head = Buffer.alloc(16, 0x20);
    head.writeBigUInt64LE(0x280n);
    head[12] = 0x7b;
    assert.equal(looksLikeSafetensors(head, 0x300), true);
    head[12] = 0x8a;
    assert.equal(looksLikeSafetensors(head, 0x300), false);
  });
});


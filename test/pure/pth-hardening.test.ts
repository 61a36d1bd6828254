// The .pth readers on hand-made hostile input (no Python: the parity tier has the torch-made
// cases): maxBytes and its checks, deflated records over the budget, overlapping records, and
// the pickle opcodes that build objects (INST, OBJ, NEWOBJ_EX, EXT*).
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { loadPth, locatePth, readPth, savePth } from '../../lib/pth';
import { softwareCrc32, zipChunks } from '../../lib/pth/zip';
import { buildZip, readRecords } from '../../scripts/fuzz-zip';
import { pthRefusal } from '../helpers/pth-refusal';
import { tempDir } from '../helpers/python';

const tmp = tempDir('finetorch-pth-hardening-');
after(() => tmp.cleanup());

function fileOf(name: string, bytes: Uint8Array | Uint8Array[]): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  return file;
}

/** A torch.save-like archive around a hand-written data.pkl. */
function pickleFile(name: string, pickle: string): string {
  return fileOf(name, zipChunks([{ name: 'archive/data.pkl', data: Buffer.from(pickle, 'latin1') }]));
}

const refused = pthRefusal;

describe('maxBytes', () => {
  it('is checked like every option', async () => {
    const file = path.join(tmp.dir, 'any.pth');
    for (const read of [readPth, loadPth, locatePth]) {
      await assert.rejects(read(file, { maxBytes: -1 }), { name: 'RangeError', code: 'ERR_FINETORCH_INVALID_ARG', message: `${read.name}: maxBytes must be an integer >= 0, got -1` });
      await assert.rejects(read(file, { maxBytes: '1' as never }), { name: 'TypeError', code: 'ERR_FINETORCH_INVALID_ARG' });
      await assert.rejects(read(file, { max_bytes: 1 } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION', message: /unknown option 'max_bytes' \(did you mean 'maxBytes'\?\)/ });
      await assert.rejects(read(42 as never), { name: 'TypeError', code: 'ERR_FINETORCH_INVALID_ARG', message: `${read.name}: file must be a string, got 42` });
    }
  });

  it('bounds what a deflated record may add by inflating, before inflating: the file size plus 1 MiB by default', async () => {
    const stored = path.join(tmp.dir, 'zeros.pth');
    await savePth(stored, new Map([['w', { dtype: 'float32', shape: [2 ** 19], data: new Float32Array(2 ** 19) }]]));
    const records = readRecords(fs.readFileSync(stored)).map((r) => ({ ...r, deflate: true }));
    const file = fileOf('zeros-deflated.pth', buildZip(records));
    const size = fs.statSync(file).size;
    assert.ok(size < 10_000, `${size} bytes`);
    await assert.rejects(loadPth(file), refused(file,
      new RegExp(`record archive/data/0 \\(\\d+ bytes deflated, 2097152 inflated\\) would add \\d+ bytes.*, over the budget of ${size + 2 ** 20} bytes .*by default the file's size, ${size} bytes, plus 1 MiB`)));
    const loaded = await loadPth(file, { maxBytes: 2 ** 21 + 4096 });
    assert.equal(loaded.get('w')!.data.length, 2 ** 19);
  });

  it('refuses records that overlap, as one compressed record inflated under several names would', async () => {
    const bytes = Buffer.concat(zipChunks([
      { name: 'archive/data.pkl', data: Buffer.from('\x80\x02}q\x00.', 'latin1') },
      { name: 'archive/data/0', data: Buffer.alloc(64) },
      { name: 'archive/data/1', data: Buffer.alloc(64) },
    ]));
    // Point data/1's central entry at data/0's local header.
    const central = (name: string) => bytes.indexOf(Buffer.from(name), bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1'))) - 46;
    bytes.writeUInt32LE(bytes.readUInt32LE(central('archive/data/0') + 42), central('archive/data/1') + 42);
    const file = fileOf('overlap.pth', bytes);
    for (const read of [readPth, locatePth]) await assert.rejects(read(file), refused(file, /records archive\/data\/0 .* and archive\/data\/1 .* overlap/));
  });
});

describe('opcodes that build objects', () => {
  it('INST and OBJ call allowed globals (an empty OrderedDict here)', async () => {
    for (const [name, pickle] of [['inst', '\x80\x02(icollections\nOrderedDict\n.'], ['obj', '\x80\x02(ccollections\nOrderedDict\no.']]) {
      assert.deepEqual(await readPth(pickleFile(`${name}.pth`, pickle)), new Map());
    }
  });

  it('INST refuses any other global by its name, before reading its arguments', async () => {
    const file = pickleFile('inst-eval.pth', '\x80\x02(ibuiltins\neval\n.');
    await assert.rejects(readPth(file), refused(file, /archive\/data\.pkl, byte 3: refusing to load Python global 'builtins\.eval'/));
  });

  it('NEWOBJ_EX with keyword arguments and EXT codes are refused by name', async () => {
    const kwargs = pickleFile('newobj-ex.pth', '\x80\x04ccollections\nOrderedDict\n)}X\x01\x00\x00\x00aK\x01s\x92.');
    await assert.rejects(readPth(kwargs), refused(kwargs, /keyword arguments to collections\.OrderedDict are not supported/));
    const ext = pickleFile('ext.pth', '\x80\x02\x82\x07.');
    await assert.rejects(readPth(ext), refused(ext, /refusing extension code 7/));
  });

  it('a tensor rebuild with too few arguments names the function and its parameters', async () => {
    const file = pickleFile('few.pth', '\x80\x02ctorch._utils\n_rebuild_tensor\nN\x85R.');
    await assert.rejects(readPth(file), refused(file, /torch\._utils\._rebuild_tensor\(storage, storage_offset, size, stride\) takes 4 arguments, got 1/));
  });
});

describe('zip CRC-32', () => {
  it('the table fallback for Node < 20.15 matches zlib', () => {
    const data = randomBytes(100_003);
    assert.equal(softwareCrc32(data), zlib.crc32(data));
  });
});

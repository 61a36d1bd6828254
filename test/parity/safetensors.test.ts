// The safetensors codec against Python's safetensors and timm: files safetensors.torch.save_file
// wrote read back bit for bit; files saveSafetensors writes are the bytes save_file writes and load
// in load_file; timm's resnet18 loads into finetorch (and finetorch's into timm) with the same
// logits.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResNet, hasCode, setNumThreads } from '../../lib';
import { SEEDS_DIR } from '../../scripts/fuzz';
import { SafetensorsError, loadSafetensors, readSafetensorsHeader, saveSafetensors } from '../../lib/safetensors';
import type { StateDict } from '../../lib/pth';
import { assertClose } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';

interface Description {
  metadata: Record<string, string> | null;
  tensors: Record<string, { dtype: string; shape: number[]; sha256: string }>;
}

function describeState(stateDict: StateDict, metadata: Map<string, string> | undefined): Description {
  const tensors: Description['tensors'] = {};
  for (const [name, t] of stateDict) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    tensors[name] = { dtype: t.dtype, shape: t.shape, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  return { metadata: metadata?.size ? Object.fromEntries(metadata) : null, tensors };
}

function sorted(d: Description): Description {
  return { metadata: d.metadata, tensors: Object.fromEntries(Object.entries(d.tensors).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

const ecosystem = { ecosystem: true };
const tmp = tempDir('finetorch-safetensors-');
let fixtures: Record<'dtypes' | 'same' | 'resnet18', Description & { file: string }>;
before(async () => {
  setNumThreads(1);
  fixtures = JSON.parse(await runPython('safetensors_reference.py', ['fixtures', tmp.dir], ecosystem));
});
after(() => tmp.cleanup());

describe('safetensors against Python', () => {
  it('reads what save_file wrote bit for bit: every dtype finetorch holds, a scalar, an empty tensor, metadata', async () => {
    const { file, ...expected } = fixtures.dtypes;
    const stateDict = await loadSafetensors(file);
    const { metadata } = await readSafetensorsHeader(file);
    assert.deepEqual(sorted(describeState(stateDict, metadata)), sorted(expected));
    assert.equal(metadata.get('note'), 'ünïcödé \u2028 "quoted"');
  });

  it('writes the very bytes save_file writes for the same tensors', async () => {
    const out = path.join(tmp.dir, 'finetorch-same.safetensors');
    await saveSafetensors(out, await loadSafetensors(fixtures.same.file));
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(fixtures.same.file)));
  });

  it('writes files load_file reads back with the same bits and metadata', async () => {
    const { file, ...expected } = fixtures.dtypes;
    const out = path.join(tmp.dir, 'finetorch-dtypes.safetensors');
    await saveSafetensors(out, await loadSafetensors(file), { metadata: { format: 'pt', note: 'ünïcödé \u2028 "quoted"' } });
    const read: Description = JSON.parse(await runPython('safetensors_reference.py', ['check', out], ecosystem));
    assert.deepEqual(sorted(read), sorted(expected));
  });

  it('refuses the dtypes finetorch lacks (float8_e4m3fn, uint16) by name', async () => {
    const file = path.join(tmp.dir, 'unsupported.safetensors');
    await assert.rejects(loadSafetensors(file), (err: Error) => {
      assert.ok(err instanceof SafetensorsError && hasCode(err, 'ERR_FINETORCH_SAFETENSORS'));
      assert.match(err.message, /unsupported\.safetensors: tensor "u16" has dtype U16, which finetorch does not hold/);
      return true;
    });
    // The header itself reads: inspect can show what the file holds.
    assert.deepEqual((await readSafetensorsHeader(file)).tensors.map((t) => t.dtype), ['U16', 'F8_E4M3']);
  });

  it("the fuzzer's seeds read as Python's safetensors reads them (unsupported.safetensors: its header)", async () => {
    const expected: Record<string, { metadata: Record<string, string> | null; tensors: Record<string, [string, number[], string]> }> =
      JSON.parse(await runPython('safetensors_fuzz_seeds.py', ['check', SEEDS_DIR], ecosystem));
    const names = fs.readdirSync(SEEDS_DIR).filter((f) => f.endsWith('.safetensors')).sort();
    assert.deepEqual(Object.keys(expected).sort(), names);
    for (const name of names) {
      const file = path.join(SEEDS_DIR, name);
      const header = await readSafetensorsHeader(file);
      assert.deepEqual(header.metadata.size ? Object.fromEntries(header.metadata) : null, expected[name].metadata, name);
      assert.deepEqual(header.tensors.map((t) => [t.name, t.shape]).sort(), Object.entries(expected[name].tensors).map(([k, [, shape]]) => [k, shape]).sort(), name);
      if (name === 'unsupported.safetensors') continue;
      const { tensors } = describeState(await loadSafetensors(file), undefined);
      assert.deepEqual(sorted({ metadata: null, tensors }), sorted({
        metadata: null,
        tensors: Object.fromEntries(Object.entries(expected[name].tensors).map(([k, [dtype, shape, sha256]]) => [k, { dtype, shape, sha256 }])),
      }), name);
    }
  });

  it("ResNet.load takes timm's resnet18 from a .safetensors: logits within 1e-4 of timm's", async () => {
    const net = await ResNet.load(fixtures.resnet18.file);
    assert.equal(net.arch, 'resnet18');
    assert.equal(net.numClasses, 5);
    const input = { dtype: 'float32' as const, shape: [2, 3, 64, 64], data: readFloat32(path.join(tmp.dir, 'input.f32')) };
    const logits = await net.eval().forward(input);
    assertClose(logits.data, readFloat32(path.join(tmp.dir, 'timm-logits.f32')), 1e-4, 'logits');
    // net.loadPth reads the same file by content, whatever its name.
    const renamed = path.join(tmp.dir, 'resnet18-renamed.pth');
    fs.copyFileSync(fixtures.resnet18.file, renamed);
    assert.deepEqual(await net.loadPth(renamed), { missing: [], unexpected: [] });
    net.dispose();
  });

  it("timm loads finetorch's saveSafetensors(net.stateDict()) strictly: logits within 1e-4 of finetorch's", async () => {
    const net = await ResNet.create({ arch: 'resnet18', numClasses: 5, seed: 11 });
    const out = path.join(tmp.dir, 'finetorch-resnet18.safetensors');
    await saveSafetensors(out, await net.stateDict());
    const input = { dtype: 'float32' as const, shape: [2, 3, 64, 64], data: readFloat32(path.join(tmp.dir, 'input.f32')) };
    const logits = await net.eval().forward(input);
    const timmOut = path.join(tmp.dir, 'timm-from-finetorch.f32');
    await runPython('safetensors_reference.py', ['timm', out, 'resnet18', '5', path.join(tmp.dir, 'input.f32'), timmOut], ecosystem);
    assertClose(readFloat32(timmOut), logits.data, 1e-4, 'logits');
    net.dispose();
  });
});

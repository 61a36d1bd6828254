// Models from safetensors files, and finetorch inspect on them (test/pure/safetensors.test.ts has
// the codec on hand-made files).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ResNet } from '../../lib/model';
import { saveSafetensors } from '../../lib/safetensors';
import { safetensorsRefusal as refusal } from '../helpers/pth-refusal';
import { tempDir } from '../helpers/python';
import { safetensorsInfo as info, safetensorsWriter } from '../helpers/safetensors-files';

const tmp = tempDir('finetorch-safetensors-models-');
after(() => tmp.cleanup());
const stFile = safetensorsWriter(tmp.dir);

describe('models from safetensors files', () => {
  it('ResNet.load reads what saveSafetensors wrote, bit for bit; bad files are refused by name', async () => {
    const net = await ResNet.create({ arch: 'resnet18', numClasses: 3, seed: 1 });
    const state = await net.stateDict();
    const file = path.join(tmp.dir, 'resnet18.safetensors');
    await saveSafetensors(file, state, { metadata: { format: 'pt' } });
    const loaded = await ResNet.load(file);
    assert.deepEqual(await loaded.stateDict(), state);
    loaded.dispose();

    const bytes = fs.readFileSync(file);
    const truncated = path.join(tmp.dir, 'resnet18-truncated.safetensors');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    for (const load of [(f: string) => ResNet.load(f), (f: string) => net.loadPth(f)]) {
      await assert.rejects(load(truncated), refusal(truncated, /the tensors cover \d+ bytes after the \d+-byte header, but the file holds \d+ there \(truncated file\?\)/));
    }
    // fc.bias as U32: the same bytes, a dtype finetorch lacks.
    const length = Number(bytes.readBigUInt64LE(0));
    const header = bytes.subarray(8, 8 + length).toString().replace(/"fc\.bias":\{"dtype":"F32"/, '"fc.bias":{"dtype":"U32"');
    const u32 = stFile(header, bytes.subarray(8 + length));
    await assert.rejects(ResNet.load(u32), refusal(u32, /tensor "fc\.bias" has dtype U32, which finetorch does not hold/));
    const missing = path.join(tmp.dir, 'missing.safetensors');
    await assert.rejects(ResNet.load(missing), refusal(missing, /ENOENT/));
    net.dispose();
  });
});

describe('finetorch inspect', () => {
  it('shows a safetensors file: format, metadata, torch dtype names (the format\'s where finetorch lacks one), the architecture', async () => {
    const file = path.join(tmp.dir, 'resnet18.safetensors');
    const main = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
    const shown = JSON.parse((await promisify(execFile)(process.execPath, [main, 'inspect', '--json', file])).stdout);
    assert.deepEqual([shown.format, shown.arch, shown.numClasses, shown.metadata], ['safetensors', 'resnet18', 3, { format: 'pt' }]);
    assert.equal(shown.tensors.length, 122);
    assert.deepEqual(shown.dtypes, { float32: 102, int64: 20 });
    const odd = stFile({ a: info('F8_E4M3', [2], 0, 2) }, new Uint8Array(2));
    const text = (await promisify(execFile)(process.execPath, [main, 'inspect', odd])).stdout;
    assert.match(text, /safetensors format/);
    assert.match(text, /a\s+F8_E4M3\s+\[2\]\s+2 B/);
  });
});

// ResNet18 against torchvision: same weights, same logits; weights saved back load in PyTorch.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResNet, ResNet18, loadPth, savePth } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { pinComputeThreads } from '../helpers/training';

describe('ResNet18 parity with torchvision', () => {
  pinComputeThreads();
  const tmp = tempDir();
  let input: HostTensor<'float32'>;
  before(async () => {
    await runPython('resnet_reference.py', ['make', tmp.dir, '10']);
    input = { dtype: 'float32', shape: [4, 3, 64, 64], data: readFloat32(path.join(tmp.dir, 'input.f32')) };
  });
  after(() => tmp.cleanup());

  for (const format of ['zip', 'legacy']) {
    it(`loads the ${format} .pth and matches eval- and train-mode logits within 1e-4`, async () => {
      const net = await ResNet18.load(path.join(tmp.dir, `${format}.pth`));
      try {
        assert.equal(String(net.fc), 'Linear(in_features=512, out_features=10, bias=True)');
        const evalOut = await net.eval().forward(input);
        assert.deepEqual(evalOut.shape, [4, 10]);
        assertClose(evalOut.data, readFloat32(path.join(tmp.dir, 'eval.f32')), 1e-4, 'eval logits');
        const trainOut = await net.train().forward(input);
        assertClose(trainOut.data, readFloat32(path.join(tmp.dir, 'train.f32')), 1e-4, 'train logits');
      } finally {
        net.dispose();
      }
    });
  }

  it('state_dict keys equal torchvision\'s, and a saved file gives PyTorch the same logits', async () => {
    const net = await ResNet18.load(path.join(tmp.dir, 'zip.pth'));
    const sd = await net.stateDict();
    assert.equal(sd.size, 122);
    assert.deepEqual([...sd.keys()].slice(0, 7), ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean',
      'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight']);
    assert.ok(sd.has('layer2.0.downsample.0.weight') && sd.has('layer2.0.downsample.1.running_var'));
    assert.ok(!sd.has('layer1.0.downsample.0.weight'), 'layer1 has no downsample in torchvision');
    assert.equal((sd.get('bn1.num_batches_tracked')!.data as BigInt64Array)[0], 7n);
    const saved = path.join(tmp.dir, 'saved.pth');
    await savePth(saved, sd);
    await runPython('resnet_reference.py', ['logits', saved, path.join(tmp.dir, 'input.f32'), path.join(tmp.dir, 'resaved.f32')]);
    assertClose(readFloat32(path.join(tmp.dir, 'resaved.f32')), readFloat32(path.join(tmp.dir, 'eval.f32')), 1e-6, 'logits after round trip');
    net.dispose();
  });

  it('a state dict without num_batches_tracked (2017-era files) loads, the counters start at 0', async () => {
    const net = await ResNet18.load(path.join(tmp.dir, 'zip.pth'));
    const sd = await net.stateDict();
    for (const key of [...sd.keys()]) if (key.endsWith('num_batches_tracked')) sd.delete(key);
    const fresh = await ResNet18.create({ numClasses: 10 });
    await fresh.loadStateDict(sd);
    const counters = [...(await fresh.stateDict())].filter(([k]) => k.endsWith('num_batches_tracked'));
    assert.equal(counters.length, 20);
    assert.ok(counters.every(([, t]) => (t.data as BigInt64Array)[0] === 0n));
    assertClose((await fresh.eval().forward(input)).data, readFloat32(path.join(tmp.dir, 'eval.f32')), 1e-4, 'logits');
    net.dispose();
    fresh.dispose();
  });

  it('strict loading names every missing, unexpected and mis-shaped key, and changes nothing', async () => {
    const net = await ResNet18.load(path.join(tmp.dir, 'zip.pth'));
    const sd = await net.stateDict();
    const before = (await net.eval().forward(input)).data;
    const broken = new Map(sd);
    broken.delete('layer3.1.conv2.weight');
    broken.set('extra.weight', sd.get('fc.bias')!);
    broken.set('fc.weight', { dtype: 'float32', shape: [3, 512], data: new Float32Array(3 * 512) });
    broken.set('conv1.weight', { dtype: 'float32', shape: [64, 3, 7, 7], data: new Float32Array(64 * 3 * 49) });
    await assert.rejects(net.loadStateDict(broken), (err: Error) => {
      assert.match(err.message, /Missing key\(s\) in state_dict: "layer3\.1\.conv2\.weight"/);
      assert.match(err.message, /Unexpected key\(s\) in state_dict: "extra\.weight"/);
      assert.match(err.message, /size mismatch for fc\.weight: copying a param with shape \[3, 512\]/);
      return true;
    });
    assert.deepEqual((await net.forward(input)).data, before, 'a failed load must leave the weights alone');
    const loose = await net.loadStateDict(new Map([['fc.bias', sd.get('fc.bias')!], ['nope', sd.get('fc.bias')!]]), { strict: false });
    assert.deepEqual(loose.unexpected, ['nope']);
    assert.equal(loose.missing.length, 101, 'all but fc.bias, counting no num_batches_tracked');
    net.dispose();
  });

  it('resnet50 weights: ResNet.load infers the architecture; into ResNet18 a clear error that names the file', async () => {
    const file = path.join(tmp.dir, 'resnet50.pth');
    await runPython('resnet_reference.py', ['resnet50', file]);
    await assert.rejects(ResNet18.load(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_FINETORCH_STATE_DICT');
      assert.equal(err.message, `${file}: holds a resnet50 state dict, not the resnet18 asked for`);
      return true;
    });
    const net = await ResNet.load(file);
    assert.equal(net.arch, 'resnet50');
    assert.equal(String(net.fc), 'Linear(in_features=2048, out_features=1000, bias=True)');
    net.dispose();
    const resnet18 = await ResNet18.create({ numClasses: 1000 });
    await assert.rejects(resnet18.loadPth(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_FINETORCH_STATE_DICT');
      assert.match(err.message, /Unexpected key\(s\).*layer1\.0\.conv3\.weight/s);
      assert.match(err.message, /size mismatch for fc\.weight: copying a param with shape \[1000, 2048\]/);
      return true;
    });
    resnet18.dispose();
  });
});

describe('net.loadPth: tensors read from the file straight into the model', () => {
  const tmp = tempDir();
  let names: string[];
  before(async () => {
    names = JSON.parse(await runPython('pth_layouts.py', [tmp.dir]));
  });
  after(() => tmp.cleanup());

  it('gives the same weights as loadStateDict(loadPth(file)) for every layout and format', async () => {
    assert.deepEqual(names, ['zip', 'legacy', 'legacy-big-pickle', 'deflated']);
    for (const name of names) {
      const file = path.join(tmp.dir, `${name}.pth`);
      const direct = await ResNet18.create({ numClasses: 10, seed: 1 });
      const viaMemory = await ResNet18.create({ numClasses: 10, seed: 2 });
      try {
        assert.deepEqual(await direct.loadPth(file), { missing: [], unexpected: [] });
        await viaMemory.loadStateDict(await loadPth(file));
        const expected = await viaMemory.stateDict();
        const got = await direct.stateDict();
        for (const [key, tensor] of expected) assert.deepEqual(got.get(key), tensor, `${name}: ${key}`);
        // the float64 conv1.weight is converted, as load_state_dict's copy_ converts it
        assert.equal(got.get('conv1.weight')!.dtype, 'float32');
      } finally {
        direct.dispose();
        viaMemory.dispose();
      }
    }
  });

  it('a file cut short is an error naming it, and the model keeps its weights', async () => {
    const whole = fs.readFileSync(path.join(tmp.dir, 'legacy.pth'));
    const cut = path.join(tmp.dir, 'cut.pth');
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 4096));
    const net = await ResNet18.create({ numClasses: 10, seed: 1 });
    const before = await net.stateDict();
    await assert.rejects(net.loadPth(cut), (err: Error) => {
      assert.ok(err.message.startsWith(`${cut}: `), err.message);
      assert.match(err.message, /cut off.*truncated file/);
      return true;
    });
    assert.deepEqual(await net.stateDict(), before);
    await assert.rejects(ResNet18.load(cut), /cut off/);
    net.dispose();
  });
});

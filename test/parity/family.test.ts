// The torchvision ResNet family: seeded initialisation, print(model), eval- and train-mode logits
// and a two-group SGD trajectory, each against torchvision itself.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARCH_NAMES, loadPth, ResNet, savePth, SGD } from '../../lib';
import { stateShapes } from '../../lib/model/module-tree';
import { resnetTree } from '../../lib/model/resnet-architectures';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose, sum } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertStateClose, pinComputeThreads } from '../helpers/training';

/** family_reference.py's set_batchnorm: per-channel values exact in float32. */
function setBatchNorm(state: Map<string, HostTensor>): void {
  const prefixes = [...state.keys()].filter((k) => k.endsWith('.running_mean')).map((k) => k.slice(0, -'.running_mean'.length));
  prefixes.forEach((p, k) => {
    const fill = (name: string, f: (i: number) => number) => {
      const data = state.get(`${p}.${name}`)!.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] = f(i);
    };
    fill('weight', (i) => 0.5 + ((i * 7 + k) % 16) / 16);
    fill('bias', (i) => ((i * 5 + k) % 16) / 64 - 0.125);
    fill('running_mean', (i) => ((i * 3 + 2 * k) % 16) / 64 - 0.125);
    fill('running_var', (i) => 0.5 + ((i * 11 + k) % 16) / 16);
    (state.get(`${p}.num_batches_tracked`)!.data as BigInt64Array)[0] = 7n;
  });
}

describe('the ResNet family against torchvision', () => {
  pinComputeThreads();
  const tmp = tempDir();
  let input: HostTensor;
  before(async () => {
    await runPython('family_reference.py', ['input', tmp.dir]);
    input = { dtype: 'float32', shape: [2, 3, 64, 64], data: readFloat32(path.join(tmp.dir, 'input.f32')) };
  });
  after(() => tmp.cleanup());

  for (const arch of ARCH_NAMES) {
    it(`${arch}: seeded init equals torchvision's, String(net) its print(model), logits within 1e-4`, async () => {
      await runPython('family_reference.py', ['make', tmp.dir, arch, '3']);
      const net = await ResNet.create({ arch, numClasses: 5, seed: 3 });
      const state = await net.stateDict();

      const expectedShapes = stateShapes(resnetTree(net.config, 5));
      assert.deepEqual([...state.keys()], [...expectedShapes.keys()], 'state_dict keys in torchvision\'s order');
      for (const [name, p] of net.namedParameters()) assert.deepEqual(p.shape, expectedShapes.get(name), name);
      const sums = JSON.parse(fs.readFileSync(path.join(tmp.dir, `${arch}-init.json`), 'utf8')) as Record<string, number>;
      for (const [name, t] of state) {
        const expected = sums[name];
        assert.ok(Math.abs(sum(t) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${name}: sum ${sum(t)} vs ${expected}`);
      }
      assert.equal(String(net), fs.readFileSync(path.join(tmp.dir, `${arch}.repr`), 'utf8'));

      setBatchNorm(state);
      await net.loadStateDict(state);
      net.eval();
      assertClose((await net.forward(input)).data, readFloat32(path.join(tmp.dir, `${arch}-eval.f32`)), 1e-4, `${arch} eval logits`);
      net.train();
      assertClose((await net.forward(input)).data, readFloat32(path.join(tmp.dir, `${arch}-train.f32`)), 1e-4, `${arch} train logits`);
      net.dispose();
    });
  }

  it('resnet50: 3 steps of the chapter\'s two-group SGD, losses and every tensor within 1e-4', async () => {
    await runPython('family_reference.py', ['batches', tmp.dir]);
    const net = await ResNet.create({ arch: 'resnet50', numClasses: 5, seed: 4 });
    await savePth(path.join(tmp.dir, 'resnet50-start.pth'), await net.stateDict());
    await runPython('family_reference.py', ['sgd', tmp.dir, 'resnet50', '3']);
    const x = readFloat32(path.join(tmp.dir, 'batches.f32'));
    const labels = fs.readFileSync(path.join(tmp.dir, 'labels.i32'));
    const y = new Int32Array(labels.buffer, labels.byteOffset, labels.byteLength / 4);
    const per = 4 * 3 * 32 * 32;
    const lr = 0.01;
    const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: lr * 10 }],
      { lr, weightDecay: 0.001, momentum: 0.9 });
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const batch: HostTensor = { dtype: 'float32', shape: [4, 3, 32, 32], data: x.slice(i * per, (i + 1) * per) };
      losses.push((await net.trainStep(batch, y.slice(i * 4, (i + 1) * 4), opt)).loss);
    }
    const expected = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'resnet50-sgd-losses.json'), 'utf8')) as number[];
    assertClose(losses, expected, 1e-4, 'losses');
    assertStateClose(await net.stateDict(), await loadPth(path.join(tmp.dir, 'resnet50-sgd-final.pth')), 1e-4);
    net.dispose();
  });
});

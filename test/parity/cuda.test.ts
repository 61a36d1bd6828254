// The GPU half of the parity tests. They run where FINETORCH_TEST_CUDA=1 (scripts/gpu-check.sh
// sets it on a GPU machine) and fail there if CUDA is not usable; elsewhere they are skipped with
// that reason. TF32 is off on both sides, so fp32 means fp32.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cuda, loadPth, ResNet18, setAllowTF32 } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertStateClose, chapterSgd, readBatches } from '../helpers/training';

const enabled = process.env.FINETORCH_TEST_CUDA === '1';

describe('CUDA', { skip: enabled ? false : 'set FINETORCH_TEST_CUDA=1 on a GPU machine (scripts/gpu-check.sh does)' }, () => {
  const tmp = tempDir();
  before(async () => {
    assert.ok(cuda.isAvailable(), 'FINETORCH_TEST_CUDA=1 but LibTorch sees no CUDA device (was libtorch_cuda linked?)');
    setAllowTF32(false);
    await runPython('resnet_reference.py', ['make', tmp.dir, '10']);
    await runPython('train_reference.py', ['make', tmp.dir]);
  });
  after(() => tmp.cleanup());

  it('forward on the GPU matches torchvision\'s logits within 1e-3, channels-last too', async () => {
    const net = await (await ResNet18.load(path.join(tmp.dir, 'zip.pth'))).to('cuda');
    const input: HostTensor = { dtype: 'float32', shape: [4, 3, 64, 64], data: readFloat32(path.join(tmp.dir, 'input.f32')) };
    const expected = readFloat32(path.join(tmp.dir, 'eval.f32'));
    assertClose((await net.eval().forward(input)).data, expected, 1e-3, 'eval logits on cuda');
    net.setPrecision({ channelsLast: true });
    assertClose((await net.forward(input)).data, expected, 1e-3, 'channels-last eval logits on cuda');
    net.dispose();
  });

  for (const mode of ['finetune', 'nesterov'] as const) {
    it(`${mode}: 10 SGD steps on the GPU agree with PyTorch on the GPU within 1e-3`, async () => {
      await runPython('train_reference.py', ['run', tmp.dir, mode, '10', 'cuda']);
      const net = await (await ResNet18.load(path.join(tmp.dir, 'start.pth'))).to('cuda');
      const opt = chapterSgd(net, { momentum: 0.9, nesterov: mode === 'nesterov' });
      const batches = readBatches(tmp.dir);
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) losses.push((await net.trainStep(batches[i].input, batches[i].target, opt)).loss);
      const expected = JSON.parse(fs.readFileSync(path.join(tmp.dir, `${mode}-cuda-losses.json`), 'utf8')) as number[];
      assertClose(losses, expected, 1e-3, 'losses');
      assertStateClose(await net.stateDict(), await loadPth(path.join(tmp.dir, `${mode}-cuda-final.pth`)), 1e-3);
      net.dispose();
    });
  }

  for (const amp of ['fp16', 'bf16'] as const) {
    it(`${amp} autocast trains: finite losses that fall, loss scale managed for fp16`, async () => {
      const net = await (await ResNet18.load(path.join(tmp.dir, 'start.pth'))).to('cuda');
      net.setPrecision({ amp, channelsLast: true });
      const opt = chapterSgd(net, { momentum: 0.9 });
      const batch = readBatches(tmp.dir)[0];
      const losses: number[] = [];
      for (let i = 0; i < 8; i++) losses.push((await net.trainStep(batch.input, batch.target, opt)).loss);
      assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
      assert.ok(losses[7] < losses[0], `loss did not fall: ${losses}`);
      const scale = await net.lossScale();
      if (amp === 'fp16') assert.ok(scale > 0 && scale <= 65536, `scale ${scale}`);
      net.dispose();
    });
  }
});

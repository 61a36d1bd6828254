// MaskedAutoencoder's API without a reference Python: MAE's named sizes, the encoder's keys, the
// seeded noise, and the reconstruction picture (original / masked / reconstruction / reconstruction
// with the visible patches), read back pixel by pixel.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { cuda, MaskedAutoencoder, writeReconstruction } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { tempDir } from '../helpers/python';

const SMALL = { imgSize: 32, patchSize: 8, embedDim: 32, depth: 1, numHeads: 2, decoderEmbedDim: 16, decoderDepth: 1, decoderNumHeads: 2 };

function randomImages(n: number, size: number): HostTensor<'float32'> {
  const data = new Float32Array(n * 3 * size * size);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    data[i] = (state / 2 ** 31) * 2 - 1;
  }
  return { dtype: 'float32', shape: [n, 3, size, size], data };
}

describe('MaskedAutoencoder API', () => {
  const tmp = tempDir('finetorch-mae-');
  after(() => tmp.cleanup());

  it("MAE's sizes: mae_vit_base_patch16 by default, the 512/8/16 decoder; the encoder's keys are the released checkpoints'", async () => {
    const net = await MaskedAutoencoder.create({ arch: 'mae_vit_base_patch16', imgSize: 32 });
    assert.deepEqual(net.config, {
      imgSize: 32, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, mlpRatio: 4, decoderEmbedDim: 512, decoderDepth: 8,
      decoderNumHeads: 16, normPixLoss: false,
    });
    const keys = [...(await net.encoderStateDict()).keys()];
    assert.deepEqual(keys.slice(0, 4), ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias']);
    assert.deepEqual(keys.slice(-2), ['norm.weight', 'norm.bias']);
    assert.equal(keys.length, 4 + 12 * 12 + 2);
    await net.dispose();
  });

  it("to(): 'cpu' is where it is; CUDA where the build has none is a coded device error, the model left on the CPU", async () => {
    const net = await MaskedAutoencoder.create({ ...SMALL, device: 'cpu' });
    assert.equal(net.device, 'cpu');
    assert.equal((await net.to('cpu')).device, 'cpu');
    if (!cuda.isAvailable()) {
      await assert.rejects(net.to('cuda'), { code: 'ERR_FINETORCH_DEVICE' });
      await assert.rejects(MaskedAutoencoder.create({ ...SMALL, device: 'cuda' }), { code: 'ERR_FINETORCH_DEVICE' });
      assert.equal(net.device, 'cpu');
      assert.ok(Number.isFinite((await net.forwardLoss(randomImages(1, 32))).loss));
    }
    await assert.rejects(net.to('tpu' as 'cpu'), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await net.dispose();
  });

  it('a seeded noise gives the same mask every time, int(L * (1 - ratio)) patches kept per image', async () => {
    const net = await MaskedAutoencoder.create(SMALL);
    const x = randomImages(2, 32);
    const a = await net.forwardLoss(x, { noiseSeed: 3, maskRatio: 0.6 });
    const b = await net.forwardLoss(x, { noiseSeed: 3, maskRatio: 0.6 });
    assert.deepEqual(a.mask.data, b.mask.data);
    assert.equal(a.loss, b.loss);
    for (let i = 0; i < 2; i++) assert.equal(a.mask.data.subarray(i * 16, i * 16 + 16).reduce((s, v) => s + v, 0), 16 - Math.trunc(16 * 0.4));
    assert.equal(a.gradients, undefined);
    await net.dispose();
  });

  it('the reconstruction picture: four panels per image, the visible patches the original pixels, the masked ones grey', async () => {
    const net = await MaskedAutoencoder.create(SMALL);
    const x = randomImages(3, 32);
    const file = path.join(tmp.dir, 'reconstruction.png');
    const mean = [0.5, 0.5, 0.5] as const;
    const std = [0.25, 0.25, 0.25] as const;
    const loss = await writeReconstruction(net, x, { file, noiseSeed: 5, maxImages: 2, mean, std });
    const { mask } = await net.forwardLoss({ ...x, shape: [2, 3, 32, 32], data: x.data.subarray(0, 2 * 3 * 1024) }, { noiseSeed: 5 });
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [128, 64, 3]);
    assert.ok(Number.isFinite(loss));
    const byte = (v: number) => Math.max(0, Math.min(255, Math.round((v * 0.25 + 0.5) * 255)));
    const at = (panel: number, i: number, y: number, x0: number, c: number) => data[((i * 32 + y) * 128 + panel * 32 + x0) * 3 + c];
    for (let i = 0; i < 2; i++) {
      for (let y = 0; y < 32; y++) {
        for (let px = 0; px < 32; px++) {
          const masked = mask.data[i * 16 + Math.floor(y / 8) * 4 + Math.floor(px / 8)] === 1;
          for (let c = 0; c < 3; c++) {
            const original = byte(x.data[i * 3072 + c * 1024 + y * 32 + px]);
            assert.equal(at(0, i, y, px, c), original);
            assert.equal(at(1, i, y, px, c), masked ? byte(0) : original);
            if (masked) assert.equal(at(3, i, y, px, c), at(2, i, y, px, c));
            else assert.equal(at(3, i, y, px, c), original);
          }
        }
      }
    }
    await net.dispose();
  });
});

// MAE's masked autoencoder against a transcription of MAE's models_mae.py running in PyTorch
// (test/python/mae_reference.py): seeded initialisation (2-D sine-cosine tables, xavier layers,
// tokens), then on the same weights and noise the same mask, ids_restore, prediction, loss and
// gradients, with and without norm_pix_loss; state dicts both ways; the seeded noise; the encoder
// saved in the layout of MAE's released checkpoints, which MAE's fine-tuning code and
// VisionTransformer.load both read.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getNumThreads, loadPth, MaeCreateOptions, MaskedAutoencoder, savePth, setNumThreads, VisionTransformer } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { MaeCase, NORM_PIX_MAE, SMALL_MAE } from '../helpers/mae-cases';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertStateClose } from '../helpers/training';

const CASES: Record<string, MaeCase> = {
  small: SMALL_MAE,
  normPix: NORM_PIX_MAE,
};

const json = (value: unknown) => JSON.stringify(value);

describe('MaskedAutoencoder against MAE (models_mae.py transcribed)', () => {
  const tmp = tempDir();
  const file = (name: string) => path.join(tmp.dir, name);
  const images = (name: string): HostTensor<'float32'> => {
    const { shape } = JSON.parse(fs.readFileSync(file(`${name}.json`), 'utf8')) as { shape: number[] };
    return { dtype: 'float32', shape, data: readFloat32(file(`${name}.f32`)) };
  };
  const noise = (name: string): HostTensor<'float32'> => {
    const { noise: shape } = JSON.parse(fs.readFileSync(file(`${name}.json`), 'utf8')) as { noise: number[] };
    return { dtype: 'float32', shape, data: readFloat32(file(`${name}-noise.f32`)) };
  };
  const ids = (name: string) => {
    const buf = fs.readFileSync(file(`${name}-ids.i64`));
    return new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8).slice();
  };
  const threads = getNumThreads();
  before(async () => {
    setNumThreads(1);
    await runPython('mae_reference.py', ['input', tmp.dir, 'input8', '3', '32', '16', '11']);
    await runPython('mae_reference.py', ['input', tmp.dir, 'input4', '2', '32', '64', '12']);
  });
  after(() => {
    setNumThreads(threads);
    tmp.cleanup();
  });

  const inputOf = (c: MaeCase) => (c.mae.patch_size === 8 ? 'input8' : 'input4');

  /** Loss, prediction, mask, ids_restore and gradients of finetorch's model equal MAE's on the weights of `weights`. */
  async function assertSameStep(name: string, c: MaeCase, net: MaskedAutoencoder, weights: string): Promise<void> {
    const input = inputOf(c);
    await runPython('mae_reference.py', ['forward', tmp.dir, name, json(c.mae), weights, input, String(c.maskRatio)]);
    const out = await net.forwardLoss(images(input), { noise: noise(input), maskRatio: c.maskRatio, gradients: true });
    const expected = JSON.parse(fs.readFileSync(file(`${name}-out.json`), 'utf8')) as { loss: number };
    assert.ok(Math.abs(out.loss - expected.loss) <= 1e-4 * Math.max(1, Math.abs(expected.loss)), `${name} loss ${out.loss} vs ${expected.loss}`);
    assert.deepEqual([...out.mask.data], [...readFloat32(file(`${name}-mask.f32`))], `${name} mask`);
    assert.deepEqual(out.idsRestore.data, ids(name), `${name} ids_restore`);
    const masked = out.mask.data.reduce((a, b) => a + b, 0);
    const length = out.mask.shape[1];
    assert.equal(masked, out.mask.shape[0] * (length - Math.trunc(length * (1 - c.maskRatio))), 'int(L * (1 - ratio)) patches kept per image');
    assertClose(out.pred.data, readFloat32(file(`${name}-pred.f32`)), 1e-4, `${name} pred`);
    const grads = await loadPth(file(`${name}-grads.pth`));
    assert.deepEqual([...out.gradients!.keys()], [...grads.keys()], 'the trainable parameters, in order (no position embedding)');
    for (const [key, g] of grads) assertClose(out.gradients!.get(key)!.data, g.data as Float32Array, 1e-4, `${name} grad ${key}`);
  }

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: seeded init equals MAE's element by element; same weights and noise give MAE's mask, ids_restore, pred, loss and gradients (<= 1e-4)`, async () => {
      await runPython('mae_reference.py', ['make', tmp.dir, name, '3', json(c.mae)]);
      const made = await MaskedAutoencoder.create({ ...c.finetorch, seed: 3 });
      // The same draws in the same order: equal to float32 rounding (the sine-cosine tables are numpy's float32 arithmetic).
      assertStateClose(await made.stateDict(), await loadPth(file(`${name}.pth`)), 1e-6);
      assert.deepEqual(made.parameters().filter((p) => !p.requiresGrad).map((p) => p.name), ['pos_embed', 'decoder_pos_embed'], 'fixed position embeddings');
      await made.dispose();

      // MAE's weights loaded into finetorch.
      const net = await MaskedAutoencoder.create({ ...c.finetorch, seed: 9 });
      await net.loadStateDict(await loadPth(file(`${name}.pth`)));
      await assertSameStep(name, c, net, file(`${name}.pth`));
      // finetorch's weights loaded by MAE's code (strict).
      const other = await MaskedAutoencoder.create({ ...c.finetorch, seed: 5 });
      await savePth(file(`${name}-finetorch.pth`), await other.stateDict());
      await assertSameStep(`${name}-finetorch`, c, other, file(`${name}-finetorch.pth`));
      await net.dispose();
      await other.dispose();
    });
  }

  it('noiseSeed draws torch.rand(N, L, generator=torch.Generator().manual_seed(seed)): the same mask as that noise', async () => {
    const c = CASES.small;
    const net = await MaskedAutoencoder.create(c.finetorch);
    await runPython('mae_reference.py', ['noise', tmp.dir, 'seeded', '3', '16', '7']);
    const given = await net.forwardLoss(images('input8'), { noise: { dtype: 'float32', shape: [3, 16], data: readFloat32(file('seeded.f32')) } });
    const drawn = await net.forwardLoss(images('input8'), { noiseSeed: 7 });
    assert.deepEqual(drawn.mask.data, given.mask.data);
    assert.deepEqual(drawn.idsRestore.data, given.idsRestore.data);
    assert.equal(drawn.loss, given.loss);
    const other = await net.forwardLoss(images('input8'), { noiseSeed: 8 });
    assert.notDeepEqual(other.mask.data, drawn.mask.data, 'another seed, another mask');
    await net.dispose();
  });

  it("the encoder in MAE's released layout: MAE's fine-tuning code and VisionTransformer.load read it, to the same features", async () => {
    const c = CASES.small;
    const net = await MaskedAutoencoder.create({ ...c.finetorch, seed: 4 });
    const encoder = await net.encoderStateDict();
    assert.deepEqual([...encoder.keys()].filter((k) => /decoder|mask_token/.test(k)), [], 'no decoder, no mask token');
    await savePth(file('encoder.pth'), { model: encoder });
    await runPython('mae_reference.py', ['encoder', tmp.dir, 'encoder', json(c.mae), file('encoder.pth'), 'input8']);
    const vit = await VisionTransformer.load(file('encoder.pth'), { numHeads: 2, numClasses: 10 });
    assert.deepEqual({ ...vit.config }, {
      imgSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 2, qkvBias: true, classToken: true,
      globalPool: 'token', fcNorm: false, dropPathRate: 0,
    });
    vit.eval();
    assertClose((await vit.features(images('input8'))).data, readFloat32(file('encoder-features.f32')), 1e-4, 'class-token features');
    vit.dispose();
    await net.dispose();
  });

  it('bad input: coded errors, nothing run', async () => {
    const c = CASES.small;
    await assert.rejects(MaskedAutoencoder.create({ ...c.finetorch, embedDim: 30, numHeads: 3 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(MaskedAutoencoder.create({ ...c.finetorch, patchSize: 5 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(MaskedAutoencoder.create({ ...c.finetorch, maskRatio: 0.5 } as MaeCreateOptions), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' }, 'the ratio is a forward option');
    const net = await MaskedAutoencoder.create(c.finetorch);
    const x = images('input8');
    await assert.rejects(net.forwardLoss(x, { maskRatio: 1 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(net.forwardLoss(x, { noise: { dtype: 'float32', shape: [3, 15], data: new Float32Array(45) } }), { code: 'ERR_FINETORCH_BAD_INPUT' });
    await assert.rejects(net.forwardLoss(images('input4'), { noise: noise('input4') }), { code: 'ERR_FINETORCH_BAD_INPUT' });
    // A ratio that keeps every patch leaves the masked-patch loss undefined (MAE's would be 0 / 0).
    await assert.rejects(net.forwardLoss(x, { maskRatio: 0 }), { code: 'ERR_FINETORCH_BAD_INPUT' });
    await assert.rejects(net.loadStateDict(new Map([['cls_token', { dtype: 'float32', shape: [1, 1, 8], data: new Float32Array(8) }]])), { code: 'ERR_FINETORCH_STATE_DICT' });
    await net.dispose();
  });
});

// MAE's pretraining without a reference Python: timm's weight-decay groups over MAE's parameters,
// trainStep's refusals (another model's optimizer, a non-finite loss, a disposed model) leaving
// everything as it was, the step running off the JavaScript thread, and maePretrain resumed from a
// checkpoint taken mid-epoch ending bit for bit where the uninterrupted run ends.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AdamW, MaskedAutoencoder, maePretrain, MaeEpochRecord, paramGroupsWeightDecay, TrainingDivergedError } from '../../lib';
import type { Batch } from '../../lib/data/batch';
import { HostTensor } from '../../lib/base/tensor';
import { tempDir } from '../helpers/python';

const SMALL = { imgSize: 16, patchSize: 4, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

function randomImages(n: number, size: number, seed: number): HostTensor<'float32'> {
  const data = new Float32Array(n * 3 * size * size);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    data[i] = (state / 2 ** 31) * 2 - 1;
  }
  return { dtype: 'float32', shape: [n, 3, size, size], data };
}

/** Three batches of 2 images: an epoch. */
const BATCHES: Batch[] = [1, 2, 3].map((seed) => ({ input: randomImages(2, SMALL.imgSize, seed), target: new Int32Array(2) }));

/** The records but their timings, which differ from run to run. */
const untimed = (history: MaeEpochRecord[]) => history.map(({ epoch, loss, lr }) => ({ epoch, loss, lr }));

describe('MAE pretraining', () => {
  const tmp = tempDir('finetorch-mae-pretrain-');
  after(() => tmp.cleanup());

  it("paramGroupsWeightDecay over MAE's parameters: biases and norms undecayed, the tokens and weights decayed, the fixed position embeddings left out", async () => {
    const net = await MaskedAutoencoder.create(SMALL);
    const [noDecay, decay] = paramGroupsWeightDecay(net.parameters(), { weightDecay: 0.05 });
    assert.equal(noDecay.weightDecay, 0);
    assert.equal(decay.weightDecay, 0.05);
    assert.ok(noDecay.params.every((p) => p.name.endsWith('.bias') || p.shape.length === 1));
    assert.ok(noDecay.params.some((p) => p.name === 'norm.weight') && noDecay.params.some((p) => p.name === 'decoder_pred.bias'));
    assert.deepEqual(decay.params.map((p) => p.name).filter((n) => n.endsWith('_token')), ['cls_token', 'mask_token'], 'MAE passes no skip list: its 3-D tokens decay');
    const all = [...noDecay.params, ...decay.params].map((p) => p.name);
    assert.ok(!all.includes('pos_embed') && !all.includes('decoder_pos_embed'), 'the fixed position embeddings do not train');
    assert.equal(all.length, net.parameters().length - 2);
    await net.dispose();
  });

  it('trainStep: refusals leave the model and the optimizer as they were; the step runs off the JavaScript thread', async () => {
    const net = await MaskedAutoencoder.create({ ...SMALL, seed: 1 });
    const other = await MaskedAutoencoder.create(SMALL);
    const optimizer = new AdamW(paramGroupsWeightDecay(net.parameters(), { weightDecay: 0.05 }), { lr: 1e-3, betas: [0.9, 0.95] });
    const images = randomImages(2, SMALL.imgSize, 7);
    await assert.rejects(other.trainStep(images, optimizer), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(net.trainStep(images, optimizer, { maskRatio: 0.75, noiseSeed: 1, gradients: true } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    await assert.rejects(net.trainStep(images, optimizer, { maskRatio: 1 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    const before = await net.stateDict();
    const poisoned = randomImages(2, SMALL.imgSize, 7);
    poisoned.data[5] = NaN;
    await assert.rejects(net.trainStep(poisoned, optimizer), { code: 'ERR_FINETORCH_NONFINITE_LOSS' });
    assert.deepEqual(await net.stateDict(), before, 'a refused step changes no parameter');
    assert.equal(optimizer.stepCount, 0, 'nor counts');
    assert.equal((await optimizer.stateDict()).state.size, 0, 'nor creates state');

    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const steps = [];
    for (let i = 0; i < 5; i++) steps.push(net.trainStep(images, optimizer, { noiseSeed: i }));
    const losses = (await Promise.all(steps)).map((r) => r.loss);
    clearInterval(timer);
    assert.ok(ticks > 0, 'timers fired while the steps ran');
    assert.equal(optimizer.stepCount, 5);
    assert.ok(losses.every(Number.isFinite));
    assert.equal((await optimizer.stateDict()).state.size, net.parameters().length - 2, 'AdamW state for every trained parameter');
    await net.dispose();
    await assert.rejects(net.trainStep(images, optimizer), { code: 'ERR_FINETORCH_DISPOSED' });
    await other.dispose();
  });

  it('maePretrain: options checked with coded errors before anything runs', async () => {
    const net = await MaskedAutoencoder.create(SMALL);
    await assert.rejects(maePretrain(net, { train: BATCHES, epochs: 1, lr: 1e-3, maskRaito: 0.5 } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION', message: /maskRatio/ });
    await assert.rejects(maePretrain(net, { train: BATCHES, epochs: 1 }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /batchSize/ });
    function* endless(): Generator<Batch> {
      yield BATCHES[0];
    }
    await assert.rejects(maePretrain(net, { train: endless(), epochs: 1, lr: 1e-3 }), { code: 'ERR_FINETORCH_INVALID_ARG', message: /how many batches/ });
    await assert.rejects(maePretrain(net, { train: BATCHES, epochs: 1, lr: 1e-3, checkpointEvery: 2 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    await assert.rejects(maePretrain(net, { train: BATCHES, epochs: 1, lr: 1e-3, maskRatio: 1 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    const poisoned = { input: randomImages(2, SMALL.imgSize, 1), target: new Int32Array(2) };
    poisoned.input.data[0] = Infinity;
    await assert.rejects(maePretrain(net, { train: [BATCHES[0], poisoned], epochs: 1, lr: 1e-3 }),
      (err: unknown) => err instanceof TrainingDivergedError && err.code === 'ERR_FINETORCH_NONFINITE_LOSS' && /epoch 1, batch 2/.test(err.message));
    await net.dispose();
  });

  it('maePretrain resumed from a checkpoint taken mid-epoch ends with the weights and history of the run never stopped', async () => {
    const settings = { epochs: 3, batchSize: 2, blr: 0.1, warmupEpochs: 1, maskRatio: 0.6, seed: 4 };
    const whole = await MaskedAutoencoder.create({ ...SMALL, seed: 2 });
    const steps: number[] = [];
    const history = await maePretrain(whole, { ...settings, train: BATCHES, onBatch: (e) => steps.push(e.lr) });
    assert.equal(steps.length, 9);
    assert.equal(steps[0], 0, 'the warm-up starts from 0');
    assert.ok(Math.abs(steps[3] - 0.1 * 2 / 256) < 1e-15, 'the peak, blr x batch / 256, at the end of the warm-up');

    const file = path.join(tmp.dir, 'mae.pth');
    const stopped = await MaskedAutoencoder.create({ ...SMALL, seed: 2 });
    const controller = new AbortController();
    const first = await maePretrain(stopped, {
      ...settings, train: BATCHES, checkpoint: file,
      onBatch: (e) => e.epoch === 2 && e.batch === 2 && controller.abort(), signal: controller.signal,
    });
    assert.equal(first.length, 1, 'stopped in the second epoch');
    await stopped.dispose();

    const resumed = await MaskedAutoencoder.create({ ...SMALL, seed: 99 });
    const positions: string[] = [];
    const rest = await maePretrain(resumed, {
      ...settings, train: BATCHES, resume: file, checkpoint: file,
      onStart: (p) => {
        positions.push(`${p.epoch}/${p.batch}`);
      },
      onBatch: (e) => positions.push(`${e.epoch}.${e.batch}`),
    });
    assert.deepEqual(positions, ['1/2', '2.3', '3.1', '3.2', '3.3'], 'the rest of epoch 2, then epoch 3');
    assert.deepEqual(untimed(rest), untimed(history), 'the same losses and lrs, epoch by epoch');
    assert.deepEqual(await resumed.stateDict(), await whole.stateDict(), 'bit for bit the same weights');
    await whole.dispose();
    await resumed.dispose();
  });
});

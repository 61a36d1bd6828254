// MAE's pretraining steps against PyTorch running a transcription of models_mae.py with
// main_pretrain.py's optimizer (timm's add_weight_decay groups, AdamW betas 0.9/0.95) and
// engine_pretrain.py's loop (lr_sched.adjust_learning_rate before each step): maePretrain on the
// same weights, images and noise gives the same losses, lrs and final parameters (<= 1e-4), with
// and without norm_pix_loss.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadPth, maeNoiseSeed, maePretrain, MaskedAutoencoder, savePth } from '../../lib';
import type { Batch } from '../../lib/data/batch';
import { MaeCase, NORM_PIX_MAE, SMALL_MAE } from '../helpers/mae-cases';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertClose } from '../helpers/compare';
import { pinComputeThreads } from '../helpers/training';

const CASES: Record<string, MaeCase> = {
  small: SMALL_MAE,
  normPix: NORM_PIX_MAE,
};

const STEPS = 5;
const BATCH = 4;

describe("maePretrain against main_pretrain.py's optimizer and engine_pretrain.py's steps", () => {
  pinComputeThreads();
  const tmp = tempDir();
  const file = (name: string) => path.join(tmp.dir, name);
  after(() => tmp.cleanup());

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ${STEPS} AdamW steps through the warm-up into the cosine, no decay on biases and norms: the same losses, lrs and parameters (<= 1e-4)`, async () => {
      const net = await MaskedAutoencoder.create({ ...c.finetorch, seed: 6 });
      await savePth(file(`${name}-start.pth`), await net.stateDict());
      const seed = 21;
      // One epoch of STEPS batches: the schedule runs at 0, 1/5 ... 4/5 of it, the warm-up ending at
      // half. Weight decay 0.5 at lr 1e-2 moves a decayed norm weight (1 at the start) by 5e-3 a
      // step: a parameter in the wrong group shows far above 1e-4.
      const run = {
        lr: 1e-2, weight_decay: 0.5, warmup_epochs: 0.5, epochs: 1, mask_ratio: c.maskRatio, n: BATCH, size: c.finetorch.imgSize, seed,
        noise_seeds: Array.from({ length: STEPS }, (_, i) => maeNoiseSeed(seed, 1, i + 1)),
      };
      await runPython('mae_reference.py', ['train', tmp.dir, name, JSON.stringify(c.mae), file(`${name}-start.pth`), JSON.stringify(run)]);
      const size = c.finetorch.imgSize!;
      const pixels = readFloat32(file(`${name}-images.f32`));
      const per = BATCH * 3 * size * size;
      const train: Batch[] = Array.from({ length: STEPS }, (_, i) => ({
        input: { dtype: 'float32', shape: [BATCH, 3, size, size], data: pixels.subarray(i * per, (i + 1) * per) },
        target: new Int32Array(BATCH),
      }));
      const losses: number[] = [];
      const lrs: number[] = [];
      await maePretrain(net, {
        train, epochs: 1, lr: run.lr, weightDecay: run.weight_decay, warmupEpochs: run.warmup_epochs, maskRatio: c.maskRatio, seed,
        onBatch: (e) => {
          losses.push(e.loss);
          lrs.push(e.lr);
        },
      });
      const expected = JSON.parse(fs.readFileSync(file(`${name}-train.json`), 'utf8')) as { losses: number[]; lrs: number[] };
      assert.equal(losses.length, STEPS);
      lrs.forEach((lr, i) => assert.ok(Math.abs(lr - expected.lrs[i]) <= 1e-12, `step ${i + 1} lr ${lr} vs ${expected.lrs[i]}`));
      assert.equal(lrs[0], 0, 'the warm-up starts from 0');
      losses.forEach((loss, i) => assert.ok(Math.abs(loss - expected.losses[i]) <= 1e-4 * Math.max(1, Math.abs(expected.losses[i])),
        `step ${i + 1} loss ${loss} vs ${expected.losses[i]}`));
      assert.notEqual(losses[0], losses[STEPS - 1], 'the steps changed the model');
      const final = await net.stateDict();
      const reference = await loadPth(file(`${name}-final.pth`));
      assert.deepEqual([...final.keys()], [...reference.keys()]);
      for (const [key, t] of reference) {
        const actual = final.get(key)!.data as Float32Array;
        const expectedValues = t.data as Float32Array;
        if (!key.endsWith('attn.qkv.bias')) {
          assertClose(actual, expectedValues, 1e-4, key);
          continue;
        }
        // The keys' bias shifts every score of a query by the same amount, which softmax cancels:
        // its gradient is 0 but for rounding, and Adam steps rounding noise by about lr either
        // way, in PyTorch as here. The queries' and values' parts are compared.
        const width = expectedValues.length / 3;
        const qv = (x: Float32Array) => [...x.subarray(0, width), ...x.subarray(2 * width)];
        assertClose(qv(actual), qv(expectedValues), 1e-4, `${key} (queries and values)`);
      }
      await net.dispose();
    });
  }
});

// MAE's two evaluation protocols end to end against PyTorch running MAE's recipe
// (test/python/protocols_reference.py): linearProbe({ protocol: 'mae' }) on the feature cache
// (MAE's probe head: BatchNorm1d without affine + Linear, LARS, warm-up and half-cycle cosine per
// iteration) on fixed features, with the reference Python of the toolchain; fineTune({ protocol:
// 'mae' }) of a small seeded ViT (AdamW over layer-decay groups, label smoothing, the same
// schedule) against timm's VisionTransformer, which the ecosystem Python has (as vit.test.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Batch, linearProbe, fineTune, loadPth, savePth, VisionTransformer } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertStateClose, pinComputeThreads } from '../helpers/training';

/** Deterministic values in [-2, 2) (an LCG): the same bytes go to both sides through files. */
function values(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 30 - 2;
  });
}

function imageBatches(steps: number, n: number, size: number, classes: number, seed: number): Batch[] {
  const per = n * 3 * size * size;
  const all = values(steps * per, seed);
  return Array.from({ length: steps }, (_, i) => ({
    input: { dtype: 'float32', shape: [n, 3, size, size], data: all.slice(i * per, (i + 1) * per) } as HostTensor,
    target: Int32Array.from({ length: n }, (_, k) => (i * 7 + k * 3) % classes),
  }));
}

function writeBatches(dir: string, inputs: HostTensor[], batches: Batch[], names: [string, string]): void {
  fs.writeFileSync(path.join(dir, names[0]), Buffer.concat(inputs.map((t) => Buffer.from((t.data as Float32Array).buffer.slice(0)))));
  fs.writeFileSync(path.join(dir, names[1]), Buffer.concat(batches.map((b) => Buffer.from((b.target as Int32Array).buffer.slice(0)))));
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** Each step's lr per group, as the loop reports it for its first group (all groups at lr x lrScale). */
function assertLosses(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: steps`);
  actual.forEach((l, i) => assert.ok(Math.abs(l - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])), `${what} step ${i + 1}: loss ${l} vs ${expected[i]}`));
}

describe("MAE's protocols against PyTorch running MAE's recipe", () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  pinComputeThreads();

  it("linearProbe protocol 'mae' on the feature cache: 10 steps of the probe head, LARS and lr_sched.py within 1e-4", async () => {
    const dir = path.join(tmp.dir, 'probe');
    fs.mkdirSync(dir);
    const [steps, n, classes, seed] = [5, 8, 4, 3];
    const net = await VisionTransformer.create({ imgSize: 16, patchSize: 8, embedDim: 32, depth: 1, numHeads: 2, numClasses: classes, seed: 1 });
    net.resetClassifier(classes, { head: 'mae-probe', seed });
    const batches = imageBatches(steps, n, 16, classes, 11);
    const features = await Promise.all(batches.map((b) => net.features(b.input)));
    writeBatches(dir, features, batches, ['features.f32', 'targets.i32']);
    // blr 64 at batch 8: lr 2, large enough for the trust ratio to move the weights visibly.
    const epochs = 2;
    fs.writeFileSync(path.join(dir, 'probe.json'), JSON.stringify({
      seed, blr: 64, epochs, warmup_epochs: 10 * epochs / 90, min_lr: 0, steps_per_epoch: steps, batch: n, features: 32, classes,
    }));
    await runPython('protocols_reference.py', ['probe', dir]);

    const init = await loadPth(path.join(dir, 'probe-init.pth'));
    const head = new Map([...await net.stateDict()].filter(([k]) => k.startsWith('head.')));
    assertStateClose(head, init, 1e-6);

    const losses: number[] = [];
    const lrs: number[] = [];
    await linearProbe(net, {
      protocol: 'mae', train: batches, epochs, blr: 64, featureCache: true,
      onBatch: (e) => { losses.push(e.loss); lrs.push(e.lr); },
    });
    assertLosses(losses, readJson<number[]>(path.join(dir, 'probe-losses.json')), 'probe');
    assertClose(lrs, readJson<number[][]>(path.join(dir, 'probe-lrs.json')).map((g) => g[0]), 1e-12, 'lrs');
    const final = new Map([...await net.stateDict()].filter(([k]) => k.startsWith('head.')));
    assertStateClose(final, await loadPth(path.join(dir, 'probe-final.pth')), 1e-4);
    const { logits } = await net.evalHeadStep(features[0], batches[0].target as Int32Array, { logits: true });
    assertClose(logits!.data as Float32Array, readFloat32(path.join(dir, 'probe-eval.f32')), 1e-4, 'eval-mode logits (running statistics)');
    net.dispose();
  });

  it("fineTune protocol 'mae' of a small ViT: 6 steps of AdamW with layer decay and label smoothing as timm + MAE within 1e-4", async () => {
    const dir = path.join(tmp.dir, 'finetune');
    fs.mkdirSync(dir);
    const [steps, n, classes, epochs] = [3, 4, 5, 2];
    const net = await VisionTransformer.create({ imgSize: 16, patchSize: 8, embedDim: 32, depth: 3, numHeads: 2, globalPool: 'avg', numClasses: classes, seed: 2 });
    net.resetClassifier(classes, { init: 'trunc-normal', std: 2e-5, seed: 4 });
    await savePth(path.join(dir, 'vit-start.pth'), await net.stateDict());
    const batches = imageBatches(steps, n, 16, classes, 21);
    writeBatches(dir, batches.map((b) => b.input), batches, ['images.f32', 'labels.i32']);
    const lr = 5e-3;
    fs.writeFileSync(path.join(dir, 'finetune.json'), JSON.stringify({
      model: { img_size: 16, patch_size: 8, embed_dim: 32, depth: 3, num_heads: 2, global_pool: 'avg', num_classes: classes },
      lr, weight_decay: 0.05, layer_decay: 0.75, smoothing: 0.1, warmup_epochs: 5 * epochs / 50, epochs, min_lr: 1e-6,
      steps_per_epoch: steps, batch: n,
    }));
    await runPython('protocols_reference.py', ['finetune', dir], { ecosystem: true });

    const losses: number[] = [];
    const lrs: number[] = [];
    // Drop path draws random numbers that no two libraries share: off here (its default is MAE's 0.1).
    await fineTune(net, {
      protocol: 'mae', train: batches, epochs, lr, dropPath: 0,
      onBatch: (e) => { losses.push(e.loss); lrs.push(e.lr); },
    });
    assertLosses(losses, readJson<number[]>(path.join(dir, 'finetune-losses.json')), 'fine-tune');
    assertClose(lrs, readJson<number[][]>(path.join(dir, 'finetune-lrs.json')).map((g) => g[0]), 1e-12, 'first group\'s lrs');
    assertStateClose(await net.stateDict(), await loadPth(path.join(dir, 'finetune-final.pth')), 1e-4);
    net.dispose();
  });
});

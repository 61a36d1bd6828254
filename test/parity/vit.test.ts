// Vision Transformers against timm, torchvision and MAE's code: seeded initialisation, print(model),
// eval- and train-mode logits of several sizes, state dicts both ways in timm's and torchvision's
// layouts, MAE's checkpoint loading with its position-embedding interpolation, and ten SGD steps.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  getNumThreads, interpolatePosEmbed, loadPth, savePth, setNumThreads, SGD, VisionTransformer, VitCreateOptions,
} from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose, sum } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';
import { assertStateClose } from '../helpers/training';

/** One ViT as timm's constructor takes it and as finetorch's does. */
interface Case {
  timm: Record<string, unknown> & { input: string };
  finetorch: VitCreateOptions & { numClasses: number };
  /** Given to load only for sizes whose heads cannot be read off the weights. */
  numHeads?: number;
  /** ViT-B's 350 MB are not saved back for timm (the small sizes check that road). */
  saveBack?: false;
}

const CASES: Record<string, Case> = {
  small: {
    timm: { img_size: 32, patch_size: 8, embed_dim: 48, depth: 2, num_heads: 3, num_classes: 5, input: 'input32' },
    finetorch: { imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3, numClasses: 5 },
    numHeads: 3,
  },
  pooled: {
    timm: { img_size: 32, patch_size: 4, embed_dim: 64, depth: 3, num_heads: 4, mlp_ratio: 2.0, qkv_bias: false, global_pool: 'avg', num_classes: 7, input: 'input32' },
    finetorch: { imgSize: 32, patchSize: 4, embedDim: 64, depth: 3, numHeads: 4, mlpRatio: 2, qkvBias: false, globalPool: 'avg', numClasses: 7 },
    numHeads: 4,
  },
  noClassToken: {
    timm: { img_size: 32, patch_size: 8, embed_dim: 32, depth: 1, num_heads: 2, class_token: false, global_pool: 'avg', num_classes: 3, input: 'input32' },
    finetorch: { imgSize: 32, patchSize: 8, embedDim: 32, depth: 1, numHeads: 2, classToken: false, globalPool: 'avg', numClasses: 3 },
    numHeads: 2,
  },
  tinyAt48: {
    timm: { img_size: 48, patch_size: 16, embed_dim: 192, depth: 12, num_heads: 3, num_classes: 10, drop_path_rate: 0.1, input: 'input48' },
    finetorch: { arch: 'vit_tiny_patch16', imgSize: 48, numClasses: 10, dropPathRate: 0.1 },
  },
  base: {
    timm: { num_classes: 1000, input: 'input224' },
    finetorch: { arch: 'vit_base_patch16_224', numClasses: 1000 },
    saveBack: false,
  },
};

const json = (value: unknown) => JSON.stringify(value);

/**
 * timm's print(model) (from the ecosystem Python's PyTorch) as the PyTorch of finetorch's LibTorch
 * writes it: its LayerNorms as the reference Python (the toolchain's own PyTorch) prints them.
 */
async function asLinkedTorchPrints(timmRepr: string): Promise<string> {
  const pattern = /LayerNorm\(\((\d+),\), eps=1e-06, elementwise_affine=True(?:, bias=True)?\)/g;
  const dims = [...new Set([...timmRepr.matchAll(pattern)].map((m) => m[1]))];
  const reprs = JSON.parse(await runPython('repr_reference.py', ['layernorm', ...dims])) as Record<string, string>;
  return timmRepr.replace(pattern, (_, dim: string) => reprs[dim]);
}

describe('VisionTransformer against timm, torchvision and MAE', () => {
  const tmp = tempDir();
  const file = (name: string) => path.join(tmp.dir, name);
  const input = (name: string): HostTensor => {
    const { shape } = JSON.parse(fs.readFileSync(file(`${name}.json`), 'utf8')) as { shape: number[] };
    return { dtype: 'float32', shape, data: readFloat32(file(`${name}.f32`)) };
  };
  // The reference runs on one thread: so does finetorch here (another count sums in another order).
  const threads = getNumThreads();
  before(async () => {
    setNumThreads(1);
    for (const [name, n, size] of [['input32', 3, 32], ['input48', 2, 48], ['input224', 1, 224]] as const) {
      await runPython('vit_reference.py', ['input', tmp.dir, name, String(n), String(size)], { ecosystem: true });
    }
  });
  after(() => {
    setNumThreads(threads);
    tmp.cleanup();
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: seeded init equals timm's, String(net) its print(model); timm's saved weights give its logits within 1e-4`, async () => {
      await runPython('vit_reference.py', ['make', tmp.dir, name, '3', json(c.timm)], { ecosystem: true });
      const made = await VisionTransformer.create({ ...c.finetorch, seed: 3 });
      const sums = JSON.parse(fs.readFileSync(file(`${name}-init.json`), 'utf8')) as Record<string, number>;
      const state = await made.stateDict();
      assert.deepEqual([...state.keys()], Object.keys(sums), "state_dict keys in timm's order");
      for (const [key, t] of state) {
        // (float32 values drawn alike, summed in float64: ViT-B's largest weights sum 600,000 of them)
        assert.ok(Math.abs(sum(t) - sums[key]) <= 1e-5 * Math.max(1, Math.abs(sums[key])), `${key}: sum ${sum(t)} vs ${sums[key]}`);
      }
      assert.equal(String(made), await asLinkedTorchPrints(fs.readFileSync(file(`${name}.repr`), 'utf8')));
      made.dispose();

      const net = await VisionTransformer.load(file(`${name}.pth`), { numHeads: c.numHeads, dropPathRate: c.finetorch.dropPathRate });
      assert.deepEqual(net.config, made.config);
      const x = input(c.timm.input);
      net.eval();
      assertClose((await net.forward(x)).data, readFloat32(file(`${name}-eval.f32`)), 1e-4, `${name} eval logits`);
      assertClose((await net.features(x)).data, readFloat32(file(`${name}-features.f32`)), 1e-4, `${name} features`);
      if (!c.finetorch.dropPathRate) {
        net.train();
        assertClose((await net.forward(x)).data, readFloat32(file(`${name}-train.f32`)), 1e-4, `${name} train logits`);
      }
      if (c.saveBack !== false) {
        // What finetorch saves, timm loads with strict=True and computes the same logits from.
        await savePth(file(`${name}-saved.pth`), await net.stateDict());
        await runPython('vit_reference.py', ['logits', tmp.dir, name, json(c.timm), file(`${name}-saved.pth`)], { ecosystem: true });
        assertClose(readFloat32(file(`${name}-logits.f32`)), readFloat32(file(`${name}-eval.f32`)), 1e-6, `${name} logits of the saved weights`);
      }
      net.dispose();
    });
  }

  it("torchvision's layout: loaded and saved both ways, logits within 1e-4 in torchvision and in timm", async () => {
    const tv = { image_size: 32, patch_size: 8, num_layers: 2, num_heads: 3, hidden_dim: 48, mlp_dim: 192, num_classes: 5, input: 'input32' };
    await runPython('vit_reference.py', ['torchvision', tmp.dir, 'tv', '4', json(tv)], { ecosystem: true });
    const net = await VisionTransformer.load(file('tv.pth'), { numHeads: 3 });
    assert.equal(net.layout, 'torchvision');
    net.eval();
    const expected = readFloat32(file('tv-eval.f32'));
    assertClose((await net.forward(input('input32'))).data, expected, 1e-4, 'torchvision logits');

    const saved = await net.stateDict();
    assert.deepEqual([...saved.keys()], [...(await loadPth(file('tv.pth'))).keys()], "torchvision's keys in its order");
    await savePth(file('tv-saved.pth'), saved);
    await runPython('vit_reference.py', ['torchvision-logits', tmp.dir, 'tv', json(tv), file('tv-saved.pth')], { ecosystem: true });
    assertClose(readFloat32(file('tv-logits.f32')), expected, 1e-6, 'torchvision loading what finetorch saved');

    await savePth(file('tv-as-timm.pth'), await net.stateDict({ layout: 'timm' }));
    const timm = { ...CASES.small.timm };
    await runPython('vit_reference.py', ['logits', tmp.dir, 'tv-as-timm', json(timm), file('tv-as-timm.pth')], { ecosystem: true });
    assertClose(readFloat32(file('tv-as-timm-logits.f32')), expected, 1e-4, "timm's ViT on torchvision's weights");

    // The global pool on torchvision's weights: a model torchvision's class cannot hold, saved in timm's keys.
    const pooled = await VisionTransformer.load(file('tv.pth'), { numHeads: 3, globalPool: 'avg' });
    assert.equal(pooled.layout, 'timm');
    assert.ok((await pooled.stateDict()).has('fc_norm.weight'));
    pooled.dispose();

    // loadStateDict takes either layout.
    const other = await VisionTransformer.create({ ...CASES.small.finetorch, seed: 9 });
    await other.loadStateDict(saved);
    other.eval();
    assertClose((await other.forward(input('input32'))).data, expected, 1e-6, 'loadStateDict of torchvision keys');
    other.dispose();
    net.dispose();
  });

  it("MAE's checkpoint ({'model': encoder}): fine-tuning at another size with global pool as main_finetune.py loads it", async () => {
    const encoder = { ...CASES.small.timm, num_classes: 0 };
    await runPython('vit_reference.py', ['mae', tmp.dir, 'mae', json(encoder)], { ecosystem: true });
    const finetune = { ...CASES.small.timm, img_size: 48, global_pool: 'avg', num_classes: 5, input: 'input48' };
    await runPython('vit_reference.py', ['mae-finetune', tmp.dir, 'mae', json(finetune), file('mae.pth')], { ecosystem: true });

    const net = await VisionTransformer.load(file('mae.pth'), { numHeads: 3, imgSize: 48, globalPool: 'avg', numClasses: 5 });
    assert.deepEqual({ imgSize: net.config.imgSize, globalPool: net.config.globalPool, fcNorm: net.config.fcNorm, numClasses: net.numClasses },
      { imgSize: 48, globalPool: 'avg', fcNorm: true, numClasses: 5 });
    const state = await net.stateDict();
    assertClose(state.get('pos_embed')!.data as Float32Array, readFloat32(file('mae-pos.f32')), 1e-6, "pos_embed as MAE's interpolate_pos_embed");
    net.eval();
    assertClose((await net.features(input('input48'))).data, readFloat32(file('mae-features.f32')), 1e-4, 'features after the load');
    net.dispose();

    // As it is: the encoder with a fresh 1000-class head, the class token, 32 px.
    const plain = await VisionTransformer.load(file('mae.pth'), { numHeads: 3 });
    assert.deepEqual([plain.numClasses, plain.config.imgSize, plain.config.globalPool], [1000, 32, 'token']);
    plain.dispose();
  });

  it("interpolatePosEmbed equals MAE's interpolate_pos_embed (down and up, with and without a class token)", async () => {
    for (const [name, extra, from, to] of [['down', 1, 7, 5], ['up', 0, 4, 6]] as const) {
      await runPython('vit_reference.py', ['interpolate', tmp.dir, name, String(extra), String(from), String(to)], { ecosystem: true });
      const pos: HostTensor = { dtype: 'float32', shape: [1, extra + from * from, 8], data: readFloat32(file(`${name}-in.f32`)) };
      const out = await interpolatePosEmbed(pos, { numExtraTokens: extra, gridSize: to });
      assert.deepEqual(out.shape, [1, extra + to * to, 8]);
      assertClose(out.data, readFloat32(file(`${name}-out.f32`)), 1e-6, name);
    }
  });

  it("10 steps of the chapter's SGD (head at 10x) on a tiny ViT: losses and every tensor within 1e-4 of timm + torch.optim.SGD", async () => {
    const c = CASES.small;
    await runPython('vit_reference.py', ['batches', tmp.dir, '4', '32', '5'], { ecosystem: true });
    const net = await VisionTransformer.create({ ...c.finetorch, seed: 7 });
    await savePth(file('sgd-start.pth'), await net.stateDict());
    await runPython('vit_reference.py', ['sgd', tmp.dir, 'sgd', json(c.timm), '10'], { ecosystem: true });
    const x = readFloat32(file('sgd-input.f32'));
    const labels = fs.readFileSync(file('sgd-target.i32'));
    const y = new Int32Array(labels.buffer, labels.byteOffset, labels.byteLength / 4);
    const per = 4 * 3 * 32 * 32;
    const opt = new SGD([{ params: net.parameters({ exclude: ['head'] }) }, { params: net.head.parameters(), lr: 0.1 }],
      { lr: 0.01, weightDecay: 0.001, momentum: 0.9 });
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const b = i % 3;
      const batch: HostTensor = { dtype: 'float32', shape: [4, 3, 32, 32], data: x.slice(b * per, (b + 1) * per) };
      losses.push((await net.trainStep(batch, y.slice(b * 4, (b + 1) * 4), opt)).loss);
    }
    const expected = JSON.parse(fs.readFileSync(file('sgd-losses.json'), 'utf8')) as number[];
    assertClose(losses, expected, 1e-4, 'losses');
    assertStateClose(await net.stateDict(), await loadPth(file('sgd-final.pth')), 1e-4);
    net.dispose();
  });
});

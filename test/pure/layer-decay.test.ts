// MAE's layer-wise lr decay (paramGroupsLrd) over parameter names and shapes, and the normal and
// beta samplers Mixup draws from: pure arithmetic, no addon (the parity with lr_decay.py and timm:
// test/parity/mae-timm.test.ts).
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beta, mulberry32, normal } from '../../lib/data/random';
import { paramGroupsLrd } from '../../lib/optim/layer-decay';

describe('paramGroupsLrd', () => {
  const vit = (depth: number) => [
    { name: 'cls_token', shape: [1, 1, 8] }, { name: 'pos_embed', shape: [1, 5, 8] },
    { name: 'patch_embed.proj.weight', shape: [8, 3, 4, 4] }, { name: 'patch_embed.proj.bias', shape: [8] },
    ...Array.from({ length: depth }, (_, i) => [
      { name: `blocks.${i}.norm1.weight`, shape: [8] }, { name: `blocks.${i}.attn.qkv.weight`, shape: [24, 8] },
    ]).flat(),
    { name: 'fc_norm.weight', shape: [8] }, { name: 'head.weight', shape: [10, 8] }, { name: 'head.bias', shape: [10] },
  ];

  it('groups by layer and decay class in first-seen order, lr_scale = decay^(layers - layer)', () => {
    const groups = paramGroupsLrd(vit(2), { layerDecay: 0.5, weightDecay: 0.1 });
    assert.deepEqual(groups.map((g) => [g.params.map((p) => p.name), g.weightDecay, g.lrScale]), [
      [['cls_token', 'pos_embed', 'patch_embed.proj.bias'], 0, 0.125],
      [['patch_embed.proj.weight'], 0.1, 0.125],
      [['blocks.0.norm1.weight'], 0, 0.25],
      [['blocks.0.attn.qkv.weight'], 0.1, 0.25],
      [['blocks.1.norm1.weight'], 0, 0.5],
      [['blocks.1.attn.qkv.weight'], 0.1, 0.5],
      [['fc_norm.weight', 'head.bias'], 0, 1],
      [['head.weight'], 0.1, 1],
    ]);
  });

  it('skips frozen parameters, takes a layer function, refuses layers out of range', () => {
    const params = vit(1).map((p) => ({ ...p, requiresGrad: !p.name.startsWith('blocks') }));
    assert.deepEqual(paramGroupsLrd(params).flatMap((g) => g.params.map((p) => p.name)).filter((n) => n.startsWith('blocks')), []);
    const byStage = paramGroupsLrd([{ name: 'layer2.conv.weight', shape: [2, 2, 1, 1] }], { numLayers: 4, layerId: (n) => Number(n[5]), layerDecay: 0.5 });
    assert.equal(byStage[0].lrScale, 0.25);
    assert.throws(() => paramGroupsLrd([{ name: 'x', shape: [2, 2] }], { layerId: () => 7 }), /layer 7 of 'x' is outside 0..1/);
  });
});

describe('the samplers behind Mixup', () => {
  it('normal and beta draws have the right moments', () => {
    const rng = mulberry32(9);
    const n = 20000;
    const z = Array.from({ length: n }, () => normal(rng));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = (xs: number[]) => mean(xs.map((x) => (x - mean(xs)) ** 2));
    assert.ok(Math.abs(mean(z)) < 0.03 && Math.abs(variance(z) - 1) < 0.04, `normal: ${mean(z)}, ${variance(z)}`);
    for (const a of [0.8, 1, 2.5]) {
      const b = Array.from({ length: n }, () => beta(rng, a, a));
      const expected = 1 / (4 * (2 * a + 1));
      assert.ok(b.every((x) => x >= 0 && x <= 1));
      assert.ok(Math.abs(mean(b) - 0.5) < 0.01 && Math.abs(variance(b) - expected) < 0.006, `Beta(${a}, ${a}): ${mean(b)}, ${variance(b)} vs ${expected}`);
    }
  });
});

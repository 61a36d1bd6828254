// MAE's fine-tuning pieces against timm 1.0.29 itself (the ecosystem Python): layer-decay groups
// over the names timm's ViTs have, Mixup/CutMix and RandomErasing for the same random draws
// (test/python/timm_reference.py replays finetorch's draws as timm's numpy.random / random calls).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Mixup, MixupOptions, NamedShape, paramGroupsLrd, randomErasing, RandomErasingOptions } from '../../lib';
import { erasingBoxes } from '../../lib/data/erasing';
import { NpRandom, PyRandom, mulberry32, pyRandom } from '../../lib/data/random';
import { native } from '../../lib/base/binding';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from '../helpers/compare';
import { readFloat32, runPython, tempDir } from '../helpers/python';

/** `random` with every value it returns recorded under the call's name. */
function recording<R extends object>(random: R): { random: R; draws: Record<string, number[]> } {
  const draws: Record<string, number[]> = {};
  const wrapped = Object.fromEntries(Object.entries(random).map(([name, f]) => [name, (...args: number[]) => {
    const value = (f as (...a: number[]) => number)(...args);
    (draws[name] ??= []).push(value);
    return value;
  }])) as R;
  return { random: wrapped, draws };
}

function pseudoRandom(length: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length }, () => rng.next() * 4 - 2);
}

describe('MAE fine-tuning pieces against timm 1.0.29', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('paramGroupsLrd gives lr_decay.py\'s groups on timm\'s vit_tiny and vit_base names (one with patch_embed frozen)', async () => {
    const out = path.join(tmp.dir, 'layer-decay.json');
    await runPython('timm_reference.py', ['layer-decay', out], { ecosystem: true });
    const models = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      model: string; params: NamedShape[]; groups: { names: string[]; lrScale: number; weightDecay: number }[];
    }[];
    for (const { model, params, groups } of models) {
      const ours = paramGroupsLrd(params, { layerDecay: 0.65, weightDecay: 0.05 });
      assert.deepEqual(ours.map((g) => g.params.map((p) => p.name)), groups.map((g) => g.names), `${model}: group membership and order`);
      ours.forEach((g, i) => {
        assert.equal(g.weightDecay, groups[i].weightDecay, `${model} group ${i} weight decay`);
        assert.ok(Math.abs(g.lrScale - groups[i].lrScale) <= 1e-15 * groups[i].lrScale, `${model} group ${i} lr scale ${g.lrScale} vs ${groups[i].lrScale}`);
      });
      assert.ok(groups.length > 20, `${model}: ${groups.length} groups`);
    }
  });

  it('Mixup and CutMix (batch mode) mix images and targets as timm\'s Mixup for the same draws', async () => {
    const dir = path.join(tmp.dir, 'mixup');
    fs.mkdirSync(dir);
    const settings: MixupOptions[] = [
      { mixupAlpha: 0.8, cutmixAlpha: 1, labelSmoothing: 0.1, numClasses: 10 },
      { mixupAlpha: 0, cutmixAlpha: 1, labelSmoothing: 0, numClasses: 10, correctLam: false },
      { mixupAlpha: 0.8, cutmixAlpha: 0, labelSmoothing: 0.1, numClasses: 10 },
      { mixupAlpha: 0.8, cutmixAlpha: 1, cutmixMinmax: [0.2, 0.8], numClasses: 10 },
      { mixupAlpha: 0.8, cutmixAlpha: 1, prob: 0.3, numClasses: 10 },
    ];
    const shape = [6, 3, 20, 24];
    const cases: { shape: number[]; options: Record<string, unknown>; draws: Record<string, number[]> }[] = [];
    const ours: { input: Float32Array; target: Float32Array }[] = [];
    const kinds = new Set<string>();
    for (const [s, options] of settings.entries()) {
      for (let step = 0; step < 6; step++) {
        const mixup = new Mixup({ ...options, seed: s });
        const data = pseudoRandom(shape.reduce((a, b) => a * b), 100 * s + step);
        const labels = Int32Array.from({ length: shape[0] }, (_, i) => (7 * i + step) % 10);
        const k = cases.length;
        fs.writeFileSync(path.join(dir, `input-${k}.f32`), data);
        fs.writeFileSync(path.join(dir, `labels-${k}.i32`), labels);
        const { random, draws } = recording<NpRandom>(mixup.random(step));
        const params = mixup.params(random, shape[2], shape[3]);
        kinds.add(params.lam === 1 ? 'none' : params.box ? 'cutmix' : 'mixup');
        const input: HostTensor<'float32'> = { dtype: 'float32', shape, data: data.slice() };
        const mixed = await mixup.mix({ input, target: labels }, params);
        // apply() draws the same numbers.
        const applied = await mixup.apply({ input: { dtype: 'float32', shape, data: data.slice() }, target: labels }, step);
        assert.deepEqual(applied.target.data, mixed.target.data);
        assert.equal(applied.lam, params.lam);
        // timm's argument names are MixupOptions' in snake_case.
        cases.push({ shape, draws, options: Object.fromEntries(Object.entries(options).map(([key, v]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v])) });
        ours.push({ input: input.data, target: mixed.target.data as Float32Array });
      }
    }
    assert.deepEqual([...kinds].sort(), ['cutmix', 'mixup', 'none'], 'every branch is exercised');
    fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
    await runPython('timm_reference.py', ['mixup', dir], { ecosystem: true });
    ours.forEach(({ input, target }, k) => {
      assertClose(input, readFloat32(path.join(dir, `mixed-${k}.f32`)), 1e-6, `case ${k} images`);
      assertClose(target, readFloat32(path.join(dir, `target-${k}.f32`)), 1e-6, `case ${k} targets`);
    });
  });

  it('random erasing puts timm\'s boxes where timm\'s RandomErasing does, and leaves every other pixel', async () => {
    const dir = path.join(tmp.dir, 'erasing');
    fs.mkdirSync(dir);
    const settings: RandomErasingOptions[] = [
      { probability: 0.25, mode: 'pixel' },
      { probability: 1, mode: 'rand', minCount: 1, maxCount: 3 },
      { probability: 0.7, mode: 'const', minArea: 0.1, maxArea: 0.5, minAspect: 0.5 },
    ];
    const shape = [3, 28, 20];
    const cases: { shape: number[]; options: Record<string, unknown>; draws: Record<string, number[]>; patches: number[][] }[] = [];
    const ours: Float32Array[] = [];
    let erased = 0;
    for (const [s, options] of settings.entries()) {
      const transform = randomErasing(options);
      for (let n = 0; n < 8; n++) {
        const data = pseudoRandom(shape.reduce((a, b) => a * b), 1000 + 10 * s + n);
        const k = cases.length;
        fs.writeFileSync(path.join(dir, `input-${k}.f32`), data);
        const { random, draws } = recording<PyRandom>(pyRandom(mulberry32(7 * s + n)));
        const boxes = erasingBoxes(transform, random, shape[1], shape[2]);
        erased += boxes.length;
        const input: HostTensor<'float32'> = { dtype: 'float32', shape: [1, ...shape], data: data.slice() };
        await native.eraseBatch({ input, boxes: boxes.map((b, i) => ({ ...b, image: 0, seed: i })), fill: transform.options.mode });
        // Each box's fill alone (a later box may cover part of an earlier one).
        const patches = await Promise.all(boxes.map(async (b, i) => {
          const alone: HostTensor<'float32'> = { dtype: 'float32', shape: [1, ...shape], data: new Float32Array(data.length) };
          await native.eraseBatch({ input: alone, boxes: [{ ...b, image: 0, seed: i }], fill: transform.options.mode });
          const perPixel = transform.options.mode === 'pixel';
          const patch: number[] = [];
          for (let c = 0; c < shape[0]; c++) {
            for (let y = b.top; y < b.top + (perPixel ? b.height : 1); y++) {
              for (let x = b.left; x < b.left + (perPixel ? b.width : 1); x++) patch.push(alone.data[(c * shape[1] + y) * shape[2] + x]);
            }
          }
          return patch;
        }));
        const o = transform.options;
        cases.push({
          shape, draws, patches: o.mode === 'const' ? [] : patches,
          options: { probability: o.probability, min_area: o.minArea, max_area: o.maxArea, min_aspect: o.minAspect, max_aspect: o.maxAspect,
            mode: o.mode, min_count: o.minCount, max_count: o.maxCount },
        });
        ours.push(input.data);
      }
    }
    assert.ok(erased >= 8, `${erased} boxes erased`);
    fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
    await runPython('timm_reference.py', ['erasing', dir], { ecosystem: true });
    ours.forEach((data, k) => assert.deepEqual(data, readFloat32(path.join(dir, `erased-${k}.f32`)), `case ${k}`));
  });
});

// ViT export against its real consumers: every file passes onnx.checker (full check) and comes back
// byte for byte when Python's onnx re-serialises it; ONNX Runtime, in Python and in Node
// (onnxruntime-node), gives finetorch's logits within 1e-4 (max relative error) at batch 1 and 7,
// for ViTs of several sizes (the class token; the global pool with fc_norm, MAE's fine-tuning head;
// no class token at all) at the operator sets where the graph changes: LayerNormalization (17) or
// its decomposition, Gelu (20) or the Erf form, ReduceMean's axes as an input (18). The weights are
// seeded, with the biases, LayerNorms and class token moved off their zeros and ones.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VisionTransformer, mulberry32, readOnnxMetadata, setNumThreads } from '../../lib';
import type { VitCreateOptions } from '../../lib';
import { assertClose } from '../helpers/compare';
import { OnnxRun, assertRuntimesAgree, checkInPython, randomInput, runInNode, seededRuns } from '../helpers/onnx-check';
import { readFloat32, tempDir } from '../helpers/python';

const TOLERANCE = 1e-4;
const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel'];

interface Case {
  what: string;
  create: VitCreateOptions;
  opset: number;
}

const CASES: Case[] = [
  { what: "timm's vit_tiny_patch16 at 64 px, class token", create: { arch: 'vit_tiny_patch16_224', imgSize: 64 }, opset: 17 },
  { what: 'class token, the decomposed LayerNorm and Erf GELU', create: { imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3 }, opset: 13 },
  { what: 'class token, Gelu', create: { imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3 }, opset: 20 },
  {
    what: "global pool and fc_norm (MAE's fine-tuning), ReduceMean's axes as an input",
    create: { imgSize: 32, patchSize: 4, embedDim: 64, depth: 3, numHeads: 4, globalPool: 'avg' }, opset: 18,
  },
  {
    what: 'no class token, the final norm before the pool, no qkv bias, MLP ratio 2.5',
    create: { imgSize: 24, patchSize: 8, embedDim: 32, depth: 1, numHeads: 2, classToken: false, globalPool: 'avg', fcNorm: false, qkvBias: false, mlpRatio: 2.5 },
    opset: 11,
  },
];

/**
 * Biases, LayerNorms and the class token drawn away from their initial zeros and ones, so that the
 * graph must carry each; the head scaled by 50 for logits of a trained model's size (timm draws it
 * at std 0.02).
 */
async function movedOffInit(net: VisionTransformer, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const state = await net.stateDict();
  for (const [key, t] of state) {
    const data = t.data as Float32Array;
    if (key === 'head.weight') data.forEach((v, i) => { data[i] = v * 50; });
    const norm = /(^|\.)(norm|norm1|norm2|fc_norm)\.weight$/.test(key);
    if (!norm && !key.endsWith('.bias') && key !== 'cls_token') continue;
    for (let i = 0; i < data.length; i++) data[i] = norm ? 0.5 + rng.next() : (rng.next() - 0.5) * (key === 'cls_token' ? 2 : 0.2);
  }
  await net.loadStateDict(state);
  net.eval();
}

describe('ViT ONNX export against onnx.checker and ONNX Runtime (Python 1.30 and onnxruntime-node 1.30)', () => {
  const tmp = tempDir('finetorch-onnx-vit-');
  before(() => setNumThreads(1));
  after(() => tmp.cleanup());

  CASES.forEach(({ what, create, opset }, n) => {
    it(`${what} (opset ${opset}): the checker accepts it; ONNX Runtime's logits at batch 1 and 7 within ${TOLERANCE}`, async (t) => {
      const net = await VisionTransformer.create({ ...create, numClasses: CLASSES.length, seed: 20 + n });
      await movedOffInit(net, 40 + n);
      const { imgSize: size, depth, fcNorm } = net.config;
      const { runs, expected } = await seededRuns(net, size, 5 + n, tmp.dir, `vit${n}`);
      const file = path.join(tmp.dir, `vit${n}.onnx`);
      // No imageSize: a ViT's own size is the default.
      await net.exportOnnx(file, { opset, classes: CLASSES });
      const arch = net.arch;
      net.dispose();

      const [report] = await checkInPython(tmp.dir, [{ file, runs }]);
      assert.ok(report.canonical, "Python's onnx re-serialises it byte for byte");
      assert.equal(report.opset, opset);
      assert.equal(report.irVersion, report.minIrVersion);
      assert.deepEqual(report.inputs, [['input', ['batch', 3, size, size]]]);
      assert.deepEqual(report.outputs, [['logits', ['batch', CLASSES.length]]]);
      const norms = 2 * depth + 1;
      assert.equal(report.ops.LayerNormalization, opset >= 17 ? norms : undefined, 'LayerNormalization from opset 17');
      assert.equal(report.ops.Sqrt, opset >= 17 ? undefined : norms, 'one Sqrt per decomposed LayerNorm');
      assert.equal(report.ops.Gelu, opset >= 20 ? depth : undefined, 'Gelu from opset 20');
      assert.equal(report.ops.Erf, opset >= 20 ? undefined : depth, 'the Erf form below');
      assert.equal(report.ops.Softmax, depth);
      assert.equal(report.ops.Conv, 1);
      assert.equal(report.ops.Concat !== undefined, create.classToken !== false, 'the class token is concatenated');
      assert.equal(report.ops.ReduceMean !== undefined, create.globalPool === 'avg' || opset < 17);
      assert.equal(fcNorm, create.globalPool === 'avg' && create.fcNorm !== false);
      assert.equal(report.metadata.arch, arch);
      assert.deepEqual(JSON.parse(report.metadata.classes), CLASSES);
      assert.equal(JSON.parse(report.metadata.preprocessing).centerCrop, size);
      assert.deepEqual(report.metadata, await readOnnxMetadata(file));
      await assertRuntimesAgree(t, file, runs, expected, TOLERANCE, what);
    });
  });

  it('a fixed batch of 7 and a torchvision-layout ViT: as declared, and runs', async () => {
    const net = await VisionTransformer.create({ imgSize: 32, patchSize: 16, embedDim: 32, depth: 1, numHeads: 4, numClasses: 3, seed: 9 });
    await movedOffInit(net, 10);
    net.layout = 'torchvision';
    const input = randomInput(7, 32, 11);
    const run: OnnxRun = { input, file: path.join(tmp.dir, 'fixed.f32') };
    fs.writeFileSync(run.file, input.data);
    const want = (await net.forward(input)).data;
    const file = path.join(tmp.dir, 'fixed.onnx');
    await net.exportOnnx(file, { dynamicBatch: false, batchSize: 7, inputName: 'pixels', outputName: 'scores' });
    net.dispose();
    const [report] = await checkInPython(tmp.dir, [{ file, runs: [run] }]);
    assert.deepEqual(report.inputs, [['pixels', [7, 3, 32, 32]]]);
    assert.deepEqual(report.outputs, [['scores', [7, 3]]]);
    assertClose(readFloat32(`${file}.fixed.f32.out`), want, TOLERANCE, 'onnxruntime in Python');
    assertClose(await runInNode(file, input), want, TOLERANCE, 'onnxruntime-node');
  });
});

// MAE's linear-probe head (resetClassifier(n, { head: 'mae-probe' }): BatchNorm1d(affine=False,
// eps 1e-6), then the Linear) in ONNX export, on a ViT and a ResNet, against its real consumers:
// every file passes onnx.checker (full check) and comes back byte for byte when Python's onnx
// re-serialises it; ONNX Runtime, in Python and in Node (onnxruntime-node), gives finetorch's
// logits within 1e-4 (max relative error) at batch 1 and 7, with the BatchNorm folded into the
// Gemm and kept as a BatchNormalization node, at operator set 17 and at 11 (BatchNormalization's
// version 9 there, 15 from 15). The probe's running statistics are those train-mode passes leave,
// away from the defaults (mean 0, variance 1), so that the graph must carry them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Model, ResNet, VisionTransformer, mulberry32, setNumThreads } from '../../lib';
import { assertRuntimesAgree, checkInPython, seededRuns, trainModePasses } from '../helpers/onnx-check';
import { tempDir } from '../helpers/python';

const TOLERANCE = 1e-4;
const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel'];

interface Case {
  what: string;
  create: () => Promise<Model>;
  size: number;
  opset: number;
}

const CASES: Case[] = [
  {
    what: 'a ViT (class token)', size: 32, opset: 17,
    create: () => VisionTransformer.create({ imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, numHeads: 3, numClasses: CLASSES.length, seed: 3 }),
  },
  { what: 'a ViT (one block, 4 patches)', size: 32, opset: 11, create: () => VisionTransformer.create({ imgSize: 32, patchSize: 16, embedDim: 32, depth: 1, numHeads: 2, seed: 4 }) },
  { what: 'resnet18', size: 32, opset: 17, create: () => ResNet.create({ arch: 'resnet18', numClasses: CLASSES.length, seed: 5 }) },
  { what: 'resnet18', size: 32, opset: 11, create: () => ResNet.create({ arch: 'resnet18', seed: 6 }) },
];

/**
 * The probe head as a few probe steps leave it: the Linear (trunc-normal at std 0.01) scaled by 50
 * for logits of a trained model's size and its bias moved off zero, then running statistics from
 * train-mode passes.
 */
async function probed(net: Model, size: number, seed: number): Promise<void> {
  net.resetClassifier(CLASSES.length, { head: 'mae-probe', seed });
  const head = net.classifierName;
  const rng = mulberry32(seed);
  const state = await net.stateDict();
  const weight = state.get(`${head}.1.weight`)!.data as Float32Array;
  weight.forEach((v, i) => { weight[i] = v * 50; });
  const bias = state.get(`${head}.1.bias`)!.data as Float32Array;
  bias.forEach((_, i) => { bias[i] = rng.next() - 0.5; });
  await net.loadStateDict(state);
  await trainModePasses(net, size, seed + 1);
}

describe("MAE's probe head in ONNX export against onnx.checker and ONNX Runtime (Python 1.30 and onnxruntime-node 1.30)", () => {
  const tmp = tempDir('finetorch-onnx-probe-');
  before(() => setNumThreads(1));
  after(() => tmp.cleanup());

  CASES.forEach(({ what, create, size, opset }, n) => {
    it(`${what} (opset ${opset}): folded and kept pass the checker; ONNX Runtime's logits at batch 1 and 7 within ${TOLERANCE}`, async (t) => {
      const net = await create();
      await probed(net, size, 30 + n);
      const head = net.classifierName;
      const state = await net.stateDict();
      const mean = state.get(`${head}.0.running_mean`)!.data as Float32Array;
      const variance = state.get(`${head}.0.running_var`)!.data as Float32Array;
      assert.ok(mean.some((v) => Math.abs(v) > 0.05) && variance.some((v) => Math.abs(v - 1) > 0.1), 'running statistics away from the defaults');
      const { runs, expected } = await seededRuns(net, size, 7 + n, tmp.dir, `probe${n}`);

      const files = { folded: path.join(tmp.dir, `probe${n}-folded.onnx`), kept: path.join(tmp.dir, `probe${n}-kept.onnx`) };
      await net.exportOnnx(files.folded, { opset, classes: CLASSES, imageSize: size });
      await net.exportOnnx(files.kept, { opset, classes: CLASSES, imageSize: size, foldBatchNorm: false });
      net.dispose();

      const reports = await checkInPython(tmp.dir, Object.values(files).map((file) => ({ file, runs })));
      const batchNorms = [...state.keys()].filter((k) => k.endsWith('.running_var')).length;
      for (const report of reports) {
        const folded = report.file === files.folded;
        assert.ok(report.canonical, `${report.file}: Python's onnx re-serialises it byte for byte`);
        assert.equal(report.opset, opset);
        assert.equal(report.irVersion, report.minIrVersion);
        assert.deepEqual(report.inputs, [['input', ['batch', 3, size, size]]]);
        assert.deepEqual(report.outputs, [['logits', ['batch', CLASSES.length]]]);
        assert.equal(report.ops.Gemm, 1, 'the Linear');
        assert.equal(report.ops.BatchNormalization, folded ? undefined : batchNorms, 'every BatchNorm, the probe\'s included, folded or kept');
        await assertRuntimesAgree(t, report.file, runs, expected, TOLERANCE, `${what} opset ${opset} ${folded ? 'folded' : 'kept'}`);
      }
      for (const file of Object.values(files)) fs.rmSync(file);
    });
  });
});

// ONNX export against its real consumers: every file passes onnx.checker (full check) and comes back
// byte for byte when Python's onnx re-serialises it; ONNX Runtime, in Python and in Node
// (onnxruntime-node), gives finetorch's logits within 1e-4 (max relative error, as every parity test)
// for every architecture, at batch 1 and 7, with BatchNorm folded and kept, from seeded weights and
// BatchNorm as training leaves it (not the defaults). The absolute differences are printed as
// diagnostics.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARCH_NAMES, Arch, ResNet, mulberry32, readOnnxMetadata, setNumThreads } from '../../lib';
import { GraphBuilder, attr } from '../../lib/export/graph';
import { encodeModel } from '../../lib/export/onnx-proto';
import { MAX_OPSET, MIN_OPSET, irVersionFor } from '../../lib/export/opset';
import { assertClose } from '../helpers/compare';
import { OnnxRun as Run, assertRuntimesAgree, checkInPython, maxAbsDiff, randomInput, runInNode, seededRuns, trainModePasses } from '../helpers/onnx-check';
import { readFloat32, runPython, tempDir } from '../helpers/python';

const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen', 'ibis', 'jay'];
/** The deepest and widest run at 32 px, the rest at 64, to keep the test short. */
const SIZES: Record<Arch, number> = {
  resnet18: 64, resnet34: 64, resnet50: 64, resnet101: 32, resnet152: 32,
  resnext50_32x4d: 64, resnext101_32x8d: 32, resnext101_64x4d: 32, wide_resnet50_2: 32, wide_resnet101_2: 32,
};
const TOLERANCE = 1e-4;

/**
 * BatchNorm as training leaves it, so that folding has something to fold and the logits keep a
 * trained model's size: seeded random weight (0.5..1.5) and bias (-0.25..0.25), then running
 * statistics from train-mode passes.
 */
async function trainedBatchNorm(net: ResNet, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  const state = await net.stateDict();
  for (const key of state.keys()) {
    if (!key.endsWith('.running_mean')) continue;
    const prefix = key.slice(0, -'.running_mean'.length);
    const fill = (name: string, low: number, high: number) => {
      const data = state.get(`${prefix}.${name}`)!.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.next();
    };
    fill('weight', 0.5, 1.5);
    fill('bias', -0.25, 0.25);
  }
  await net.loadStateDict(state);
  await trainModePasses(net, 32, seed + 1);
}

describe('ONNX export against onnx.checker and ONNX Runtime (Python 1.30 and onnxruntime-node 1.30)', () => {
  const tmp = tempDir('finetorch-onnx-');
  before(() => setNumThreads(1));
  after(() => tmp.cleanup());

  for (const arch of ARCH_NAMES) {
    it(`${arch}: folded and kept BatchNorm pass the checker; ONNX Runtime's logits at batch 1 and 7 within ${TOLERANCE}`, async (t) => {
      const size = SIZES[arch];
      const net = await ResNet.create({ arch, numClasses: CLASSES.length, seed: 11 });
      await trainedBatchNorm(net, 12);
      const state = await net.stateDict();
      assert.ok([...state].some(([k, t]) => k.endsWith('.running_var') && (t.data as Float32Array).some((v) => Math.abs(v - 1) > 0.1)),
        'running statistics away from the defaults');
      const { runs, expected } = await seededRuns(net, size, 5, tmp.dir, 'x');

      const files = { folded: path.join(tmp.dir, `${arch}-folded.onnx`), kept: path.join(tmp.dir, `${arch}-kept.onnx`) };
      await net.exportOnnx(files.folded, { imageSize: size, classes: CLASSES });
      await net.exportOnnx(files.kept, { imageSize: size, classes: CLASSES, foldBatchNorm: false });
      net.dispose();

      const reports = await checkInPython(tmp.dir, Object.values(files).map((file) => ({ file, runs })));
      const bnCount = [...state.keys()].filter((k) => k.endsWith('.running_var')).length;
      for (const report of reports) {
        const folded = report.file === files.folded;
        assert.ok(report.canonical, `${report.file}: Python's onnx re-serialises it byte for byte`);
        assert.equal(report.opset, 17);
        assert.equal(report.irVersion, report.minIrVersion, 'the lowest IR version the opset allows');
        assert.deepEqual(report.inputs, [['input', ['batch', 3, size, size]]]);
        assert.deepEqual(report.outputs, [['logits', ['batch', CLASSES.length]]]);
        assert.equal(report.ops.Conv, bnCount, 'one Conv per BatchNorm');
        assert.equal(report.ops.BatchNormalization, folded ? undefined : bnCount);
        assert.deepEqual(JSON.parse(report.metadata.classes), CLASSES);
        assert.deepEqual(report.metadata, await readOnnxMetadata(report.file), 'readOnnxMetadata reads what Python\'s onnx reads');
        await assertRuntimesAgree(t, report.file, runs, expected, TOLERANCE, `${arch} ${folded ? 'folded' : 'kept'}`);
      }
      for (const file of Object.values(files)) fs.rmSync(file);
    });
  }

  it(`resnet18 at every opset ${MIN_OPSET}..${MAX_OPSET}: the checker accepts it with the lowest IR version, ONNX Runtime within ${TOLERANCE}`, async () => {
    const net = await ResNet.create({ numClasses: 3, seed: 2 });
    await trainedBatchNorm(net, 3);
    const input = randomInput(2, 32, 9);
    const run: Run = { input, file: path.join(tmp.dir, 'opsets.f32') };
    fs.writeFileSync(run.file, input.data);
    const want = (await net.forward(input)).data;
    const models = [];
    for (let opset = MIN_OPSET; opset <= MAX_OPSET; opset++) {
      const file = path.join(tmp.dir, `opset${opset}.onnx`);
      await net.exportOnnx(file, { opset, imageSize: 32, foldBatchNorm: opset % 2 === 0 });
      models.push({ file, runs: [run] });
    }
    net.dispose();
    const reports = await checkInPython(tmp.dir, models);
    reports.forEach((report, i) => {
      const opset = MIN_OPSET + i;
      assert.equal(report.opset, opset);
      assert.equal(report.irVersion, report.minIrVersion, `opset ${opset}: IR version ${report.irVersion}, onnx's lowest ${report.minIrVersion}`);
      assert.equal(irVersionFor(opset), report.minIrVersion);
      assert.ok(report.canonical);
      assertClose(readFloat32(`${report.file}.opsets.f32.out`), want, TOLERANCE, `opset ${opset}`);
      fs.rmSync(report.file);
    });
  });

  it('a fixed batch (dynamicBatch: false, batchSize: 7), other names, a preprocessing of its own: as declared, and runs', async () => {
    const net = await ResNet.create({ arch: 'resnet34', numClasses: 4, seed: 3 });
    await trainedBatchNorm(net, 4);
    const input = randomInput(7, 48, 4);
    const run: Run = { input, file: path.join(tmp.dir, 'fixed.f32') };
    fs.writeFileSync(run.file, input.data);
    const want = (await net.forward(input)).data;
    const file = path.join(tmp.dir, 'fixed.onnx');
    const preprocessing = { resize: [64, 56] as [number, number], interpolation: 'bicubic' as const, centerCrop: 48, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] };
    await net.exportOnnx(file, { dynamicBatch: false, batchSize: 7, inputName: 'pixels', outputName: 'scores', preprocessing, opset: 13 });
    net.dispose();
    const [report] = await checkInPython(tmp.dir, [{ file, runs: [run] }]);
    assert.deepEqual(report.inputs, [['pixels', [7, 3, 48, 48]]]);
    assert.deepEqual(report.outputs, [['scores', [7, 4]]]);
    assert.deepEqual(JSON.parse(report.metadata.preprocessing), preprocessing);
    assert.equal(report.metadata.arch, 'resnet34');
    assert.equal(report.metadata.classes, undefined, 'no class names when none were given');
    assert.equal(report.producer[0], 'finetorch');
    assertClose(readFloat32(`${file}.fixed.f32.out`), want, TOLERANCE, 'onnxruntime in Python');
    assertClose(await runInNode(file, input), want, TOLERANCE, 'onnxruntime-node');
  });

  it('the op builder and encoder beyond ResNet: an int64 initializer (Reshape) and a negative attribute (Softmax axis -1)', async () => {
    const g = new GraphBuilder('tiny');
    const x = g.input('x', 'float32', [2, 3, 4]);
    const shape = g.initializer('shape', { dtype: 'int64', shape: [2], data: BigInt64Array.from([-1n, 12n]) });
    const y = g.op('Softmax', [g.op('Reshape', [x, shape], {}, { name: 'flat' })], { axis: attr.int(-1) }, { name: 'softmax', output: 'y' });
    g.output(y, 'float32', ['rows', 12]);
    const file = path.join(tmp.dir, 'tiny.onnx');
    const chunks = encodeModel({ irVersion: 8, opset: 17, producerName: 'test', producerVersion: '0', docString: '', graph: g.build(), metadata: new Map() });
    fs.writeFileSync(file, Buffer.concat(chunks));
    const result = JSON.parse(await runPython('onnx_check.py', ['tiny', file], { ecosystem: true })) as { output: number[]; expected: number[]; canonical: boolean };
    assert.ok(result.canonical, 'byte for byte after onnx re-serialises it');
    assert.ok(maxAbsDiff(result.output, result.expected) <= 1e-6, JSON.stringify(result));
  });
});

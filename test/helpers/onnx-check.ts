// What the ONNX export tests share: seeded inputs, Python's onnx.checker and onnxruntime on a set of
// exported files (test/python/onnx_check.py), onnxruntime-node on one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Model, mulberry32 } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose, maxRelativeError } from './compare';
import { readFloat32, runPython } from './python';

/** What onnx_check.py reports of a file. */
export interface OnnxReport {
  file: string;
  canonical: boolean;
  irVersion: number;
  minIrVersion: number;
  opset: number;
  producer: [string, string];
  inputs: [string, (string | number)[]][];
  outputs: [string, (string | number)[]][];
  ops: Record<string, number>;
  metadata: Record<string, string>;
}

/** An input batch, written to `file` for Python to read. */
export interface OnnxRun {
  input: HostTensor<'float32'>;
  file: string;
}

/** [batch, 3, size, size] uniform in [-2, 2), seeded. */
export function randomInput(batch: number, size: number, seed: number): HostTensor<'float32'> {
  const rng = mulberry32(seed);
  const data = Float32Array.from({ length: batch * 3 * size * size }, () => rng.next() * 4 - 2);
  return { dtype: 'float32', shape: [batch, 3, size, size], data };
}

/**
 * BatchNorm's running statistics as training leaves them: 8 train-mode passes over a seeded
 * [4, 3, size, size] batch (momentum 0.1: 57% the batch's, 43% what they were), then eval mode.
 */
export async function trainModePasses(net: Model, size: number, seed: number): Promise<void> {
  net.train();
  const batch = randomInput(4, size, seed);
  for (let i = 0; i < 8; i++) await net.forward(batch);
  net.eval();
}

/**
 * Runs at batch 7 (seeded) and batch 1 (its first image), their inputs written to `dir` as
 * `<name>-x<batch>.f32` for Python, and finetorch's eval-mode logits for each.
 */
export async function seededRuns(net: Model, size: number, seed: number, dir: string, name: string): Promise<{ runs: OnnxRun[]; expected: Map<OnnxRun, Float32Array> }> {
  const x7 = randomInput(7, size, seed);
  const x1: HostTensor<'float32'> = { dtype: 'float32', shape: [1, 3, size, size], data: x7.data.slice(0, 3 * size * size) };
  const runs: OnnxRun[] = [x1, x7].map((input) => ({ input, file: path.join(dir, `${name}-x${input.shape[0]}.f32`) }));
  const expected = new Map<OnnxRun, Float32Array>();
  for (const r of runs) {
    fs.writeFileSync(r.file, r.input.data);
    expected.set(r, (await net.forward(r.input)).data);
  }
  return { runs, expected };
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  return diff;
}

/** Python's onnx and onnxruntime on `models`: the report, and each run's logits in `<model file>.<input file name>.out`. */
export async function checkInPython(dir: string, models: { file: string; runs: OnnxRun[] }[]): Promise<OnnxReport[]> {
  const job = {
    models: models.map((m) => ({
      file: m.file,
      runs: m.runs.map((r) => ({ input: r.file, shape: r.input.shape, output: `${m.file}.${path.basename(r.file)}.out` })),
    })),
  };
  const jobFile = path.join(dir, 'job.json');
  const reportFile = path.join(dir, 'report.json');
  fs.writeFileSync(jobFile, JSON.stringify(job));
  await runPython('onnx_check.py', ['check', jobFile, reportFile], { ecosystem: true });
  return JSON.parse(fs.readFileSync(reportFile, 'utf8')) as OnnxReport[];
}

/**
 * ONNX Runtime's logits for `file` on each run, Python's (written by checkInPython) and
 * onnxruntime-node's, within `tolerance` (max relative error) of finetorch's `expected`; the
 * differences printed as diagnostics, each line starting with `label` and the batch size.
 */
export async function assertRuntimesAgree(
  t: TestContext, file: string, runs: readonly OnnxRun[], expected: ReadonlyMap<OnnxRun, Float32Array>, tolerance: number, label: string,
): Promise<void> {
  for (const r of runs) {
    const want = expected.get(r)!;
    const python = readFloat32(`${file}.${path.basename(r.file)}.out`);
    const node = await runInNode(file, r.input);
    const where = `${label} batch ${r.input.shape[0]}`;
    t.diagnostic(`${where}: max |logit| ${maxAbsDiff(want, new Float32Array(want.length)).toFixed(3)}; onnxruntime's max abs diff ` +
      `${maxAbsDiff(python, want).toExponential(2)} (Python), ${maxAbsDiff(node, want).toExponential(2)} (Node); max relative error ` +
      `${maxRelativeError(python, want).toExponential(2)} (Python), ${maxRelativeError(node, want).toExponential(2)} (Node)`);
    assertClose(python, want, tolerance, `${where}, onnxruntime in Python`);
    assertClose(node, want, tolerance, `${where}, onnxruntime-node`);
  }
}

/** onnxruntime-node's output for `input` (CPU, one thread). */
export async function runInNode(file: string, input: HostTensor<'float32'>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  try {
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

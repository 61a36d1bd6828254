// What the ONNX export tests share: seeded inputs, Python's onnx.checker and onnxruntime on a set of
// exported files (test/python/onnx_check.py), onnxruntime-node on one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { runPython } from './python';

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

// Runs the PyTorch reference scripts under test/python/ with the Python that has torch, for the
// benchmarks and the tests (test/helpers/python.ts hands these to the tests). When no such Python
// exists this throws (a test fails, it never skips).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireEcosystemPython, requirePythonWithTorch } from './python-with-torch';

export const PYTHON_DIR = path.resolve(__dirname, '..', '..', 'test', 'python');

/**
 * Runs test/python/<script> with args; resolves to its stdout, rejects with its stderr. The
 * reference Python (torch + torchvision) by default; `ecosystem: true` takes the one that also has
 * timm, onnx, onnxruntime, safetensors and huggingface_hub.
 */
export function runPython(script: string, args: string[] = [], options: { ecosystem?: boolean } = {}): Promise<string> {
  const { python } = options.ecosystem ? requireEcosystemPython() : requirePythonWithTorch();
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(PYTHON_DIR, script), ...args], {
      env: { ...process.env, PYTHONHASHSEED: '0' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${script} ${args.join(' ')} exited with ${code}:\n${err}`));
    });
  });
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'finetorch-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Reads a raw little-endian float32 file written by numpy's tofile(). */
export function readFloat32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
}

// Shared by the CLI tests: the built command run as a child process, and a tiny image folder of
// three learnable colour classes.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

export const MAIN = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'main.js');
const COLORS: Record<string, [number, number, number]> = { blue: [40, 60, 200], green: [40, 180, 60], red: [200, 40, 40] };
export const PER_CLASS = 6;
/** Settings that keep a CLI run to a second or two per epoch on this machine. */
export const FAST = ['--image-size', '32', '--batch-size', '4'];

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; `onStderr` may act on the running process (send it a signal); `env` adds to this process's environment. */
export function cli(
  args: string[], onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void, env: Record<string, string> = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, FINETORCH_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, (signal) => child.kill(signal));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Solid colours with noise, so that classes are learnable but images differ. */
export async function makeImageFolder(root: string, names: string[] = Object.keys(COLORS), files = [...Array(PER_CLASS).keys()]): Promise<void> {
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const name of names) {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    for (const k of files) {
      const pixels = Buffer.alloc(40 * 40 * 3);
      for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, COLORS[name][i % 3] + Math.round((random() - 0.5) * 80)));
      await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(path.join(root, name, `${k}.png`));
    }
  }
}

export function assertOneLineError(r: Result, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

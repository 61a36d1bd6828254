// One list of error codes for both sides: every ERR_FINETORCH_* the C++ core or the binding can
// raise is in ERROR_CODES and in NATIVE_CODES, every NATIVE_CODES entry is raised there, and every
// other code of ERROR_CODES (raised by the TypeScript side only) is raised somewhere in lib/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, NATIVE_CODES } from '../../lib/base/errors';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CODE = /ERR_FINETORCH_[A-Z0-9_]+/g;

function sources(dir: string, pattern: RegExp): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .map((f) => path.join(ROOT, dir, f));
}

function codesIn(files: string[]): Set<string> {
  return new Set(files.flatMap((f) => withoutLists(fs.readFileSync(f, 'utf8')).match(CODE) ?? []));
}

/** A source without the lists of codes in lib/base/errors.ts: what is left raises codes. */
function withoutLists(text: string): string {
  return text.replace(/export const (ERROR_CODES|NATIVE_CODES)\b[^]*?\];/g, '');
}

describe('error codes', () => {
  const native = codesIn(sources('native', /\.(cc|h)$/));
  const typescript = codesIn(sources('lib', /\.ts$/));

  it('every code the native side raises is in ERROR_CODES, and NATIVE_CODES lists exactly those', () => {
    assert.ok(native.size > 0, 'no code found under native/');
    assert.deepEqual([...native].filter((c) => !(ERROR_CODES as readonly string[]).includes(c)), []);
    assert.deepEqual([...native].sort(), [...NATIVE_CODES].sort());
  });

  it('every code only the TypeScript side raises is raised in lib/, and lib/ names no code outside ERROR_CODES', () => {
    const tsOnly = ERROR_CODES.filter((c) => !NATIVE_CODES.includes(c));
    assert.deepEqual(tsOnly.filter((c) => !typescript.has(c)), []);
    assert.deepEqual([...typescript].filter((c) => !(ERROR_CODES as readonly string[]).includes(c) && c !== 'ERR_FINETORCH_'), []);
  });
});

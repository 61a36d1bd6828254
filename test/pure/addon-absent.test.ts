// The pure tier needs no addon. scripts/test.js runs it with FINETORCH_ADDON naming a file that does
// not exist, so that any test reaching LibTorch fails; here, without that runner, the modules of
// lib/ that the pure tests import are loaded in a child process whose addon is missing, and none
// may load it.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The compiled lib/ modules that the pure tests import (their `require('../../lib/...')`). */
function libModulesOfPureTests(): string[] {
  const found = new Set<string>();
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js'))) {
    for (const [, spec] of fs.readFileSync(path.join(__dirname, file), 'utf8').matchAll(/require\("(\.\.\/\.\.\/lib[^"]*)"\)/g)) {
      found.add(require.resolve(path.resolve(__dirname, spec)));
    }
  }
  return [...found].sort();
}

it('the lib/ modules the pure tests use load without the addon, and do not try to', async () => {
  const modules = libModulesOfPureTests();
  assert.ok(modules.length >= 10, `found only ${modules.length} modules`);
  const script = `${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}` +
    'console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /base[\\\\/]binding\\.js$/.test(k))))';
  const missing = path.join(ROOT, 'build', 'no-such-dir', 'finetorch.node');
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { env: { ...process.env, FINETORCH_ADDON: missing } });
  assert.deepEqual(JSON.parse(stdout), []);
});

it('a module that loads the addon fails loudly where it is missing (so the check above means something)', async () => {
  const missing = path.join(ROOT, 'build', 'no-such-dir', 'finetorch.node');
  const binding = path.join(ROOT, 'dist', 'lib', 'base', 'binding.js');
  await assert.rejects(promisify(execFile)(process.execPath, ['-e', `require(${JSON.stringify(binding)})`], { env: { ...process.env, FINETORCH_ADDON: missing } }),
    (err: Error & { stderr: string }) => /ERR_FINETORCH_NATIVE|cannot load the native addon/.test(err.stderr));
});

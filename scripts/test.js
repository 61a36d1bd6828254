#!/usr/bin/env node
'use strict';
// npm test's runner: the compiled test files by tier, then one summary. The tiers are what a test
// needs: pure (no addon: it runs once, with the addon hidden, so that a test that reaches LibTorch
// fails), native (the addon), parity (the addon and the reference Python), e2e (the CLI end to
// end, kill -9, several processes). The tiers past pure run once per toolchain
// (scripts/toolchain.js), each with its own addon and its own Python as the reference.
//   node scripts/test.js [--tier TIER]... [--toolchain NAME]... [test files...]
// Test files given run as they are, per toolchain (a pure one too, with the addon in place).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chooseToolchains, describe, environment } = require('./toolchain');

const root = path.resolve(__dirname, '..');
const TIERS = ['pure', 'native', 'parity', 'e2e'];

function tierFiles(tier) {
  const dir = path.join(root, 'dist', 'test', tier);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(dir, f));
}

/** Where the pure tier looks for the addon: a path where none is. */
function hiddenAddon() {
  return path.join(os.tmpdir(), `finetorch-no-addon-${process.pid}`, 'finetorch.node');
}

function runNodeTests(files, env) {
  return spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { cwd: root, env, stdio: 'inherit' });
}

const tiers = [];
const names = [];
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--tier') tiers.push(argv[++i]);
  else if (argv[i] === '--toolchain') names.push(argv[++i]);
  else files.push(argv[i]);
}
const unknown = tiers.filter((t) => !TIERS.includes(t));
if (unknown.length) {
  console.error(`unknown tier ${unknown.join(', ')} (there are: ${TIERS.join(', ')})`);
  process.exit(2);
}
const chosen = files.length ? [] : (tiers.length ? TIERS.filter((t) => tiers.includes(t)) : TIERS);

const results = [];
if (chosen.includes('pure')) {
  const hidden = hiddenAddon();
  console.log(`\n== tier pure: no addon (FINETORCH_ADDON=${hidden}, which does not exist)\n`);
  const started = Date.now();
  const r = runNodeTests(tierFiles('pure'), { ...process.env, FINETORCH_ADDON: hidden });
  results.push({ name: 'pure', label: 'without the addon', ok: r.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
const perToolchain = files.length ? files : chosen.filter((t) => t !== 'pure').flatMap(tierFiles);
if (perToolchain.length) {
  const label = files.length ? 'the files given' : chosen.filter((t) => t !== 'pure').join(' + ');
  for (const t of chooseToolchains(names)) {
    const { ok, label: toolchain } = describe(t);
    console.log(`\n== toolchain ${t.name}, ${label}: ${toolchain}; reference Python ${t.python}\n`);
    const started = Date.now();
    const r = ok ? runNodeTests(perToolchain, environment(t)) : { status: 1 };
    results.push({ name: `${t.name} (${label})`, label: toolchain, ok: r.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
  }
}
console.log('\n== test summary');
for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.name}: ${r.label} (${r.seconds} s)`);
process.exit(results.length > 0 && results.every((r) => r.ok) ? 0 : 1);

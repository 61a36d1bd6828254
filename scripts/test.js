#!/usr/bin/env node
'use strict';
// npm test's runner: the compiled test files once per toolchain (scripts/toolchain.js), each with
// its own addon and its own Python as the reference, then one summary.
//   node scripts/test.js [--toolchain NAME]... [test files...]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chooseToolchains, describe, environment } = require('./toolchain');

const root = path.resolve(__dirname, '..');

function defaultFiles() {
  return ['unit', 'parity'].flatMap((tier) => {
    const dir = path.join(root, 'dist', 'test', tier);
    return fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join(dir, f));
  });
}

const names = [];
const files = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--toolchain') names.push(argv[++i]);
  else files.push(argv[i]);
}
const testFiles = files.length ? files : defaultFiles();
const results = [];
for (const t of chooseToolchains(names)) {
  const { ok, label } = describe(t);
  console.log(`\n== toolchain ${t.name}: ${label}; reference Python ${t.python}\n`);
  const started = Date.now();
  const r = ok
    ? spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...testFiles], { cwd: root, env: environment(t), stdio: 'inherit' })
    : { status: 1 };
  results.push({ name: t.name, label, ok: r.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
console.log('\n== test summary');
for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.name}: ${r.label} (${r.seconds} s)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);

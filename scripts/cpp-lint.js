#!/usr/bin/env node
'use strict';
// The C++ lint of `npm run lint`: cpplint over native/, with the rules native/CPPLINT.cfg sets
// (include what you use, casts, runtime pitfalls; clang-format checks the layout apart).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const started = Date.now();
const r = spawnSync('cpplint', ['--quiet', '--recursive', 'native'], { cwd: root, encoding: 'utf8' });
if (r.error) {
  console.error(`cpp lint: cannot run cpplint (${r.error.message}); install it with apt-get install cpplint`);
  process.exit(1);
}
const findings = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l && !l.startsWith('Done processing') && !l.startsWith('Total errors'));
if (r.status !== 0 || findings.length > 0) {
  for (const f of findings) console.error(f);
  console.error(`cpp lint: ${findings.length} finding${findings.length === 1 ? '' : 's'} in native/ (rules: native/CPPLINT.cfg)`);
  process.exit(1);
}
console.log(`cpp lint: native/ passes cpplint (${Date.now() - started} ms)`);

#!/usr/bin/env node
'use strict';
// The C++ format check of `npm run lint`: every file under native/ as clang-format (.clang-format)
// would write it. `--fix` rewrites them in place.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (/\.(cc|h)$/.test(entry.name)) files.push(full);
  }
})(path.join(root, 'native'));

const fix = process.argv.includes('--fix');
const r = spawnSync('clang-format', [fix ? '-i' : '--dry-run', '--Werror', ...files], { cwd: root, encoding: 'utf8' });
if (r.error) {
  console.error(`format check: cannot run clang-format (${r.error.message}); install it with apt-get install clang-format`);
  process.exit(1);
}
if (r.status !== 0) {
  process.stderr.write(r.stderr);
  console.error('format check: native/ is not formatted as .clang-format says; run `npm run format`');
  process.exit(1);
}

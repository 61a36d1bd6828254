#!/usr/bin/env node
'use strict';
// The toolchains the suite and the benchmarks run on: the addon in build/ (npm install's build,
// with the reference Python found as the build found its LibTorch) and each one
// scripts/pip-toolchain.sh made under .toolchains/ ({ name, addon, python } in toolchain.json).
// Running a command on one sets FINETORCH_ADDON and FINETORCH_PYTHON, which lib/base/binding.ts and
// scripts/python-with-torch.js read:
//   node scripts/toolchain.js list
//   node scripts/toolchain.js run NAME -- COMMAND [ARGS...]     e.g. run pytorch-2.14.1 -- npm run bench
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { requirePythonWithTorch } = require('./python-with-torch');

const root = path.resolve(__dirname, '..');
const TOOLCHAINS = path.join(root, '.toolchains');

/** Every toolchain: { name, addon, python } with absolute paths, build/ first. */
function toolchains() {
  const found = [{ name: 'build', addon: path.join(root, 'build', 'Release', 'finetorch.node'), python: requirePythonWithTorch().python }];
  if (fs.existsSync(TOOLCHAINS)) {
    for (const dir of fs.readdirSync(TOOLCHAINS).sort()) {
      const file = path.join(TOOLCHAINS, dir, 'toolchain.json');
      if (!fs.existsSync(file)) continue;
      const t = JSON.parse(fs.readFileSync(file, 'utf8'));
      found.push({ name: t.name, addon: path.resolve(root, t.addon), python: path.resolve(root, t.python) });
    }
  }
  return found;
}

/** The toolchains named, all when none is; exits with the names there are when one is unknown. */
function chooseToolchains(names) {
  const all = toolchains();
  const unknown = names.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length) {
    console.error(`unknown toolchain ${unknown.join(', ')} (there are: ${all.map((t) => t.name).join(', ')})`);
    process.exit(2);
  }
  return names.length ? all.filter((t) => names.includes(t.name)) : all;
}

function environment(toolchain) {
  return { ...process.env, FINETORCH_ADDON: toolchain.addon, FINETORCH_PYTHON: toolchain.python };
}

/** "LibTorch 2.14.1 (CUDA 13.0 build)", or why the addon does not load. */
function describe(toolchain) {
  const r = spawnSync(process.execPath, ['-e',
    "const r = require('./dist/lib/base/binding').native.runtime; console.log(`LibTorch ${r.torchVersion}${r.cudaVersion ? ` (CUDA ${r.cudaVersion} build)` : ' (CPU)'}`)"],
  { cwd: root, env: environment(toolchain), encoding: 'utf8' });
  return { ok: r.status === 0, label: r.status === 0 ? r.stdout.trim() : `cannot load ${toolchain.addon}: ${r.stderr.trim().split('\n').pop()}` };
}

module.exports = { toolchains, chooseToolchains, environment, describe };

if (require.main === module) {
  const [command, name, dash, ...rest] = process.argv.slice(2);
  if (command === 'list') {
    for (const t of toolchains()) console.log(`${t.name}: ${describe(t).label}; reference Python ${t.python}`);
  } else if (command === 'run' && name && dash === '--' && rest.length) {
    const [t] = chooseToolchains([name]);
    const r = spawnSync(rest[0], rest.slice(1), { cwd: process.cwd(), env: environment(t), stdio: 'inherit' });
    process.exit(r.status ?? 1);
  } else {
    console.error('usage: node scripts/toolchain.js list | run NAME -- COMMAND [ARGS...]');
    process.exit(2);
  }
}

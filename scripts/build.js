#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js. LibTorch is looked for in this order: LIBTORCH or
// Torch_DIR from the environment; the torch package of the Python that has it
// (torch.utils.cmake_prefix_path); the system (Debian/Ubuntu libtorch-dev, found by CMake itself).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { findPythonWithTorch } = require('./python-with-torch');

const root = path.resolve(__dirname, '..');

function torchLocation() {
  if (process.env.LIBTORCH) return { how: 'LIBTORCH', defines: [`CMAKE_PREFIX_PATH=${process.env.LIBTORCH}`] };
  if (process.env.Torch_DIR) return { how: 'Torch_DIR', defines: [`Torch_DIR=${process.env.Torch_DIR}`] };
  const py = findPythonWithTorch();
  // Debian's python3-torch reports a cmake path that it does not ship; use it only if it exists.
  if (py && fs.existsSync(path.join(py.cmake, 'Torch', 'TorchConfig.cmake'))) {
    return { how: `${py.python} (torch ${py.torch})`, defines: [`CMAKE_PREFIX_PATH=${py.cmake}`] };
  }
  return { how: 'the system', defines: [] };
}

const where = torchLocation();
console.log(`finetorch: building the native addon against LibTorch from ${where.how}`);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'build', '--directory', root, '--parallel', String(require('node:os').availableParallelism?.() ?? 2)];
for (const d of where.defines) args.push(`--CD${d}`);
// Always passed, so that a normal build after a sanitized one resets CMake's cached value.
const sanitize = process.env.FINETORCH_SANITIZE ?? '';
if (!/^[a-z,]*$/.test(sanitize)) {
  console.error(`finetorch: FINETORCH_SANITIZE must be a comma-separated list such as address,undefined, got '${sanitize}'`);
  process.exit(1);
}
if (sanitize) console.log(`finetorch: sanitizers: ${sanitize} (run Node with scripts/sanitized.sh)`);
args.push(`--CDFINETORCH_SANITIZE=${sanitize}`);
if (process.env.FINETORCH_DEBUG) args.push('--debug');
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('finetorch: building the native addon failed (see the messages above).');
  process.exit(r.status ?? 1);
}

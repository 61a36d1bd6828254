'use strict';
// Finds the Python interpreter that can import torch (and torchvision): FINETORCH_PYTHON first,
// then the usual names. On Debian the python3 first on PATH may be a separate build without torch,
// while python3-torch lives under /usr/bin/python3.
const { spawnSync } = require('node:child_process');

const CANDIDATES = ['python3', '/usr/bin/python3', 'python', '/usr/local/bin/python3'];
const PROBE = 'import json, torch, torchvision; print(json.dumps({"torch": torch.__version__, ' +
  '"torchvision": torchvision.__version__, "cmake": torch.utils.cmake_prefix_path, "cuda": torch.cuda.is_available()}))';

let cached;

/** { python, torch, torchvision, cmake, cuda } or null when no candidate imports torch. */
function findPythonWithTorch() {
  if (cached !== undefined) return cached;
  const candidates = process.env.FINETORCH_PYTHON ? [process.env.FINETORCH_PYTHON] : CANDIDATES;
  cached = null;
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: 120000 });
    if (r.status === 0) {
      try {
        cached = { python, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
        break;
      } catch { /* not our JSON: try the next one */ }
    }
  }
  return cached;
}

const INSTALL_HINT = 'Install PyTorch for Python: on Debian/Ubuntu `sudo apt-get install python3-torch ' +
  'python3-torchvision`, elsewhere `pip install torch torchvision`; or point FINETORCH_PYTHON at a ' +
  'Python that has them.';

/** Like findPythonWithTorch, but throws an Error that says how to install torch. */
function requirePythonWithTorch() {
  const found = findPythonWithTorch();
  if (!found) {
    const tried = process.env.FINETORCH_PYTHON ? `FINETORCH_PYTHON=${process.env.FINETORCH_PYTHON}` : CANDIDATES.join(', ');
    throw new Error(`No Python with torch and torchvision found (tried ${tried}). ${INSTALL_HINT}`);
  }
  return found;
}

module.exports = { findPythonWithTorch, requirePythonWithTorch, INSTALL_HINT };

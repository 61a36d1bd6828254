'use strict';
// Finds the Python interpreters the build, the tests and the benchmarks use:
// - the build's: the first of the usual candidates that imports torch (its LibTorch is built against);
// - the reference Python: torch + torchvision (FINETORCH_PYTHON first, then the usual names; on
//   Debian the python3 first on PATH may be a separate build without torch, while python3-torch
//   lives under /usr/bin/python3);
// - the ecosystem Python: that, plus timm, onnx, onnxruntime, safetensors and huggingface_hub, for
//   the tests that check files against those libraries (FINETORCH_ECOSYSTEM_PYTHON first, then the
//   reference Python, then the venvs scripts/setup.sh makes under .toolchains/).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CANDIDATES = ['python3', '/usr/bin/python3', 'python', '/usr/local/bin/python3'];
const ECOSYSTEM_MODULES = ['timm', 'onnx', 'onnxruntime', 'safetensors', 'huggingface_hub'];
// This file runs from scripts/ and, compiled with the tests, from dist/scripts/.
const ROOT = [path.resolve(__dirname, '..'), path.resolve(__dirname, '..', '..')].find((d) => fs.existsSync(path.join(d, 'package.json')));
const TOOLCHAINS = path.join(ROOT, '.toolchains');

function probe(modules) {
  return `import json, torch${modules.map((m) => `, ${m}`).join('')}\n` +
    'try:\n    import torchvision; vision = torchvision.__version__\nexcept Exception:\n    vision = None\n' +
    'print(json.dumps({"torch": torch.__version__, "torchvision": vision, "cmake": torch.utils.cmake_prefix_path, "cuda": torch.version.cuda}))';
}

function firstImporting(candidates, modules) {
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', probe(modules)], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) continue;
    try {
      return { python, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
    } catch { /* not our JSON: try the next one */ }
  }
  return null;
}

function toolchainPythons() {
  if (!fs.existsSync(TOOLCHAINS)) return [];
  return fs.readdirSync(TOOLCHAINS).sort().map((name) => path.join(TOOLCHAINS, name, 'venv', 'bin', 'python'))
    .filter((file) => fs.existsSync(file));
}

const cache = new Map();
function cached(key, find) {
  if (!cache.has(key)) cache.set(key, find());
  return cache.get(key);
}

/** { python, torch, torchvision, cmake, cuda } or null when no candidate imports torch and torchvision. */
function findPythonWithTorch() {
  return cached('reference', () => firstImporting(referenceCandidates(), ['torchvision']));
}

/** The Python whose LibTorch a build may use: the same candidates, torch alone required. */
function findPythonForBuild() {
  return cached('build', () => firstImporting(referenceCandidates(), []));
}

function referenceCandidates() {
  return process.env.FINETORCH_PYTHON ? [process.env.FINETORCH_PYTHON] : CANDIDATES;
}

/** Like findPythonWithTorch, for a Python that also has timm, onnx, onnxruntime, safetensors, huggingface_hub. */
function findEcosystemPython() {
  return cached('ecosystem', () => {
    const candidates = [process.env.FINETORCH_ECOSYSTEM_PYTHON, process.env.FINETORCH_PYTHON, ...toolchainPythons(), ...CANDIDATES];
    return firstImporting(candidates.filter(Boolean), ['torchvision', ...ECOSYSTEM_MODULES]);
  });
}

const INSTALL_HINT = 'Install PyTorch for Python: on Debian/Ubuntu `sudo apt-get install python3-torch ' +
  'python3-torchvision`, elsewhere `pip install torch torchvision`; or point FINETORCH_PYTHON at a ' +
  'Python that has them.';
const ECOSYSTEM_HINT = `Run scripts/setup.sh (it makes a venv under .toolchains/), or \`pip install torch torchvision ${ECOSYSTEM_MODULES.join(' ')}\` ` +
  'and point FINETORCH_ECOSYSTEM_PYTHON at that Python.';

/** Like findPythonWithTorch, but throws an Error that says how to install torch. */
function requirePythonWithTorch() {
  const found = findPythonWithTorch();
  if (!found) {
    const tried = process.env.FINETORCH_PYTHON ? `FINETORCH_PYTHON=${process.env.FINETORCH_PYTHON}` : CANDIDATES.join(', ');
    throw new Error(`No Python with torch and torchvision found (tried ${tried}). ${INSTALL_HINT}`);
  }
  return found;
}

/** Like findEcosystemPython, but throws an Error that says how to get one. */
function requireEcosystemPython() {
  const found = findEcosystemPython();
  if (!found) throw new Error(`No Python with torch, torchvision, ${ECOSYSTEM_MODULES.join(', ')} found. ${ECOSYSTEM_HINT}`);
  return found;
}

module.exports = { findPythonWithTorch, findPythonForBuild, requirePythonWithTorch, findEcosystemPython, requireEcosystemPython, INSTALL_HINT, TOOLCHAINS };

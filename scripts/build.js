#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js. LibTorch is looked for in this order: LIBTORCH or
// Torch_DIR from the environment; the torch package of the Python that has it
// (torch.utils.cmake_prefix_path); the system (Debian/Ubuntu libtorch-dev, found by CMake itself).
// For a CUDA build of LibTorch it finds what torch's CMake files need and cannot find alone, the
// way torch.utils.cpp_extension does: the CUDA toolkit (CUDA_HOME, CUDA_PATH, nvcc's real
// location, /usr/local/cuda*) and the headers and libraries of the NVIDIA wheels installed beside a
// pip torch (site-packages/nvidia/*: cuBLAS/cuSPARSE headers, nvrtc, cuDNN, NCCL).
// FINETORCH_BUILD_DIR puts the build elsewhere than build/ (one folder per LibTorch).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { findPythonForBuild } = require('./python-with-torch');

const root = path.resolve(__dirname, '..');

function fail(message) {
  console.error(`finetorch: ${message}`);
  process.exit(1);
}

/** Where LibTorch comes from: { how, defines, torchRoot (the folder with lib/ and include/), cuda }. */
function torchLocation() {
  if (process.env.LIBTORCH) {
    return { how: 'LIBTORCH', defines: [`CMAKE_PREFIX_PATH=${process.env.LIBTORCH}`], torchRoot: process.env.LIBTORCH };
  }
  if (process.env.Torch_DIR) {
    const torchRoot = path.resolve(process.env.Torch_DIR, '..', '..', '..');
    return { how: 'Torch_DIR', defines: [`Torch_DIR=${process.env.Torch_DIR}`, `CMAKE_PREFIX_PATH=${torchRoot}`], torchRoot };
  }
  const py = findPythonForBuild();
  // Debian's python3-torch reports a cmake path that it does not ship; use it only if it exists.
  if (py && fs.existsSync(path.join(py.cmake, 'Torch', 'TorchConfig.cmake'))) {
    // The torch folder itself too, so that LibTorch's config finds its own libraries (libc10 ...)
    // before any other LibTorch of the system's.
    const torchRoot = path.resolve(py.cmake, '..', '..');
    return { how: `${py.python} (torch ${py.torch})`, defines: [`CMAKE_PREFIX_PATH=${py.cmake};${torchRoot}`], torchRoot, cuda: py.cuda };
  }
  return { how: 'the system', defines: [], torchRoot: null };
}

/** The CUDA version a LibTorch was built with, or null for a CPU build. */
function torchCudaVersion(where) {
  if (!where.torchRoot || !fs.existsSync(path.join(where.torchRoot, 'lib', 'libtorch_cuda.so'))) return null;
  if (where.cuda) return where.cuda;
  // LibTorch archives: build-version holds e.g. 2.5.1+cu124.
  const stamp = path.join(where.torchRoot, 'build-version');
  const m = fs.existsSync(stamp) && /\+cu(\d+)(\d)\b/.exec(fs.readFileSync(stamp, 'utf8'));
  return m ? `${m[1]}.${m[2]}` : 'unknown';
}

/** The CUDA version of a toolkit folder (from cuda.h), or null when it is not one. */
function toolkitVersion(dir) {
  const header = path.join(dir, 'include', 'cuda.h');
  if (!fs.existsSync(path.join(dir, 'bin', 'nvcc')) || !fs.existsSync(header)) return null;
  const m = /#define CUDA_VERSION (\d+)/.exec(fs.readFileSync(header, 'utf8'));
  return m ? `${Math.floor(Number(m[1]) / 1000)}.${(Number(m[1]) % 1000) / 10}` : null;
}

/** The folder of the nvcc first on PATH, following links; a wrapper script outside a toolkit says nothing. */
function nvccToolkit() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const nvcc = path.join(dir, 'nvcc');
    if (fs.existsSync(nvcc)) return path.resolve(fs.realpathSync(nvcc), '..', '..');
  }
  return null;
}

/** The CUDA toolkit to compile against: the first candidate that is one, preferring torch's CUDA version. */
function findToolkit(cudaVersion) {
  const fixed = [process.env.CUDA_HOME, process.env.CUDA_PATH].filter(Boolean);
  for (const dir of fixed) {
    if (!toolkitVersion(dir)) fail(`CUDA_HOME/CUDA_PATH names ${dir}, which holds no CUDA toolkit (bin/nvcc, include/cuda.h)`);
    return dir;
  }
  const candidates = [nvccToolkit(), `/usr/local/cuda-${cudaVersion}`, '/usr/local/cuda', '/opt/cuda']
    .concat(fs.existsSync('/usr/local') ? fs.readdirSync('/usr/local').filter((d) => /^cuda-\d/.test(d)).map((d) => `/usr/local/${d}`) : [])
    .filter((d) => d && toolkitVersion(d));
  return candidates.find((d) => toolkitVersion(d) === cudaVersion) ?? candidates[0] ?? null;
}

/** The NVIDIA wheels beside a pip torch: their include and lib folders. */
function nvidiaWheels(torchRoot) {
  const dir = path.join(torchRoot, '..', 'nvidia');
  if (!fs.existsSync(dir)) return { includes: [], libs: [] };
  const packages = fs.readdirSync(dir).map((p) => path.join(dir, p));
  return {
    includes: packages.map((p) => path.join(p, 'include')).filter((d) => fs.existsSync(d)),
    libs: packages.map((p) => path.join(p, 'lib')).filter((d) => fs.existsSync(d)),
  };
}

function firstFile(dirs, pattern) {
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    const name = fs.readdirSync(dir).sort().find((f) => pattern.test(f));
    if (name) return path.join(dir, name);
  }
  return null;
}

/** The CMake definitions a CUDA LibTorch needs on this machine, or a failure naming what is missing. */
function cudaDefines(where, cudaVersion) {
  const toolkit = findToolkit(cudaVersion);
  if (!toolkit) {
    fail(`LibTorch from ${where.how} is a CUDA ${cudaVersion} build, and compiling against it needs CUDA's toolkit ` +
      `(nvcc and the CUDA headers), which was not found (looked at CUDA_HOME, CUDA_PATH, the nvcc on PATH, /usr/local/cuda*). ` +
      `Install the CUDA ${cudaVersion} toolkit (NVIDIA's cuda-toolkit-${String(cudaVersion).replace('.', '-')} package) or set CUDA_HOME.`);
  }
  const wheels = nvidiaWheels(where.torchRoot);
  const libDirs = [...wheels.libs, path.join(toolkit, 'lib64'), path.join(toolkit, 'lib')];
  const nvrtc = firstFile(libDirs, /^libnvrtc\.so(\.\d+)*$/);
  if (!nvrtc) {
    fail(`LibTorch's CUDA build links nvrtc, which is neither in the CUDA toolkit at ${toolkit} nor in an NVIDIA wheel beside torch: ` +
      `pip install nvidia-cuda-nvrtc (for CUDA 13: the nvidia-cuda-nvrtc wheel of the cu13 family), or the toolkit's cuda-nvrtc package.`);
  }
  const includes = [...wheels.includes, path.join(toolkit, 'include')];
  const have = (header) => includes.some((d) => fs.existsSync(path.join(d, header)));
  for (const [header, provider] of [['cusparse.h', 'nvidia-cusparse'], ['cublas_v2.h', 'nvidia-cublas']]) {
    if (!have(header)) fail(`LibTorch's CUDA headers include ${header}, found neither in ${toolkit}/include nor in the NVIDIA wheels: pip install ${provider}`);
  }
  return {
    toolkit,
    defines: [
      `CUDA_TOOLKIT_ROOT_DIR=${toolkit}`, `CUDAToolkit_ROOT=${toolkit}`, `CMAKE_CUDA_COMPILER=${path.join(toolkit, 'bin', 'nvcc')}`,
      `CUDA_nvrtc_LIBRARY=${nvrtc}`, `FINETORCH_CUDA_INCLUDES=${includes.join(';')}`,
    ],
  };
}

const where = torchLocation();
const cudaVersion = torchCudaVersion(where);
const defines = [...where.defines];
let found = `LibTorch from ${where.how}`;
if (cudaVersion) {
  const cuda = cudaDefines(where, cudaVersion);
  defines.push(...cuda.defines);
  found += `, CUDA ${cudaVersion} build: toolkit ${cuda.toolkit} (CUDA ${toolkitVersion(cuda.toolkit)})`;
}
console.log(`finetorch: building the native addon against ${found}`);

// Configured every time (cmake-js build alone keeps a configured folder's old definitions, so a
// switch to another LibTorch would go unseen), then built incrementally.
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const common = ['--directory', root];
if (process.env.FINETORCH_BUILD_DIR) common.push('--out', path.resolve(root, process.env.FINETORCH_BUILD_DIR));
if (process.env.FINETORCH_DEBUG) common.push('--debug');
const configure = [cmakeJs, 'configure', ...common];
for (const d of defines) configure.push(`--CD${d}`);
// Always passed, so that a normal build after a sanitized one resets CMake's cached value.
const sanitize = process.env.FINETORCH_SANITIZE ?? '';
if (!/^[a-z,]*$/.test(sanitize)) fail(`FINETORCH_SANITIZE must be a comma-separated list such as address,undefined, got '${sanitize}'`);
if (sanitize) console.log(`finetorch: sanitizers: ${sanitize} (run Node with scripts/sanitized.sh)`);
configure.push(`--CDFINETORCH_SANITIZE=${sanitize}`);
for (const step of [configure, [cmakeJs, 'build', ...common, '--parallel', String(os.availableParallelism?.() ?? 2)]]) {
  const r = spawnSync(process.execPath, step, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail('building the native addon failed (see the messages above).');
}

#!/usr/bin/env bash
# The whole GPU check in one command, on a bare GPU machine with an NVIDIA driver, CUDA (nvcc),
# CMake and Python with torch 2.x + torchvision, but no Node and no network:
#   1. here first: bash scripts/gpu-prepare.sh      (packs Node, node_modules and dist/ into .carry/)
#   2. there:      bash scripts/gpu-check.sh        (the repository with .carry/ beside it)
# It unpacks Node, builds the addon against Python's CUDA torch with scripts/build.js (the build
# that CI runs against pip's torch 2.14.1 CUDA build, which finds CUDA's toolkit and the NVIDIA
# wheels beside torch itself), checks that LibTorch sees the GPU,
# runs the CUDA tests (forward and 10-step SGD parity with PyTorch on the GPU, TF32 off; AMP
# fp16/bf16) with the CPU parity tests of the same paths, and runs the GPU benchmark
# (scripts/bench-gpu.ts). Logs go to
# $OUT (or ./gpu-check-out).
#   --dry-run   every step but the GPU ones: build against whatever LibTorch is found, the tests
#               without CUDA, and the benchmark's code path on the CPU at a tiny size.
set -euo pipefail
cd "$(dirname "$0")/.."
dry=0
[ "${1:-}" = --dry-run ] && dry=1
out=${OUT:-$PWD/gpu-check-out}
mkdir -p "$out"
step() { echo; echo "== $* ($(date +%T))"; }
fail() { echo "gpu-check: $*" >&2; exit 1; }

step "unpacking Node and the dependencies from .carry/"
[ -f .carry/node.xz ] && [ -f .carry/deps.tar.xz ] || fail ".carry/ is missing: run scripts/gpu-prepare.sh on a machine with Node first"
nodedir=${TMPDIR:-/tmp}/finetorch-node/bin
mkdir -p "$nodedir"
xz -dc .carry/node.xz > "$nodedir/node"
chmod +x "$nodedir/node"
export PATH="$nodedir:$PATH"
tar -xJf .carry/deps.tar.xz
echo "node $(node --version)"

if [ "$dry" = 0 ]; then
  step "GPU"
  nvidia-smi -L | tee "$out/gpu.txt" || fail "nvidia-smi found no GPU"
fi

step "building the addon"
if ! node scripts/build.js > "$out/build.log" 2>&1; then
  tail -40 "$out/build.log"
  fail "the build failed: see $out/build.log"
fi
grep -E "^finetorch:|LibTorch" "$out/build.log" || true

if [ "$dry" = 0 ]; then
  step "CUDA from C++"
  # The linker must keep libtorch_cuda.so (pytorch#36437): LibTorch must see the GPU nvidia-smi shows.
  node -e "const { cuda, torchVersion } = require('./dist/lib');
    console.log('LibTorch ' + torchVersion + ': cuda.isAvailable() = ' + cuda.isAvailable() + ', devices = ' + cuda.deviceCount());
    if (!cuda.isAvailable()) process.exit(1);" || fail "nvidia-smi shows a GPU but LibTorch in the addon sees no CUDA"
fi

step "tests (CUDA tests $([ "$dry" = 0 ] && echo on || echo off))"
# The CUDA tests, the CPU parity of the same code paths against the machine's torch, and the model's
# own checks (devices, steps, loops); the rest of the suite needs libraries a bare GPU machine lacks
# (timm, onnx, ...) and runs in CI.
FINETORCH_TEST_CUDA=$((1 - dry)) node scripts/test.js --toolchain build \
  dist/test/parity/cuda.test.js dist/test/parity/model.test.js dist/test/parity/train.test.js \
  dist/test/native/model-api.test.js dist/test/native/train-loops.test.js > "$out/test.log" 2>&1 || tests_failed=1
grep -E "^# (tests|pass|fail|skipped|duration)|^== |^(pass|FAIL) " "$out/test.log"
[ -z "${tests_failed:-}" ] || { grep -E "^not ok|^    not ok" "$out/test.log" | head -20; fail "tests failed: see $out/test.log"; }

step "benchmark"
if [ "$dry" = 0 ]; then
  UV_THREADPOOL_SIZE=16 node dist/scripts/bench-gpu.js 2>&1 | tee "$out/bench.log"
else
  node dist/scripts/bench-gpu.js --device cpu --size 32 --batch 8 --warmup 1 --steps 2 --images 40 --concurrency 2 2>&1 | tee "$out/bench.log"
fi

#!/usr/bin/env bash
# Run here (a machine with Node and the npm registry) before scripts/gpu-check.sh: packs what the
# bare GPU machine lacks into .carry/ (git-ignored): this machine's node binary (xz) and the npm
# dependencies with the compiled TypeScript (tar.xz). About 35 MB, under the 64 MiB a device
# call may carry. Then, with the device tool: run `bash scripts/gpu-check.sh` carrying .carry.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/cmake-js ] || npm install --no-audit --no-fund
npx tsc -p tsconfig.json
mkdir -p .carry
xz -T0 -6 -c "$(command -v node)" > .carry/node.xz
# TypeScript and the type packages are only needed to compile, which happened here; onnxruntime
# only by the ONNX tests, which the GPU check does not run.
tar -cJf .carry/deps.tar.xz --exclude=node_modules/typescript --exclude='node_modules/@types' \
  --exclude='node_modules/onnxruntime-*' node_modules dist
du -sh .carry/*

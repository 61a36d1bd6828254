#!/usr/bin/env bash
# Set-up on a fresh Debian/Ubuntu machine, then the main job: the transfer-learning demo.
# Each step that is already done is skipped. FINETORCH_SKIP_MAIN=1 stops after the set-up.
set -euo pipefail
cd "$(dirname "$0")/.."

# LibTorch (C++) for the addon, with libjpeg-turbo (JPEG decoding) and gloo's headers (c10d's CPU
# backend); PyTorch for the parity tests; libjpeg-turbo's cjpeg/jpegtran for the JPEG test files
# (restart markers, arithmetic coding, 4:2:2); Fashion-MNIST for the demo; clang-format and cpplint
# for the lint.
packages=(cmake g++ libtorch-dev libjpeg62-turbo-dev libgloo-dev python3-torch python3-torchvision
          libjpeg-turbo-progs dataset-fashion-mnist clang-format cpplint python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm install builds the addon (cmake-js) and compiles the TypeScript; skipped when up to date.
stamp=node_modules/.finetorch-setup
if [ ! -f "$stamp" ] || [ -n "$(find package.json package-lock.json CMakeLists.txt native lib scripts tsconfig.json -newer "$stamp" -print -quit)" ] \
   || [ ! -f build/Release/finetorch.node ]; then
  # onnxruntime-node (a devDependency: the ONNX export tests) ships its CPU build in the package;
  # its postinstall would also download the CUDA execution provider from nuget.org, unused here.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
  touch "$stamp"
fi

# The second toolchain npm test runs the suite on: pip's PyTorch 2.14.1 (CUDA 13 build) in a venv
# under .toolchains/, the addon built against its LibTorch (CUDA's toolkit is found as
# scripts/build.js says). FINETORCH_TOOLCHAINS=system leaves it out.
if [ "${FINETORCH_TOOLCHAINS:-all}" != system ]; then
  bash scripts/pip-toolchain.sh 2.14.1 0.29.1
fi

[ "${FINETORCH_SKIP_MAIN:-0}" = 1 ] || node dist/scripts/demo.js

#!/usr/bin/env bash
# A second toolchain beside the system's LibTorch: pip's PyTorch in a venv, and the addon built
# against its LibTorch, under .toolchains/pytorch-<version>/ (git-ignored):
#   venv/            torch + torchvision with the NVIDIA wheels they link against, and the
#                    ecosystem the tests check files against (timm, onnx, onnxruntime,
#                    safetensors, huggingface_hub)
#   build/Release/finetorch.node
#   toolchain.json   { name, addon, python }: scripts/test.js runs the suite on it
#   usage: scripts/pip-toolchain.sh TORCH_VERSION TORCHVISION_VERSION     (setup.sh: 2.14.1 0.29.1)
# Where pip is configured with local package folders only (file:// indexes), they replace the
# public index, which such a machine cannot reach. torch goes in without its dependencies, then
# every requirement it declares for this platform except cuda-bindings and triton, which Python's
# CUDA runtime and torch.compile use and LibTorch does not; timm goes in without its dependencies
# too (resolving its torchvision requirement could swap torch for another version).
set -euo pipefail
cd "$(dirname "$0")/.."
torch=${1:?usage: pip-toolchain.sh TORCH_VERSION TORCHVISION_VERSION}
vision=${2:?usage: pip-toolchain.sh TORCH_VERSION TORCHVISION_VERSION}
name=pytorch-$torch
dir=.toolchains/$name
venv=$dir/venv
python=$venv/bin/python
# The versions the parity tests were written against; timm first.
ecosystem=(timm==1.0.29 onnx==1.23.1 onnxruntime==1.30.0 safetensors==0.8.0 huggingface_hub==1.33.0)

if ! "$python" - "$torch" "$vision" "${ecosystem[@]}" 2>/dev/null <<'EOF'
import importlib.metadata as metadata, sys
assert metadata.version('torch').split('+')[0] == sys.argv[1]
assert metadata.version('torchvision').split('+')[0] == sys.argv[2]
for pinned in sys.argv[3:]:
    name, version = pinned.split('==')
    assert metadata.version(name) == version, pinned
EOF
then
  echo "toolchain $name: making the venv $venv"
  sources=()
  indexes=$(python3 -m pip config get global.extra-index-url 2>/dev/null || true)
  if [ -n "$indexes" ] && ! grep -qv '^file://' <<<"$(tr ' ' '\n' <<<"$indexes")"; then
    sources=(--index-url "${indexes%% *}")
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  # A local index without a page for a package makes pip warn once per package: noise, not a problem.
  pip_install() { "$venv/bin/pip" install -q --disable-pip-version-check "${sources[@]}" "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }
  pip_install --no-deps "torch==$torch" "torchvision==$vision"
  mapfile -t requirements < <("$python" - <<'EOF'
import importlib.metadata as metadata
from pip._vendor.packaging.requirements import Requirement
for text in metadata.requires('torch') or []:
    req = Requirement(text)
    if req.name in ('cuda-bindings', 'triton') or (req.marker and not req.marker.evaluate({'extra': ''})):
        continue
    print(str(req).split(';')[0].strip())
EOF
  )
  # timm's own requirements are among the others.
  pip_install "${requirements[@]}" numpy pillow pyyaml "${ecosystem[@]:1}"
  pip_install --no-deps "${ecosystem[0]}"
fi
"$python" -c "import torch, torchvision, timm, onnx, onnxruntime, safetensors, huggingface_hub as hub
print(f'toolchain $name: torch {torch.__version__} (CUDA {torch.version.cuda}), torchvision {torchvision.__version__}, timm {timm.__version__}, onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, safetensors {safetensors.__version__}, huggingface_hub {hub.__version__}')"

addon=$dir/build/Release/finetorch.node
stamp=$dir/build/.finetorch-built
if [ ! -f "$addon" ] || [ ! -f "$stamp" ] || [ -n "$(find CMakeLists.txt native scripts/build.js -newer "$stamp" -print -quit)" ]; then
  echo "toolchain $name: building the addon in $dir/build"
  FINETORCH_PYTHON=$python FINETORCH_BUILD_DIR=$dir/build node scripts/build.js
  touch "$stamp"
fi
printf '{ "name": "%s", "addon": "%s", "python": "%s" }\n' "$name" "$addon" "$python" > "$dir/toolchain.json"

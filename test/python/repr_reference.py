"""print(module) as the reference PyTorch (the toolchain's own) writes it, for the modules whose repr
changed between releases: timm's reprs come from the ecosystem Python's PyTorch, finetorch writes
its LibTorch's.

layernorm D...   a JSON object: D -> repr(torch.nn.LayerNorm(D, eps=1e-6))
"""
import json
import sys

import torch

if __name__ == '__main__':
    command, dims = sys.argv[1], sys.argv[2:]
    if command != 'layernorm':
        raise SystemExit(f'unknown command {command}')
    print(json.dumps({d: repr(torch.nn.LayerNorm(int(d), eps=1e-6)) for d in dims}))

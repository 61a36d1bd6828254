"""Times Python's safetensors on a seeded torchvision ResNet-18 state dict: save_file, load_file,
and load_file + load_state_dict into torchvision's resnet18 (median of RUNS after one warm-up).
Writes DIR/resnet18.safetensors and prints JSON {torch, safetensors, file, ms: {save, load, into_model}}."""
import json
import os
import sys

import safetensors
import torch
import torchvision
from safetensors.torch import load_file, save_file

from pth_bench import median_ms


def main(out_dir, runs):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    sd = model.state_dict()
    path = os.path.join(out_dir, 'resnet18.safetensors')
    ms = {'save': median_ms(lambda: save_file(sd, path), runs),
          'load': median_ms(lambda: load_file(path), runs),
          'into_model': median_ms(lambda: model.load_state_dict(load_file(path)), runs)}
    print(json.dumps({'torch': torch.__version__, 'safetensors': safetensors.__version__, 'file': path, 'ms': ms}))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))

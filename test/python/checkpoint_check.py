"""Loads a finetorch training checkpoint as a PyTorch user would, with torch.load(weights_only=True),
and prints JSON: the torch version, the position, the history and the optimizer's group settings as
Python numbers (float() of the 0-d tensors that carry real numbers), the model's keys.

Usage: checkpoint_check.py FILE"""
import json
import sys

import torch


def plain(value):
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        return float(value)
    return value


def main(path):
    ckpt = torch.load(path, weights_only=True)
    groups = [{k: plain(v) for k, v in g.items() if k != 'params'} for g in ckpt['optimizer']['param_groups']]
    print(json.dumps({
        'torch': torch.__version__,
        'keys': sorted(ckpt),
        'epoch': ckpt['epoch'], 'batch': ckpt['batch'], 'step': ckpt['step'],
        'history': [{k: plain(v) for k, v in r.items()} for r in ckpt['history']],
        'param_groups': groups,
        'momentum_buffers': len(ckpt['optimizer']['state']),
        'model': len(ckpt['model']),
    }))


if __name__ == '__main__':
    main(sys.argv[1])

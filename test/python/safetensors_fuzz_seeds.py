"""The safetensors seeds of the fuzzer (npm run fuzz): small real files safetensors.torch.save_file
wrote (Python's safetensors 0.8, the ecosystem Python).

  safetensors_fuzz_seeds.py write DIR   writes them (done once; they are committed in test/fuzz-corpus/seeds)
  safetensors_fuzz_seeds.py check DIR   prints JSON {file name: {metadata, tensors: {name: [dtype, shape, sha256]}}}

resnet.safetensors holds ResNet-18 keys with their true shapes (a 2-class head), so the fuzzer also
feeds it to net.loadPth and ResNet18.load."""
import hashlib
import json
import os
import sys

import torch
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def tensors():
    gen = torch.Generator().manual_seed(0)
    return {
        'weight': torch.randn(3, 4, generator=gen),
        'double': torch.randn(2, generator=gen).double(),
        'half': torch.randn(2, 3, generator=gen).half(),
        'brain': torch.randn(3, generator=gen).bfloat16(),
        'long': torch.arange(5),
        'int': torch.arange(3, dtype=torch.int32),
        'short': torch.arange(4, dtype=torch.int16),
        'char': torch.arange(-2, 2, dtype=torch.int8),
        'bytes': torch.arange(7, dtype=torch.uint8),
        'mask': torch.tensor([True, False, True]),
        'scalar': torch.tensor(1.5),
        'empty': torch.zeros(0, 3),
    }


def unsupported():
    return {
        'f8': torch.zeros(4, dtype=torch.float8_e4m3fn),
        'f8e5': torch.ones(2, dtype=torch.float8_e5m2),
        'u16': torch.zeros(3, dtype=torch.uint16),
        'u32': torch.zeros(2, dtype=torch.uint32),
        'c64': torch.zeros(2, dtype=torch.complex64),
        'weight': torch.ones(2),
    }


def resnet_subset():
    torch.manual_seed(0)
    full = torchvision.models.resnet18(num_classes=2).state_dict()
    keep = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var',
            'bn1.num_batches_tracked', 'fc.weight', 'fc.bias']
    return {k: full[k] for k in keep}


def write(out_dir):
    at = lambda name: os.path.join(out_dir, name + '.safetensors')
    save_file(tensors(), at('tensors'), metadata={'format': 'pt', 'note': 'seed \u00e9'})
    save_file(unsupported(), at('unsupported'))
    save_file(resnet_subset(), at('resnet'))
    save_file({}, at('empty'))


def check(out_dir):
    files = sorted(f for f in os.listdir(out_dir) if f.endswith('.safetensors'))
    result = {}
    for name in files:
        path = os.path.join(out_dir, name)
        with safe_open(path, framework='pt') as f:
            metadata = f.metadata()
        result[name] = {
            'metadata': metadata,
            'tensors': {k: [str(t.dtype).replace('torch.', ''), list(t.shape),
                            hashlib.sha256(t.contiguous().view(-1).view(torch.uint8).numpy().tobytes()).hexdigest()]
                        for k, t in load_file(path).items()},
        }
    print(json.dumps(result))


if __name__ == '__main__':
    {'write': write, 'check': check}[sys.argv[1]](sys.argv[2])

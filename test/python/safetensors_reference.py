"""Python's side of the safetensors parity tests (safetensors, timm: the ecosystem Python).

fixtures DIR   writes with safetensors.torch.save_file, and prints JSON describing each file:
               dtypes.safetensors (every dtype finetorch holds, random bits, a scalar and an
               empty tensor, metadata), same.safetensors (the same tensors without metadata, to
               compare bytes), unsupported.safetensors (float8_e4m3fn and uint16), and
               resnet18.safetensors: timm's resnet18 (seed 3, 5 classes, BatchNorm statistics
               set), with input.f32 (a [2, 3, 64, 64] batch) and timm-logits.f32 (its eval logits).
check FILE     loads FILE with safetensors.torch.load_file and prints its description.
timm FILE ARCH CLASSES INPUT OUT
               timm.create_model(ARCH, pretrained=True, pretrained_cfg_overlay=dict(file=FILE,
               num_classes=CLASSES)): timm reads the file itself, strictly; writes the eval logits
               of INPUT to OUT.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

torch.set_num_threads(1)


def describe(path):
    tensors = load_file(path)
    with safe_open(path, framework='pt') as f:
        metadata = f.metadata()
    return {
        'metadata': metadata,
        'tensors': {
            name: {
                'dtype': str(t.dtype).replace('torch.', ''),
                'shape': list(t.shape),
                'sha256': hashlib.sha256(t.contiguous().view(-1).view(torch.uint8).numpy().tobytes()).hexdigest(),
            }
            for name, t in tensors.items()
        },
    }


def random_bits(dtype, shape, gen):
    n = int(np.prod(shape)) if shape else 1
    size = torch.empty((), dtype=dtype).element_size()
    raw = torch.randint(0, 256, (n * size,), dtype=torch.uint8, generator=gen)
    if dtype == torch.bool:
        return (raw % 2).bool().view(shape)
    return raw.view(dtype).view(shape)


def timm_resnet(arch, classes):
    import timm
    torch.manual_seed(3)
    model = timm.create_model(arch, num_classes=classes).eval()
    with torch.no_grad():
        for k, bn in enumerate(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.normal_(0, 0.1, generator=torch.Generator().manual_seed(k))
            bn.running_var.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(1000 + k))
            bn.num_batches_tracked.fill_(k)
    return model


def fixtures(out):
    gen = torch.Generator().manual_seed(0)
    tensors = {
        'f64': random_bits(torch.float64, [3, 2], gen),
        'f32.weight': random_bits(torch.float32, [4, 3, 2], gen),
        'f16': random_bits(torch.float16, [5], gen),
        'bf16': random_bits(torch.bfloat16, [2, 3], gen),
        'i64': random_bits(torch.int64, [3], gen),
        'i32': random_bits(torch.int32, [7], gen),
        'i16': random_bits(torch.int16, [1, 5], gen),
        'i8': random_bits(torch.int8, [9], gen),
        'u8': random_bits(torch.uint8, [2, 2, 2], gen),
        'bool': random_bits(torch.bool, [6], gen),
        'scalar': torch.tensor(2.5),
        'empty': torch.zeros(0, 4),
    }
    files = {}
    save_file(tensors, os.path.join(out, 'dtypes.safetensors'), metadata={'format': 'pt', 'note': 'ünïcödé \u2028 "quoted"'})
    save_file(tensors, os.path.join(out, 'same.safetensors'))
    save_file({'f8': torch.zeros(4, dtype=torch.float8_e4m3fn), 'u16': torch.zeros(3, dtype=torch.uint16)},
              os.path.join(out, 'unsupported.safetensors'))
    model = timm_resnet('resnet18', 5)
    save_file(model.state_dict(), os.path.join(out, 'resnet18.safetensors'))
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    x.numpy().tofile(os.path.join(out, 'input.f32'))
    with torch.no_grad():
        model(x).numpy().tofile(os.path.join(out, 'timm-logits.f32'))
    for name in ['dtypes', 'same', 'resnet18']:
        path = os.path.join(out, f'{name}.safetensors')
        files[name] = {'file': path, **describe(path)}
    print(json.dumps(files))


def run_timm(path, arch, classes, input_path, out):
    import timm
    model = timm.create_model(arch, pretrained=True, pretrained_cfg_overlay=dict(file=path, num_classes=int(classes))).eval()
    x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32)).view(-1, 3, 64, 64)
    with torch.no_grad():
        model(x).numpy().tofile(out)


if __name__ == '__main__':
    command, args = sys.argv[1], sys.argv[2:]
    if command == 'fixtures':
        fixtures(*args)
    elif command == 'check':
        print(json.dumps(describe(*args)))
    elif command == 'timm':
        run_timm(*args)
    else:
        sys.exit(f'unknown command {command}')

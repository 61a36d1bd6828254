"""The seeds of the .pth fuzzer (npm run fuzz): small real torch.save files in both formats.

  pth_fuzz_seeds.py write DIR   writes them (done once; they are committed in test/fuzz-corpus/seeds)
  pth_fuzz_seeds.py check DIR   prints JSON {file name: pth_common.describe(torch.load(file))}

Names starting with 'resnet' hold ResNet-18 keys with their true shapes (a 2-class head), so the
fuzzer also feeds them to net.loadPth and ResNet18.load (resnet18-views has all of them)."""
import collections
import json
import os
import sys
import zipfile

import torch
import torchvision

from pth_common import describe


def tensors():
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(3, 4, generator=gen)
    return collections.OrderedDict([
        ('weight', base),
        ('transposed', base.t()),
        ('expanded', torch.tensor([1.5]).expand(4)),
        ('slice', base.view(-1)[5:9]),
        ('scalar', base[1, 2]),
        ('empty', torch.zeros(0, 3)),
        ('long', torch.arange(5)),
        ('half', torch.randn(2, 3, generator=gen).half()),
        ('mask', torch.tensor([True, False, True])),
        ('bytes', torch.arange(7, dtype=torch.uint8)),
        ('param', torch.nn.Parameter(torch.ones(2))),
    ])


def checkpoint():
    state = collections.OrderedDict([('fc.weight', torch.ones(2, 3)), ('fc.bias', torch.zeros(2))])
    return {'state_dict': state, 'epoch': 3, 'lr': 0.1, 'name': 'run-1', 'done': True, 'none': None,
            'shape': (2, 3), 'history': [{'loss': 1.25, 'correct': 7}], 'big': 2**70}


def resnet_subset():
    torch.manual_seed(0)
    full = torchvision.models.resnet18(num_classes=2).state_dict()
    keep = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var',
            'bn1.num_batches_tracked', 'fc.weight', 'fc.bias']
    return collections.OrderedDict((k, full[k]) for k in keep)


def resnet_views():
    """Every key of a 2-class resnet18 with its true shape, each float tensor a view of one zero
    byte storage (torch.save keeps views of one storage as one): ResNet18.load reads the
    architecture off these keys, in a file of 2.4 MB that git stores compressed to a few KB."""
    full = torchvision.models.resnet18(num_classes=2).state_dict()
    base = torch.zeros(max(t.numel() for t in full.values()), dtype=torch.uint8)
    return collections.OrderedDict(
        (k, base[:t.numel()].view(t.shape) if t.dtype.is_floating_point else t) for k, t in full.items())


def deflated_copy(source, target):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))


def write(out_dir):
    def at(name):
        return os.path.join(out_dir, name + '.pth')
    for name, value in [('tensors', tensors()), ('checkpoint', checkpoint()), ('resnet', resnet_subset()),
                        ('resnet18-views', resnet_views())]:
        torch.save(value, at(name + '-zip'))
        torch.save(value, at(name + '-legacy'), _use_new_zipfile_serialization=False)
    torch.save(tensors(), at('tensors-protocol4'), pickle_protocol=4)
    deflated_copy(at('tensors-zip'), at('tensors-deflated'))


def check(out_dir):
    files = sorted(f for f in os.listdir(out_dir) if f.endswith('.pth'))
    # The seeds are our own files, some of what neither version's weights_only unpickler takes
    # (floats in 1.13, pickle protocol 4's frames in 2.x): the full unpickler, asked for by name
    # since torch 2.6 defaults to weights_only=True.
    print(json.dumps({f: describe(torch.load(os.path.join(out_dir, f), weights_only=False)) for f in files}))


if __name__ == '__main__':
    {'write': write, 'check': check}[sys.argv[1]](sys.argv[2])

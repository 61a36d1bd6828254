"""Writes ResNet-18 weight files whose tensors are laid out the ways torch.save can lay them out,
for checking that reading tensors in place gives what reading the whole file gives.
Usage: pth_layouts.py DIR  (writes DIR/<name>.pth, prints the names as JSON)"""
import collections
import json
import os
import sys
import zipfile

import torch
import torchvision


def layouts():
    torch.manual_seed(3)
    sd = torchvision.models.resnet18(num_classes=10).state_dict()
    out = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())  # DataParallel prefix
    # fc.weight transposed in memory (strides [1, 10]), conv1.weight stored as float64,
    # bn1's weight and bias two views of one storage at offsets 0 and 64.
    out['module.fc.weight'] = sd['fc.weight'].t().contiguous().t()
    out['module.conv1.weight'] = sd['conv1.weight'].double()
    shared = torch.cat([sd['bn1.weight'], sd['bn1.bias']])
    out['module.bn1.weight'], out['module.bn1.bias'] = shared[:64], shared[64:]
    return out


def main():
    root = sys.argv[1]
    state = layouts()
    # A checkpoint whose pickle is larger than the part of a legacy file read first (1 MiB).
    checkpoint = {'state_dict': state, 'notes': 'x' * (3 << 20)}
    files = {
        'zip': (state, True),
        'legacy': (state, False),
        'legacy-big-pickle': (checkpoint, False),
    }
    for name, (value, zip_format) in files.items():
        torch.save(value, os.path.join(root, name + '.pth'), _use_new_zipfile_serialization=zip_format)
    # The same archive with deflated records: nothing to read in place.
    with zipfile.ZipFile(os.path.join(root, 'zip.pth')) as src, \
            zipfile.ZipFile(os.path.join(root, 'deflated.pth'), 'w', zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    print(json.dumps(list(files) + ['deflated']))


main()

"""Writes hostile and malformed .pth files into DIR and prints JSON {name: path}. The pickles
that run code would create DIR/pwned if anything ever executed them."""
import collections
import json
import os
import pickletools
import struct
import sys

import torch

from pth_common import FakeStorage, FakeTensor, fake_pickle, write_torch_zip


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def storage_section_offset(path):
    """Where the raw storages of a legacy file begin: after its five pickles."""
    with open(path, 'rb') as f:
        for _ in range(5):
            for op, _, _ in pickletools.genops(f):
                if op.name == 'STOP':
                    break
        return f.tell()


def main(out_dir):
    files = {}

    def path(name):
        files[name] = os.path.join(out_dir, name + '.pth')
        return files[name]

    marker = os.path.join(out_dir, 'pwned')
    evil = {'weight': torch.ones(2), 'x': RunsCode(marker)}
    torch.save(evil, path('os-system-zip'))
    torch.save(evil, path('os-system-legacy'), _use_new_zipfile_serialization=False)
    torch.save(evil, path('os-system-protocol4'), pickle_protocol=4)
    torch.save(torch.nn.Linear(2, 2), path('whole-module'))

    def forged(name, storage_numel, data_bytes, offset, size, stride):
        tensor = FakeTensor(FakeStorage(torch.FloatStorage, '0', storage_numel), offset, size, stride)
        write_torch_zip(path(name), fake_pickle({'w': tensor}), {'0': bytes(data_bytes)})

    forged('huge-storage', 2**40, 16, 0, (2**20, 2**20), (2**20, 1))
    forged('huge-expand', 1, 4, 0, (2**20, 2**20), (0, 0))
    forged('out-of-bounds', 4, 16, 2, (2, 2), (2, 1))
    write_torch_zip(path('text-opcode'), b'\x80\x02I12\n.', {})

    legacy = path('huge-count-legacy')
    torch.save(collections.OrderedDict(w=torch.arange(6.0)), legacy, _use_new_zipfile_serialization=False)
    at = storage_section_offset(legacy)
    with open(legacy, 'r+b') as f:
        f.seek(at)
        f.write(struct.pack('<q', 2**60))
    print(json.dumps({'marker': marker, 'files': files}))


if __name__ == '__main__':
    main(sys.argv[1])

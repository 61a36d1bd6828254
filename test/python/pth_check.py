"""Loads a .pth file that finetorch wrote, as a user would, and prints JSON: how it was loaded,
what it holds (pth_common.describe), and whether the zip is sound (CRCs, 64-byte aligned data).

Usage: pth_check.py FILE [--floats]. torch.load(weights_only=True) is always used, except with
--floats on a torch whose weights_only unpickler lacks BINFLOAT (1.13): then plain torch.load."""
import json
import struct
import sys
import zipfile

import torch
import torch._weights_only_unpickler as weights_only_unpickler

from pth_common import describe


def data_offsets(path):
    with zipfile.ZipFile(path) as z, open(path, 'rb') as f:
        for info in z.infolist():
            f.seek(info.header_offset + 26)
            name_len, extra_len = struct.unpack('<HH', f.read(4))
            yield info.filename, info.header_offset + 30 + name_len + extra_len


def main(path, has_floats):
    weights_only = not has_floats or hasattr(weights_only_unpickler, 'BINFLOAT')
    value = torch.load(path, weights_only=True) if weights_only else torch.load(path)
    with zipfile.ZipFile(path) as z:
        crc_ok = z.testzip() is None
    offsets = dict(data_offsets(path))
    print(json.dumps({
        'weights_only': weights_only,
        'value': describe(value),
        'crc_ok': crc_ok,
        'records': list(offsets),
        'aligned': all(offset % 64 == 0 for offset in offsets.values()),
    }))


if __name__ == '__main__':
    main(sys.argv[1], '--floats' in sys.argv[2:])

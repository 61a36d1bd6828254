"""Writes hostile and malformed .pth files into DIR and prints JSON {marker, files, loads,
torch_refuses}: files by name; what torch.load(weights_only=True) makes of the small ones that it
loads (pth_common.describe) and the names of those it refuses (the bombs are not given to torch:
they would take gigabytes). The pickles that run code would create DIR/pwned if anything ever
executed them."""
import collections
import json
import io
import os
import pickle
import pickletools
import struct
import sys
import zlib

import torch

from pth_common import FakeStorage, FakeTensor, describe, fake_pickle, write_torch_zip

MiB = 2**20


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


class FewArgs:
    """A tensor rebuilt from its storage alone: _rebuild_tensor_v2 needs six arguments."""

    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (self.storage,))


def raw_zip(path, records, central):
    """A zip written field by field. records: (name, method, crc, size, data) laid out in order;
    central: (name, index of the record whose local header it points at, size, crc), so that
    several directory entries may share one record."""
    offsets, local = [], bytearray()
    for name, method, crc, size, data in records:
        offsets.append(len(local))
        local += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
        local += name.encode() + data
    directory = bytearray()
    for name, index, size, crc in central:
        method, data = records[index][1], records[index][4]
        directory += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                                 len(name), 0, 0, 0, 0, 0, offsets[index])
        directory += name.encode()
    end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(central), len(central), len(directory), len(local), 0)
    with open(path, 'wb') as f:
        f.write(local + directory + end)


def deflated_zeros(head, total):
    """(raw deflate stream, CRC-32) of `head` followed by zeros up to `total` bytes, made from one
    compressed MiB repeated: after a full flush the compressor starts afresh, so every MiB of
    zeros compresses to the same bytes."""
    assert total % MiB == 0 and len(head) < MiB
    first_chunk = head + bytes(MiB - len(head))
    zeros = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(first_chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(first_chunk)
    for _ in range(total // MiB - 1):
        crc = zlib.crc32(zeros, crc)
    return first + repeat * (total // MiB - 1) + packer.flush(zlib.Z_FINISH), crc


def pickle_at_end(head):
    """The bytes of the last pickle in `head` (the legacy format's storage key list)."""
    starts, f = [], io.BytesIO(head)
    while f.tell() < len(head):
        starts.append(f.tell())
        for op, _, _ in pickletools.genops(f):
            if op.name == 'STOP':
                break
    return head[starts[-1]:]


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

    # Resource bombs: small files that expand to gigabytes if a reader trusts what they declare.
    one = FakeStorage(torch.FloatStorage, '0', 1)
    expanded = collections.OrderedDict((f'w{i}', FakeTensor(one, 0, (64 * MiB,), (0,))) for i in range(6))
    write_torch_zip(path('stride0-bomb'), fake_pickle(expanded), {'0': bytes(4)})  # 6 x 256 MiB

    pickle_bytes = fake_pickle({'w': FakeTensor(one, 0, (1,), (1,))})
    stream, crc = deflated_zeros(pickle_bytes, 1536 * MiB)
    raw_zip(path('deflate-bomb'), [('archive/data.pkl', 8, crc, 1536 * MiB, stream),
                                   ('archive/data/0', 0, zlib.crc32(bytes(4)), 4, bytes(4))],
            [('archive/data.pkl', 0, 1536 * MiB, crc), ('archive/data/0', 1, 4, zlib.crc32(bytes(4)))])

    storages = [FakeStorage(torch.FloatStorage, str(i), 48 * MiB) for i in range(8)]
    pickle_bytes = fake_pickle(collections.OrderedDict((f'w{i}', FakeTensor(s, 0, (48 * MiB,), (1,))) for i, s in enumerate(storages)))
    stream, crc = deflated_zeros(b'', 192 * MiB)
    raw_zip(path('overlap-bomb'), [('archive/data.pkl', 0, zlib.crc32(pickle_bytes), len(pickle_bytes), pickle_bytes),
                                   ('archive/data/0', 8, crc, 192 * MiB, stream)],
            [('archive/data.pkl', 0, len(pickle_bytes), zlib.crc32(pickle_bytes))] +
            [(f'archive/data/{i}', 1, 192 * MiB, crc) for i in range(8)])

    # Malformed files that reach corners of the reader; torch.load judges each below.
    small = {}

    def judged(name):
        small[name] = path(name)
        return small[name]

    four = FakeStorage(torch.FloatStorage, '0', 4)
    write_torch_zip(judged('rebuild-few-args'), fake_pickle({'w': FewArgs(four)}), {'0': bytes(16)})
    write_torch_zip(judged('empty-past-storage'), fake_pickle(collections.OrderedDict(
        w=FakeTensor(four, 100, (0,), (1,)), m=FakeTensor(four, 7, (0, 3), (3, 1)))), {'0': bytes(16)})
    torch.save({'e': torch.tensor([1.5]).expand(1000)}, judged('expanded-1000'))
    # INST and OBJ import their class as GLOBAL does: os.system here, called with a BINUNICODE command.
    command = b'X' + struct.pack('<I', len(f'touch {marker}')) + f'touch {marker}'.encode()
    write_torch_zip(judged('inst-os-system'), b'(' + command + b'ios\nsystem\n.', {})
    write_torch_zip(judged('obj-os-system'), b'(cos\nsystem\n' + command + b'o.', {})

    unlisted = judged('storage-unlisted-legacy')
    torch.save(collections.OrderedDict(w=torch.arange(6.0)), unlisted, _use_new_zipfile_serialization=False)
    cut = storage_section_offset(unlisted)
    with open(unlisted, 'rb') as f:
        head = f.read(cut)
    keys_pickle = pickle_at_end(head)
    with open(unlisted, 'wb') as f:  # the key list emptied, the storage section dropped
        f.write(head[:len(head) - len(keys_pickle)] + pickle.dumps([], protocol=2))

    loads, torch_refuses = {}, []
    for name, file in small.items():
        try:
            loads[name] = describe(torch.load(file, weights_only=True))
        except Exception:  # noqa: BLE001 - any refusal counts
            torch_refuses.append(name)

    legacy = path('huge-count-legacy')
    torch.save(collections.OrderedDict(w=torch.arange(6.0)), legacy, _use_new_zipfile_serialization=False)
    at = storage_section_offset(legacy)
    with open(legacy, 'r+b') as f:
        f.seek(at)
        f.write(struct.pack('<q', 2**60))
    print(json.dumps({'marker': marker, 'files': files, 'loads': loads, 'torch_refuses': torch_refuses}))


if __name__ == '__main__':
    main(sys.argv[1])

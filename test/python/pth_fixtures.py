"""Writes the .pth files that finetorch must read into DIR and prints a JSON manifest:
{name: {"file", "expect"}} where expect describes (pth_common.describe) what the file holds."""
import collections
import json
import os
import pickle
import struct
import sys
import zipfile

import torch
import torchvision

from pth_common import describe

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
          torch.int16, torch.int8, torch.uint8, torch.bool]


def resnet18_state_dict():
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    model(torch.randn(2, 3, 64, 64))  # training-mode forward: running stats and counters move
    return model.state_dict()


def random_of(dtype, shape, gen):
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).bool()
    if dtype.is_floating_point:
        t = torch.randn(shape, generator=gen).to(dtype)
        t.view(-1)[0] = float('nan')
        t.view(-1)[1] = float('-inf')
        return t
    info = torch.iinfo(dtype)
    t = torch.randint(max(info.min, -2**40), min(info.max, 2**40), shape, generator=gen, dtype=torch.int64).to(dtype)
    t.view(-1)[0], t.view(-1)[1] = info.min, info.max
    return t


def every_dtype():
    gen = torch.Generator().manual_seed(1)
    out = collections.OrderedDict()
    for dtype in DTYPES:
        name = str(dtype).replace('torch.', '')
        t = random_of(dtype, (3, 5), gen)
        out[name] = t
        out[name + '.t'] = t.t()  # shares the storage, transposed
        out[name + '.scalar'] = t[1, 2]  # 0-d view at an offset
    return out


def views():
    base = torch.arange(100, dtype=torch.float32) * 0.5
    grid = base.view(10, 10)
    return collections.OrderedDict([
        ('base', base),
        ('slice', base[10:20]),
        ('tail', base[50:]),
        ('block', grid[2:5, 3:7]),
        ('transposed', grid.t()),
        ('permuted', base[:24].view(2, 3, 4).permute(2, 0, 1)),
        ('step', base[1::3]),
        ('column', grid[:, 7]),
        ('expanded', torch.tensor([1.5, 2.5]).expand(3, 2)),
        ('empty', torch.zeros(0, 3)),
        ('scalar', torch.tensor(3.25)),
        ('long_scalar', torch.tensor(-7)),
        ('parameter', torch.nn.Parameter(torch.ones(2, 2))),
    ])


def storages():
    """Bare storages, which finetorch reads as 1-D tensors: (saved value, expected tensors)."""
    t = torch.arange(6, dtype=torch.float32) / 4
    u = torch.arange(-3, 3, dtype=torch.int16)
    untyped = u.untyped_storage() if hasattr(u, 'untyped_storage') else u.storage().untyped()
    saved = {'typed': t.storage(), 'untyped': untyped, 'tensor': t[2:]}
    return saved, {'typed': t, 'untyped': u.view(torch.uint8), 'tensor': t[2:]}


def legacy_2017(path, tensors):
    """The legacy format as PyTorch 0.2 on Python 2 wrote it: Python 2 str keys (SHORT_BINSTRING),
    Python 2's OrderedDict reduce (a list of [key, value] lists), torch._utils._rebuild_tensor,
    CUDA storage types, no num_batches_tracked."""
    def short(s):
        b = s.encode()
        return b'U' + bytes([len(b)]) + b

    def ints(values):
        return b'(' + b''.join(b'J' + struct.pack('<i', v) for v in values) + b't'

    keys = [str(140000000 + i) for i in range(len(tensors))]
    storages = [t.as_strided((t.storage().size(),), (1,), 0) for t in tensors.values()]
    main = b'\x80\x02ccollections\nOrderedDict\nq\x00]q\x01('
    for i, (name, t) in enumerate(tensors.items()):
        rebuild = b'ctorch._utils\n_rebuild_tensor\nq\x02' if i == 0 else b'h\x02'
        pid = b'(' + short('storage') + b'ctorch.cuda\nFloatStorage\n' + short(keys[i]) + short('cuda:0') + \
            b'J' + struct.pack('<i', storages[i].numel()) + b'Nt'
        main += b'](' + short(name) + rebuild + b'(' + pid + b'QK\x00' + ints(t.shape) + ints(t.stride()) + b'tRe'
    main += b'e\x85R.'
    with open(path, 'wb') as f:
        for header in (torch.serialization.MAGIC_NUMBER, torch.serialization.PROTOCOL_VERSION,
                       {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 8}}):
            f.write(pickle.dumps(header, protocol=2))
        f.write(main)
        f.write(b'\x80\x02](' + b''.join(short(k) for k in keys) + b'e.')
        for storage in storages:
            f.write(struct.pack('<q', storage.numel()) + storage.numpy().tobytes())
    loaded = torch.load(path, map_location='cpu')  # the real loader agrees this is a valid file
    assert list(loaded) == list(tensors) and all(torch.equal(loaded[k], tensors[k]) for k in tensors)


def deflated_copy(src, dst):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def main(out_dir):
    manifest = {}

    def save(name, obj, expect=None, **kwargs):
        path = os.path.join(out_dir, name + '.pth')
        torch.save(obj, path, **kwargs)
        manifest[name] = {'file': path, 'expect': describe(obj if expect is None else expect)}

    sd = resnet18_state_dict()
    for fmt, zip_format in (('zip', True), ('legacy', False)):
        kw = {'_use_new_zipfile_serialization': zip_format}
        save(f'resnet18-{fmt}', sd, **kw)
        save(f'views-{fmt}', views(), **kw)
        save(f'dtypes-{fmt}', every_dtype(), **kw)
        save(f'checkpoint-state_dict-{fmt}', {'epoch': 3, 'state_dict': views(), 'best': 0.75}, **kw)
        save(f'checkpoint-model-{fmt}', {'model': every_dtype(), 'optimizer': {'lr': 0.01, 'momentum': [0.9, (1, 2)]}}, **kw)
        dp = collections.OrderedDict(('module.' + k, v) for k, v in views().items())
        save(f'data-parallel-{fmt}', {'state_dict': dp}, **kw)
        saved, expect = storages()
        save(f'storages-{fmt}', saved, expect, **kw)
    save('protocol4', views(), pickle_protocol=4)

    old = collections.OrderedDict([
        ('conv1.weight', torch.randn(4, 3, 3, 3)), ('bn1.weight', torch.rand(4)), ('bn1.bias', torch.randn(4)),
        ('bn1.running_mean', torch.randn(4)), ('bn1.running_var', torch.rand(4)), ('fc.weight', torch.randn(2, 4).t()),
    ])
    path = os.path.join(out_dir, 'legacy-2017.pth')
    legacy_2017(path, old)
    manifest['legacy-2017'] = {'file': path, 'expect': describe(old)}

    path = os.path.join(out_dir, 'deflated.pth')
    deflated_copy(manifest['views-zip']['file'], path)
    manifest['deflated'] = {'file': path, 'expect': manifest['views-zip']['expect']}
    print(json.dumps(manifest))


if __name__ == '__main__':
    main(sys.argv[1])

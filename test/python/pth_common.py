"""Helpers shared by the pth_*.py reference scripts: describing loaded values as JSON that the
TypeScript tests compare with their own description of what finetorch read or wrote."""
import collections
import hashlib
import io
import pickle
import struct
import zipfile

import torch


def raw_bytes(t):
    """The tensor's elements in row-major order, as raw little-endian bytes."""
    t = t.detach().clone().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same bits as int16
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def describe(v):
    """A JSON tree: tensors by dtype, shape and SHA-256 of their bytes; dict kinds and tuples kept."""
    if isinstance(v, torch.Tensor):
        return {'tensor': {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
                           'sha256': hashlib.sha256(raw_bytes(v)).hexdigest()}}
    if isinstance(v, dict):
        kind = 'OrderedDict' if isinstance(v, collections.OrderedDict) else 'dict'
        return {kind: [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)):
        return {type(v).__name__: [describe(x) for x in v]}
    if v is None:
        return None
    if isinstance(v, bool):
        return {'bool': v}
    if isinstance(v, int):
        return {'int': str(v)}
    if isinstance(v, float):
        return {'float': struct.pack('<d', v).hex()}
    if isinstance(v, str):
        return {'str': v}
    raise TypeError(f'cannot describe {type(v)}')


def write_torch_zip(path, pickle_bytes, storages, prefix='archive'):
    """A zip laid out like torch.save's, around a hand-made data.pkl (for malformed files)."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(f'{prefix}/data.pkl', pickle_bytes)
        for key, data in storages.items():
            z.writestr(f'{prefix}/data/{key}', data)
        z.writestr(f'{prefix}/version', '3\n')


class FakeStorage:
    """Stands for a storage in a hand-made pickle: becomes the persistent id torch.save writes."""

    def __init__(self, storage_class, key, numel):
        self.pid = ('storage', storage_class, key, 'cpu', numel)


class FakeTensor:
    """Pickles as torch.save pickles a tensor, with whatever storage, size and stride we like."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class FakePickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, FakeStorage) else None


def fake_pickle(obj):
    buf = io.BytesIO()
    FakePickler(buf, protocol=2).dump(obj)
    return buf.getvalue()

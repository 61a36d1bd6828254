"""timm side of the MAE augmentation and layer-decay parity tests (the ecosystem Python: timm
1.0.29). finetorch's random draws are replayed: timm's calls on numpy.random and Python's random
are answered with the numbers finetorch drew, in order, and every one must be used.

layer-decay OUT   for timm's vit_tiny_patch16_224 and vit_base_patch16_224 (global_pool 'avg', as
                  MAE fine-tunes, so fc_norm; the second with patch_embed frozen), each parameter's
                  name, shape and requires_grad, and the groups of a transcription of MAE's
                  util/lr_decay.py param_groups_lrd (no_weight_decay_list: model.no_weight_decay(),
                  layer decay 0.65, weight decay 0.05), as JSON.
mixup DIR         cases.json: [{ shape, options, draws: { rand, beta, randint } }]; input-K.f32 and
                  labels-K.i32 per case K. timm's Mixup(**options) on them; writes mixed-K.f32 and
                  target-K.f32.
erasing DIR       cases.json: [{ shape, options, draws: { random, uniform, randint }, patches }];
                  input-K.f32 per case K (one image C x H x W). timm's RandomErasing(**options,
                  device='cpu'); _get_pixels answers with the patches finetorch filled (its normal
                  values are not torch's); writes erased-K.f32.
"""
import json
import os
import sys

import numpy as np
import timm
import timm.data.mixup as timm_mixup
import timm.data.random_erasing as timm_erasing
import torch

from optim_reference import layer_groups, vit_layer_id


class Replay:
    """Answers each named call with the next recorded value; `done` checks all were used."""

    def __init__(self, draws):
        self.draws = {k: list(v) for k, v in draws.items()}

    def take(self, kind):
        assert self.draws[kind], f'timm made a {kind} call finetorch did not draw'
        return self.draws[kind].pop(0)

    def done(self):
        left = {k: v for k, v in self.draws.items() if v}
        assert not left, f'finetorch drew numbers timm did not use: {left}'


class NumpyReplay(Replay):
    def rand(self):
        return self.take('rand')

    def beta(self, a, b):
        return self.take('beta')

    def randint(self, low, high, size=None):
        value = self.take('randint')
        assert size is None and low <= value < high, (low, high, value)
        return value


class PythonReplay(Replay):
    def random(self):
        return self.take('random')

    def uniform(self, a, b):
        return self.take('uniform')

    def randint(self, a, b):
        value = self.take('randint')
        assert a <= value <= b, (a, b, value)
        return value


class NumpyWith:
    """numpy itself, but with `random` replaced."""

    def __init__(self, random):
        self.random = random

    def __getattr__(self, name):
        return getattr(np, name)


def layer_decay(out):
    result = []
    for name, freeze in (('vit_tiny_patch16_224', False), ('vit_base_patch16_224', True)):
        model = timm.create_model(name, pretrained=False, global_pool='avg', num_classes=10)
        if freeze:
            for n, p in model.named_parameters():
                p.requires_grad = not n.startswith('patch_embed')
        num_layers = len(model.blocks) + 1
        groups = layer_groups(model, vit_layer_id, num_layers, 0.05, model.no_weight_decay(), 0.65)
        result.append({
            'model': name,
            'params': [{'name': n, 'shape': list(p.shape), 'requiresGrad': p.requires_grad} for n, p in model.named_parameters()],
            'groups': [{'names': g['names'], 'lrScale': g['lr_scale'], 'weightDecay': g['weight_decay']} for g in groups],
        })
    with open(out, 'w') as f:
        json.dump(result, f)


def read(path, dtype, shape):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).reshape(shape))


def mixup(folder):
    with open(os.path.join(folder, 'cases.json')) as f:
        cases = json.load(f)
    for k, case in enumerate(cases):
        x = read(os.path.join(folder, f'input-{k}.f32'), np.float32, case['shape'])
        y = read(os.path.join(folder, f'labels-{k}.i32'), np.int32, case['shape'][:1]).long()
        replay = NumpyReplay(case['draws'])
        timm_mixup.np = NumpyWith(replay)
        x, target = timm_mixup.Mixup(**case['options'])(x, y)
        replay.done()
        x.numpy().tofile(os.path.join(folder, f'mixed-{k}.f32'))
        target.float().numpy().tofile(os.path.join(folder, f'target-{k}.f32'))


def erasing(folder):
    with open(os.path.join(folder, 'cases.json')) as f:
        cases = json.load(f)
    for k, case in enumerate(cases):
        img = read(os.path.join(folder, f'input-{k}.f32'), np.float32, case['shape'])
        replay = PythonReplay(case['draws'])
        patches = [torch.tensor(p, dtype=torch.float32) for p in case['patches']]

        def pixels(per_pixel, rand_color, patch_size, dtype=torch.float32, device='cpu'):
            if not (per_pixel or rand_color):
                return torch.zeros((patch_size[0], 1, 1), dtype=dtype)
            patch = patches.pop(0)
            return patch.view(patch_size if per_pixel else (patch_size[0], 1, 1))

        timm_erasing.random = replay
        timm_erasing._get_pixels = pixels
        timm_erasing.RandomErasing(**case['options'], device='cpu')(img)
        replay.done()
        assert not patches, 'finetorch erased boxes timm did not'
        img.numpy().tofile(os.path.join(folder, f'erased-{k}.f32'))


if __name__ == '__main__':
    {'layer-decay': layer_decay, 'mixup': mixup, 'erasing': erasing}[sys.argv[1]](sys.argv[2])

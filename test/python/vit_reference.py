"""timm / torchvision / MAE side of the Vision Transformer parity tests (the ecosystem Python:
torch 2.x, timm, torchvision). Every command pins torch to one thread.

input DIR NAME N SIZE     a seeded [N, 3, SIZE, SIZE] batch: NAME.f32
make DIR NAME SEED CFG    torch.manual_seed(SEED); timm VisionTransformer(**CFG) (CFG: JSON of timm's
                          arguments): NAME-init.json (every state_dict entry's float64 sum, as made),
                          NAME.repr (print(model)); then its LayerNorms set by the formula of
                          test/parity/vit.test.ts, NAME.pth (state_dict), and on INPUT (CFG's
                          'input' key: an input file's name) NAME-eval.f32 / NAME-train.f32 (logits
                          in eval and train mode) and NAME-features.f32 (forward_head(pre_logits=True)).
logits DIR NAME CFG FILE  timm VisionTransformer(**CFG) loading FILE with strict=True (a state dict
                          finetorch saved): NAME-logits.f32 on CFG['input'].
torchvision DIR NAME SEED CFG  torchvision.models.VisionTransformer(**CFG) seeded: NAME.pth and
                          NAME-eval.f32 on CFG['input'].
torchvision-logits DIR NAME CFG FILE  the same class loading FILE with strict=True: NAME-logits.f32.
mae DIR NAME CFG          an MAE pre-trained encoder file: timm VisionTransformer(**CFG) seeded (0),
                          its state dict without the head saved as {'model': ...} in NAME.pth.
mae-finetune DIR NAME CFG FILE  MAE's main_finetune.py loading: models_vit's VisionTransformer
                          (timm's with global_pool='avg', fc_norm) of CFG built, FILE's 'model' loaded
                          after head keys of another shape are dropped and interpolate_pos_embed (as
                          MAE's util/pos_embed.py) resized pos_embed, strict=False with the missing
                          keys MAE asserts; NAME-pos.f32 (the model's pos_embed) and NAME-features.f32.
interpolate DIR NAME EXTRA OLD NEW  a seeded pos_embed [1, EXTRA + OLD^2, 8] (NAME-in.f32) and MAE's
                          interpolation of it to NEW x NEW (NAME-out.f32).
sgd DIR NAME CFG STEPS    timm VisionTransformer(**CFG) from NAME-start.pth, STEPS steps of
                          torch.optim.SGD (the d2l chapter's groups: lr 0.01, head at 10x, momentum 0.9,
                          weight decay 1e-3) on the batches of sgd-input.f32 / sgd-target.i32 (made by
                          `batches DIR N SIZE CLASSES`): NAME-losses.json, NAME-final.pth.
batches DIR N SIZE CLASSES  3 batches of N images and their labels.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from timm.models.vision_transformer import VisionTransformer

torch.set_num_threads(1)


def path(out, name):
    return os.path.join(out, name)


def read_input(out, cfg):
    meta = json.load(open(path(out, cfg['input'] + '.json')))
    return torch.from_numpy(np.fromfile(path(out, cfg['input'] + '.f32'), dtype=np.float32)).view(*meta['shape'])


def timm_args(cfg):
    return {k: v for k, v in cfg.items() if k != 'input'}


def set_layernorms(model):
    """The formula the JS side checks against: per-channel values exact in float32, different per layer."""
    with torch.no_grad():
        norms = [m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
        for k, norm in enumerate(norms):
            i = torch.arange(norm.normalized_shape[0], dtype=torch.int64)
            norm.weight.copy_(0.5 + ((i * 7 + k) % 16).float() / 16)
            norm.bias.copy_(((i * 5 + k) % 16).float() / 64 - 0.125)


def write_logits(model, x, out, name):
    with torch.no_grad():
        model.eval()
        model(x).numpy().tofile(path(out, name + '-eval.f32'))
        model.forward_head(model.forward_features(x), pre_logits=True).numpy().tofile(path(out, name + '-features.f32'))
        model.train()
        model(x).numpy().tofile(path(out, name + '-train.f32'))


def make(out, name, seed, cfg):
    torch.manual_seed(seed)
    model = VisionTransformer(**timm_args(cfg))
    sums = {k: float(v.double().sum()) for k, v in model.state_dict().items()}
    json.dump(sums, open(path(out, name + '-init.json'), 'w'))
    open(path(out, name + '.repr'), 'w').write(repr(model))
    set_layernorms(model)
    torch.save(model.state_dict(), path(out, name + '.pth'))
    write_logits(model, read_input(out, cfg), out, name)


def logits(out, name, cfg, file):
    model = VisionTransformer(**timm_args(cfg))
    model.load_state_dict(torch.load(file, weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        model(read_input(out, cfg)).numpy().tofile(path(out, name + '-logits.f32'))


def tv_model(cfg):
    return torchvision.models.VisionTransformer(**{k: v for k, v in cfg.items() if k != 'input'})


def torchvision_make(out, name, seed, cfg):
    torch.manual_seed(seed)
    model = tv_model(cfg)
    set_layernorms(model)
    with torch.no_grad():
        model.heads.head.weight.normal_(0, 0.02)  # torchvision starts its head at zero
    torch.save(model.state_dict(), path(out, name + '.pth'))
    model.eval()
    with torch.no_grad():
        model(read_input(out, cfg)).numpy().tofile(path(out, name + '-eval.f32'))


def torchvision_logits(out, name, cfg, file):
    model = tv_model(cfg)
    model.load_state_dict(torch.load(file, weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        model(read_input(out, cfg)).numpy().tofile(path(out, name + '-logits.f32'))


def mae(out, name, cfg):
    torch.manual_seed(0)
    model = VisionTransformer(**timm_args(cfg))
    set_layernorms(model)
    encoder = {k: v for k, v in model.state_dict().items() if not k.startswith('head.')}
    torch.save({'model': encoder}, path(out, name + '.pth'))


def interpolate_pos_embed(model, checkpoint_model):
    """MAE's util/pos_embed.py interpolate_pos_embed, transcribed."""
    if 'pos_embed' not in checkpoint_model:
        return
    pos_embed_checkpoint = checkpoint_model['pos_embed']
    embedding_size = pos_embed_checkpoint.shape[-1]
    num_patches = model.patch_embed.num_patches
    num_extra_tokens = model.pos_embed.shape[-2] - num_patches
    orig_size = int((pos_embed_checkpoint.shape[-2] - num_extra_tokens) ** 0.5)
    new_size = int(num_patches ** 0.5)
    if orig_size != new_size:
        extra_tokens = pos_embed_checkpoint[:, :num_extra_tokens]
        pos_tokens = pos_embed_checkpoint[:, num_extra_tokens:]
        pos_tokens = pos_tokens.reshape(-1, orig_size, orig_size, embedding_size).permute(0, 3, 1, 2)
        pos_tokens = F.interpolate(pos_tokens, size=(new_size, new_size), mode='bicubic', align_corners=False)
        pos_tokens = pos_tokens.permute(0, 2, 3, 1).flatten(1, 2)
        checkpoint_model['pos_embed'] = torch.cat((extra_tokens, pos_tokens), dim=1)


def mae_finetune(out, name, cfg, file):
    model = VisionTransformer(**timm_args(cfg))
    checkpoint_model = torch.load(file, map_location='cpu', weights_only=True)['model']
    state_dict = model.state_dict()
    for k in ['head.weight', 'head.bias']:
        if k in checkpoint_model and checkpoint_model[k].shape != state_dict[k].shape:
            del checkpoint_model[k]
    interpolate_pos_embed(model, checkpoint_model)
    msg = model.load_state_dict(checkpoint_model, strict=False)
    assert set(msg.missing_keys) == {'head.weight', 'head.bias', 'fc_norm.weight', 'fc_norm.bias'}, msg
    model.pos_embed.detach().numpy().tofile(path(out, name + '-pos.f32'))
    model.eval()
    with torch.no_grad():
        x = read_input(out, cfg)
        model.forward_head(model.forward_features(x), pre_logits=True).numpy().tofile(path(out, name + '-features.f32'))


def interpolate(out, name, extra, old, new):
    torch.manual_seed(5)
    pos = torch.randn(1, extra + old * old, 8)
    pos.numpy().tofile(path(out, name + '-in.f32'))

    class Grid:  # what interpolate_pos_embed reads off the model
        pass
    model = Grid()
    model.patch_embed = Grid()
    model.patch_embed.num_patches = new * new
    model.pos_embed = torch.zeros(1, extra + new * new, 8)
    checkpoint = {'pos_embed': pos}
    interpolate_pos_embed(model, checkpoint)
    checkpoint['pos_embed'].numpy().tofile(path(out, name + '-out.f32'))


def batches(out, n, size, classes):
    torch.manual_seed(2)
    torch.randn(3, n, 3, size, size).numpy().tofile(path(out, 'sgd-input.f32'))
    torch.randint(0, classes, (3, n), dtype=torch.int32).numpy().tofile(path(out, 'sgd-target.i32'))


def sgd(out, name, cfg, steps):
    model = VisionTransformer(**timm_args(cfg))
    model.load_state_dict(torch.load(path(out, name + '-start.pth'), weights_only=True))
    x = torch.from_numpy(np.fromfile(path(out, 'sgd-input.f32'), dtype=np.float32))
    x = x.view(3, -1, 3, cfg['img_size'], cfg['img_size'])
    y = torch.from_numpy(np.fromfile(path(out, 'sgd-target.i32'), dtype=np.int32)).view(3, -1).long()
    lr = 0.01
    head = list(map(id, model.head.parameters()))
    optimizer = torch.optim.SGD([{'params': [p for p in model.parameters() if id(p) not in head]},
                                 {'params': model.head.parameters(), 'lr': lr * 10}],
                                lr=lr, weight_decay=0.001, momentum=0.9)
    losses = []
    model.train()
    for i in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[i % 3]), y[i % 3])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    json.dump(losses, open(path(out, name + '-losses.json'), 'w'))
    torch.save(model.state_dict(), path(out, name + '-final.pth'))


if __name__ == '__main__':
    command, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if command == 'input':
        name, n, size = rest[0], int(rest[1]), int(rest[2])
        torch.manual_seed(1)
        torch.randn(n, 3, size, size).numpy().tofile(path(out, name + '.f32'))
        json.dump({'shape': [n, 3, size, size]}, open(path(out, name + '.json'), 'w'))
    elif command == 'make':
        make(out, rest[0], int(rest[1]), json.loads(rest[2]))
    elif command == 'logits':
        logits(out, rest[0], json.loads(rest[1]), rest[2])
    elif command == 'torchvision':
        torchvision_make(out, rest[0], int(rest[1]), json.loads(rest[2]))
    elif command == 'torchvision-logits':
        torchvision_logits(out, rest[0], json.loads(rest[1]), rest[2])
    elif command == 'mae':
        mae(out, rest[0], json.loads(rest[1]))
    elif command == 'mae-finetune':
        mae_finetune(out, rest[0], json.loads(rest[1]), rest[2])
    elif command == 'interpolate':
        interpolate(out, rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
    elif command == 'batches':
        batches(out, int(rest[0]), int(rest[1]), int(rest[2]))
    elif command == 'sgd':
        sgd(out, rest[0], json.loads(rest[1]), int(rest[2]))
    else:
        raise SystemExit(f'unknown command {command}')

"""PyTorch side of the protocol parity tests: MAE's two evaluation protocols as its code runs them,
with optim_reference.py's transcriptions of util/lars.py, util/lr_decay.py and util/lr_sched.py.

probe DIR    MAE's linear-probe head (main_linprobe.py): torch.manual_seed(SEED), Linear(D, C) with
             timm's trunc_normal_(weight, std=0.01) and bias 0, behind BatchNorm1d(D, affine=False,
             eps=1e-6); LARS (weight decay 0) at lr = blr x batch / 256 and util/lr_sched.py before
             every step (epoch + step / steps per epoch), cross-entropy, on the fixed features of
             DIR/features.f32 [epochs' batches, N, D] and DIR/targets.i32. DIR/probe.json gives
             seed, blr, epochs, warmup_epochs, min_lr. Writes probe-init.pth (the fresh head),
             probe-losses.json, probe-lrs.json, probe-final.pth (the head's state_dict, under
             head.*) and probe-eval.f32 (eval-mode logits of the first batch).
finetune DIR main_finetune.py on a small timm VisionTransformer (global pool, fc_norm): the weights
             of DIR/vit-start.pth, AdamW over param_groups_lrd (no decay for 1-D, pos_embed,
             cls_token), label smoothing, util/lr_sched.py per step; DIR/finetune.json gives the
             model's arguments, lr, weight_decay, layer_decay, smoothing, warmup_epochs, epochs,
             min_lr, steps per epoch. Images DIR/images.f32, labels DIR/labels.i32. Writes
             finetune-losses.json, finetune-lrs.json and finetune-final.pth.
"""
import json
import math
import os
import sys

import numpy as np
import torch

from optim_reference import Lars, layer_groups, mae_lr, set_lr, vit_layer_id


def trunc_normal_(tensor, std, mean=0., a=-2., b=2.):
    """timm's trunc_normal_ (timm.models.layers, which MAE's scripts import): the inverse normal CDF
    of one uniform draw. torch 2.x's nn.init.trunc_normal_ draws by rejection, other numbers."""
    def norm_cdf(x):
        return (1. + math.erf(x / math.sqrt(2.))) / 2.
    with torch.no_grad():
        low, high = norm_cdf((a - mean) / std), norm_cdf((b - mean) / std)
        tensor.uniform_(2 * low - 1, 2 * high - 1)
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)
    return tensor


def read(out, name):
    with open(os.path.join(out, name)) as f:
        return json.load(f)


def write(out, name, value):
    with open(os.path.join(out, name), 'w') as f:
        json.dump(value, f)


def train(model, optimizer, batches, steps_per_epoch, schedule, smoothing=0.):
    """engine_finetune.train_one_epoch's order: the lr set before each step, then the step."""
    losses, lrs = [], []
    for step, (x, y) in enumerate(batches):
        set_lr(optimizer, schedule(step / steps_per_epoch))
        lrs.append([g['lr'] for g in optimizer.param_groups])
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y, label_smoothing=smoothing)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, lrs


def probe(out):
    torch.set_num_threads(1)
    a = read(out, 'probe.json')
    steps, n, d, c = a['steps_per_epoch'], a['batch'], a['features'], a['classes']
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'features.f32'), dtype=np.float32)).view(steps, n, d)
    y = torch.from_numpy(np.fromfile(os.path.join(out, 'targets.i32'), dtype=np.int32)).view(steps, n).long()
    torch.manual_seed(a['seed'])
    linear = torch.nn.Linear(d, c)
    trunc_normal_(linear.weight, std=0.01)
    torch.nn.init.zeros_(linear.bias)
    model = torch.nn.Module()
    model.head = torch.nn.Sequential(torch.nn.BatchNorm1d(d, affine=False, eps=1e-6), linear)
    torch.save(model.state_dict(), os.path.join(out, 'probe-init.pth'))
    lr = a['blr'] * n / 256
    optimizer = Lars(model.head.parameters(), lr=lr, weight_decay=0)
    batches = [(x[i % steps], y[i % steps]) for i in range(steps * a['epochs'])]
    model.head.train()
    losses, lrs = train(model.head, optimizer, batches, steps,
                        lambda epoch: mae_lr(epoch, lr, a['min_lr'], a['warmup_epochs'], a['epochs']))
    write(out, 'probe-losses.json', losses)
    write(out, 'probe-lrs.json', lrs)
    torch.save(model.state_dict(), os.path.join(out, 'probe-final.pth'))
    model.head.eval()
    with torch.no_grad():
        model.head(x[0]).numpy().astype(np.float32).tofile(os.path.join(out, 'probe-eval.f32'))


def finetune(out):
    import timm
    torch.set_num_threads(1)
    a = read(out, 'finetune.json')
    model = timm.models.vision_transformer.VisionTransformer(**a['model'])
    model.load_state_dict(torch.load(os.path.join(out, 'vit-start.pth')))
    groups = layer_groups(model, vit_layer_id, len(model.blocks) + 1, a['weight_decay'], model.no_weight_decay(), a['layer_decay'])
    optimizer = torch.optim.AdamW([{k: v for k, v in g.items() if k != 'names'} for g in groups], lr=a['lr'])
    steps, n, size = a['steps_per_epoch'], a['batch'], a['model']['img_size']
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'images.f32'), dtype=np.float32)).view(steps, n, 3, size, size)
    y = torch.from_numpy(np.fromfile(os.path.join(out, 'labels.i32'), dtype=np.int32)).view(steps, n).long()
    batches = [(x[i % steps], y[i % steps]) for i in range(steps * a['epochs'])]
    model.train()
    losses, lrs = train(model, optimizer, batches, steps,
                        lambda epoch: mae_lr(epoch, a['lr'], a['min_lr'], a['warmup_epochs'], a['epochs']), a['smoothing'])
    write(out, 'finetune-losses.json', losses)
    write(out, 'finetune-lrs.json', lrs)
    torch.save(model.state_dict(), os.path.join(out, 'finetune-final.pth'))


if __name__ == '__main__':
    {'probe': probe, 'finetune': finetune}[sys.argv[1]](sys.argv[2])

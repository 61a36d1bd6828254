"""PyTorch side of the optimizer parity tests: torch.optim.AdamW and the test's own transcriptions
of MAE's util/lars.py, util/lr_decay.py and util/lr_sched.py, on train_reference.py's model and
batches (make DIR there first).

run DIR MODE STEPS  MODE is
    adamw-lrd   AdamW over layer-wise lr decay groups (ResNet stages as the layers: conv1/bn1 0,
                layerK K, fc 5; decay 0.65, weight decay 0.05), MAE's per-step schedule (4 steps
                per epoch, 1 warm-up epoch of 3, min lr 1e-6, peak 1e-3), loss with label
                smoothing 0.1, train mode;
    lars        LARS over every parameter (lr 0.1, weight decay 0.05), train mode;
    lars-probe  MAE's linear probe on fc: backbone frozen, eval mode, LARS (weight decay 0) at
                MAE's schedule (peak 0.1, 2 steps per epoch, 1 warm-up epoch of 4);
    soft        SGD (lr 0.05, momentum 0.9) on the mixed inputs and soft targets in soft-input.f32,
                soft-target.f32 (N x 5 per batch), timm's SoftTargetCrossEntropy.
    Writes MODE-losses.json, MODE-lrs.json (each group's lr per step), MODE-final.pth and
    MODE-optim.pth (the optimizer's state_dict).
resume DIR MODE STEP [TAG]
    loads MODE-final.pth and finetorch's optimizer state dict js-MODE-optim.pth into a fresh model
    and torch.optim optimizer (load_state_dict), takes step STEP and writes MODE-resumed[TAG].pth.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torchvision

BATCHES, BATCH, SIZE, CLASSES = 10, 8, 32, 5


class Lars(torch.optim.Optimizer):
    """util/lars.py: decay and the trust ratio only for parameters of more than one dimension."""

    def __init__(self, params, lr=0, weight_decay=0, momentum=0.9, trust_coefficient=0.001):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, trust_coefficient=trust_coefficient))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                update = p.grad
                if p.ndim > 1:
                    update = update.add(p, alpha=group['weight_decay'])
                    p_norm, u_norm = torch.norm(p), torch.norm(update)
                    one = torch.ones_like(p_norm)
                    ratio = torch.where(p_norm > 0., torch.where(u_norm > 0, group['trust_coefficient'] * p_norm / u_norm, one), one)
                    update = update.mul(ratio)
                state = self.state[p]
                if 'mu' not in state:
                    state['mu'] = torch.zeros_like(p)
                state['mu'].mul_(group['momentum']).add_(update)
                p.add_(state['mu'], alpha=-group['lr'])


def layer_groups(model, layer_id, num_layers, weight_decay, no_decay_names, decay):
    """util/lr_decay.py's param_groups_lrd with the layer id function given; each group also
    lists its parameters' names."""
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        decayed = not (p.ndim == 1 or name in no_decay_names)
        layer = layer_id(name, num_layers)
        key = (layer, decayed)
        if key not in groups:
            groups[key] = {'lr_scale': decay ** (num_layers - layer), 'weight_decay': weight_decay if decayed else 0., 'params': [], 'names': []}
        groups[key]['params'].append(p)
        groups[key]['names'].append(name)
    return list(groups.values())


def vit_layer_id(name, num_layers):
    """util/lr_decay.py's get_layer_id_for_vit."""
    if name in ('cls_token', 'pos_embed') or name.startswith('patch_embed'):
        return 0
    if name.startswith('blocks'):
        return int(name.split('.')[1]) + 1
    return num_layers


def resnet_layer_id(name, num_layers):
    if name.startswith('layer'):
        return int(name[len('layer')])
    return num_layers if name.startswith('fc') else 0


def mae_lr(epoch, lr, min_lr, warmup_epochs, epochs):
    """util/lr_sched.py's adjust_learning_rate, returning the lr before lr_scale."""
    if epoch < warmup_epochs:
        return lr * epoch / warmup_epochs
    return min_lr + (lr - min_lr) * 0.5 * (1. + math.cos(math.pi * (epoch - warmup_epochs) / (epochs - warmup_epochs)))


def set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group['lr'] = lr * group['lr_scale'] if 'lr_scale' in group else lr


def setup(out, mode):
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(512, CLASSES)
    model.load_state_dict(torch.load(os.path.join(out, 'start.pth')))
    if mode == 'adamw-lrd':
        groups = layer_groups(model, resnet_layer_id, 5, 0.05, set(), 0.65)
        optimizer = torch.optim.AdamW([{k: v for k, v in g.items() if k != 'names'} for g in groups], lr=1e-3)
        schedule = lambda step: mae_lr(step / 4, 1e-3, 1e-6, 1, 3)
    elif mode == 'lars':
        optimizer = Lars(model.parameters(), lr=0.1, weight_decay=0.05)
        schedule = None
    elif mode == 'lars-probe':
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith('fc.')
        optimizer = Lars(model.fc.parameters(), lr=0.1, weight_decay=0)
        schedule = lambda step: mae_lr(step / 2, 0.1, 0, 1, 4)
    elif mode == 'soft':
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        schedule = None
    else:
        raise SystemExit(f'unknown mode {mode}')
    return model, optimizer, schedule


def batches(out, mode):
    if mode == 'soft':
        x = torch.from_numpy(np.fromfile(os.path.join(out, 'soft-input.f32'), dtype=np.float32)).view(BATCHES, BATCH, 3, SIZE, SIZE)
        y = torch.from_numpy(np.fromfile(os.path.join(out, 'soft-target.f32'), dtype=np.float32)).view(BATCHES, BATCH, CLASSES)
        return x, y
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'input.f32'), dtype=np.float32)).view(BATCHES, BATCH, 3, SIZE, SIZE)
    y = torch.from_numpy(np.fromfile(os.path.join(out, 'target.i32'), dtype=np.int32)).view(BATCHES, BATCH).long()
    return x, y


def loss_of(mode, logits, target):
    if mode == 'soft':
        return torch.sum(-target * torch.nn.functional.log_softmax(logits, dim=-1), dim=-1).mean()
    return torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1 if mode == 'adamw-lrd' else 0.)


def train(model, optimizer, schedule, mode, x, y, steps):
    losses, lrs = [], []
    for step in steps:
        if schedule:
            set_lr(optimizer, schedule(step))
        lrs.append([g['lr'] for g in optimizer.param_groups])
        model.eval() if mode == 'lars-probe' else model.train()
        optimizer.zero_grad()
        loss = loss_of(mode, model(x[step % BATCHES]), y[step % BATCHES])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, lrs


def run(out, mode, steps):
    torch.set_num_threads(1)
    model, optimizer, schedule = setup(out, mode)
    x, y = batches(out, mode)
    losses, lrs = train(model, optimizer, schedule, mode, x, y, range(steps))
    with open(os.path.join(out, f'{mode}-losses.json'), 'w') as f:
        json.dump(losses, f)
    with open(os.path.join(out, f'{mode}-lrs.json'), 'w') as f:
        json.dump(lrs, f)
    torch.save(model.state_dict(), os.path.join(out, f'{mode}-final.pth'))
    torch.save(optimizer.state_dict(), os.path.join(out, f'{mode}-optim.pth'))


def resume(out, mode, step, tag=''):
    torch.set_num_threads(1)
    model, optimizer, schedule = setup(out, mode)
    model.load_state_dict(torch.load(os.path.join(out, f'{mode}-final.pth')))
    optimizer.load_state_dict(torch.load(os.path.join(out, f'js-{mode}-optim.pth')))
    x, y = batches(out, mode)
    train(model, optimizer, schedule, mode, x, y, [step])
    torch.save(model.state_dict(), os.path.join(out, f'{mode}-resumed{tag}.pth'))


if __name__ == '__main__':
    if sys.argv[1] == 'run':
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == 'resume':
        resume(sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')

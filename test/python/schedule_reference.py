"""PyTorch's learning rates for the schedules finetorch mirrors: prints JSON {name: [lr per step]}
for 12 scheduler steps of an SGD with two groups (lr 0.01 and 0.1); for the one-cycle schedules,
which also set momentum, [lr of each group, then momentum of each group] per step."""
import json

import torch


def lrs(make, momentum=False):
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD([{'params': [params[0]]}, {'params': [params[1]], 'lr': 0.1}], lr=0.01)
    scheduler = make(opt)
    out = []
    for _ in range(12):
        out.append([g['lr'] for g in opt.param_groups] + ([g['momentum'] for g in opt.param_groups] if momentum else []))
        opt.step()
        scheduler.step()
    return out


S = torch.optim.lr_scheduler
print(json.dumps({
    'step': lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    'cosine': lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    'warmup': lrs(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)),
    'warmup+cosine': lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=4),
                                                      S.CosineAnnealingLR(o, T_max=8)], milestones=[4])),
    # train's --sched, 3 steps an epoch: --warmup-epochs 1 then --sched step --decay-epochs 2 --decay-rate 0.5, or
    # --sched cosine --min-lr 0.001 over --epochs 4.
    'cli step': lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.01, total_iters=3),
                                                 S.StepLR(o, step_size=6, gamma=0.5)], milestones=[3])),
    'cli cosine': lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.01, total_iters=3),
                                                   S.CosineAnnealingLR(o, T_max=9, eta_min=0.001)], milestones=[3])),
    # max_lr per group: the groups' own lrs, as finetorch takes them.
    'onecycle': lrs(lambda o: S.OneCycleLR(o, max_lr=[0.01, 0.1], total_steps=12), momentum=True),
    'onecycle linear, three phases': lrs(lambda o: S.OneCycleLR(
        o, max_lr=[0.01, 0.1], total_steps=12, pct_start=0.25, anneal_strategy='linear', div_factor=10.0, final_div_factor=100.0,
        three_phase=True, base_momentum=0.8, max_momentum=0.9), momentum=True),
    'onecycle without momentum': lrs(lambda o: S.OneCycleLR(o, max_lr=[0.01, 0.1], total_steps=12, cycle_momentum=False), momentum=True),
    # train --sched onecycle --epochs 4 --pct-start 0.25, 3 steps an epoch.
    'cli onecycle': lrs(lambda o: S.OneCycleLR(o, max_lr=[0.01, 0.1], total_steps=12, pct_start=0.25), momentum=True),
}))

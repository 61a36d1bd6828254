"""PyTorch side of the data-parallel parity test: DistributedDataParallel on gloo.

make DIR WORLD  torchvision resnet18 with 5 classes, BatchNorm statistics calibrated on random
                images, once per rank: init-rank{r}.pth (seed r: DDP must replace ranks 1..'s
                weights with rank 0's); each rank's batches for STEPS steps of BATCH 32 px images
                (input-rank{r}.f32, target-rank{r}.i32).
run DIR BNS     one rank of a DDP job (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from the
                environment), once per BatchNorm mode in BNS ('train,eval'): rank r starts from
                init-rank{r}.pth and trains STEPS steps with the d2l chapter's two-group SGD at a tenth
                of its lr (0.001, fc 0.01; weight decay 1e-3, momentum 0: the chapter's lr diverges
                on these random images). 'eval' freezes BatchNorm (requires_grad False, eval
                mode), as finetorch runs BatchNorm whose parameters are frozen. Writes
                torch-BN-rank{r}.pth (state dict) and torch-BN-rank{r}.json ({losses, buckets}:
                parameter indices per bucket as DDP rebuilt them).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision

STEPS, BATCH, SIZE, CLASSES = 5, 4, 32, 5


def model(seed):
    torch.manual_seed(seed)
    m = torchvision.models.resnet18(num_classes=CLASSES)
    for mod in m.modules():  # cumulative averages over one batch: statistics that are not 0/1
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = None
    m.train()
    with torch.no_grad():
        m(torch.randn(16, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(100 + seed)))
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = 0.1
    return m


def make(out, world):
    for rank in range(world):
        torch.save(model(rank).state_dict(), os.path.join(out, f'init-rank{rank}.pth'))
        g = torch.Generator().manual_seed(1000 + rank)
        torch.randn(STEPS, BATCH, 3, SIZE, SIZE, generator=g).numpy().tofile(os.path.join(out, f'input-rank{rank}.f32'))
        torch.randint(0, CLASSES, (STEPS, BATCH), generator=g, dtype=torch.int32).numpy().tofile(
            os.path.join(out, f'target-rank{rank}.i32'))


def train(out, rank, bn):
    m = torchvision.models.resnet18(num_classes=CLASSES)
    m.load_state_dict(torch.load(os.path.join(out, f'init-rank{rank}.pth')))
    batchnorms = [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]
    if bn == 'eval':
        for mod in batchnorms:
            mod.weight.requires_grad_(False)
            mod.bias.requires_grad_(False)
    net = torch.nn.parallel.DistributedDataParallel(m)
    lr = 0.001
    fc = list(m.fc.parameters())
    rest = [p for name, p in m.named_parameters() if not name.startswith('fc.')]
    opt = torch.optim.SGD([{'params': rest}, {'params': fc, 'lr': lr * 10}], lr=lr, weight_decay=1e-3)
    x = torch.from_numpy(np.fromfile(os.path.join(out, f'input-rank{rank}.f32'), dtype='float32'))
    x = x.view(STEPS, BATCH, 3, SIZE, SIZE)
    y = torch.from_numpy(np.fromfile(os.path.join(out, f'target-rank{rank}.i32'), dtype='int32'))
    y = y.view(STEPS, BATCH).long()
    losses = []
    for step in range(STEPS):
        m.train()
        if bn == 'eval':
            for mod in batchnorms:
                mod.eval()
        opt.zero_grad()
        loss = F.cross_entropy(net(x[step]), y[step])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    logged = net._get_ddp_logging_data().get('rebuilt_per_bucket_param_indices')
    buckets = [[int(i) for i in b.split()] for b in logged.split(',')] if logged else None
    torch.save(m.state_dict(), os.path.join(out, f'torch-{bn}-rank{rank}.pth'))
    with open(os.path.join(out, f'torch-{bn}-rank{rank}.json'), 'w') as f:
        json.dump({'losses': losses, 'buckets': buckets}, f)


def run(out, modes):
    torch.set_num_threads(1)
    dist.init_process_group('gloo')
    for bn in modes:
        train(out, dist.get_rank(), bn)
    dist.destroy_process_group()


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == 'run':
        run(sys.argv[2], sys.argv[3].split(','))
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')

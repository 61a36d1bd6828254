"""PyTorch side of the data-parallel benchmark (scripts/bench-dist.ts), one rank of a gloo job
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from the environment). Prints JSON on rank 0.

allreduce REPS              one SUM all-reduce of ResNet-18's 11,689,512 gradient floats:
                            {"bestMs", "medianMs"} over REPS after one warm-up.
step SIZE BATCH STEPS       ResNet-18 training steps (SIZE px, BATCH images per rank, the d2l chapter's SGD)
                            with DistributedDataParallel and, on the same ranks at the same time,
                            without it: {"ddpMs", "localMs"} median per step after 2 warm-up steps.
"""
import json
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision

RESNET18_FLOATS = 11_689_512


def allreduce(reps):
    t = torch.ones(RESNET18_FLOATS)
    times = []
    for i in range(reps + 1):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(t)
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return {'bestMs': min(times), 'medianMs': statistics.median(times)}


def step_times(size, batch, steps, ddp):
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=10)
    net = torch.nn.parallel.DistributedDataParallel(m) if ddp else m
    fc = list(m.fc.parameters())
    rest = [p for name, p in m.named_parameters() if not name.startswith('fc.')]
    opt = torch.optim.SGD([{'params': rest}, {'params': fc, 'lr': 0.1}], lr=0.01, weight_decay=1e-3)
    x = torch.randn(batch, 3, size, size)
    y = torch.arange(batch) % 10
    times = []
    for i in range(steps + 2):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


if __name__ == '__main__':
    torch.set_num_threads(1)
    dist.init_process_group('gloo')
    if sys.argv[1] == 'allreduce':
        result = allreduce(int(sys.argv[2]))
    elif sys.argv[1] == 'step':
        size, batch, steps = map(int, sys.argv[2:5])
        result = {'ddpMs': step_times(size, batch, steps, True), 'localMs': step_times(size, batch, steps, False)}
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')
    if dist.get_rank() == 0:
        print(json.dumps(result))
    dist.destroy_process_group()

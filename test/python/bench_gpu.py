"""PyTorch side of the GPU training benchmark; prints one JSON line.

DEVICE SIZE BATCH WARMUP STEPS AMP CHANNELS_LAST
    resnet18 (1000 classes) trained with the chapter's two-group SGD on one batch kept in pinned
    host memory and copied to the device every step (as a pin_memory DataLoader would), cuDNN
    benchmark on, TF32 off; AMP fp16 uses torch.autocast + GradScaler. loss.item() every step,
    as finetorch's trainStep returns the loss.
"""
import json
import sys
import time

import torch
import torchvision

from bench_train import chapter_sgd


def main(device, size, batch, warmup, steps, amp, channels_last):
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = torchvision.models.resnet18().to(device).to(memory_format=fmt)
    model.train()
    optimizer = chapter_sgd(model)
    fp16 = amp == 'fp16'
    scaler = torch.cuda.amp.GradScaler(enabled=fp16)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 1000, (batch,))
    if device == 'cuda':
        x, y = x.pin_memory(), y.pin_memory()
    start = None
    for i in range(warmup + steps):
        if i == warmup:
            if device == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
        xb = x.to(device, non_blocking=True).contiguous(memory_format=fmt)
        yb = y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type='cuda', dtype=torch.float16, enabled=fp16):
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss.item()
    seconds = time.perf_counter() - start
    print(json.dumps({'torch': torch.__version__, 'imagesPerSec': steps * batch / seconds}))


if __name__ == '__main__':
    a = sys.argv[1:]
    main(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), a[5], a[6] == '1')

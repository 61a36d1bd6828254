"""PyTorch side of the architecture-family parity tests.

make DIR ARCH SEED   torch.manual_seed(SEED); torchvision.models.ARCH(num_classes=5): writes
                     ARCH-init.json (every state_dict entry's float64 sum, before anything else
                     touches it) and ARCH.repr (print(model)); then sets every BatchNorm's weight,
                     bias and running statistics by the formula of test/parity/family.test.ts and
                     writes ARCH-eval.f32 / ARCH-train.f32, the logits of input.f32 (made once by
                     `input DIR`) in eval and in train mode.
input DIR            a [2, 3, 64, 64] input batch (input.f32).
sgd DIR ARCH STEPS   STEPS steps of the chapter's two-group SGD (lr 0.01, fc x10, weight decay 1e-3,
                     momentum 0.9) on ARCH-start.pth with the batches of batches.f32 / labels.i32
                     (both made by `batches DIR`): ARCH-sgd-losses.json, ARCH-sgd-final.pth.
batches DIR          3 batches of 4 images at 32 px and their labels.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

CLASSES = 5


def set_batchnorm(model):
    """The formula the JS side applies too: values exact in float32, different per channel and layer."""
    with torch.no_grad():
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for k, bn in enumerate(bns):
            i = torch.arange(bn.num_features, dtype=torch.int64)
            bn.weight.copy_(0.5 + ((i * 7 + k) % 16).float() / 16)
            bn.bias.copy_(((i * 5 + k) % 16).float() / 64 - 0.125)
            bn.running_mean.copy_(((i * 3 + 2 * k) % 16).float() / 64 - 0.125)
            bn.running_var.copy_(0.5 + ((i * 11 + k) % 16).float() / 16)
            bn.num_batches_tracked.fill_(7)


def make(out, arch, seed):
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(num_classes=CLASSES)
    sums = {k: float(v.double().sum()) for k, v in model.state_dict().items()}
    with open(os.path.join(out, f'{arch}-init.json'), 'w') as f:
        json.dump(sums, f)
    with open(os.path.join(out, f'{arch}.repr'), 'w') as f:
        f.write(repr(model))
    set_batchnorm(model)
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'input.f32'), dtype=np.float32)).view(2, 3, 64, 64)
    with torch.no_grad():
        model.eval()
        model(x).numpy().tofile(os.path.join(out, f'{arch}-eval.f32'))
        model.train()
        model(x).numpy().tofile(os.path.join(out, f'{arch}-train.f32'))


def sgd(out, arch, steps):
    torch.set_num_threads(1)
    model = getattr(torchvision.models, arch)(num_classes=CLASSES)
    model.load_state_dict(torch.load(os.path.join(out, f'{arch}-start.pth')))
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'batches.f32'), dtype=np.float32)).view(3, 4, 3, 32, 32)
    y = torch.from_numpy(np.fromfile(os.path.join(out, 'labels.i32'), dtype=np.int32)).view(3, 4).long()
    lr = 0.01
    fc = list(map(id, model.fc.parameters()))
    optimizer = torch.optim.SGD([{'params': [p for p in model.parameters() if id(p) not in fc]},
                                 {'params': model.fc.parameters(), 'lr': lr * 10}],
                                lr=lr, weight_decay=0.001, momentum=0.9)
    losses = []
    model.train()
    for i in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[i % 3]), y[i % 3])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with open(os.path.join(out, f'{arch}-sgd-losses.json'), 'w') as f:
        json.dump(losses, f)
    torch.save(model.state_dict(), os.path.join(out, f'{arch}-sgd-final.pth'))


if __name__ == '__main__':
    command, out = sys.argv[1], sys.argv[2]
    if command == 'input':
        torch.manual_seed(1)
        torch.randn(2, 3, 64, 64).numpy().tofile(os.path.join(out, 'input.f32'))
    elif command == 'batches':
        torch.manual_seed(2)
        torch.randn(3, 4, 3, 32, 32).numpy().tofile(os.path.join(out, 'batches.f32'))
        torch.randint(0, CLASSES, (3, 4), dtype=torch.int32).numpy().tofile(os.path.join(out, 'labels.i32'))
    elif command == 'make':
        make(out, sys.argv[3], int(sys.argv[4]))
    elif command == 'sgd':
        sgd(out, sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(f'unknown command {command}')

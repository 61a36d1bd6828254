"""PyTorch side of the training parity tests.

make DIR            a torchvision resnet18 with fc replaced by Linear(512, 5) (start.pth), and 10
                    fixed batches of 8 images (32 px) with labels (input.f32, target.i32).
run DIR MODE STEPS [DEVICE]
                    the chapter's SGD (two groups: lr 0.01, fc 0.1; momentum 0.9, weight decay
                    1e-3) for STEPS steps; MODE is finetune, nesterov, probe (backbone frozen with
                    requires_grad=False, model.eval()) or bf16 (finetune with the forward pass and
                    the loss under torch.autocast(DEVICE, torch.bfloat16)). Writes
                    MODE-DEVICE-losses.json and MODE-DEVICE-final.pth.
                    On DEVICE cuda, TF32 is off so that fp32 means fp32.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

BATCHES, BATCH, SIZE, CLASSES = 10, 8, 32, 5


def make(out):
    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(512, CLASSES)
    torch.save(model.state_dict(), os.path.join(out, 'start.pth'))
    torch.randn(BATCHES, BATCH, 3, SIZE, SIZE).numpy().tofile(os.path.join(out, 'input.f32'))
    torch.randint(0, CLASSES, (BATCHES, BATCH), dtype=torch.int32).numpy().tofile(os.path.join(out, 'target.i32'))


def run(out, mode, steps, device='cpu'):
    torch.set_num_threads(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(512, CLASSES)
    model.load_state_dict(torch.load(os.path.join(out, 'start.pth')))
    model.to(device)
    x = torch.from_numpy(np.fromfile(os.path.join(out, 'input.f32'), dtype=np.float32)).view(BATCHES, BATCH, 3, SIZE, SIZE).to(device)
    y = torch.from_numpy(np.fromfile(os.path.join(out, 'target.i32'), dtype=np.int32)).view(BATCHES, BATCH).long().to(device)
    lr = 0.01
    output_params = list(map(id, model.fc.parameters()))
    feature_params = filter(lambda p: id(p) not in output_params, model.parameters())
    optimizer = torch.optim.SGD([{'params': feature_params}, {'params': model.fc.parameters(), 'lr': lr * 10}],
                                lr=lr, weight_decay=0.001, momentum=0.9, nesterov=(mode == 'nesterov'))
    if mode == 'probe':
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith('fc.')
    losses = []
    for i in range(steps):
        model.eval() if mode == 'probe' else model.train()
        optimizer.zero_grad()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=(mode == 'bf16')):
            loss = torch.nn.functional.cross_entropy(model(x[i % BATCHES]), y[i % BATCHES])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with open(os.path.join(out, f'{mode}-{device}-losses.json'), 'w') as f:
        json.dump(losses, f)
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, os.path.join(out, f'{mode}-{device}-final.pth'))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2])
    elif sys.argv[1] == 'run':
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')

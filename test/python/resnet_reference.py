"""PyTorch side of the model parity tests.

make OUT NUM_CLASSES   seeded torchvision resnet18 with non-trivial BatchNorm statistics: weights in
                       both torch.save formats, an input batch and its eval/train-mode logits.
logits WEIGHTS INPUT OUT   eval-mode logits of torchvision's resnet18 loaded with weights_only=True.
resnet50 OUT           a resnet50 state dict (wrong architecture for the negative tests).
"""
import os
import sys

import torch
import torchvision


def make(out, num_classes):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=num_classes)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
                module.num_batches_tracked.fill_(7)
    torch.save(model.state_dict(), os.path.join(out, 'zip.pth'))
    torch.save(model.state_dict(), os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)
    x = torch.randn(4, 3, 64, 64)
    x.numpy().tofile(os.path.join(out, 'input.f32'))
    model.eval()
    with torch.no_grad():
        model(x).numpy().tofile(os.path.join(out, 'eval.f32'))
        model.train()
        model(x).numpy().tofile(os.path.join(out, 'train.f32'))


def logits(weights, input_file, out):
    torch.set_num_threads(1)
    state = torch.load(weights, weights_only=True)
    model = torchvision.models.resnet18(num_classes=state['fc.weight'].shape[0])
    model.load_state_dict(state)
    model.eval()
    x = torch.from_numpy(__import__('numpy').fromfile(input_file, dtype='float32')).view(-1, 3, 64, 64)
    with torch.no_grad():
        model(x).numpy().tofile(out)


if __name__ == '__main__':
    command = sys.argv[1]
    if command == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    elif command == 'logits':
        logits(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == 'resnet50':
        torch.save(torchvision.models.resnet50().state_dict(), sys.argv[2])
    else:
        raise SystemExit(f'unknown command {command}')

"""PyTorch side of the training benchmarks; prints one JSON line.

e2e ROOT SIZE BATCH EPOCHS IMAGES THREADS
    torchvision ImageFolder (first IMAGES files) + DataLoader(num_workers=2) + resnet18 with a
    10-class fc + the chapter's two-group SGD (momentum 0.9, weight decay 1e-3), EPOCHS epochs of
    RandomResizedCrop(SIZE) + flip + normalize; then the same number of steps on tensors made in
    advance (compute only).
threads
    torch's default number of compute threads.
probe SIZE BATCH BATCHES EPOCHS THREADS
    the plain linear probe: frozen backbone (requires_grad=False, eval mode), fc trained by SGD,
    every epoch running the whole network on in-memory batches.
"""
import json
import sys
import time

import torch
import torchvision
import torchvision.transforms as T


def chapter_sgd(model, lr=0.01):
    fc = list(map(id, model.fc.parameters()))
    features = [p for p in model.parameters() if id(p) not in fc]
    return torch.optim.SGD([{'params': features}, {'params': model.fc.parameters(), 'lr': lr * 10}],
                           lr=lr, momentum=0.9, weight_decay=0.001)


def step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()


def e2e(root, size, batch, epochs, images, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tf = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = torchvision.datasets.ImageFolder(root, tf)
    data = torch.utils.data.Subset(data, list(range(min(images, len(data)))))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=2)
    model = torchvision.models.resnet18(num_classes=10)
    model.train()
    optimizer = chapter_sgd(model)
    seen, steps = 0, 0
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            step(model, optimizer, x, y)
            seen += len(y)
            steps += 1
    loader_seconds = time.perf_counter() - start
    xs = [torch.randn(batch, 3, size, size) for _ in range(3)]
    ys = [torch.randint(0, 10, (batch,)) for _ in range(3)]
    start = time.perf_counter()
    for i in range(steps):
        step(model, optimizer, xs[i % 3], ys[i % 3])
    compute_seconds = time.perf_counter() - start
    return {'threads': torch.get_num_threads(), 'images': seen, 'steps': steps,
            'imagesPerSec': seen / loader_seconds, 'computeImagesPerSec': seen / compute_seconds}


def probe(size, batch, batches, epochs, threads):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith('fc.')
    model.eval()
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9, weight_decay=0.001)
    xs = [torch.randn(batch, 3, size, size) for _ in range(batches)]
    ys = [torch.randint(0, 10, (batch,)) for _ in range(batches)]
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in zip(xs, ys):
            step(model, optimizer, x, y)
    return {'threads': torch.get_num_threads(), 'seconds': time.perf_counter() - start}


if __name__ == '__main__':
    args = sys.argv[2:]
    if sys.argv[1] == 'e2e':
        print(json.dumps(e2e(args[0], *map(int, args[1:]))))
    elif sys.argv[1] == 'threads':
        print(json.dumps({'threads': torch.get_num_threads()}))
    elif sys.argv[1] == 'probe':
        print(json.dumps(probe(*map(int, args))))
    else:
        raise SystemExit(f'unknown command {sys.argv[1]}')

"""PyTorch side of the ViT benchmarks (scripts/bench-vit.ts); prints one JSON line.

The model is timm's vit_small_patch16_224 with a 10-class head, loading FILE (the state dict
finetorch saved, timm's keys, strict). A Python without timm (Debian's torch 1.13) runs the
timm-free transcription of the same network in mae_reference.py instead (the blocks as timm's
Block, attention without torch 2's fused kernel, as timm itself runs on torch 1.x); the output's
"model" says which ran.

train FILE BATCH STEPS THREADS
    model.train(), torch.optim.AdamW (lr 1e-4, weight decay 0.05); one warm-up step, then STEPS
    timed steps (forward, cross-entropy, backward, step) on two fixed [BATCH, 3, 224, 224] batches.
probe FILE BATCH BATCHES EPOCHS THREADS
    the frozen loop: backbone in eval mode under no_grad every epoch (class-token features after
    the final norm), the head trained by SGD (lr 0.1, momentum 0.9), BATCHES batches per epoch.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

SIZE = 224


def load(file):
    """(model, name): timm's ViT-S/16 where timm imports, else the transcription; FILE's weights."""
    try:
        import timm
        model = timm.create_model('vit_small_patch16_224', pretrained=False, num_classes=10)
        name = f'timm {timm.__version__} vit_small_patch16_224'
    except ImportError:
        from mae_reference import Encoder
        model = Encoder(img_size=SIZE, patch_size=16, embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0)
        model.forward_features = model.features
        model.forward = lambda x: model.head(model.features(x))
        name = 'transcription of timm\'s ViT-S/16 (no timm in this Python)'
    model.load_state_dict(torch.load(file), strict=True)
    return model, name


def pooled(model, x):
    """The class token after the final norm: what the linear head sees."""
    if hasattr(model, 'forward_head'):
        return model.forward_head(model.forward_features(x), pre_logits=True)
    return model.forward_features(x)


def batches(count, batch):
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, 3, SIZE, SIZE, generator=generator), torch.randint(0, 10, (batch,), generator=generator))
            for _ in range(count)]


def train(file, batch, steps, threads):
    model, name = load(file)
    torch.set_num_threads(threads)  # after load: importing mae_reference pins one thread
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    data = batches(2, batch)

    def step(i):
        x, y = data[i % 2]
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    step(0)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    seconds = time.perf_counter() - start
    return {'model': name, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'secondsPerStep': seconds / steps}


def probe(file, batch, count, epochs, threads):
    model, name = load(file)
    torch.set_num_threads(threads)  # after load, as in train
    for p in model.parameters():
        p.requires_grad = False
    model.eval()
    head = model.head
    for p in head.parameters():
        p.requires_grad = True
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    data = batches(count, batch)
    start = time.perf_counter()
    for _ in range(epochs):
        for x, y in data:
            with torch.no_grad():
                features = pooled(model, x)
            optimizer.zero_grad()
            F.cross_entropy(head(features), y).backward()
            optimizer.step()
    return {'model': name, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'seconds': time.perf_counter() - start}


if __name__ == '__main__':
    command, file, *numbers = sys.argv[1:]
    if command == 'train':
        print(json.dumps(train(file, *map(int, numbers))))
    elif command == 'probe':
        print(json.dumps(probe(file, *map(int, numbers))))
    else:
        raise SystemExit(f'unknown command {command}')

"""PyTorch side of the MAE pretraining benchmark (scripts/bench-mae.ts); prints one JSON line.

mae FILE CONFIG BATCH STEPS THREADS RATIO
    models_mae.py's MaskedAutoencoderViT of CONFIG (JSON of its arguments) loading FILE (the state
    dict finetorch saved, MAE's keys, strict), in train mode; AdamW (betas 0.9/0.95, weight decay
    0.05, as main_pretrain.py); one warm-up step, then STEPS timed steps (masking at RATIO with fresh
    uniform noise, forward, loss, backward, step) on two fixed [BATCH, 3, H, W] batches.
vit CONFIG BATCH STEPS THREADS
    the same encoder as a classifier (10 classes, class token) on every patch: the unmasked step.

The blocks are timm's Block, as models_mae.py imports them, where timm imports; a Python without
timm (Debian's torch 1.13) runs the transcription's blocks (mae_reference.py), and "model" says
which ran.
"""
import functools
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import mae_reference

try:
    import timm
    from timm.models.vision_transformer import Block as TimmBlock
    mae_reference.Block = lambda dim, heads, ratio: TimmBlock(
        dim, heads, ratio, qkv_bias=True, norm_layer=functools.partial(nn.LayerNorm, eps=1e-6))
    BLOCKS = f'timm {timm.__version__} Block'
except ImportError:
    BLOCKS = 'the transcription\'s Block (no timm in this Python)'


def batches(config, batch):
    generator = torch.Generator().manual_seed(0)
    size = config['img_size']
    return [(torch.randn(batch, 3, size, size, generator=generator), torch.randint(0, 10, (batch,), generator=generator))
            for _ in range(2)]


def timed(step, steps):
    step(0)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return (time.perf_counter() - start) / steps


def mae(file, config, batch, steps, threads, ratio):
    torch.set_num_threads(threads)
    model = mae_reference.MaskedAutoencoderViT(**config)
    model.load_state_dict(torch.load(file), strict=True)
    model.train()
    optimizer = torch.optim.AdamW(mae_reference.add_weight_decay(model, 0.05), lr=1e-4, betas=(0.9, 0.95))
    data = batches(config, batch)

    def step(i):
        images = data[i % 2][0]
        noise = torch.rand(images.shape[0], model.grid ** 2)
        optimizer.zero_grad()
        model(images, noise, ratio)[0].backward()
        optimizer.step()

    return {'model': f'models_mae.py with {BLOCKS}', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'secondsPerStep': timed(step, steps)}


def vit(config, batch, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    args = {k: config[k] for k in ('img_size', 'patch_size', 'embed_dim', 'depth', 'num_heads', 'mlp_ratio')}
    model = mae_reference.Encoder(**args)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    data = batches(config, batch)

    def step(i):
        x, y = data[i % 2]
        optimizer.zero_grad()
        F.cross_entropy(model.head(model.features(x)), y).backward()
        optimizer.step()

    return {'model': f'the encoder as a classifier with {BLOCKS}', 'torch': torch.__version__,
            'threads': torch.get_num_threads(), 'secondsPerStep': timed(step, steps)}


if __name__ == '__main__':
    command, *rest = sys.argv[1:]
    if command == 'mae':
        file, config, batch, steps, threads, ratio = rest
        print(json.dumps(mae(file, json.loads(config), int(batch), int(steps), int(threads), float(ratio))))
    elif command == 'vit':
        config, batch, steps, threads = rest
        print(json.dumps(vit(json.loads(config), int(batch), int(steps), int(threads))))
    else:
        raise SystemExit(f'unknown command {command}')

"""Python's side of the Hugging Face Hub parity tests (huggingface_hub 1.33, timm 1.0.29: the
ecosystem Python). Settings huggingface_hub reads at import (HF_ENDPOINT, HF_HUB_OFFLINE) are set
from the arguments first.

repo DIR NAME CLASSES       timm.create_model(NAME, num_classes=CLASSES) (seed 3, BatchNorm statistics
                            set), saved by timm's save_for_hf as a Hub repo would hold it (config.json,
                            model.safetensors); input.f32 (a [2, 3, 64, 64] batch) and logits.f32.
vit-repo DIR                timm's vit_tiny_patch16_224 made tiny by model_args (patch 8, width 48, depth 2, 3
                            heads; 5 classes with label names; seed 3, biases, LayerNorms and the class
                            token drawn off their zeros and ones), input_size [3, 32, 32]: saved by
                            save_for_hf with its model_args; input.f32 (a [2, 3, 32, 32] batch) and logits.f32.
download ENDPOINT CACHE REPO FILE...
                            hf_hub_download of each FILE from the Hub at ENDPOINT into CACHE; prints
                            JSON {FILE: path}.
offline CACHE REPO FILE REVISION
                            HF_HUB_OFFLINE=1: prints JSON {download: hf_hub_download(...),
                            cached: try_to_load_from_cache(...)} (null when not cached).
timm CACHE ID INPUT OUT [SIZE]
                            HF_HUB_OFFLINE=1: timm.create_model(ID, pretrained=True) from CACHE; writes
                            the eval logits of INPUT ([N, 3, SIZE, SIZE], SIZE 64 by default) to OUT and
                            prints JSON: resolve_data_config and the eval transform's resize and crop sizes.
vit-archs                   for each of timm's vit_<tiny|small|base|large|huge>_patch<P>[_<size>] (built on
                            the meta device): the VisionTransformer arguments it was built with, whether
                            it is plain (no register tokens, LayerScale, qk norm, pre-norm, dynamic
                            size; exact GELU, LayerNorm eps 1e-6, patch bias), its pretrained tags and
                            whether each is hosted as timm/<name>. Prints JSON.
archs                       for each architecture finetorch builds: whether timm's model has
                            torchvision's state_dict keys and shapes and, given the same weights, its
                            logits (max abs difference); and timm's pretrained tags. Prints JSON.
"""
import json
import os
import sys

ARCHS = ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d', 'resnext101_32x8d',
         'resnext101_64x4d', 'wide_resnet50_2', 'wide_resnet101_2']


def repo(out, name, classes):
    import numpy as np
    import torch
    import timm
    from timm.models import save_for_hf
    torch.set_num_threads(1)
    torch.manual_seed(3)
    model = timm.create_model(name, num_classes=int(classes)).eval()
    with torch.no_grad():
        for k, bn in enumerate(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.normal_(0, 0.1, generator=torch.Generator().manual_seed(k))
            bn.running_var.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(1000 + k))
    save_for_hf(model, out, safe_serialization=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    x.numpy().tofile(os.path.join(out, 'input.f32'))
    with torch.no_grad():
        model(x).numpy().tofile(os.path.join(out, 'logits.f32'))


VIT_ARGS = dict(patch_size=8, embed_dim=48, depth=2, num_heads=3)


def vit_repo(out):
    import torch
    import timm
    from timm.models import save_for_hf
    torch.set_num_threads(1)
    torch.manual_seed(3)
    model = timm.create_model('vit_tiny_patch16_224', img_size=32, num_classes=5, **VIT_ARGS).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias'):
                p.uniform_(-0.2, 0.2)
            elif 'norm' in name:
                p.uniform_(0.5, 1.5)
            elif name == 'cls_token':
                p.normal_(0, 1)
    model.pretrained_cfg['input_size'] = (3, 32, 32)
    save_for_hf(model, out, safe_serialization=True, model_args=VIT_ARGS, model_config={'label_names': ['ant', 'bee', 'cat', 'dog', 'eel']})
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    x.numpy().tofile(os.path.join(out, 'input.f32'))
    with torch.no_grad():
        model(x).numpy().tofile(os.path.join(out, 'logits.f32'))


def download(endpoint, cache, repo_id, *files):
    os.environ['HF_ENDPOINT'] = endpoint
    from huggingface_hub import hf_hub_download
    print(json.dumps({f: hf_hub_download(repo_id, f, cache_dir=cache) for f in files}))


def offline(cache, repo_id, filename, revision):
    os.environ['HF_HUB_OFFLINE'] = '1'
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    cached = try_to_load_from_cache(repo_id, filename, cache_dir=cache, revision=revision)
    print(json.dumps({
        'download': hf_hub_download(repo_id, filename, cache_dir=cache, revision=revision),
        'cached': cached if isinstance(cached, str) else None,
    }))


def run_timm(cache, model_id, input_path, out, size='64'):
    os.environ['HF_HUB_OFFLINE'] = '1'
    os.environ['HF_HUB_CACHE'] = cache
    import numpy as np
    import torch
    import timm
    from timm.data import create_transform, resolve_data_config
    from torchvision import transforms
    torch.set_num_threads(1)
    model = timm.create_model(model_id, pretrained=True).eval()
    x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32)).view(-1, 3, int(size), int(size))
    with torch.no_grad():
        model(x).numpy().tofile(out)
    config = resolve_data_config(model=model)
    steps = create_transform(**config).transforms
    resize = next(t for t in steps if isinstance(t, transforms.Resize))
    crop = next(t for t in steps if isinstance(t, transforms.CenterCrop))
    print(json.dumps({
        'config': {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        'resize': resize.size, 'interpolation': resize.interpolation.value, 'crop': list(crop.size),
    }))


def vit_archs():
    import re
    import torch
    import timm
    from timm.models import get_pretrained_cfg
    result = {}
    for name in timm.list_models('vit_*'):
        if not re.fullmatch(r'vit_(tiny|small|base|large|huge)_patch\d+(_\d+)?', name):
            continue
        with torch.device('meta'):
            m = timm.create_model(name)
        block = m.blocks[0]
        names = timm.list_pretrained(f'{name}.*')
        result[name] = {
            'imgSize': list(m.patch_embed.img_size), 'patchSize': list(m.patch_embed.patch_size), 'embedDim': m.embed_dim,
            'depth': len(m.blocks), 'numHeads': block.attn.num_heads, 'mlpHidden': block.mlp.fc1.out_features,
            'qkvBias': block.attn.qkv.bias is not None, 'classToken': m.cls_token is not None, 'globalPool': m.global_pool,
            'fcNorm': not isinstance(m.fc_norm, torch.nn.Identity),
            'plain': (m.num_reg_tokens == 0 and not m.no_embed_class and not m.dynamic_img_size
                      and all(isinstance(x, torch.nn.Identity) for x in (m.norm_pre, block.ls1, block.ls2, block.attn.q_norm, block.attn.k_norm))
                      and isinstance(block.mlp.act, torch.nn.GELU) and block.mlp.act.approximate == 'none'
                      and block.norm1.eps == 1e-6 and m.patch_embed.proj.bias is not None),
            'tags': [n.split('.', 1)[1] for n in names],
            'hosted': all(get_pretrained_cfg(n).hf_hub_id == f'timm/{n}' for n in names),
        }
    print(json.dumps(result))


def archs():
    import torch
    import timm
    import torchvision
    from timm.models import get_pretrained_cfg
    torch.set_num_threads(1)
    result = {}
    for arch in ARCHS:
        torch.manual_seed(0)
        ours = timm.create_model(arch).eval()
        theirs = getattr(torchvision.models, arch)().eval()
        a, b = ours.state_dict(), theirs.state_dict()
        same_layout = list(a) == list(b) and all(a[k].shape == b[k].shape for k in a)
        theirs.load_state_dict(a, strict=True)
        x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            diff = float((ours(x) - theirs(x)).abs().max())
        names = timm.list_pretrained(f'{arch}.*')
        result[arch] = {
            'same_layout': same_layout, 'max_abs_diff': diff,
            'tags': [n.split('.', 1)[1] for n in names],
            'hosted': all(get_pretrained_cfg(n).hf_hub_id == f'timm/{n}' for n in names),
        }
        del ours, theirs
    print(json.dumps(result))


if __name__ == '__main__':
    command, args = sys.argv[1], sys.argv[2:]
    {'repo': repo, 'vit-repo': vit_repo, 'vit-archs': vit_archs, 'download': download, 'offline': offline, 'timm': run_timm, 'archs': archs}[command](*args)

#!/usr/bin/env python3
"""The masking-ratio sweep's protocol in PyTorch: MAE pretrained as main_pretrain.py does
(test/python/mae_reference.py's transcription of models_mae.py, its add_weight_decay groups and
util/lr_sched.py's schedule, torchvision's augmentation), then timm's VisionTransformer holding the
encoder probed and fine-tuned as scripts/demo_vit_pytorch.py does, for the ratios, seeds, images
and hyper-parameters that scripts/mae-sweep.ts wrote to protocol.json.

    python scripts/mae_sweep_pytorch.py mae-sweep-out/protocol.json mae-sweep-out/results-pytorch.json

(`node dist/scripts/mae-sweep.js --pytorch 0.75` runs this after the finetorch side, with a Python
that has timm, and prints both tables.) Writes the finetorch side's results shape.
"""
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "python"))
from demo_pytorch import Data  # noqa: E402
from demo_vit_pytorch import target_run, vit  # noqa: E402
from mae_reference import MaskedAutoencoderViT, add_weight_decay, adjust_learning_rate  # noqa: E402


def mae_config(m):
    return {"img_size": m["imgSize"], "patch_size": m["patchSize"], "embed_dim": m["embedDim"], "depth": m["depth"],
            "num_heads": m["numHeads"], "mlp_ratio": m["mlpRatio"], "decoder_embed_dim": m["decoderEmbedDim"],
            "decoder_depth": m["decoderDepth"], "decoder_num_heads": m["decoderNumHeads"], "norm_pix_loss": m["normPixLoss"]}


def augmentation(p):
    """main_pretrain.py's transform_train at the protocol's size, on the grey image, then on all three channels."""
    t = p["pretrain"]
    crop = transforms.Compose([
        transforms.RandomResizedCrop(p["model"]["imgSize"], scale=tuple(t["cropScale"]), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([p["mean"]], [p["std"]])])
    return lambda image: crop(Image.fromarray(image, mode="L")).expand(3, -1, -1)


def pretrain(p, data, ratio, seed):
    """engine_pretrain.py's epochs: a shuffled loader (last partial batch dropped), the lr set before
    every step at the fractional epoch, the loss on the masked patches; the last epoch's mean loss."""
    t = p["pretrain"]
    torch.manual_seed(seed)
    model = MaskedAutoencoderViT(**mae_config(p["model"]))
    optimizer = torch.optim.AdamW(add_weight_decay(model, t["weightDecay"]), lr=t["lr"], betas=tuple(t["betas"]))
    schedule = {"lr": t["lr"], "min_lr": t["minLr"], "warmup_epochs": t["warmupEpochs"], "epochs": t["epochs"]}
    images = data.images[True][np.asarray(p["indices"]["source"][seed], dtype=np.int64)]
    augment = augmentation(p)
    steps = len(images) // t["batchSize"]
    model.train(True)
    for epoch in range(t["epochs"]):
        order = torch.randperm(len(images))
        total = 0.0
        for step in range(steps):
            adjust_learning_rate(optimizer, step / steps + epoch, schedule)
            batch = torch.stack([augment(images[i]) for i in order[step * t["batchSize"]:(step + 1) * t["batchSize"]].tolist()])
            loss, _, _, _ = model(batch, torch.rand(batch.shape[0], model.grid ** 2), ratio)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
    return model, total / steps


def encoder_state(p, model, seed):
    """A state_dict of timm's ViT for the target classes holding the pretrained encoder (the head as made)."""
    net = vit(p, len(p["targetClasses"]))
    encoder = {k: v for k, v in model.state_dict().items() if not k.startswith(("decoder", "mask_token"))}
    report = net.load_state_dict(encoder, strict=False)
    assert sorted(report.missing_keys) == ["head.bias", "head.weight"] and not report.unexpected_keys, report
    return net.state_dict()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        p = json.load(f)
    torch.set_num_threads(p["threads"])
    print(f"PyTorch {torch.__version__}: MAE masking-ratio sweep, ratios {p['pytorchRatios']}, "
          f"{p['settings']['seeds']} seeds, {torch.get_num_threads()} threads", flush=True)
    t0 = time.time()
    data = Data(p)
    test = data.take(False, p["targetClasses"], p["indices"]["test"])
    results = []
    for seed in range(p["settings"]["seeds"]):
        for ratio in p["pytorchRatios"]:
            start = time.time()
            model, loss = pretrain(p, data, ratio, seed)
            state = encoder_state(p, model, seed)
            acc = {method: target_run(p, data, method, seed, state, test)["testAcc"] for method in ("linear probe", "fine-tune")}
            results.append({"ratio": ratio, "seed": seed, "pretrainLoss": loss, "probe": acc["linear probe"],
                            "fineTune": acc["fine-tune"], "seconds": time.time() - start})
            outcome = {m: "diverged" if a is None else f"{100 * a:.1f}%" for m, a in acc.items()}
            print(f"ratio {ratio}, seed {seed}: pretraining loss {loss:.4f}, linear probe {outcome['linear probe']}, "
                  f"fine-tune {outcome['fine-tune']} ({results[-1]['seconds']:.0f} s)", flush=True)
    temp = sys.argv[2] + ".tmp"
    with open(temp, "w") as f:
        json.dump({"side": "PyTorch", "results": results}, f, indent=2)
    os.replace(temp, sys.argv[2])
    print(f"PyTorch side: {len(results)} runs in {(time.time() - t0) / 60:.1f} min ({time.process_time() / 60:.1f} min of CPU)")


if __name__ == "__main__":
    main()

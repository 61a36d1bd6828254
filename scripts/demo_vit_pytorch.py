#!/usr/bin/env python3
"""The transformer demo's protocol in PyTorch: timm's VisionTransformer, torch.optim.AdamW for the
source model and the target protocol's optimizer, on the images and with the hyper-parameters that
scripts/demo-vit.ts wrote to protocol.json.

    python scripts/demo_vit_pytorch.py demo-vit-out/protocol.json demo-vit-out/results-pytorch.json

(`npm run demo:vit -- --pytorch` runs this after the finetorch side, with a Python that has timm,
and prints both side by side.) Writes the same results shape as the finetorch side's.

    python scripts/demo_vit_pytorch.py PROTOCOL RESULTS --source .demo/vit-source-KEY.pth

starts the target runs from that source model (finetorch's) instead of training its own.
"""
import sys
import time

import torch

from demo_pytorch import accuracy, finish_run, run_demo, sgd, train_loop, train_source_model

try:
    import timm
    from timm.models.vision_transformer import VisionTransformer
except ImportError:
    sys.exit(f"demo_vit_pytorch.py needs timm; {sys.executable} has none (pip install timm, or run the toolchain's Python: "
             "node scripts/toolchain.js run pytorch-2.14.1 -- node dist/scripts/demo-vit.js --pytorch)")

METHODS = ["linear probe", "fine-tune"]


def vit(p, num_classes):
    m = p["model"]
    return VisionTransformer(img_size=m["imgSize"], patch_size=m["patchSize"], embed_dim=m["embedDim"], depth=m["depth"],
                             num_heads=m["numHeads"], mlp_ratio=m["mlpRatio"], num_classes=num_classes)


def train_source(p, data):
    if p["protocol"] != "d2l":
        sys.exit(f"protocol {p['protocol']!r}: this script runs the d2l protocol only")
    r = p["sourceRecipe"]
    return train_source_model(p, data, "ViT", lambda: vit(p, len(p["sourceClasses"])),
                              lambda net: torch.optim.AdamW(net.parameters(), lr=r["lr"], weight_decay=r["weightDecay"]), r["batchSize"])


def loaded_source(file):
    """train_source's stand-in that takes the source model from FILE (finetorch's, cached in
    .demo/): the target runs then start from the same backbone on both sides."""
    def source(p, data):
        net = vit(p, len(p["sourceClasses"]))
        net.load_state_dict(torch.load(file), strict=True)
        tx, ty = data.take(False, p["sourceClasses"], p["indices"]["sourceTest"])
        acc = accuracy(net, tx, ty)
        print(f"source model: {file}, test accuracy on the {len(ty)} test images of classes 0-4: {acc:.3f}", flush=True)
        return net.state_dict(), acc
    return source


def target_run(p, data, method, seed, source_state, test):
    r, s = p["recipe"], p["settings"]
    x, y = data.take(True, p["targetClasses"], p["indices"]["target"][seed])
    start = time.time()
    torch.manual_seed(seed)
    net = vit(p, len(p["sourceClasses"]))
    net.load_state_dict(source_state)
    net.reset_classifier(len(p["targetClasses"]))
    args = (s["targetEpochs"], r["batchSize"], seed, p["maxLoss"])

    def train():
        if method == "fine-tune":
            # The d2l chapter's two groups: the pretrained layers at lr, the new head at fcLrMult x lr.
            net.train()
            body = [q for name, q in net.named_parameters() if not name.startswith("head.")]
            groups = [{"params": body}, {"params": net.head.parameters(), "lr": r["lr"] * r["fcLrMult"]}]
            return train_loop(net, sgd(groups, r, r["lr"]), x, y, *args)
        # The frozen backbone (eval mode) computes the class-token features once; the head trains
        # on them in the protocol's order, as finetorch's feature cache does.
        net.eval()
        with torch.no_grad():
            features = torch.cat([net.forward_head(net.forward_features(x[i:i + 256]), pre_logits=True) for i in range(0, len(y), 256)])
        return train_loop(net.head, sgd(net.head.parameters(), r, r["lr"] * r["fcLrMult"]), features, y, *args, shuffle=False)

    return finish_run(method, seed, net, train, test, start)


if __name__ == "__main__":
    source = train_source
    if len(sys.argv) == 5 and sys.argv[3] == "--source":
        source = loaded_source(sys.argv.pop(4))
        sys.argv.pop(3)
    run_demo(f"PyTorch {torch.__version__}, timm {timm.__version__}", METHODS, source, target_run)

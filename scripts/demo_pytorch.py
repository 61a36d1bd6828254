#!/usr/bin/env python3
"""The demo's protocol in PyTorch: torchvision's resnet18 and torch.optim.SGD on the images and with
the hyper-parameters that scripts/demo.ts wrote to protocol.json.

    python3 scripts/demo_pytorch.py demo-out/protocol.json demo-out/results-pytorch.json

(`npm run demo -- --pytorch` runs this after the finetorch side and prints both side by side.)
Writes the same results shape as the finetorch side's results.json.
"""
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

METHODS = ["scratch", "linear probe", "fine-tune"]


def read_idx(root, base):
    for folder in (root, os.path.join(root, "FashionMNIST", "raw")):
        for name in (base, base + ".gz"):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                if data[:2] == b"\x1f\x8b":
                    data = gzip.decompress(data)
                ndim = data[3]
                shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
                return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    sys.exit(f"{base}[.gz] not found in {root}")


def read_cifar10(root, train):
    """CIFAR-10's binary batches: records of 1 label byte + 32x32 pixels as R, G and B planes."""
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
    records = []
    for name in names:
        for folder in (root, os.path.join(root, "cifar-10-batches-bin")):
            path = os.path.join(folder, name)
            if os.path.exists(path):
                records.append(np.fromfile(path, dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32))
                break
        else:
            sys.exit(f"{name} not found in {root}")
    records = np.concatenate(records)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0]


class Data:
    """Fashion-MNIST (grey, on all three channels) or CIFAR-10 (protocol["dataset"]) as normalised
    3-channel float tensors, selected by position in the data set's files."""

    def __init__(self, protocol):
        self.p = protocol
        root = protocol["data"]
        if protocol.get("dataset", "fashion-mnist") == "cifar10":
            (self.images, self.labels) = ({}, {})
            for train in (True, False):
                self.images[train], self.labels[train] = read_cifar10(root, train)
        else:
            self.images = {True: read_idx(root, "train-images-idx3-ubyte"), False: read_idx(root, "t10k-images-idx3-ubyte")}
            self.labels = {True: read_idx(root, "train-labels-idx1-ubyte"), False: read_idx(root, "t10k-labels-idx1-ubyte")}

    def take(self, train, classes, positions):
        positions = np.asarray(positions, dtype=np.int64)
        x = torch.from_numpy(self.images[train][positions].astype(np.float32) / 255.0)
        if x.dim() == 3:
            x = x.unsqueeze(1).expand(-1, 3, -1, -1)
        # One mean and std for all channels (the ResNet demo), or one per channel.
        mean, std = (torch.tensor(self.p[k], dtype=torch.float32).reshape(-1, 1, 1) for k in ("mean", "std"))
        x = ((x - mean) / std).contiguous()
        relabel = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([relabel[int(label)] for label in self.labels[train][positions]], dtype=torch.int64)
        return x, y


class Diverged(Exception):
    pass


def train_loop(model, optimizer, x, y, epochs, batch_size, seed, max_loss, shuffle=True):
    """Mini-batches of mean cross-entropy, reshuffled every epoch unless shuffle is False (then in
    the order given); per epoch the mean loss and accuracy."""
    generator = torch.Generator().manual_seed(seed)
    curve = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(y), generator=generator) if shuffle else torch.arange(len(y))
        total_loss, correct = 0.0, 0
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            if not math.isfinite(loss.item()) or loss.item() > max_loss:
                raise Diverged(f"epoch {epoch}, batch {start // batch_size + 1}: loss {loss.item()}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
        curve.append({"loss": total_loss / len(y), "acc": correct / len(y)})
    return curve


@torch.no_grad()
def accuracy(model, x, y, batch_size=256):
    model.eval()
    correct = sum((model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item() for i in range(0, len(y), batch_size))
    return correct / len(y)


def sgd(groups, r, lr):
    return torch.optim.SGD(groups, lr=lr, momentum=r["momentum"], weight_decay=r["weightDecay"])


def train_source_model(p, data, name, make, optimizer_for, batch_size):
    """The source model: make() after torch.manual_seed(0), trained from scratch on the source
    images by optimizer_for(net), tested on the source test images; its state_dict and accuracy."""
    s = p["settings"]
    x, y = data.take(True, p["sourceClasses"], p["indices"]["source"])
    print(f"training the source {name} from scratch on {len(y)} images of classes 0-4, {s['sourceEpochs']} epochs…", flush=True)
    start = time.time()
    torch.manual_seed(0)
    net = make()
    net.train()
    curve = train_loop(net, optimizer_for(net), x, y, s["sourceEpochs"], batch_size, 0, math.inf)
    for e, c in enumerate(curve, 1):
        print(f"  source epoch {e}: loss {c['loss']:.3f}, train acc {c['acc']:.3f}")
    tx, ty = data.take(False, p["sourceClasses"], p["indices"]["sourceTest"])
    acc = accuracy(net, tx, ty)
    print(f"source model: test accuracy on the {len(ty)} test images of classes 0-4: {acc:.3f} ({time.time() - start:.0f} s)", flush=True)
    return net.state_dict(), acc


def train_source(p, data):
    r = p["recipe"]
    return train_source_model(p, data, "resnet18", lambda: torchvision.models.resnet18(num_classes=len(p["sourceClasses"])),
                              lambda net: sgd(net.parameters(), r, r["lr"] * r["fcLrMult"]), r["batchSize"])


def target_run(p, data, method, seed, source_state, test):
    r, s = p["recipe"], p["settings"]
    x, y = data.take(True, p["targetClasses"], p["indices"]["target"][seed])
    n = len(p["targetClasses"])
    start = time.time()
    torch.manual_seed(seed)
    if method == "scratch":
        net = torchvision.models.resnet18(num_classes=n)
    else:
        net = torchvision.models.resnet18(num_classes=len(p["sourceClasses"]))
        net.load_state_dict(source_state)
        net.fc = nn.Linear(net.fc.in_features, n)
    args = (s["targetEpochs"], r["batchSize"], seed, p["maxLoss"])

    def train():
        if method == "scratch":
            net.train()
            return train_loop(net, sgd(net.parameters(), r, r["lr"] * r["fcLrMult"]), x, y, *args)
        if method == "fine-tune":
            net.train()
            body = [q for name, q in net.named_parameters() if not name.startswith("fc.")]
            groups = [{"params": body}, {"params": net.fc.parameters(), "lr": r["lr"] * r["fcLrMult"]}]
            return train_loop(net, sgd(groups, r, r["lr"]), x, y, *args)
        # The frozen backbone (BatchNorm on running statistics) computes the features once; the
        # head trains on them in the protocol's order, as finetorch's feature cache does.
        head, net.fc = net.fc, nn.Identity()
        net.eval()
        with torch.no_grad():
            features = torch.cat([net(x[i:i + 256]) for i in range(0, len(y), 256)])
        net.fc = head
        return train_loop(head, sgd(head.parameters(), r, r["lr"] * r["fcLrMult"]), features, y, *args, shuffle=False)

    return finish_run(method, seed, net, train, test, start)


def finish_run(method, seed, net, train, test, start):
    """A target run's outcome: train() (its per-epoch curve), a divergence recorded, then the test."""
    diverged, curve = None, []
    try:
        curve = train()
    except Diverged as err:
        diverged = str(err)
    test_acc = None if diverged else accuracy(net, *test)
    return {"method": method, "seed": seed, "testAcc": test_acc, "diverged": diverged, "seconds": time.time() - start, "curve": curve}


def run_demo(banner, methods, train_source, target_run):
    """A demo's PyTorch side, `python SCRIPT protocol.json results.json`: the source model by
    train_source(p, data), then target_run(p, data, method, seed, source_state, test) for every
    seed and method, on p["threads"] compute threads where the protocol pins them; the summary
    printed, the results written as the finetorch side writes them."""
    if len(sys.argv) != 3:
        sys.exit(sys.modules["__main__"].__doc__)
    with open(sys.argv[1]) as f:
        p = json.load(f)
    s = p["settings"]
    if "threads" in p:
        torch.set_num_threads(p["threads"])
    print(f"{banner}, {torch.get_num_threads()} threads", flush=True)
    t0 = time.time()
    data = Data(p)
    source_state, source_acc = train_source(p, data)
    test = data.take(False, p["targetClasses"], p["indices"]["test"])
    runs = []
    for seed in range(s["seeds"]):
        for method in methods:
            run = target_run(p, data, method, seed, source_state, test)
            runs.append(run)
            outcome = f"diverged ({run['diverged']})" if run["diverged"] else f"test acc {run['testAcc']:.3f}"
            print(f"  seed {seed} {method:<12}: {outcome} in {run['seconds']:.1f} s", flush=True)
    print(f"\n{'method':<13} {'test acc (mean ± sd)':<21} diverged")
    for method in methods:
        accs = np.array([r["testAcc"] for r in runs if r["method"] == method and r["testAcc"] is not None])
        summary = f"{accs.mean():.3f} ± {accs.std(ddof=1) if len(accs) > 1 else 0:.3f}" if len(accs) else "n/a"
        print(f"{method:<13} {summary:<21} {sum(r['method'] == method for r in runs) - len(accs)}")
    results = {"side": "PyTorch", "sourceTestAcc": source_acc, "runs": runs}
    temp = sys.argv[2] + ".tmp"
    with open(temp, "w") as f:
        json.dump(results, f, indent=2)
    os.replace(temp, sys.argv[2])
    print(f"{sys.argv[2]}; PyTorch side {time.time() - t0:.0f} s ({time.process_time():.0f} s of CPU)")


if __name__ == "__main__":
    run_demo(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}", METHODS, train_source, target_run)

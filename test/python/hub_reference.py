"""torch.hub and torchvision's side of test/parity/hub.test.ts. Prints JSON.

hub_reference.py conventions NAMES_JSON ENVS_JSON
    torchvision's ResNet weights (URLs, DEFAULT, metadata), torch.hub.get_dir() under each
    environment in ENVS_JSON, and torch.hub's hash prefix of each file name in NAMES_JSON.
hub_reference.py make FILE
    Saves a torchvision resnet18's state dict (seed 0) to FILE; prints its SHA-256.
hub_reference.py load URL [--check-hash]
    torch.hub.load_state_dict_from_url(URL) into $TORCH_HOME; prints the digest of its tensors.
"""
import contextlib
import hashlib
import json
import os
import sys

import torch
import torch.hub
import torchvision
from torchvision.models import get_model_weights

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
         "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]


def conventions(names, envs):
    weights = []
    for arch in ARCHS:
        enum = get_model_weights(arch)
        for w in enum:
            metrics = w.meta["_metrics"]["ImageNet-1K"]
            transforms = w.transforms()
            weights.append({
                "arch": arch, "name": w.name, "enumName": f"{enum.__name__}.{w.name}", "url": w.url,
                "numParams": w.meta["num_params"], "acc1": metrics["acc@1"], "acc5": metrics["acc@5"],
                "resizeSize": transforms.resize_size[0], "cropSize": transforms.crop_size[0], "isDefault": w == enum.DEFAULT,
            })
    dirs = []
    for env in envs:
        for key in ("TORCH_HOME", "XDG_CACHE_HOME"):
            os.environ.pop(key, None)
        os.environ.update(env)
        dirs.append(torch.hub.get_dir())
    prefixes = [(m.group(1) if m else None) for m in map(torch.hub.HASH_REGEX.search, names)]
    return {"weights": weights, "hubDirs": dirs, "hashPrefixes": prefixes}


def tensors_digest(state_dict):
    h = hashlib.sha256()
    for key, t in state_dict.items():
        h.update(key.encode())
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


def main():
    command = sys.argv[1]
    if command == "conventions":
        print(json.dumps(conventions(json.loads(sys.argv[2]), json.loads(sys.argv[3]))))
    elif command == "make":
        torch.manual_seed(0)
        state_dict = torchvision.models.resnet18().state_dict()
        torch.save(state_dict, sys.argv[2])
        with open(sys.argv[2], "rb") as f:
            print(json.dumps({"sha256": hashlib.sha256(f.read()).hexdigest(), "tensors": tensors_digest(state_dict)}))
    elif command == "load":
        # torch.hub announces a download on stdout from torch 2.x on; stdout carries only the JSON.
        with contextlib.redirect_stdout(sys.stderr):
            state_dict = torch.hub.load_state_dict_from_url(sys.argv[2], progress=False, check_hash="--check-hash" in sys.argv)
        print(json.dumps({"tensors": tensors_digest(state_dict), "dir": torch.hub.get_dir()}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

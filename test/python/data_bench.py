"""torchvision's side of the data benchmark (scripts/bench-data.ts): images/s of an ImageFolder
(or Fashion-MNIST IDX) through torchvision's transforms and DataLoader, as a user would write it.

usage: data_bench.py JSON
JSON: {"root": folder or IDX images file, "labels": IDX labels file (idx only),
       "pipeline": "train" | "eval" | "idx", "batchSize": 64, "workers": 2, "epochs": 2}
prints {"imagesPerSec": [per epoch], "cpuMsPerImage": [per epoch, this process and its workers]}
"""
import gzip
import json
import resource
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets, transforms as T

NORMALIZE = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


class Idx(Dataset):
    """Like torchvision's FashionMNIST (PIL gray images), read from the gzipped IDX files."""

    def __init__(self, images, labels, transform):
        with gzip.open(images) as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        with gzip.open(labels) as f:
            self.targets = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))
        self.data = torch.from_numpy(data.reshape(len(self.targets), 28, 28).copy())
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img = Image.fromarray(self.data[i].numpy(), mode="L")
        return self.transform(img), int(self.targets[i])


def dataset(args):
    if args["pipeline"] == "train":
        tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), NORMALIZE])
    elif args["pipeline"] == "eval":
        tf = T.Compose([T.Resize([256, 256]), T.CenterCrop(224), T.ToTensor(), NORMALIZE])
    else:
        return Idx(args["root"], args["labels"], T.Compose([T.Grayscale(3), T.ToTensor(), NORMALIZE]))
    return datasets.ImageFolder(args["root"], tf)


def main():
    args = json.loads(sys.argv[1])
    loader = DataLoader(dataset(args), batch_size=args.get("batchSize", 64), shuffle=True, num_workers=args.get("workers", 2))
    rates, cpu = [], []
    for _ in range(args.get("epochs", 2)):
        start, cpu_start, n = time.perf_counter(), cpu_seconds(), 0
        for _, target in loader:  # the workers exit (and are counted) when it ends
            n += len(target)
        rates.append(n / (time.perf_counter() - start))
        cpu.append((cpu_seconds() - cpu_start) * 1000 / n)
    print(json.dumps({"imagesPerSec": rates, "cpuMsPerImage": cpu}))


def cpu_seconds():
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


if __name__ == "__main__":
    main()

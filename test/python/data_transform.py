"""torchvision's side of the data fidelity test: runs an ImageFolder through deterministic
transforms and writes, per transform, the stacked float32 tensors [n, 3, h, w] to OUT.<k>.f32;
prints the classes and the sample list as JSON.

usage: data_transform.py ROOT OUT PIPELINES [exif]
PIPELINES is JSON, a list of [["resize", 256] | ["resize", [256, 256]] | ["resize", 256, "bicubic"] | ["centerCrop", 224], ...]
(resize bilinear unless it says bicubic);
ToTensor and ImageNet Normalize are appended to each. Images are opened by torchvision's default
loader (PIL, no EXIF orientation), or with "exif" turned upright first (ImageOps.exif_transpose).
"""
import json
import sys

import torch
from PIL import Image, ImageOps
from torchvision import datasets, transforms as T

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def exif_loader(path):
    with open(path, "rb") as f:
        return ImageOps.exif_transpose(Image.open(f)).convert("RGB")


def build(spec):
    steps = []
    for name, size, *interpolation in spec:
        if name == "resize":
            mode = T.InterpolationMode.BICUBIC if interpolation == ["bicubic"] else T.InterpolationMode.BILINEAR
            steps.append(T.Resize(size, interpolation=mode, antialias=True))
        elif name == "centerCrop":
            steps.append(T.CenterCrop(size))
        else:
            raise ValueError(name)
    return T.Compose(steps + [T.ToTensor(), T.Normalize(MEAN, STD)])


def main():
    root, out, specs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    loader = exif_loader if sys.argv[4:] == ["exif"] else datasets.folder.default_loader
    for k, spec in enumerate(specs):
        ds = datasets.ImageFolder(root, transform=build(spec), loader=loader)
        torch.stack([ds[i][0] for i in range(len(ds))]).numpy().tofile(f"{out}.{k}.f32")
    print(json.dumps({"classes": ds.classes, "samples": ds.samples}))


if __name__ == "__main__":
    main()

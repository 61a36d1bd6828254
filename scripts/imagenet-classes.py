"""Writes lib/model/imagenet-classes.json: the names of ImageNet-1K's 1000 classes in output order, as
torchvision ships them with its pretrained ResNets (ResNet18_Weights.IMAGENET1K_V1.meta['categories'];
every ImageNet-1K weights enum of torchvision holds the same list). predict names the outputs of
a 1000-class model with them when nothing beside the weights names them.

usage: python3 scripts/imagenet-classes.py   (the Python that has torchvision; writes nothing else)"""
import json
import os

from torchvision.models import ResNet18_Weights, ResNet50_Weights

categories = ResNet18_Weights.IMAGENET1K_V1.meta['categories']
assert len(categories) == 1000 and categories == ResNet50_Weights.IMAGENET1K_V2.meta['categories']
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib', 'model', 'imagenet-classes.json')
with open(out, 'w', encoding='utf-8') as f:
    json.dump(categories, f, indent=0, ensure_ascii=False)
    f.write('\n')
print(f'{len(categories)} classes -> {os.path.normpath(out)}')

"""Saves a seeded ResNet-18 state dict (zip and legacy format) into DIR and times, on each file,
torch.load alone and torch.load + load_state_dict into torchvision's resnet18: prints JSON
{torch, files: {format: path}, ms: {format: {load, weights_only, into_model}}} with the median of
RUNS loads after one warm-up."""
import json
import os
import statistics
import sys
import time

import torch
import torchvision

from pth_fixtures import resnet18_state_dict


def median_ms(load, runs):
    load()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        load()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(out_dir, runs):
    sd = resnet18_state_dict()
    model = torchvision.models.resnet18()
    files, ms = {}, {}
    for fmt, zip_format in (('zip', True), ('legacy', False)):
        path = files[fmt] = os.path.join(out_dir, f'resnet18-{fmt}.pth')
        torch.save(sd, path, _use_new_zipfile_serialization=zip_format)
        ms[fmt] = {'load': median_ms(lambda: torch.load(path), runs),
                   'weights_only': median_ms(lambda: torch.load(path, weights_only=True), runs),
                   'into_model': median_ms(lambda: model.load_state_dict(torch.load(path)), runs)}
    print(json.dumps({'torch': torch.__version__, 'files': files, 'ms': ms}))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))

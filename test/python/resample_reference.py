"""PIL's side of the resampling test: torchvision's resized_crop (+ hflip) of raw RGB pixels.
usage: resample_reference.py PIXELS WIDTH HEIGHT CASES OUT
CASES is JSON: [[top, left, height, width, out_height, out_width, interpolation, flip], ...];
writes the uint8 HWC results one after another to OUT."""
import json
import sys

from PIL import Image
from torchvision.transforms import InterpolationMode, functional as F

MODES = {'nearest': InterpolationMode.NEAREST, 'bilinear': InterpolationMode.BILINEAR, 'bicubic': InterpolationMode.BICUBIC}


def main():
    pixels, width, height, cases, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
    with open(pixels, 'rb') as f:
        image = Image.frombytes('RGB', (width, height), f.read())
    with open(out, 'wb') as f:
        for top, left, h, w, out_h, out_w, mode, flip in cases:
            result = F.resized_crop(image, top, left, h, w, [out_h, out_w], MODES[mode])
            f.write((F.hflip(result) if flip else result).tobytes())


main()

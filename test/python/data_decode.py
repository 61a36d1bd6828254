"""PIL's side of the decoder fidelity test: decodes each file as torchvision's default loader does
(Image.open(f).convert("RGB"), no EXIF orientation) and writes its RGB bytes, whole and then
cropped to each box, one after another to OUT; prints each file's [width, height] as JSON.

usage: data_decode.py SPEC OUT
SPEC is JSON: [{"file": path, "crops": [[left, top, width, height], ...]}, ...]
"""
import json
import sys

from PIL import Image


def main():
    spec, out = json.loads(sys.argv[1]), sys.argv[2]
    sizes = []
    with open(out, "wb") as f:
        for entry in spec:
            with open(entry["file"], "rb") as image_file:
                image = Image.open(image_file).convert("RGB")
            sizes.append(image.size)
            f.write(image.tobytes())
            for left, top, width, height in entry["crops"]:
                f.write(image.crop((left, top, left + width, top + height)).tobytes())
    print(json.dumps(sizes))


if __name__ == "__main__":
    main()

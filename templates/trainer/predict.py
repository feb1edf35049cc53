"""Classifies images with a model made by train.py (the reference trainer's format, "dsp-torch-v1").

Usage: python3 predict.py PATH [--model-dir DIR] [--int8 | --float32]

PATH is an image or a folder (searched recursively). DIR holds model.json, labels.txt and the model
files; by default the folder this script is in (a deployment zip has predict.py beside the model).
Both models are TorchScript, so this needs only torch and Pillow: the int8 model when it is there
(or with --int8), else the float32 one.

Prints one JSON line per image: {"path", "label", "score"}, plus "expected" when the image lies in a
folder named after a label (…/<label>/<file>, as in the dataset), and then a last line
{"summary": {"accuracy": x, "n": n}} (accuracy over the images with an expected label, null without any).
"""
import argparse
import json
import os
import sys

import torch
from PIL import Image

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def model_file(manifest, model_dir, kind):
    """The manifest's file for kind ("int8"/"float32", a name or a list of names), when it is in model_dir."""
    names = manifest.get("files", {}).get(kind) or []
    for name in [names] if isinstance(names, str) else names:
        if os.path.isfile(os.path.join(model_dir, name)):
            return os.path.join(model_dir, name)
    return None


def images_under(path):
    if os.path.isfile(path):
        return [path]
    found = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        found += [os.path.join(root, n) for n in sorted(names) if n.lower().endswith(IMAGE_EXTS)]
    return found


def preprocess(path, size, mean, std):
    """As train.py's evaluation transform: RGB, resize to size×size (bilinear), scale to [0, 1], normalize."""
    with Image.open(path) as im:
        im = im.convert("RGB").resize((size, size), Image.BILINEAR)
        x = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).reshape(size, size, 3)
    x = x.permute(2, 0, 1).float() / 255.0
    return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--model-dir", default=os.path.dirname(os.path.abspath(__file__)))
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--int8", action="store_const", dest="kind", const="int8")
    kind.add_argument("--float32", action="store_const", dest="kind", const="float32")
    args = parser.parse_args()

    with open(os.path.join(args.model_dir, "model.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    labels_txt = os.path.join(args.model_dir, "labels.txt")
    if os.path.isfile(labels_txt):
        with open(labels_txt, encoding="utf-8") as f:
            labels = [line.strip() for line in f if line.strip()]
    else:
        labels = manifest["labels"]

    kind = args.kind or ("int8" if model_file(manifest, args.model_dir, "int8") else "float32")
    file = model_file(manifest, args.model_dir, kind)
    if not file:
        sys.exit(f"error: {args.model_dir} has no {kind} model (see model.json \"files\")")
    if kind == "int8":
        engine = manifest.get("quantized_engine")
        if engine in torch.backends.quantized.supported_engines:
            torch.backends.quantized.engine = engine
    model = torch.jit.load(file, map_location="cpu").eval()
    size, mean, std = manifest.get("image_size", 64), manifest.get("mean", [0.5] * 3), manifest.get("std", [0.5] * 3)

    paths = images_under(args.path)
    if not paths:
        sys.exit(f"error: no images at {args.path}")
    n, checked, correct = 0, 0, 0
    with torch.no_grad():
        for path in paths:
            try:
                x = preprocess(path, size, mean, std)
            except OSError as err:  # not an image after all, or truncated
                print(f"skipping {path}: {err}", file=sys.stderr)
                continue
            probs = torch.softmax(model(x)[0], 0)
            score, index = probs.max(0)
            line = {"path": path, "label": labels[index.item()], "score": round(score.item(), 4)}
            folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
            if folder in labels:
                line["expected"] = folder
                checked += 1
                correct += line["label"] == folder
            n += 1
            print(json.dumps(line), flush=True)
    print(json.dumps({"summary": {"accuracy": correct / checked if checked else None, "n": n, "model": os.path.basename(file)}}))


if __name__ == "__main__":
    main()

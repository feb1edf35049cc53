#!/usr/bin/python3
"""Loads a dataset written by the engine the way a PyTorch training script does.

Usage: torchvision_check.py DATASET_DIR

For each of training/validation/testing that exists: torchvision.datasets.ImageFolder(dir), its
`classes` must equal the lines of DATASET_DIR/labels.txt exactly (so every category has the same
class list and the same class indices), and every sample is decoded and turned into a tensor by
iterating a DataLoader over the whole category. Prints one JSON line on success; exits 1 with a
message on stderr on any failure (2 when torchvision itself is missing).
"""
import json
import os
import sys


def fail(msg, code=1):
    sys.stderr.write("torchvision_check: FAIL: " + msg + "\n")
    sys.exit(code)


try:
    import torch
    import torchvision
    from torchvision import datasets, transforms
except Exception as e:  # noqa: BLE001
    fail("cannot import torch/torchvision (%s: %s); install python3-torchvision python3-pil" % (type(e).__name__, e), 2)

CATEGORIES = ("training", "validation", "testing")
SIZE = 32


def main():
    # --expect-missing CATEGORY=LABEL[,LABEL...]: classes the run warned a category cannot hold
    # (too few samples); that category's classes must be labels.txt without exactly those.
    args = sys.argv[1:]
    missing = {}
    while len(args) >= 2 and args[0] == "--expect-missing":
        cat, _, names = args[1].partition("=")
        missing[cat] = set(n for n in names.split(",") if n)
        args = args[2:]
    if len(args) != 1:
        fail("usage: torchvision_check.py [--expect-missing CATEGORY=LABEL,...] DATASET_DIR")
    root = args[0]
    labels_file = os.path.join(root, "labels.txt")
    if not os.path.isfile(labels_file):
        fail("%s does not exist" % labels_file)
    with open(labels_file, "r", encoding="utf-8", newline="") as f:
        text = f.read()
    if text and not text.endswith("\n"):
        fail("labels.txt does not end with a newline")
    labels = text.split("\n")[:-1] if text else []
    if any(l == "" or l != l.strip("\r") for l in labels):
        fail("labels.txt has an empty line or a CR: %r" % labels)

    tf = transforms.Compose([transforms.Resize((SIZE, SIZE)), transforms.ToTensor()])
    out = {"torchvision": torchvision.__version__, "torch": torch.__version__, "labels": labels, "categories": {}}
    present = [c for c in CATEGORIES if os.path.isdir(os.path.join(root, c))]
    if not present:
        fail("no training/validation/testing folder in %s" % root)
    errors = []
    for cat in present:
        try:
            out["categories"][cat] = check_category(root, cat, labels, tf, missing.get(cat, set()))
        except CategoryError as e:
            errors.append(str(e))
    if errors:
        fail("\n".join(errors))
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


class CategoryError(Exception):
    pass


def check_category(root, cat, labels, tf, missing):
    def fail(msg):  # noqa: F811  (per category: the other categories are still checked)
        raise CategoryError(msg)

    d = os.path.join(root, cat)
    if True:
        try:
            ds = datasets.ImageFolder(d, transform=tf)
        except Exception as e:  # noqa: BLE001  (an empty class raises FileNotFoundError here)
            fail("%s: ImageFolder(%r) raised %s: %s" % (cat, d, type(e).__name__, e))
        expected = [l for l in labels if l not in missing]
        if ds.classes != expected:
            fail("%s: ImageFolder.classes %r != labels.txt %r%s" % (cat, ds.classes, labels, " without %r" % sorted(missing) if missing else ""))
        if missing:
            # The README's remap: the category's indices mapped to labels.txt's.
            remap = {i: labels.index(c) for i, c in enumerate(ds.classes)}
            ds.target_transform = remap.__getitem__
        elif ds.class_to_idx != {c: i for i, c in enumerate(labels)}:
            fail("%s: class_to_idx %r does not follow labels.txt order" % (cat, ds.class_to_idx))
        # Files under the category that ImageFolder did not take (wrong extension, or not under a class folder).
        on_disk = set()
        for dirpath, dirnames, filenames in os.walk(d):
            for n in filenames:
                on_disk.add(os.path.join(dirpath, n))
        taken = set(p for p, _ in ds.samples)
        skipped = sorted(os.path.relpath(p, root) for p in on_disk - taken)
        if skipped:
            fail("%s: ImageFolder skips files that are in the dataset: %r" % (cat, skipped))
        loader = torch.utils.data.DataLoader(ds, batch_size=1, shuffle=False, num_workers=0)
        names = labels if missing else ds.classes  # what y indexes
        per_class = [0] * len(names)
        n = 0
        it = iter(loader)
        while True:
            try:
                x, y = next(it)
            except StopIteration:
                break
            except Exception as e:  # noqa: BLE001
                path = ds.samples[n][0] if n < len(ds.samples) else "?"
                fail("%s: decoding sample %d (%s) raised %s: %s" % (cat, n, path, type(e).__name__, e))
            if tuple(x.shape) != (1, 3, SIZE, SIZE) and tuple(x.shape) != (1, 1, SIZE, SIZE):
                fail("%s: sample %d (%s) gave tensor of shape %r" % (cat, n, ds.samples[n][0], tuple(x.shape)))
            if not bool(torch.isfinite(x).all()):
                fail("%s: sample %d (%s) has non-finite values" % (cat, n, ds.samples[n][0]))
            per_class[int(y)] += 1
            n += 1
        if n != len(ds):
            fail("%s: DataLoader yielded %d samples, dataset has %d" % (cat, n, len(ds)))
        return {
            "count": n,
            "classes": ds.classes,
            "perClass": {c: per_class[i] for i, c in enumerate(names) if c in ds.classes},
        }


if __name__ == "__main__":
    main()

"""Reference trainer: fine-tunes MobileNetV3-Small on the dataset and saves it into $MODEL_DIR.

A starting point to edit, not the state of the art. It meets the training contract:

  DATASET_DIR, LABELS_FILE   the dataset (<category>/<label>/<file>) and its labels.txt
  MODEL_DIR                  a fresh, empty folder: model_float32.pt (TorchScript, what predict.py runs),
                             model.pt (the checkpoint for the next warm start), labels.txt, model.json
                             (+ model_int8.pt)
  PREVIOUS_MODEL_DIR         the last model ("" the first time): warm start when its labels match
  METRICS_FILE               JSON metrics: accuracy, loss, per_label, confusion_matrix per category
  EMBEDDINGS_FILE            optional: one {"path", "vector"} JSON line per sample
  BUILD_MODEL_TYPE           "int8" also writes a statically quantized TorchScript model_int8.pt

Usage: python3 train.py [--no-pretrained] [--epochs N] [--image-size N] [--batch-size N]
"""
import argparse
import copy
import json
import os
import random
import shutil
import sys
import warnings

import torch
import torch.nn as nn
import torchvision
from PIL import Image
from torchvision import transforms
# torchvision has no public quantizable MobileNetV3-Small builder (only _large), so build it the way
# torchvision.models.quantization.mobilenet_v3_large does, with the small configuration.
from torchvision.models.mobilenetv3 import _mobilenet_v3_conf
from torchvision.models.quantization.mobilenetv3 import _mobilenet_v3_model

CATEGORIES = ["training", "validation", "testing"]
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # ImageNet statistics, as the backbone expects


class Samples(torch.utils.data.Dataset):
    """(image, class index) for <DATASET_DIR>/<category>/<label>/<file>, the index taken from labels.txt
    (not ImageFolder's renumbering, which shifts when a category lacks a label)."""

    def __init__(self, dataset_dir, category, labels, transform):
        self.dataset_dir, self.transform = dataset_dir, transform
        self.items = []  # (path relative to dataset_dir, class index)
        for index, label in enumerate(labels):
            folder = os.path.join(dataset_dir, category, label)
            if os.path.isdir(folder):
                for name in sorted(os.listdir(folder)):
                    if name.lower().endswith(IMAGE_EXTS):
                        self.items.append((f"{category}/{label}/{name}", index))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        rel, target = self.items[i]
        with Image.open(os.path.join(self.dataset_dir, rel)) as im:
            return self.transform(im.convert("RGB")), target


def build_model(num_classes, pretrained):
    """A quantizable MobileNetV3-Small (QuantStub/DeQuantStub, fuse_model) with a num_classes head."""
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small")
    model = _mobilenet_v3_model(setting, last_channel, weights=None, progress=False, quantize=False)
    if pretrained:
        try:  # the standard model's ImageNet weights; their keys match the quantizable model's
            model.load_state_dict(torchvision.models.mobilenet_v3_small(weights="DEFAULT").state_dict())
            print("backbone: ImageNet weights")
        except Exception as err:  # offline, or no write access to the torch hub cache
            print(f"note: could not get the pretrained weights ({err}); starting from random weights")
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def warm_start(model, previous_dir, labels):
    """Loads PREVIOUS_MODEL_DIR/model.pt when it was trained on the same labels."""
    path = os.path.join(previous_dir, "model.pt") if previous_dir else ""
    if not os.path.isfile(path):
        return
    saved = torch.load(path, map_location="cpu")
    if saved.get("arch") == "mobilenet_v3_small" and saved.get("labels") == labels:
        model.load_state_dict(saved["state_dict"])
        print(f"warm start from {path}")
    else:
        print(f"not warm-starting: {path} was trained on other labels or another architecture")


def evaluate(model, loader, labels):
    """Loss, accuracy, per-label precision/recall/f1 and the confusion matrix (rows true, columns predicted)."""
    model.eval()
    n = len(labels)
    matrix = [[0] * n for _ in range(n)]
    total_loss = 0.0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total_loss += nn.functional.cross_entropy(out, y, reduction="sum").item()
            for t, p in zip(y.tolist(), out.argmax(1).tolist()):
                matrix[t][p] += 1
    count = sum(map(sum, matrix))
    per_label = {}
    for i, label in enumerate(labels):
        tp, support, predicted = matrix[i][i], sum(matrix[i]), sum(row[i] for row in matrix)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return {"accuracy": sum(matrix[i][i] for i in range(n)) / count, "loss": total_loss / count,
            "per_label": per_label, "confusion_matrix": {"labels": labels, "matrix": matrix}}


def refresh_batchnorm(model, loader):
    """Recomputes the BatchNorm running statistics for the current weights (a pass over the training images).
    The running averages lag behind the weights (momentum 0.1), so a model trained from scratch for a few
    epochs would otherwise be evaluated with its initial statistics and predict one class for everything."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over this pass
    model.train()
    with torch.no_grad():
        for x, _ in loader:
            model(x)
    for m in norms:
        m.momentum = 0.1
    model.eval()


def features(model, x):
    """The penultimate layer: the classifier's input to its last Linear."""
    x = torch.flatten(model.avgpool(model.features(x)), 1)
    return model.classifier[:-1](x)


def quantize(model, calibration_loader, engine):
    """Post-training static quantization (eager mode): fuse, observe on training images, convert."""
    qmodel = copy.deepcopy(model).eval()
    qmodel.fuse_model(is_qat=False)
    qmodel.qconfig = torch.quantization.get_default_qconfig(engine)
    # The blocks without a residual connection never use their skip_add observer; not a problem.
    warnings.filterwarnings("ignore", message="must run observer before calling calculate_qparams")
    torch.quantization.prepare(qmodel, inplace=True)
    with torch.no_grad():
        for x, _ in calibration_loader:
            qmodel(x)
    return torch.quantization.convert(qmodel, inplace=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-pretrained", action="store_true", help="do not download ImageNet weights")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(2)
    engine = "qnnpack" if "qnnpack" in torch.backends.quantized.supported_engines else torch.backends.quantized.supported_engines[0]
    torch.backends.quantized.engine = engine

    dataset_dir, model_dir = os.environ["DATASET_DIR"], os.environ["MODEL_DIR"]
    labels_file = os.environ.get("LABELS_FILE") or os.path.join(dataset_dir, "labels.txt")
    if not os.path.isfile(labels_file):
        sys.exit(f"error: no labels file at {labels_file}")
    with open(labels_file, encoding="utf-8") as f:
        labels = [line.strip() for line in f if line.strip()]
    if not labels:
        sys.exit(f"error: {labels_file} lists no labels")

    train_tf = transforms.Compose([transforms.Resize((args.image_size, args.image_size)), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    eval_tf = transforms.Compose([transforms.Resize((args.image_size, args.image_size)), transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    data = {c: Samples(dataset_dir, c, labels, eval_tf) for c in CATEGORIES}  # categories without a folder are empty
    if not len(data["training"]):
        sys.exit(f"error: no training images under {os.path.join(dataset_dir, 'training')}/<label>/")
    train_set = Samples(dataset_dir, "training", labels, train_tf)  # the same images, augmented
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    loaders = {c: torch.utils.data.DataLoader(d, batch_size=64) for c, d in data.items() if len(d)}
    print("samples: " + ", ".join(f"{c} {len(d)}" for c, d in data.items()))

    model = build_model(len(labels), pretrained=not args.no_pretrained)
    warm_start(model, os.environ.get("PREVIOUS_MODEL_DIR", ""), labels)

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        model.train()
        seen, total_loss, correct = 0, 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            loss.backward()
            optimizer.step()
            seen += len(y)
            total_loss += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
        refresh_batchnorm(model, loaders["training"])
        line = f"epoch {epoch}/{args.epochs}: loss {total_loss / seen:.4f}, accuracy {correct / seen:.3f}"
        if "validation" in loaders:
            line += f", validation accuracy {evaluate(model, loaders['validation'], labels)['accuracy']:.3f}"
        print(line, flush=True)

    metrics = {c: evaluate(model, loaders[c], labels) for c in ("validation", "testing") if c in loaders}
    train_eval = evaluate(model, loaders["training"], labels)
    metrics["training"] = {"loss": train_eval["loss"], "accuracy": train_eval["accuracy"]}
    metrics["epochs"] = args.epochs
    metrics["samples"] = {c: len(d) for c, d in data.items()}

    # The checkpoint the next run warm-starts from, and the float32 model as TorchScript, which predict.py
    # runs with torch.jit.load alone (no train.py, no torchvision).
    model.eval()
    torch.save({"arch": "mobilenet_v3_small", "num_classes": len(labels), "image_size": args.image_size,
                "labels": labels, "state_dict": model.state_dict()}, os.path.join(model_dir, "model.pt"))
    example = torch.zeros(1, 3, args.image_size, args.image_size)
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(model, example), os.path.join(model_dir, "model_float32.pt"))
    shutil.copyfile(labels_file, os.path.join(model_dir, "labels.txt"))
    files = {"float32": "model_float32.pt"}

    if os.environ.get("BUILD_MODEL_TYPE") == "int8":
        qmodel = quantize(model, loaders["training"], engine)
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(qmodel, example), os.path.join(model_dir, "model_int8.pt"))
        files["int8"] = "model_int8.pt"
        # Check the saved file itself: load it back and score it on held-out images.
        loaded = torch.jit.load(os.path.join(model_dir, "model_int8.pt"))
        held_out = "testing" if "testing" in loaders else "validation" if "validation" in loaders else None
        if held_out:
            metrics["int8"] = {held_out: {"accuracy": evaluate(loaded, loaders[held_out], labels)["accuracy"]}}
            print(f"int8 {held_out} accuracy {metrics['int8'][held_out]['accuracy']:.3f} "
                  f"(float32 {metrics[held_out]['accuracy']:.3f})")

    manifest = {"format": "dsp-torch-v1", "arch": "mobilenet_v3_small", "image_size": args.image_size, "labels": labels,
                "files": files, "checkpoint": "model.pt", "mean": MEAN, "std": STD}
    if "int8" in files:
        manifest["quantized_engine"] = engine  # predict.py selects it to run model_int8.pt
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.environ["METRICS_FILE"], "w") as f:
        json.dump(metrics, f, indent=1)

    if os.environ.get("EMBEDDINGS_FILE"):
        model.eval()
        with open(os.environ["EMBEDDINGS_FILE"], "w") as f, torch.no_grad():
            for d in data.values():
                for i, (rel, _) in enumerate(d.items):
                    vector = features(model, d[i][0].unsqueeze(0))[0]
                    f.write(json.dumps({"path": rel, "vector": [round(v, 5) for v in vector.tolist()]}) + "\n")
    for c in ("validation", "testing"):
        if c in metrics:
            print(f"{c}: accuracy {metrics[c]['accuracy']:.3f}, loss {metrics[c]['loss']:.4f}")
    print(f"model saved to {model_dir}: {', '.join(files.values())}")


if __name__ == "__main__":
    main()

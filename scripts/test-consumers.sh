#!/usr/bin/env bash
# The real-consumer suite: datasets synced by the engine must load in torchvision's ImageFolder
# (run for real, every sample decoded), and follow Hugging Face imagefolder's, Keras'
# image_dataset_from_directory's and Edge Impulse's info.labels rules; and the reference trainer
# (templates/trainer/train.py) must train, quantize and deploy a model on the demo images with torch.
# Needs the TypeScript build first: node esbuild.mjs && npx tsc -p .
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${CONSUMERS_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch, torchvision, PIL' 2>/dev/null; then
  echo "test-consumers: torch/torchvision/PIL missing for $PY, installing python3-torch python3-torchvision python3-pil with apt-get"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  # DPkg::Lock::Timeout waits for another apt/dpkg run to release the lock instead of failing.
  $SUDO apt-get -o DPkg::Lock::Timeout=1200 update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1200 install -y --no-install-recommends python3-torch python3-torchvision python3-pil
  "$PY" -c 'import torch, torchvision, PIL; print("torch", torch.__version__, "torchvision", torchvision.__version__)'
fi

if [ ! -d out/test/consumers ]; then
  echo "test-consumers: out/test/consumers is missing; build first: node esbuild.mjs && npx tsc -p ." >&2
  exit 1
fi
exec npx mocha --no-config --timeout 300000 'out/test/consumers/**/*.test.js'

#!/usr/bin/env bash
# The main job on an embedded default: generate the demo sources (small real PNG/JPEG images in
# Edge Impulse's two layouts), then sync each demo pipeline twice through the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-.demo}
CLI="node dist/cli.js"
mapfile -t pipelines < <(node dist/demo.js "$DEMO")
for p in "${pipelines[@]}"; do
  echo "== $p"
  $CLI validate "$p"
  echo "-- preview"
  $CLI preview "$p"
  echo "-- first run"
  $CLI run "$p"
  echo "-- second run (nothing new to sync)"
  $CLI run "$p"
done
echo
echo "Datasets are in $DEMO/datasets/ (ImageFolder layout + info.labels). Run history: $CLI runs ${pipelines[0]}"

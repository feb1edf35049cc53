#!/usr/bin/env bash
# The main job on an embedded default: generate the demo sources (small real PNG/JPEG images in
# Edge Impulse's two layouts), sync each demo pipeline twice through the CLI (the second run
# syncs nothing), run the training loop twice (sync, retrain with the example trainer that needs
# nothing installed, keep a version, build a deployment zip; the second run warm-starts from the
# first model), retrain with the PyTorch reference trainer when python3 has torch, then sync from
# an S3-compatible bucket (s3rver from npm, no root).
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-.demo}
CLI="node dist/cli.js"
mapfile -t pipelines < <(node dist/demo.js "$DEMO")

sync_twice() {
  local p=$1
  echo "== $p"
  $CLI validate "$p"
  echo "-- preview"
  $CLI preview "$p"
  echo "-- first run"
  $CLI run "$p"
  echo "-- second run (nothing new to sync)"
  $CLI run "$p"
}

# The newest deployment zip of a dataset, and its entries (unzip -l, else read from the zip's central directory).
newest_zip() { ls -t "$1.deployments"/deployment-int8-*.zip 2>/dev/null | head -1; }
list_zip() {
  if command -v unzip >/dev/null; then unzip -l "$1"; return; fi
  node -e '
    const b = require("fs").readFileSync(process.argv[1]);
    let o = b.readUInt32LE(b.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6])) + 16);
    while (b.readUInt32LE(o) === 0x02014b50) {
      const n = b.readUInt16LE(o + 28), x = b.readUInt16LE(o + 30), c = b.readUInt16LE(o + 32);
      console.log(String(b.readUInt32LE(o + 24)).padStart(10), b.toString("utf8", o + 46, o + 46 + n));
      o += 46 + n + x + c;
    }' "$1"
}

train_twice() {
  local p=$1 dataset=$2
  echo "== $p"
  $CLI validate "$p"
  echo "-- first run (sync, retrain, version, zip)"
  $CLI run "$p"
  echo "-- second run (nothing new to sync; the retrain warm-starts from the last model: metrics show \"was ...\")"
  $CLI run "$p"
  echo "-- versions"
  $CLI versions "$p"
  local zip
  zip=$(newest_zip "$dataset")
  echo "-- deployment zip: $zip"
  list_zip "$zip"
}

# The python the reference trainer would use (as init-trainer picks it): one that imports torch and torchvision.
torch_python() {
  local py
  for py in ${DSP_PYTHON:-} python3 /usr/bin/python3; do
    if "$py" -c 'import torch, torchvision' >/dev/null 2>&1; then echo "$py"; return 0; fi
  done
  return 1
}

train_torch() {
  local py=$1 p dataset="$DEMO/datasets/train-loop-torch" zip out="$DEMO/predict-torch"
  p=$(node dist/demo.js "$DEMO" --torch)
  echo "== $p (the PyTorch reference trainer with $py)"
  DSP_PYTHON=$py $CLI init-trainer --pipeline "$p" --no-pretrained
  # Two epochs keep the demo short (train.py's default is 3).
  node -e '
    const fs = require("fs"), f = process.argv[1], j = JSON.parse(fs.readFileSync(f, "utf8"));
    for (const s of j.steps) { const b = s.builtinTransformationBlock; if (b.retrainModel && b.trainCommand && !/--epochs/.test(b.trainCommand)) b.trainCommand += " --epochs 2"; }
    fs.writeFileSync(f, JSON.stringify(j, null, 2) + "\n");' "$p"
  $CLI run "$p"
  zip=$(newest_zip "$dataset")
  echo "-- deployment zip: $zip"
  list_zip "$zip"
  rm -rf "$out" && "$py" -m zipfile -e "$zip" "$out"
  echo "-- $out/predict.py $dataset/testing --int8 | tail -1"
  "$py" "$out/predict.py" "$dataset/testing" --int8 | tail -1
}

for p in "${pipelines[@]}"; do
  case $p in
    *train-loop.pipeline.json) train_twice "$p" "$DEMO/datasets/train-loop" ;;
    *) sync_twice "$p" ;;
  esac
done
if py=$(torch_python); then train_torch "$py"; else
  echo
  echo "python3 has no torch: the reference trainer is skipped; see README"
fi

# The S3 path: an S3-compatible server from npm on a fixed loopback port (a fixed endpoint keeps
# the sync state valid across demo runs).
S3_PORT=${DEMO_S3_PORT:-4569}
export DEMO_S3_SECRET=S3RVER # s3rver's built-in development key, passed the way a real secret is: ${env:DEMO_S3_SECRET}
mkdir -p "$DEMO/s3rver"
node --openssl-legacy-provider node_modules/s3rver/bin/s3rver.js -d "$DEMO/s3rver" -a 127.0.0.1 -p "$S3_PORT" \
  --configure-bucket demo-bucket --no-vhost-buckets --silent > "$DEMO/s3rver.log" 2>&1 &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  if node -e "require('net').connect($S3_PORT,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then break; fi
  kill -0 $S3_PID 2>/dev/null || { echo "s3rver did not start:"; cat "$DEMO/s3rver.log"; exit 1; }
done
s3p=$(node dist/demo.js "$DEMO" --s3 "http://127.0.0.1:$S3_PORT" demo-bucket)
echo "== $s3p"
echo "-- verify credentials"
$CLI verify "$s3p"
sync_twice "$s3p"

echo
echo "Datasets are in $DEMO/datasets/ (ImageFolder layout + info.labels). Run history: $CLI runs ${pipelines[0]}"

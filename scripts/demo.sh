#!/usr/bin/env bash
# The main job on an embedded default: generate the demo sources (small real PNG/JPEG images in
# Edge Impulse's two layouts), sync each demo pipeline twice through the CLI (the second run
# syncs nothing), then do the same from an S3-compatible bucket (s3rver from npm, no root).
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

for p in "${pipelines[@]}"; do sync_twice "$p"; done

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

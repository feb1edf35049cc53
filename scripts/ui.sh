#!/usr/bin/env bash
# `make ui`: code-server with this extension and a demo workspace on 127.0.0.1, for a person to try
# in a browser. PORT (default 8080) and WORKSPACE (default .demo/ui-workspace) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${PORT:-8080}
WORKSPACE=${WORKSPACE:-$ROOT/.demo/ui-workspace}
STATE=$ROOT/.demo/ui-state

bash scripts/setup-code-server.sh
node esbuild.mjs

# The demo workspace: a folder of images and a pipeline that imports it (created once).
if [[ ! -f $WORKSPACE/images.pipeline.json ]]; then
  mkdir -p "$WORKSPACE"
  for label in cars bikes trucks; do
    for split in training testing; do
      mkdir -p "$WORKSPACE/raw-images/$split/$label"
      n=$([[ $split == training ]] && echo 8 || echo 2)
      for i in $(seq 1 "$n"); do printf '%s %s %s\n' "$label" "$split" "$i" >"$WORKSPACE/raw-images/$split/$label/$label.$i.jpg"; done
    done
  done
  mkdir -p "$WORKSPACE/raw-images/unsorted"
  for i in 1 2 3; do printf 'x%s\n' "$i" >"$WORKSPACE/raw-images/unsorted/cars.$i.jpg"; done
  cat >"$WORKSPACE/images.pipeline.json" <<'JSON'
{
  "name": "Demo images",
  "description": "Imports ./raw-images: folder names are labels, training/ and testing/ decide the split.",
  "intervalStr": "1h",
  "steps": [
    {
      "name": "Fetch data from ./raw-images",
      "builtinTransformationBlock": {
        "type": "folder-to-project",
        "path": "./raw-images",
        "category": "split",
        "labelStrategy": "infer-from-folder-name"
      }
    },
    {
      "name": "Refresh data explorer",
      "builtinTransformationBlock": { "type": "project-action", "refreshDataExplorer": true }
    }
  ]
}
JSON
fi

CS=$ROOT/.tools/code-server/node_modules/code-server/out/node/entry.js
EXT_DIR=$STATE/extensions
mkdir -p "$EXT_DIR" "$STATE/user-data/User"
# Install by copying what a .vsix holds (see .vscodeignore): package.json, dist, schemas, media.
DEST=$EXT_DIR/$(node -p "const p=require('./package.json'); (p.publisher+'.'+p.name+'-'+p.version).toLowerCase()")
rm -rf "$DEST" "$EXT_DIR/extensions.json"
mkdir -p "$DEST"
cp -r package.json README.md dist schemas media "$DEST/"
[[ -f $STATE/user-data/User/settings.json ]] || echo '{"workbench.startupEditor": "none", "telemetry.telemetryLevel": "off"}' >"$STATE/user-data/User/settings.json"
printf 'auth: none\ncert: false\n' >"$STATE/config.yaml"

echo "Open http://127.0.0.1:$PORT/?folder=$WORKSPACE in a browser (Ctrl-C to stop)."
exec node "$CS" --config "$STATE/config.yaml" --auth none --bind-addr "127.0.0.1:$PORT" \
  --extensions-dir "$EXT_DIR" --user-data-dir "$STATE/user-data" \
  --disable-telemetry --disable-update-check "$WORKSPACE"

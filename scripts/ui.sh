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

# The demo workspace: the demo's small real images in Edge Impulse's two layouts, and a pipeline
# for each (made once; the same generator as `make demo`).
if ! compgen -G "$WORKSPACE/*.pipeline.json" >/dev/null; then
  node dist/demo.js "$WORKSPACE" >/dev/null
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

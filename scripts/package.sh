#!/usr/bin/env bash
# `make package`: a production bundle, then a .vsix (no node_modules: everything is bundled),
# and a check that it stays small.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_BYTES=${MAX_VSIX_BYTES:-3000000}

rm -rf dist
node esbuild.mjs --production
npx vsce package --no-dependencies --allow-missing-repository --skip-license
VSIX=$(ls -t ./*.vsix | head -1)
SIZE=$(stat -c %s "$VSIX")
echo "$VSIX: $SIZE bytes"
unzip -l "$VSIX" | tail -n +4 | awk '{print $4}' | grep -v '^$' | sed 's#^#  #' | head -60
if ((SIZE > MAX_BYTES)); then
  echo "error: $VSIX is $SIZE bytes, over the $MAX_BYTES limit: check .vscodeignore" >&2
  exit 1
fi

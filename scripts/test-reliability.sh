#!/usr/bin/env bash
# The reliability suite (RELIABILITY.md): crash, concurrency, hostile pipeline files, secrets and
# hostile keys, each a script that prints one "RELIABILITY <part>: <figures>" line and exits
# non-zero on a failure. The fault proxy against the real S3 server runs in the integration suite,
# the API's races in the unit suite. Needs the build: node esbuild.mjs && npx tsc -p .
set -uo pipefail
cd "$(dirname "$0")/.."
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
mkdir -p test-results
OUT=test-results/reliability.txt
: > "$OUT"
failed=()
export FUZZ_SEED=${FUZZ_SEED:-20261202} # reproducible in CI; set FUZZ_SEED to explore
for part in crash concurrency fuzz secrets hostileKeys; do
  script="out/test/reliability/$part.js"
  if [ ! -f "$script" ]; then
    echo "test-reliability: $script is missing (build first)" >&2
    failed+=("$part")
    continue
  fi
  start=$(date +%s)
  node "$script" 2> "test-results/reliability-$part.log" | tee -a "$OUT"
  code=${PIPESTATUS[0]}
  echo "test-reliability: $part exited $code after $(( $(date +%s) - start )) s (log: test-results/reliability-$part.log)" >&2
  if [ "$code" -ne 0 ]; then
    tail -n 30 "test-results/reliability-$part.log" >&2
    failed+=("$part")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "test-reliability: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test-reliability: all parts passed; figures in $OUT" >&2

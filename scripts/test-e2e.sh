#!/usr/bin/env bash
# End-to-end tests in a real VS Code (code-server + Chromium), with a real S3 server (Ceph RGW)
# for the credential checks. Called by `make e2e`; installs what it needs, stops what it starts.
set -euo pipefail
# Node 20 is the runtime here (and in VS Code 1.100): the AWS SDK's upgrade notice is noise in test output.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/.."

bash scripts/setup-code-server.sh
node esbuild.mjs
npx tsc -p .

S3_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dsp-e2e-s3.XXXXXX")"
cleanup() {
  bash scripts/s3-server.sh stop "$S3_DIR" >/dev/null 2>&1 || true
  rm -rf "$S3_DIR"
}
trap cleanup EXIT INT TERM

bash scripts/s3-server.sh install
bash scripts/s3-server.sh start "$S3_DIR" >/dev/null
set -a
# shellcheck disable=SC1091
. "$S3_DIR/env"
set +a

mkdir -p test-results/e2e
set +e
npx mocha --no-config --timeout 300000 --reporter spec "${E2E_SPEC:-out/test/e2e/**/*.e2e.js}"
code=$?
set -e
exit "$code"

#!/usr/bin/env bash
# Integration tests against a real S3 server (Ceph RGW from Debian, scripts/s3-server.sh):
# install it if missing, start it in a private folder, run the mocha suites in
# out/test/integration with its env, and always stop it. Exits with mocha's code.
set -euo pipefail
# Node 20 is the runtime here (and in VS Code 1.100): the AWS SDK's upgrade notice is noise in test output.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/.."

bash scripts/s3-server.sh install

DIR=$(mktemp -d "${TMPDIR:-/tmp}/dsp-s3-XXXXXX")
cleanup() {
  local code=$?
  bash scripts/s3-server.sh stop "$DIR" >/dev/null 2>&1 || echo "test-integration: could not stop the S3 server in $DIR" >&2
  rm -rf "$DIR"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/s3-server.sh start "$DIR" >/dev/null
set -a
# shellcheck disable=SC1091
. "$DIR/env"
set +a
echo "test-integration: S3 server at $S3_ENDPOINT" >&2

set +e
npx mocha --no-config --timeout 120000 'out/test/integration/**/*.test.js'
code=$?
set -e
exit "$code"

#!/usr/bin/env bash
# make bench: S3 sync against rclone (tuned and at its defaults) and the AWS CLI, on Ceph RGW and
# on an in-memory S3 endpoint (bench/mem-s3.ts, on loopback and with every request 20 ms away),
# same machine, same run. Results: BENCHMARKS.md ("S3 sync") and bench/results/s3-sync.json.
# Expects the build (make bench builds first). About 20 minutes on 2 cores, most of it the
# 1,000,000-key case (set BENCH_MILLION_OBJECTS=0 to leave it out).
# BENCH_DIR: where downloaded files land (default /dev/shm when present, so the disk's noise
# stays out of a comparison of clients; the million-key case needs about 9 GB there);
# BENCH_ROUNDS (3), BENCH_OBJECTS (10000), BENCH_FAR_OBJECTS (5000), BENCH_LATENCY_MS (20),
# BENCH_BIG_OBJECTS (100000), BENCH_MILLION_OBJECTS (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -f dist/cli.js && -f out/bench/bench.js ]] || { echo "bench: build first (make bench)" >&2; exit 1; }
bash scripts/s3-server.sh install

S3DIR=$(mktemp -d "${TMPDIR:-/tmp}/dsp-bench-s3-XXXXXX")
MEM_PID=
cleanup() {
  local code=$?
  [[ -n $MEM_PID ]] && kill "$MEM_PID" 2>/dev/null
  bash scripts/s3-server.sh stop "$S3DIR" >/dev/null 2>&1 || echo "bench: could not stop the S3 server in $S3DIR" >&2
  rm -rf "$S3DIR"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/s3-server.sh start "$S3DIR" >/dev/null
set -a
# shellcheck disable=SC1091
. "$S3DIR/env"
set +a

# The in-memory endpoint: it prints its port once listening.
node out/bench/mem-s3.js 0 >"$S3DIR/mem.port" 2>"$S3DIR/mem.log" &
MEM_PID=$!
for _ in $(seq 1 100); do
  [[ -s $S3DIR/mem.port ]] && break
  kill -0 "$MEM_PID" 2>/dev/null || { cat "$S3DIR/mem.log" >&2; exit 1; }
  sleep 0.1
done
MEM_ENDPOINT="http://127.0.0.1:$(head -1 "$S3DIR/mem.port")"
export MEM_ENDPOINT

if [[ -z ${BENCH_DIR:-} && -d /dev/shm && -w /dev/shm ]]; then export BENCH_DIR=/dev/shm; fi
node out/bench/bench.js

#!/usr/bin/env bash
# A real S3 server for tests and benchmarks: single-node Ceph RADOS Gateway
# (one monitor, one memstore OSD, radosgw) on 127.0.0.1, all state in one DIR.
#
# Usage:
#   scripts/s3-server.sh install            # apt-get ceph + radosgw + rclone + awscli if missing (root)
#   scripts/s3-server.sh start DIR [PORT]   # start mon, osd, rgw; write and print DIR/env
#   scripts/s3-server.sh stop DIR           # stop rgw, osd, mon (safe to call twice)
#
# DIR/env (KEY=VALUE lines, for `set -a; . DIR/env; set +a` or a dotenv loader):
#   S3_ENDPOINT=http://127.0.0.1:PORT
#   S3_ACCESS_KEY / S3_SECRET_KEY              (uid "dsp")
#   S3_OTHER_ACCESS_KEY / S3_OTHER_SECRET_KEY  (uid "other", for wrong-permission tests)
#   S3_REGION=us-east-1
# Keys can be overridden with env S3_ACCESS_KEY, S3_SECRET_KEY, S3_OTHER_ACCESS_KEY,
# S3_OTHER_SECRET_KEY. Data lives in RAM (memstore, capped at 2 GiB) and is gone after stop.
# Env S3_START_TIMEOUT (seconds, default 60) bounds each wait in start; env S3_MEMSTORE_BYTES
# (default 2 GiB) caps the data held (writes fail once it is about 95% full).
# DIR/log/steps.log has a timestamped trace of start; DIR/log/*.log are the daemons' logs.
set -euo pipefail

PROG=$(basename "$0")
START_TIMEOUT=${S3_START_TIMEOUT:-60}
MEMSTORE_BYTES=${S3_MEMSTORE_BYTES:-2147483648}
DAEMONS_STOP_ORDER=(rgw osd mon)
# Debian's python3 (ceph-common depends on it; it has the rados module). A pyenv shim earlier on
# PATH lacks the module and costs ~0.5 s per call.
PY=/usr/bin/python3

die() { echo "$PROG: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }

usage() {
  cat >&2 <<EOF
usage: $PROG install
       $PROG start DIR [PORT]
       $PROG stop DIR
EOF
  exit 2
}

# ---------------------------------------------------------------- install

have_all() {
  local c
  for c in "$@"; do
    case $c in
      /*) [[ -x $c ]] || return 1 ;;
      *) command -v "$c" >/dev/null 2>&1 || return 1 ;;
    esac
  done
}

CEPH_TOOLS=(ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool /usr/bin/python3)

cmd_install() {
  local -a pkgs=()
  have_all "${CEPH_TOOLS[@]}" && "$PY" -c 'import rados' 2>/dev/null \
    || pkgs+=(ceph-mon ceph-osd radosgw ceph-common)
  have_all rclone || pkgs+=(rclone)
  # Check the Debian path: a pyenv shim may shadow it on PATH.
  have_all /usr/bin/aws || pkgs+=(awscli)
  if ((${#pkgs[@]} == 0)); then
    log "everything already installed"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "install needs root (missing: ${pkgs[*]})"
  export DEBIAN_FRONTEND=noninteractive
  log "installing: ${pkgs[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update
  apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${pkgs[@]}"
  have_all "${CEPH_TOOLS[@]}" rclone /usr/bin/aws \
    || die "install finished but some tools are still missing"
}

# ---------------------------------------------------------------- helpers

# Print "RGW_PORT MON_PORT": the requested RGW port (0 = any free one) and a free monitor port,
# both checked by binding them on 127.0.0.1 at the same time.
pick_ports() {
  "$PY" - "$1" <<'PYEOF'
import socket, sys
socks = []
for port in (int(sys.argv[1]), 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        sys.exit("port %d on 127.0.0.1 is not free: %s" % (port, e))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PYEOF
}

# "osd new UUID" straight through librados (the ceph CLI takes 1-2 s more for the same); prints
# the new OSD's id. Arguments: conf, uuid, timeout.
OSD_NEW_PY='
import json, sys
import rados
conf, uuid, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = rados.Rados(conffile=conf, name="client.admin")
r.connect(timeout=timeout)
ret, out, err = r.mon_command(json.dumps({"prefix": "osd new", "uuid": uuid, "format": "json"}),
                              b"", timeout=timeout)
r.shutdown()
if ret != 0:
    sys.exit("osd new failed: %d %s" % (ret, err))
print(json.loads(out)["osdid"])
'

# Any HTTP answer on the port (anonymous ListBuckets). Bash /dev/tcp: no curl needed.
http_answers() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3
    IFS= read -r line <&3 || exit 1
    [[ $line == HTTP/1.[01]\ * ]]' _ "$1" 2>/dev/null
}

# Is process $1 one of ours (its command line names our conf) and not a zombie?
# Bash builtins only: this runs in polling loops.
is_ours() {
  local pid=$1 stat
  local -a args
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  [[ " ${args[*]} " == *" $DIR/ceph.conf "* ]] || return 1
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Sets LIVE_PID to the recorded PID of daemon $1 (mon, osd, rgw) if that process is still ours.
live_pid() {
  LIVE_PID=
  local f=$DIR/pids/$1.pid pid
  [[ -f $f ]] || return 1
  read -r pid <"$f" || return 1
  is_ours "$pid" || return 1
  LIVE_PID=$pid
}

STARTED=()

# Start a daemon in the background in its own session, stdio to DIR/log/NAME.out; record its PID.
spawn() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  local pid=$!
  disown "$pid"
  echo "$pid" >"$DIR/pids/$name.pid"
  STARTED+=("$name")
  echo "=== $(date +%T.%N) spawned $name (pid $pid): $*" >>"$DIR/log/steps.log"
  # Until the forked shell has exec'd the daemon, its command line is still this script's.
  local deadline=$((SECONDS + 10))
  until is_ours "$pid"; do
    [[ -e /proc/$pid ]] || die "ceph $name daemon exited at once"
    ((SECONDS < deadline)) || die "ceph $name daemon did not start"
    sleep 0.01
  done
}

print_logs() {
  local f
  for f in "$DIR"/log/*; do
    [[ -s $f ]] || continue
    echo "----- tail of $f -----" >&2
    tail -n 25 "$f" >&2
  done
}

check_daemons() {
  local d
  for d in "${STARTED[@]}"; do
    live_pid "$d" || die "$1: ceph $d daemon exited"
  done
}

# Start a step (an external command) in the background in its own process group, output to
# DIR/log/steps.log (or to file $2 if given as ">FILE"); wait_steps collects it.
declare -A JOBS=()
bg_step() {
  local what=$1 out=$DIR/log/steps.log
  shift
  if [[ $1 == ">"* ]]; then
    out=${1#>}
    shift
  fi
  echo "=== $(date +%T.%N) $what: $*" >>"$DIR/log/steps.log"
  setsid "$@" </dev/null >>"$out" 2>>"$DIR/log/steps.log" &
  JOBS[$!]=$what
}

kill_steps() {
  local pid
  for pid in "${!JOBS[@]}"; do
    kill -s KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "JOBS[$pid]"
  done
}

# Wait for all background steps, bounded; fail fast if one fails or a daemon started so far dies.
wait_steps() {
  local deadline=$((SECONDS + START_TIMEOUT)) pid rc
  while ((${#JOBS[@]} > 0)); do
    for pid in "${!JOBS[@]}"; do
      kill -0 "$pid" 2>/dev/null && continue
      rc=0
      wait "$pid" || rc=$?
      ((rc == 0)) || die "${JOBS[$pid]}: failed (exit $rc)"
      echo "=== $(date +%T.%N) ${JOBS[$pid]}: done" >>"$DIR/log/steps.log"
      unset "JOBS[$pid]"
    done
    ((${#JOBS[@]} > 0)) || break
    check_daemons "${JOBS[*]}"
    ((SECONDS < deadline)) || die "timed out after ${START_TIMEOUT}s: ${JOBS[*]}"
    sleep 0.02
  done
}

run_step() {
  bg_step "$@"
  wait_steps
}

# Poll a condition (a command) until true, bounded, failing fast if a daemon dies.
wait_for() {
  local what=$1
  shift
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$@"; do
    check_daemons "waiting for $what"
    ((SECONDS < deadline)) || die "timed out after ${START_TIMEOUT}s waiting for $what"
    sleep 0.02
  done
  echo "=== $(date +%T.%N) $what: done" >>"$DIR/log/steps.log"
}

stop_daemon() {
  local name=$1 pid sig=TERM deadline
  if ! live_pid "$name"; then
    rm -f "$DIR/pids/$name.pid"
    return 0
  fi
  pid=$LIVE_PID
  # The memstore OSD would write all its in-RAM data to DIR on a clean shutdown; the data is
  # thrown away anyway, so kill it outright.
  [[ $name == osd ]] && sig=KILL
  kill -s "$sig" "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 30))
  while live_pid "$name"; do
    if ((SECONDS >= deadline)) && [[ $sig != KILL ]]; then
      log "$name (pid $pid) still running after 30s, sending SIGKILL"
      sig=KILL
      kill -s KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 30))
    elif ((SECONDS >= deadline)); then
      die "$name (pid $pid) did not exit after SIGKILL"
    fi
    sleep 0.02
  done
  rm -f "$DIR/pids/$name.pid"
}

check_key() {
  [[ $2 =~ ^[A-Za-z0-9/+=._-]+$ ]] || die "$1 must match [A-Za-z0-9/+=._-]+"
}

# ---------------------------------------------------------------- start

write_conf() {
  cat >"$DIR/ceph.conf" <<EOF
# Private single-node Ceph for tests (written by $PROG). Nothing here leaves $DIR or 127.0.0.1.
[global]
fsid = $FSID
mon initial members = a
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false

# No cephx; the monitor client mode must then still allow crc, or radosgw loops on
# "get_initial_auth_request returned -13".
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure

# Everything in the private folder.
run dir = $DIR/run
crash dir = $DIR/crash
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
keyring = $DIR/keyring/\$name.keyring
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
rgw data = $DIR/rgw/\$cluster-\$id
mon cluster log to file = false
mon cluster log file = $DIR/log/cluster.log
log to stderr = false
err to stderr = true
client mount timeout = $START_TIMEOUT
rados mon op timeout = $START_TIMEOUT

# One OSD, one copy, data in RAM.
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# A fullish disk must not stop the monitor.
mon data avail crit = 0
mon data avail warn = 0

# Fast start (2 s instead of 13 s). With the default 5 s tick, a pool created while the OSD
# boots sometimes waited for the next tick before its PGs were made (start took 7-10 s).
paxos propose interval = 0.05
mon tick interval = 1

[client.rgw]
# Without tcp_nodelay=1 every GET and LIST takes 40-50 ms.
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
# Benchmarks run 64 requests in parallel.
rgw thread pool size = 256
rgw max concurrent requests = 2048
rgw override bucket index max shards = 1
rgw dynamic resharding = false
rgw enable usage log = false
EOF
}

on_start_exit() {
  local rc=$? d
  ((rc != 0)) || return 0
  kill_steps
  print_logs
  log "start failed; stopping what was started (state left in $DIR)"
  for d in "${DAEMONS_STOP_ORDER[@]}"; do
    stop_daemon "$d" || true
  done
  exit "$rc"
}

cmd_start() {
  have_all "${CEPH_TOOLS[@]}" || die "ceph is not installed: run '$0 install' first"

  local ak=${S3_ACCESS_KEY:-DSPTESTACCESSKEY}
  local sk=${S3_SECRET_KEY:-dsp-test-secret-key-0123456789}
  local oak=${S3_OTHER_ACCESS_KEY:-DSPOTHERACCESSKEY}
  local osk=${S3_OTHER_SECRET_KEY:-dsp-other-secret-key-0123456789}
  check_key S3_ACCESS_KEY "$ak"
  check_key S3_SECRET_KEY "$sk"
  check_key S3_OTHER_ACCESS_KEY "$oak"
  check_key S3_OTHER_SECRET_KEY "$osk"
  [[ $ak != "$oak" ]] || die "S3_ACCESS_KEY and S3_OTHER_ACCESS_KEY must differ"
  [[ $MEMSTORE_BYTES =~ ^[0-9]+$ ]] || die "bad S3_MEMSTORE_BYTES: $MEMSTORE_BYTES"
  [[ $START_TIMEOUT =~ ^[0-9]+$ ]] || die "bad S3_START_TIMEOUT: $START_TIMEOUT"
  if [[ -n $PORT ]]; then
    if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
      die "bad port: $PORT"
    fi
  fi

  local ports
  ports=$(pick_ports "${PORT:-0}") || die "cannot get ports"
  read -r RGW_PORT MON_PORT <<<"$ports"
  local osd_uuid
  read -r FSID </proc/sys/kernel/random/uuid
  read -r osd_uuid </proc/sys/kernel/random/uuid

  # Refuse a folder with a running cluster or with foreign files; a stopped cluster's folder
  # is cleared (its data was in RAM and is gone anyway).
  local d
  if [[ -e $DIR/ceph.conf ]]; then
    for d in "${DAEMONS_STOP_ORDER[@]}"; do
      ! live_pid "$d" || die "$DIR: a cluster is already running there ('$0 stop $DIR' first)"
    done
    rm -rf "${DIR:?}"/{ceph.conf,env,env.tmp,osd_id,monmap,pids,run,crash,log,keyring,mon,osd,rgw}
  fi
  [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty and is not a folder of this script"
  chmod 700 "$DIR"
  mkdir -p "$DIR"/{pids,run,crash,log,keyring,mon,osd/ceph-0,rgw}
  write_conf
  local conf=$DIR/ceph.conf
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  # Monitor (a mon. keyring is still needed by --mkfs even without cephx), and meanwhile the
  # OSD's store: a fresh cluster's first OSD is always osd.0.
  # shellcheck disable=SC2016 # expanded by the inner bash
  bg_step "mon mkfs" bash -ec '
    monmaptool --create --fsid "$2" --addv a "[v2:127.0.0.1:$3]" "$1/monmap"
    ceph-authtool --create-keyring "$1/keyring/mon.a.keyring" --gen-key -n mon. --cap mon "allow *"
    ceph-mon -c "$1/ceph.conf" --mkfs -i a --monmap "$1/monmap" --keyring "$1/keyring/mon.a.keyring"
  ' _ "$DIR" "$FSID" "$MON_PORT"
  # --no-mon-config: no monitor to ask yet.
  bg_step "osd mkfs" ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" --no-mon-config
  wait_steps
  spawn mon ceph-mon -c "$conf" -i a -f

  # Register the OSD (waits for the monitor's quorum), then start it.
  run_step "osd new" ">$DIR/osd_id" "$PY" -c "$OSD_NEW_PY" "$conf" "$osd_uuid" "$START_TIMEOUT"
  local osd_id
  read -r osd_id <"$DIR/osd_id"
  rm -f "$DIR/osd_id"
  [[ $osd_id == 0 ]] || die "osd new returned '$osd_id', expected 0"
  spawn osd ceph-osd -c "$conf" -i 0 -f

  # The first user also creates the realm, zone and rgw pools (waits for the OSD to be up and
  # the PGs active). The second user is made while radosgw starts.
  run_step "create S3 user dsp" \
    radosgw-admin -c "$conf" user create --uid dsp --display-name dsp --access-key "$ak" --secret-key "$sk"
  spawn rgw radosgw -c "$conf" -n client.rgw -f
  bg_step "create S3 user other" \
    radosgw-admin -c "$conf" user create --uid other --display-name other --access-key "$oak" --secret-key "$osk"
  wait_for "radosgw to answer HTTP on 127.0.0.1:$RGW_PORT" http_answers "$RGW_PORT"
  wait_steps

  cat >"$DIR/env.tmp" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_ACCESS_KEY=$ak
S3_SECRET_KEY=$sk
S3_OTHER_ACCESS_KEY=$oak
S3_OTHER_SECRET_KEY=$osk
S3_REGION=us-east-1
EOF
  mv "$DIR/env.tmp" "$DIR/env"
  trap - EXIT INT TERM HUP
  cat "$DIR/env"
}

cmd_stop() {
  if [[ ! -d $DIR/pids ]]; then
    log "nothing to stop in $DIR"
    return 0
  fi
  local d
  for d in "${DAEMONS_STOP_ORDER[@]}"; do
    stop_daemon "$d"
  done
}

# ---------------------------------------------------------------- main

(($# >= 1)) || usage
case $1 in
  install)
    (($# == 1)) || usage
    cmd_install
    ;;
  start)
    (($# == 2 || $# == 3)) || usage
    mkdir -p "$2"
    DIR=$(cd "$2" && pwd -P)
    PORT=${3:-}
    cmd_start
    ;;
  stop)
    (($# == 2)) || usage
    [[ -d $2 ]] || { log "nothing to stop: $2 does not exist"; exit 0; }
    DIR=$(cd "$2" && pwd -P)
    cmd_stop
    ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# Installs everything the end-to-end tests need: a real VS Code workbench
# (code-server, served to a browser) plus Debian's Chromium to drive it.
#
# Follows /work/shared/RECIPES.md "A real VS Code for end-to-end tests".
# No internet is needed beyond Debian's apt mirrors and the npm registry:
# code-server's postinstall (which downloads ripgrep) is replaced by the
# manual steps below.
#
# Idempotent: when the marker file matches the pinned version and the apt
# packages are present, it only re-checks `entry.js --version` and exits.
#
# Usage: scripts/setup-code-server.sh [--force]
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
APT_PACKAGES=(libkrb5-dev ripgrep chromium)
# Native modules of VS Code's server that code-server's postinstall would build.
VSCODE_NATIVE_MODULES=(kerberos @parcel/watcher @vscode/spdlog native-watchdog @vscode/deviceid)

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${ROOT_DIR}/.tools/code-server"
CS_DIR="${TOOLS_DIR}/node_modules/code-server"
VSCODE_DIR="${CS_DIR}/lib/vscode"
MARKER="${TOOLS_DIR}/.setup-complete"
MARKER_CONTENT="code-server@${CODE_SERVER_VERSION} node@$(node -p 'process.versions.modules')"

FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

START_TS=$(date +%s)
log() { printf '[setup-code-server +%ss] %s\n' "$(( $(date +%s) - START_TS ))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_packages_missing() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -gt 0 ]]; then printf '%s\n' "${missing[@]}"; fi
}

check_version() {
  local out cfg="${TOOLS_DIR}/version-check-config.yaml"
  # Private --config and XDG dirs: otherwise even --version writes
  # ~/.config/code-server/config.yaml and ~/.local/share/code-server/coder-logs.
  [[ -f "$cfg" ]] || printf 'auth: none\n' > "$cfg"
  out="$(XDG_DATA_HOME="${TOOLS_DIR}/xdg-data" XDG_CONFIG_HOME="${TOOLS_DIR}/xdg-config" \
    node "${CS_DIR}/out/node/entry.js" --config "$cfg" --version 2>&1)" || { log "$out"; return 1; }
  if ! grep -q "^${CODE_SERVER_VERSION//./\\.} .*with Code" <<<"$out"; then
    log "unexpected version output: $out"
    return 1
  fi
  grep "^${CODE_SERVER_VERSION//./\\.} " <<<"$out"
}

# ---------------------------------------------------------------- fast path
mapfile -t MISSING_APT < <(apt_packages_missing)
if [[ $FORCE -eq 0 && ${#MISSING_APT[@]} -eq 0 && -f "$MARKER" && "$(cat "$MARKER")" == "$MARKER_CONTENT" ]]; then
  if out="$(check_version)"; then
    log "already installed: ${out%%$'\n'*} (delete ${MARKER} or pass --force to reinstall)"
    exit 0
  fi
  log "marker present but code-server does not start; reinstalling"
fi
rm -f "$MARKER"

# ---------------------------------------------------------------- apt
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
if [[ ${#MISSING_APT[@]} -gt 0 ]]; then
  log "apt: installing ${MISSING_APT[*]}"
  export DEBIAN_FRONTEND=noninteractive
  need_update=0
  for p in "${MISSING_APT[@]}"; do
    cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then need_update=1; fi
  done
  if [[ $need_update -eq 1 ]]; then
    log "apt: package lists lack a candidate, running apt-get update"
    as_root apt-get "${APT_OPTS[@]}" update
  fi
  if ! as_root apt-get "${APT_OPTS[@]}" install -y "${MISSING_APT[@]}"; then
    # Stale lists (e.g. a security update replaced the .deb) -> refresh and retry once.
    log "apt: install failed, refreshing package lists and retrying"
    as_root apt-get "${APT_OPTS[@]}" update
    as_root apt-get "${APT_OPTS[@]}" install -y "${MISSING_APT[@]}"
  fi
fi
command -v rg >/dev/null || die "rg not found after apt install"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium not found after apt install"
[[ -f /usr/include/krb5.h || -f /usr/include/krb5/krb5.h ]] || die "krb5 headers missing"

# ---------------------------------------------------------------- native build env
# node-gyp must use the local Node headers: downloading them needs the internet.
NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [[ -f "${NODE_PREFIX}/include/node/common.gypi" ]]; then
  NODEDIR="$NODE_PREFIX"
elif [[ -f /usr/include/node/common.gypi ]]; then
  NODEDIR=/usr
else
  die "Node headers (include/node/common.gypi) not found under ${NODE_PREFIX} or /usr"
fi
export npm_config_nodedir="$NODEDIR"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
NPM_ROOT="$(npm root -g)/npm"
NODE_GYP="${NPM_ROOT}/node_modules/node-gyp/bin/node-gyp.js"
[[ -f "$NODE_GYP" ]] || die "npm's bundled node-gyp not found at ${NODE_GYP}"
export npm_config_node_gyp="$NODE_GYP"
export JOBS="${JOBS:-$(nproc)}"   # node-gyp parallel make

# ---------------------------------------------------------------- code-server
mkdir -p "$TOOLS_DIR"
if [[ ! -f "${TOOLS_DIR}/package.json" ]]; then
  # Own package.json so npm does not walk up and install into the project.
  cat > "${TOOLS_DIR}/package.json" <<'EOF'
{
  "name": "e2e-code-server-tools",
  "private": true,
  "description": "code-server for the end-to-end tests (installed by scripts/setup-code-server.sh)"
}
EOF
fi

# Always run (cheap when up to date): also repairs an interrupted earlier install.
log "npm: installing code-server@${CODE_SERVER_VERSION} (scripts disabled)"
(cd "$TOOLS_DIR" && npm install --ignore-scripts --save-exact "code-server@${CODE_SERVER_VERSION}")
[[ -f "${CS_DIR}/out/node/entry.js" ]] || die "code-server entry.js missing after npm install"

# ---- the manual equivalent of code-server's postinstall
log "npm: installing VS Code server dependencies in lib/vscode"
(cd "$VSCODE_DIR" && npm install --omit=dev --ignore-scripts)

# build-from-source: kerberos (prebuild-install) and argon2 (node-pre-gyp) would first
# try to download binaries from GitHub, which is unreachable here; compile directly.
# Not for @parcel/watcher: with it, it compiles instead of using its platform package.
# (npm 11 warns "Unknown env config build-from-source": harmless, the scripts read the env.)
log "npm: rebuilding native modules: ${VSCODE_NATIVE_MODULES[*]}"
for m in "${VSCODE_NATIVE_MODULES[@]}"; do
  if [[ "$m" == "@parcel/watcher" ]]; then
    (cd "$VSCODE_DIR" && npm rebuild --foreground-scripts "$m")
  else
    (cd "$VSCODE_DIR" && npm_config_build_from_source=true npm rebuild --foreground-scripts "$m")
  fi
done

log "node-gyp: building node-pty"
(cd "${VSCODE_DIR}/node_modules/node-pty" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" -j "$JOBS")

log "linking ripgrep and node_modules.asar"
mkdir -p "${VSCODE_DIR}/node_modules/@vscode/ripgrep/bin"
ln -sfn "$(command -v rg)" "${VSCODE_DIR}/node_modules/@vscode/ripgrep/bin/rg"
if [[ ! -e "${VSCODE_DIR}/node_modules.asar" ]]; then
  ln -s node_modules "${VSCODE_DIR}/node_modules.asar"
fi

log "npm: installing built-in extensions' dependencies"
(cd "${VSCODE_DIR}/extensions" && npm install --omit=dev --ignore-scripts)

log "npm: rebuilding argon2"
(cd "$TOOLS_DIR" && npm_config_build_from_source=true npm rebuild --foreground-scripts argon2)

# ---------------------------------------------------------------- verify
# npm may skip install scripts by policy without failing; check the binaries exist.
# Each entry: directories where the module's compiled .node file may live
# (@parcel/watcher ships its binary in a per-platform package).
check_node_file() {
  local found="" dir
  for dir in "$@"; do
    [[ -d "$dir" ]] || continue
    found="$(find "$dir" -maxdepth 2 -name '*.node' -not -path '*/obj.target/*' -print -quit 2>/dev/null || true)"
    [[ -n "$found" ]] && break
  done
  [[ -n "$found" ]] || die "native module not built: $1 (no .node file)"
  log "  ok: ${found#"${TOOLS_DIR}/"}"
}
log "checking native modules"
VNM="${VSCODE_DIR}/node_modules"
check_node_file "${VNM}/kerberos/build/Release"
check_node_file "${VNM}/@parcel/watcher/build/Release" "${VNM}/@parcel/watcher-linux-$(node -p process.arch)-glibc"
check_node_file "${VNM}/@vscode/spdlog/build/Release"
check_node_file "${VNM}/native-watchdog/build/Release"
check_node_file "${VNM}/@vscode/deviceid/build/Release"
check_node_file "${VNM}/node-pty/build/Release"
check_node_file "${CS_DIR}/node_modules/argon2/lib/binding" "${TOOLS_DIR}/node_modules/argon2/lib/binding" \
  "${CS_DIR}/node_modules/argon2/build/Release" "${TOOLS_DIR}/node_modules/argon2/build/Release"
# Load each from Node to catch ABI mismatches (the server runs under this node).
(cd "$VSCODE_DIR" && node -e '
  for (const m of ["kerberos","@parcel/watcher","@vscode/spdlog","native-watchdog","@vscode/deviceid","node-pty"]) {
    try { require(m); } catch (e) { console.error("cannot load " + m + ": " + e.message); process.exit(1); }
  }')
[[ -x "${VSCODE_DIR}/node_modules/@vscode/ripgrep/bin/rg" ]] || die "ripgrep link broken"

version_out="$(check_version)" || die "code-server --version failed"
log "code-server: ${version_out//$'\n'/ }"
printf '%s' "$MARKER_CONTENT" > "$MARKER"
log "done in $(( $(date +%s) - START_TS ))s"

#!/usr/bin/env bash
# Times `codex --version` four ways, median of RUNS each, interleaved: through the npm bin after a
# normal `npm install -g` (the fast path: the bin leads to the native program), through the JS
# launcher (`npm install -g --ignore-scripts`), the bare program, and `node -e 0`. The packages
# are this host's release, published by npm/publish.sh to Verdaccio on loopback.
#
# Targets: fast path <= 1.1x the bare program; launcher <= node -e 0 + bare + 5 ms.
# Usage: bash bench/npm.sh [RUNS]     (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
work=$PWD/target/bench-npm
V=0.0.4-bench.1
rm -rf "$work"
# shellcheck source=bench/lib.sh
. bench/lib.sh
build_releases "$work" "$V"
tools=$(cargo run --quiet --locked -p xtask -- npm-tools)

# A registry of our own on loopback.
mkdir -p "$work/registry/storage"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry/config.yaml" <<EOF
storage: $work/registry/storage
auth:
  htpasswd:
    file: $work/registry/htpasswd
uplinks: {}
packages:
  '**':
    access: \$all
    publish: \$authenticated
web:
  enable: false
log: { type: stdout, format: pretty, level: error }
max_body_size: 200mb
EOF
node "$tools/node_modules/verdaccio/bin/verdaccio" --config "$work/registry/config.yaml" \
    --listen "127.0.0.1:$port" >"$work/registry/log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true; kill "${MIRROR_PID:-}" 2>/dev/null || true' EXIT
url=http://127.0.0.1:$port/
for _ in $(seq 100); do curl -fsS "$url-/ping" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -fsS -X PUT -H 'content-type: application/json' -d '{"name":"bench","password":"bench-pass"}' \
    "$url-/user/org.couchdb.user:bench" | node -p 'JSON.parse(require("fs").readFileSync(0)).token')
printf 'registry=%s\n//127.0.0.1:%s/:_authToken=%s\n' "$url" "$port" "$token" >"$work/npmrc"
export NPM_CONFIG_USERCONFIG=$work/npmrc npm_config_cache=$work/npm-cache CODEX_NO_UPDATE_CHECK=1
sh npm/publish.sh --registry "$url" "$work/$V" >/dev/null 2>&1
npm install -g --prefix "$work/fast" "@openai/codex@$V" --loglevel=error >/dev/null 2>&1
npm install -g --prefix "$work/launcher" --ignore-scripts "@openai/codex@$V" --loglevel=error >/dev/null 2>&1
bare=$work/launcher/lib/node_modules/@openai/codex/node_modules/@openai/codex-$(node -p 'process.platform + "-" + process.arch')/bin/codex
head -c 4 "$(readlink -f "$work/fast/bin/codex")" | grep -q ELF || { echo "the fast path is not in place" >&2; exit 1; }

fast() { "$work/fast/bin/codex" --version >/dev/null; }
launcher() { "$work/launcher/bin/codex" --version >/dev/null; }
bare() { "$bare" --version >/dev/null; }
node0() { node -e 0; }
for f in fast launcher bare node0; do : >"$work/$f.ns"; "$f"; done # warm the page cache
for ((i = 0; i < runs; i++)); do
    for f in fast launcher bare node0; do
        s=$(now); "$f"; echo $(($(now) - s)) >>"$work/$f.ns"
    done
done
ms() { median <"$work/$1.ns" | awk '{ printf "%.1f", $1 / 1e6 }'; }
echo "median of $runs runs each"
printf '%-44s %7s ms\n' "bare program" "$(ms bare)"
printf '%-44s %7s ms\n' "npm bin, fast path" "$(ms fast)"
printf '%-44s %7s ms\n' "npm bin, JS launcher (--ignore-scripts)" "$(ms launcher)"
printf '%-44s %7s ms\n' "node -e 0" "$(ms node0)"
awk -v f="$(ms fast)" -v b="$(ms bare)" -v l="$(ms launcher)" -v n="$(ms node0)" 'BEGIN {
    printf "fast path / bare:                 %.2fx (target <= 1.1x)\n", f / b
    printf "launcher - (node -e 0 + bare):    %+.1f ms (target <= +5 ms)\n", l - n - b
}'
echo "installed size (npm -g, fast path): $(du -sh "$work/fast" | cut -f1)"

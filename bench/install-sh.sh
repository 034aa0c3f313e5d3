#!/usr/bin/env bash
# Times install.sh end to end (a fresh install of the host release under dash with curl: manifest,
# download, checksum, extraction, both --version smoke tests, layout, receipt) over loopback,
# against a floor measured in the same run: one curl fetching the same files, sha256sum checking
# them, tar extracting both archives.
#
# Usage: bash bench/install-sh.sh [RUNS]     (default 15 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
work=$PWD/target/bench-install-sh
V=0.0.3-bench.1
rm -rf "$work"
# shellcheck source=bench/lib.sh
. bench/lib.sh
build_releases "$work" "$V"
start_mirror "$work" "$V"

floor_once() {
    local d u args
    d=$(mktemp -d "$work/floor.XXXXXX")
    u=$base/download/v$V
    args=(-fsS -o "$d/manifest.json" "$u/manifest.json")
    for bin in codex codex-exec-server; do
        args+=(-o "$d/$bin-$triple.tar.gz" "$u/$bin-$triple.tar.gz")
        args+=(-o "$d/$bin-$triple.tar.gz.sha256" "$u/$bin-$triple.tar.gz.sha256")
    done
    curl "${args[@]}"
    (cd "$d" && sha256sum --quiet -c ./*.sha256 && for a in ./*.tar.gz; do tar xzf "$a"; done)
    rm -rf "$d"
}

ours_once() {
    local home
    home=$(mktemp -d "$work/home.XXXXXX")
    HOME=$home dash install.sh --base-url "$base" --version "$V" --no-modify-path -q >/dev/null
    rm -rf "$home"
}

: >"$work/floor.ns"
: >"$work/ours.ns"
for _ in $(seq "$runs"); do
    s=$(now); floor_once; echo $(($(now) - s)) >>"$work/floor.ns"
    s=$(now); ours_once; echo $(($(now) - s)) >>"$work/ours.ns"
done
echo "codex archive: $(($(stat -c %s "$work/$V/codex-$triple.tar.gz") / 1024)) KiB; $runs runs, medians"
report "floor (curl + sha256sum + tar)" "install.sh (dash + curl, verified)" "$work/floor.ns" "$work/ours.ns"

#!/usr/bin/env bash
# Times `codex update` (release A -> B, host target) over loopback against a floor measured in the
# same run: curl downloading the same manifest, archives and .sha256 files, sha256sum checking
# them and tar extracting both archives. Prints the medians and their ratio.
#
# The floor skips what `codex update` also does: reading the receipt, the lock, running both new
# binaries with --version before switching, the atomic switch and the receipt.
#
# Usage: bash bench/update.sh [RUNS]     (default 15 runs; builds two host releases first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
work=$PWD/target/bench-update
A=0.0.1-bench.1
B=0.0.2-bench.1
rm -rf "$work"
# shellcheck source=bench/lib.sh
. bench/lib.sh
build_releases "$work" "$A" "$B"
start_mirror "$work" "$B"

home=$work/home
HOME=$home CODEX_HOME=$home/.codex "$bench_bin/codex-e2e-install" \
    --base-url "$base" --version "$A" --codex-home "$home/.codex" --bin-dir "$home/bin" >/dev/null
codex=$home/bin/codex
root=$home/.codex/packages/standalone

ours_once() {
    HOME=$home CODEX_HOME=$home/.codex CI=1 "$codex" update --yes --version "$B" >/dev/null
}

reset_to_a() {
    HOME=$home CODEX_HOME=$home/.codex CI=1 "$codex" update --rollback >/dev/null
    rm -rf "$root/releases/$B-$triple" "$root/.staging"
}

measure "$runs" "$B" ours_once reset_to_a
size=$(stat -c %s "$work/$B/codex-$triple.tar.gz")
echo "codex archive: $((size / 1024)) KiB; $runs runs, medians"
report "floor (curl + sha256sum + tar)" "codex update (A -> B, verified)" "$work/floor.ns" "$work/ours.ns"

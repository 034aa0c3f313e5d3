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

# The install.sh the release publishes: pinned to the release and trusting the key that signed it
# (the repository's copy trusts only the production key, and this release is dev-signed).
script=$work/$V/install.sh

ours_once() {
    local home
    home=$(mktemp -d "$work/home.XXXXXX")
    HOME=$home dash "$script" --base-url "$base" --version "$V" --no-modify-path -q >/dev/null
    rm -rf "$home"
}

measure "$runs" "$V" ours_once
echo "codex archive: $(($(stat -c %s "$work/$V/codex-$triple.tar.gz") / 1024)) KiB; $runs runs, medians"
report "floor (curl + sha256sum + tar)" "install.sh (dash + curl, verified)" "$work/floor.ns" "$work/ours.ns"

#!/usr/bin/env bash
# Times `cargo xtask dist` for every target, from clean and with nothing changed, against a floor
# measured in the same run: plain `cargo zigbuild` of the same binaries, targets and profile
# (no archives, checksums, manifest or verification). Prints the ratios, then sizes per target.
#
# Usage: bash bench/dist-build.sh        (about 6 minutes on 2 cores; uses target/bench-*)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC2016 # the backticks are literal Markdown
targets=$(sed -n 's/^| `\([a-z0-9_-]*\)` .*/\1/p' docs/targets.md)
ours_dir=$PWD/target/bench-ours
floor_dir=$PWD/target/bench-floor
rm -rf "$ours_dir" "$floor_dir"

now() { date +%s.%N; }
elapsed() { awk "BEGIN { print $2 - $1 }"; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

# Floor first, so the shared crates.io download cache is warm for both.
zigbuild_all() {
    for t in $targets; do
        CARGO_TARGET_DIR=$floor_dir cargo zigbuild --quiet --locked --profile dist --target "$t" \
            -p codex-cli -p codex-exec-server 2>/dev/null
    done
}
cargo fetch --locked --quiet
s=$(now); zigbuild_all; floor_clean=$(elapsed "$s" "$(now)")
s=$(now); zigbuild_all; floor_noop=$(elapsed "$s" "$(now)")

# Compile the build driver itself outside the timed region: the floor has no driver to build.
CARGO_TARGET_DIR=$ours_dir cargo build --quiet --locked -p xtask
s=$(now); CARGO_TARGET_DIR=$ours_dir cargo xtask dist --out "$ours_dir/dist" >/dev/null 2>&1
ours_clean=$(elapsed "$s" "$(now)")
s=$(now); CARGO_TARGET_DIR=$ours_dir cargo xtask dist --out "$ours_dir/dist" >"$ours_dir/summary.txt" 2>/dev/null
ours_noop=$(elapsed "$s" "$(now)")

printf '%-34s %10s %10s %7s\n' "measure" "xtask dist" "floor" "ratio"
printf '%-34s %9.1fs %9.1fs %6sx\n' "full build, clean target dir" "$ours_clean" "$floor_clean" \
    "$(ratio "$ours_clean" "$floor_clean")"
printf '%-34s %9.1fs %9.1fs %6sx\n' "rebuild with nothing changed" "$ours_noop" "$floor_noop" \
    "$(ratio "$ours_noop" "$floor_noop")"
echo
cat "$ours_dir/summary.txt"

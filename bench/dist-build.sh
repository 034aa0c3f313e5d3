#!/usr/bin/env bash
# Times `cargo xtask dist` for every target, from clean and with nothing changed, against a floor
# measured in the same run: `cargo zigbuild` of the same binaries, targets and profile in the
# same environment (`cargo xtask dist --print-build-env`: flags, path remapping, placeholders),
# without archives, checksums, manifest, signing or verification. Prints the ratios, then sizes
# per target.
#
# Usage: bash bench/dist-build.sh           (every target; about 30 minutes on 2 cores)
#        bash bench/dist-build.sh --smoke   (the test run's smoke run: the host target, nothing
#                                            changed, in the test run's own warm target dir)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC2016 # the backticks are literal Markdown
targets=$(sed -n 's/^| `\([a-z0-9_-]*\)` .*/\1/p' docs/targets.md)
[ -n "$targets" ] || { echo "no targets found in docs/targets.md" >&2; exit 1; }
smoke=
target_args=()
if [ "${1:-}" = --smoke ]; then
    smoke=1
    target_args=(--host-only)
else
    for t in $targets; do target_args+=(--target "$t"); done
fi

work=$PWD/target/bench-dist-build
rm -rf "$work"
mkdir -p "$work"
if [ -n "$smoke" ]; then
    # Both sides reuse what the test run built, so only the no-change rows are measured.
    ours_dir=$PWD/target
else
    ours_dir=$work/ours
fi

now() { date +%s.%N; }
elapsed() { awk "BEGIN { print $2 - $1 }"; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

# The environment each target is compiled in. The floor compiles in a target dir of its own
# (the full run), or in ours (the smoke run, where both are already built).
CARGO_TARGET_DIR=$ours_dir cargo xtask dist --print-build-env "${target_args[@]}" \
    >"$work/build-env.txt" 2>/dev/null
zigbuild=$(sed -n 's/^# cargo-zigbuild: //p' "$work/build-env.txt")
# The targets the driver chose (--host-only: this machine's release target), one per `# <triple>`.
targets=$(sed -n 's/^# \([a-z0-9_-]*\) (.*)$/\1/p' "$work/build-env.txt")
zigbuild_all() {
    local t
    for t in $targets; do
        (
            on=
            while IFS= read -r line; do
                case $line in
                    "# $t "*) on=1 ;;
                    "#"*) on= ;;
                    *) if [ -n "$on" ]; then export "${line?}"; fi ;;
                esac
            done <"$work/build-env.txt"
            if [ -z "$smoke" ]; then
                CARGO_TARGET_DIR=$work/floor/$t
                export CARGO_TARGET_DIR
            fi
            profile=$(sed -n "s/^# $t (\(.*\))\$/\1/p" "$work/build-env.txt")
            "$zigbuild" zigbuild --quiet --locked --profile "$profile" --target "$t" \
                -p codex-cli -p codex-exec-server 2>/dev/null
        )
    done
}

# Floor first, so the shared crates.io download cache is warm for both.
cargo fetch --locked --quiet
if [ -z "$smoke" ]; then
    s=$(now); zigbuild_all; floor_clean=$(elapsed "$s" "$(now)")
fi
s=$(now); zigbuild_all; floor_noop=$(elapsed "$s" "$(now)")

# Compile the build driver itself outside the timed region: the floor has no driver to build.
CARGO_TARGET_DIR=$ours_dir cargo build --quiet --locked -p xtask
dist() { CARGO_TARGET_DIR=$ours_dir cargo xtask dist "${target_args[@]}" --out "$work/dist"; }
if [ -z "$smoke" ]; then
    s=$(now); dist >/dev/null 2>&1; ours_clean=$(elapsed "$s" "$(now)")
fi
s=$(now); dist >"$work/summary.txt" 2>/dev/null; ours_noop=$(elapsed "$s" "$(now)")

printf '%-34s %10s %10s %7s\n' "measure" "xtask dist" "floor" "ratio"
if [ -z "$smoke" ]; then
    printf '%-34s %9.1fs %9.1fs %6sx\n' "full build, clean target dir" "$ours_clean" "$floor_clean" \
        "$(ratio "$ours_clean" "$floor_clean")"
fi
printf '%-34s %9.1fs %9.1fs %6sx\n' "rebuild with nothing changed" "$ours_noop" "$floor_noop" \
    "$(ratio "$ours_noop" "$floor_noop")"
echo
cat "$work/summary.txt"

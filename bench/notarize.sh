#!/usr/bin/env bash
# Times `cargo xtask notarize` on a release's four macOS binaries against the loopback stand-in of
# Apple's notary API (tests/src/notary.rs, answering Accepted at once), and a floor measured in the
# same run: tar extracting each macOS archive and `zip -1` zipping each binary (notarize's level),
# the local work any notarization client does. What is left is the client's own: tokens, four
# submissions, the SigV4-signed uploads over loopback, the status requests. Apple's queue time
# (minutes) is not in either figure and cannot be measured here.
#
# Usage: bash bench/notarize.sh [RUNS] [RELEASE_DIR]   (default 5 runs; without RELEASE_DIR, builds
#        the two macOS targets with the fixture profile first, which takes minutes)
#        bash bench/notarize.sh --smoke   (the test run's smoke run: one run on the end-to-end
#        tests' six-target fixture, which tests/bench.rs has built; nothing else is built)
set -euo pipefail
cd "$(dirname "$0")/.."
release=
if [ "${1:-}" = --smoke ]; then
    runs=1
    target_dir=${CARGO_TARGET_DIR:-$PWD/target}
    for a in "$target_dir"/e2e/release-*/codex-aarch64-apple-darwin.tar.gz; do
        [ -f "$a" ] && release=$(dirname "$a")
    done
    if [ -z "$release" ]; then
        echo "no release with macOS archives under $target_dir/e2e; run tests/release.rs first" >&2
        exit 1
    fi
else
    runs=${1:-5}
    release=${2:-}
fi
work=$PWD/target/bench-notarize
rm -rf "$work"
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. bench/lib.sh
if [ -z "$release" ]; then
    release=$work/release
    echo "building the macOS targets..." >&2
    cargo xtask dist --fixture-profile --target x86_64-apple-darwin --target aarch64-apple-darwin \
        --out "$release" >/dev/null 2>&1
fi
cargo build --profile "$bench_profile" --quiet --locked -p codex-e2e --bins

coproc STANDIN { exec "$bench_bin/codex-notary-stand-in" --key-dir "$work/key"; }
trap 'kill "$STANDIN_PID" 2>/dev/null || true' EXIT
read -r notary_url <&"${STANDIN[0]}"
read -r s3_url <&"${STANDIN[0]}"
read -r key_id <&"${STANDIN[0]}"
read -r issuer <&"${STANDIN[0]}"

archives=("$release"/*-apple-darwin.tar.gz)

floor_once() {
    local d a
    d=$(mktemp -d "$work/floor.XXXXXX")
    for a in "${archives[@]}"; do
        tar xzf "$a" -C "$d"
    done
    (cd "$d" && for b in *; do zip -q -1 "$b.zip" "$b"; done)
    rm -rf "$d"
}

ours_once() {
    # The key reaches the command through its environment, as in the release job.
    CODEX_APPLE_API_KEY_P8=$(cat "$work/key/AuthKey.p8") \
        CODEX_APPLE_API_KEY_ID=$key_id CODEX_APPLE_API_ISSUER=$issuer \
        CODEX_NOTARY_URL=$notary_url CODEX_NOTARY_S3_URL=$s3_url \
        "$bench_bin/codex-e2e-xtask" notarize "$release" --poll-interval 0.05 >/dev/null
}

: >"$work/floor.ns"
: >"$work/ours.ns"
for ((i = 0; i < runs; i++)); do
    s=$(now); floor_once; echo $(($(now) - s)) >>"$work/floor.ns"
    s=$(now); ours_once; echo $(($(now) - s)) >>"$work/ours.ns"
done
size=$(cat "${archives[@]}" | wc -c)
echo "${#archives[@]} macOS archives, $((size / 1024)) KiB together; $runs runs, medians"
report "floor (tar xzf + zip -1 of each binary)" "cargo xtask notarize (stand-in, Accepted)" \
    "$work/floor.ns" "$work/ours.ns"

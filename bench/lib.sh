# Shared by the bench scripts (bash): build host releases, serve them on loopback, take medians.
# shellcheck shell=bash

# The cargo profile of the helpers and harnesses: release for real figures; the test run's smoke
# runs pass dev (CODEX_BENCH_PROFILE, docs/release-build.md), which its test build compiled.
bench_profile=${CODEX_BENCH_PROFILE:-release}
case $bench_profile in
    dev) bench_bin=$PWD/target/debug ;;
    *) bench_bin=$PWD/target/$bench_profile ;;
esac

# build_releases WORK VERSION...: host-only releases into WORK/<version>, published in the
# mirror layout under WORK/root/download/v<version>.
build_releases() {
    local work=$1 v
    shift
    mkdir -p "$work/root/download"
    echo "building releases $* for this host..." >&2
    for v in "$@"; do
        cargo xtask dist --host-only --version "$v" --out "$work/$v" >/dev/null 2>&1
        cp -r "$work/$v" "$work/root/download/v$v"
    done
    cargo build --profile "$bench_profile" --quiet --locked -p codex-e2e --bins
    # shellcheck disable=SC2034 # read by the sourcing script
    triple=$(sed -n 's/.*"target": "\(.*\)".*/\1/p' "$work/$v/manifest.json" | head -n 1)
}

# start_mirror WORK LATEST: serves WORK/root on 127.0.0.1 until the calling script exits; sets
# $base to the release base URL.
start_mirror() {
    coproc MIRROR { exec "$bench_bin/codex-mirror" --root "$1/root" --latest "v$2" --until-killed; }
    trap 'kill "$MIRROR_PID" 2>/dev/null || true' EXIT
    # shellcheck disable=SC2034 # read by the sourcing script
    read -r base <&"${MIRROR[0]}"
}

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# report LABEL_FLOOR LABEL_OURS FLOOR_FILE OURS_FILE: medians in ms and their ratio.
report() {
    local floor ours
    floor=$(median <"$3")
    ours=$(median <"$4")
    awk -v f="$floor" -v o="$ours" -v lf="$1" -v lo="$2" 'BEGIN {
        printf "%-40s %7.1f ms\n", lf, f / 1e6
        printf "%-40s %7.1f ms\n", lo, o / 1e6
        printf "%-40s %7.2fx\n", "ratio", o / f
    }'
}

# floor_once VERSION: the floor the installers are compared with: one curl process (one
# connection) for the manifest, both archives and their .sha256 files, then sha256sum -c, then
# tar xzf of both archives.
floor_once() {
    local d u args bin
    d=$(mktemp -d "$work/floor.XXXXXX")
    u=$base/download/v$1
    args=(-fsS -o "$d/manifest.json" "$u/manifest.json")
    for bin in codex codex-exec-server; do
        args+=(-o "$d/$bin-$triple.tar.gz" "$u/$bin-$triple.tar.gz")
        args+=(-o "$d/$bin-$triple.tar.gz.sha256" "$u/$bin-$triple.tar.gz.sha256")
    done
    curl "${args[@]}"
    (cd "$d" && sha256sum --quiet -c ./*.sha256 && for a in ./*.tar.gz; do tar xzf "$a"; done)
    rm -rf "$d"
}

# measure RUNS VERSION OURS [RESET]: alternates the floor and the command OURS, RUNS times,
# running RESET (untimed) after each; nanoseconds go to $work/floor.ns and $work/ours.ns.
measure() {
    local i s
    : >"$work/floor.ns"
    : >"$work/ours.ns"
    for ((i = 0; i < $1; i++)); do
        s=$(now); floor_once "$2"; echo $(($(now) - s)) >>"$work/floor.ns"
        s=$(now); "$3"; echo $(($(now) - s)) >>"$work/ours.ns"
        if [ -n "${4:-}" ]; then "$4"; fi
    done
}

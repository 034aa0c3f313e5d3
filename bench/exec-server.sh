#!/usr/bin/env bash
# Exec-server benchmarks: one-shot latency (pushed events vs a final read, over WebSocket and
# stdio, against a floor of spawning /bin/true in-process, and the same harness against the real
# Codex 0.169 exec-server as an anchor) and throughput (256 MiB of child output against a raw
# pipe read). The harness is crates/exec-server/benches/exec_server.rs; see its header.
#
# Usage: bash bench/exec-server.sh [RUNS] [MIB]     (defaults: 1000 runs, 256 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
mib=${2:-256}
# shellcheck source=bench/lib.sh
. bench/lib.sh
cargo build --profile "$bench_profile" --quiet --locked -p codex-exec-server --bins
# The real Codex comes with the npm test tools (tests/npm-tools/package.json).
codex=$(cargo xtask codex169 || true)
# cargo bench runs the harness in the crate folder: absolute paths.
set -- --runs "$runs" --mb "$mib" --server "$bench_bin/codex-exec-server"
if [ -n "$codex" ]; then
    set -- "$@" --codex "$codex"
else
    echo "no Codex 0.169 binary for this host: running without the anchor" >&2
fi
cargo bench --profile "${CODEX_BENCH_PROFILE:-bench}" --quiet --locked -p codex-exec-server --bench exec_server -- "$@"

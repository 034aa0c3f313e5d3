//! Every benchmark still runs: each script in `bench/` and each `cargo bench` harness at its
//! smallest size (`xtask::bench::SMOKES`), with the helpers the test build compiled. The
//! scripts build host releases with `cargo xtask dist --host-only`, which the fixtures already
//! built, so each run costs seconds plus its one or two iterations.

use xtask::bench::{SMOKES, Smoke};

/// The benchmarks smoked here, one test each; must be every entry of [`SMOKES`].
const SMOKED: [&str; 8] = [
    "install-sh.sh",
    "update.sh",
    "npm.sh",
    "exec-server.sh",
    "dist-build.sh",
    "notarize.sh",
    "agent_overhead",
    "startup",
];

fn smoke(name: &str) {
    let smoke = Smoke::named(name).unwrap_or_else(|| panic!("no smoke run named {name}"));
    // The releases the scripts build are the fixtures' host builds: make sure they exist (and
    // are fresh) before a script asks for them, rather than compile them a second time beside
    // the fixture build.
    let host = xtask::dist::host_target().expect("host");
    codex_e2e::release("0.0.9-bench-smoke.1", &[host]).expect("host release");
    // The scripts' `cargo xtask dist` shares the build driver's caches with the fixture builds.
    let _lock = codex_e2e::release_lock().expect("release lock");
    match smoke.run(&codex_e2e::workspace_root()) {
        Ok(out) => print!("{out}"),
        Err(e) => panic!("{e:#}"),
    }
}

/// A benchmark must time the program users get: codex-cli's dev-dependencies may not change
/// the features its `codex` is built with, since its harnesses time that build. (bench/exec-server.sh
/// times a `cargo build -p codex-exec-server --bins` server, which has no dev-dependencies.)
#[test]
fn cargo_bench_builds_the_shipped_codex() {
    let root = codex_e2e::workspace_root();
    let drift = xtask::bench::dev_feature_drift(&root, "codex-cli").expect("cargo tree");
    assert!(
        drift.is_empty(),
        "`cargo bench -p codex-cli` builds other features than the release: {drift:#?}"
    );
}

#[test]
fn every_benchmark_has_a_smoke_test_here() {
    let all: Vec<&str> = SMOKES.iter().map(Smoke::name).collect();
    assert_eq!(all, SMOKED);
}

#[test]
fn the_install_sh_benchmark_runs() {
    smoke("install-sh.sh");
}

#[test]
fn the_update_benchmark_runs() {
    smoke("update.sh");
}

#[test]
fn the_npm_benchmark_runs() {
    smoke("npm.sh");
}

#[test]
fn the_exec_server_benchmark_runs() {
    smoke("exec-server.sh");
}

#[test]
fn the_dist_build_benchmark_runs() {
    smoke("dist-build.sh");
}

#[test]
fn the_notarize_benchmark_runs() {
    // Its smoke run notarizes the macOS binaries of the six-target fixture (tests/release.rs
    // builds it; within one test run this only finds it fresh).
    let all: Vec<_> = codex_installer::target::TARGETS.iter().collect();
    codex_e2e::release("1.2.3-e2e.1", &all).expect("six-target release");
    smoke("notarize.sh");
}

#[test]
fn the_agent_overhead_benchmark_runs() {
    smoke("agent_overhead");
}

#[test]
fn the_startup_benchmark_runs() {
    smoke("startup");
}

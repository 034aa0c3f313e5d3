//! Start-up cost of the `codex` binary, the two things a script pays on every call:
//! - `codex --version`: spawn to exit;
//! - `codex exec`: spawn to the moment its first request has arrived at the model (the loopback
//!   scripted model): loading config.toml, finding the credentials, checking the workspace,
//!   building the instructions and connecting.
//!
//! The floor, measured in the same run and interleaved with both: spawning `/bin/true` to its
//! exit, the least any process costs here. Medians of RUNS runs each (default 40).
//!
//! `--against PATH` also times another `codex` build (an earlier commit's, say), interleaved
//! with this one, so "no slower than before" is measured in one run on one machine state.
//!
//! `cargo bench -p codex-cli --bench startup [-- RUNS] [--against PATH]`
//!
//! Run it with `-p codex-cli` alone: the `codex` it times then has the release's features
//! (tests/bench.rs checks that codex-cli's dev-dependencies change none of them).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codex_scripted_model::{Reply, ScriptedModel, script};

mod support;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(40);
    let against = args
        .iter()
        .position(|a| a == "--against")
        .map(|i| PathBuf::from(args.get(i + 1).expect("--against PATH")));
    let mut builds = vec![("this build", PathBuf::from(env!("CARGO_BIN_EXE_codex")))];
    if let Some(other) = against {
        builds.push(("--against", other));
    }
    // A workspace as users have it: a git repository with an AGENTS.md.
    let work = support::git_repo();
    std::fs::write(work.path().join("AGENTS.md"), "Run the tests with make.\n").expect("agents");
    let model = ScriptedModel::start(Vec::new()).expect("scripted model");
    let home = support::scripted_home(&model);

    let mut floor = Vec::new();
    let mut version = vec![Vec::new(); builds.len()];
    let mut exec = vec![Vec::new(); builds.len()];
    // One unmeasured round warms the page cache for every program.
    for i in 0..=runs {
        let f = spawn_to_exit(Command::new("/bin/true"));
        for (b, (_, codex)) in builds.iter().enumerate() {
            let mut v = Command::new(codex);
            v.arg("--version");
            let v = spawn_to_exit(v);
            let e = exec_to_first_request(codex, &model, work.path(), home.path());
            if i > 0 {
                version[b].push(v);
                exec[b].push(e);
            }
        }
        if i > 0 {
            floor.push(f);
        }
    }
    let floor = median(&mut floor);
    println!("codex start-up, median of {runs} runs, floor: /bin/true spawn to exit");
    println!("{:<48} {:>10} {:>8}", "what", "median", "× floor");
    println!(
        "{:<48} {:>10} {:>8}",
        "/bin/true (floor)",
        ms(floor),
        "1.00"
    );
    for (b, (build, _)) in builds.iter().enumerate() {
        for (what, samples) in [
            ("codex --version", &mut version[b]),
            ("codex exec, spawn to first request", &mut exec[b]),
        ] {
            let m = median(samples);
            println!(
                "{:<48} {:>10} {:>8.2}",
                format!("{what} ({build})"),
                ms(m),
                m.as_secs_f64() / floor.as_secs_f64()
            );
        }
    }
}

fn spawn_to_exit(mut cmd: Command) -> Duration {
    let began = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    let took = began.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    took
}

/// Spawns `codex exec` and returns how long its first request took to arrive; the model
/// answers it with a one-word message so the run ends normally.
fn exec_to_first_request(
    codex: &Path,
    model: &ScriptedModel,
    work: &Path,
    home: &Path,
) -> Duration {
    model.push(Reply::Sse(script::responses_text("done")));
    let before = model.requests().len();
    let began = Instant::now();
    support::exec(codex, &[], work, home);
    let requests = model.requests();
    assert_eq!(requests.len(), before + 1, "one request per run");
    requests[before].received_at.duration_since(began)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

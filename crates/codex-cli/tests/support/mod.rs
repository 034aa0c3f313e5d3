//! What the codex-cli tests share: directories, and the `codex exec` fixture (a CODEX_HOME
//! whose config points at the scripted model, and a workspace).
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codex_scripted_model::{Reply, ScriptedModel, script};
use serde_json::{Value, json};

/// `git init -q` in `dir`: `codex exec` runs in a git work tree unless told otherwise.
pub fn git_init(dir: &Path) {
    let out = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .output()
        .expect("run git init");
    assert!(out.status.success(), "git init in {}", dir.display());
}

pub const KEY_VAR: &str = "CODEX_EXEC_TEST_API_KEY";

/// A CODEX_HOME whose config points at a scripted model, and a workspace.
pub struct Fixture {
    /// The CODEX_HOME.
    pub home: tempfile::TempDir,
    /// The workspace: a git repository, as `codex exec` wants without --skip-git-repo-check.
    pub work: tempfile::TempDir,
    /// The model.
    pub model: ScriptedModel,
}

impl Fixture {
    pub fn new(replies: Vec<Reply>) -> Fixture {
        Fixture::with_config(replies, "")
    }

    /// `extra` is appended to the generated config.toml.
    pub fn with_config(replies: Vec<Reply>, extra: &str) -> Fixture {
        Fixture::with_provider(replies, extra, "")
    }

    /// `provider` is appended to the scripted provider's table.
    pub fn with_provider(replies: Vec<Reply>, extra: &str, provider: &str) -> Fixture {
        let model = ScriptedModel::start(replies).expect("start scripted model");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        let config = format!(
            "model = \"scripted-1\"\nmodel_provider = \"scripted\"\n{extra}\n\
             [model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nenv_key = \"{KEY_VAR}\"\n{provider}\n",
            model.base_url()
        );
        std::fs::write(home.path().join("config.toml"), config).expect("config");
        git_init(work.path());
        Fixture { home, work, model }
    }

    pub fn work(&self) -> &Path {
        self.work.path()
    }

    /// `codex exec ARGS...` in the workspace, with the key set and stdin closed.
    pub fn exec(&self, args: &[&str]) -> Command {
        let mut cmd = self.codex(&["exec"]);
        cmd.args(args);
        cmd
    }

    /// `codex ARGS...`, set up as [`Fixture::exec`] is.
    pub fn codex(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex"));
        cmd.args(args)
            .current_dir(self.work())
            .env("CODEX_HOME", self.home.path())
            .env(KEY_VAR, "sk-test-secret")
            .env_remove("RUST_LOG")
            .env_remove("CODEX_EXEC_SERVER_TOKEN")
            .stdin(Stdio::null());
        cmd
    }

    /// The body of the `n`th request the model got.
    pub fn request(&self, n: usize) -> Value {
        let requests = self.model.requests();
        assert!(
            requests.len() > n,
            "the model got {} requests, wanted more than {n}",
            requests.len()
        );
        requests[n].body.clone()
    }

    /// The output the agent sent back for `call_id`, as found in the `n`th request.
    pub fn tool_output(&self, n: usize, call_id: &str) -> String {
        let body = self.request(n);
        let input = body["input"].as_array().expect("input array");
        input
            .iter()
            .find(|i| i["type"] == "function_call_output" && i["call_id"] == call_id)
            .and_then(|i| i["output"].as_str())
            .unwrap_or_else(|| panic!("no output for {call_id} in request {n}: {body:#}"))
            .to_string()
    }
}

pub fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let out = cmd.borrow_mut().output().expect("run codex");
    eprintln!(
        "--- codex stderr ---\n{}--- end ---",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn shell_call(call_id: &str, argv: &[&str]) -> Reply {
    Reply::Sse(script::responses_function_call(
        call_id,
        "shell",
        &json!({ "command": argv }),
    ))
}

pub fn patch_call(call_id: &str, patch: &str) -> Reply {
    Reply::Sse(script::responses_function_call(
        call_id,
        "apply_patch",
        &json!({ "input": patch }),
    ))
}

pub fn text(t: &str) -> Reply {
    Reply::Sse(script::responses_text(t))
}

/// A fresh directory outside every root that workspace-write grants by default (the temp dir
/// and /tmp), for writes that must be refused. The build's target dir is used when it is not
/// itself under /tmp (a checkout in /tmp is common: CI clones there); else /var/tmp, else the
/// home directory.
#[allow(dead_code)] // each test crate uses a part of this module
pub fn scratch() -> tempfile::TempDir {
    let granted = [PathBuf::from("/tmp"), std::env::temp_dir()];
    let is_granted = |p: &Path| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        granted
            .iter()
            .any(|g| p.starts_with(std::fs::canonicalize(g).unwrap_or_else(|_| g.clone())))
    };
    let mut candidates = vec![
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        PathBuf::from("/var/tmp/codex-tests"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache").join("codex-tests"));
    }
    for base in candidates {
        if std::fs::create_dir_all(&base).is_ok() && !is_granted(&base) {
            return tempfile::tempdir_in(&base).expect("tempdir");
        }
    }
    panic!("no writable directory outside /tmp and the temp dir for the sandbox tests");
}

/// The real Codex 0.169 binary, the reference for texts and exit codes (see
/// [`xtask::tools::codex_169_for_tests`]).
#[allow(dead_code)] // each test crate uses a part of this module
pub fn codex_169() -> Option<PathBuf> {
    xtask::tools::codex_169_for_tests()
}

/// A directory in no git work tree (the system temp dir has no `.git` above it).
pub fn not_a_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("dir");
    assert!(
        !d.path().ancestors().any(|a| a.join(".git").exists()),
        "{} is inside a git work tree",
        d.path().display()
    );
    d
}

/// `p` as UTF-8, for a command-line argument.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The session logs under the fixture's CODEX_HOME, oldest first.
pub fn session_logs(f: &Fixture) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![f.home.path().join("sessions")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Asserts that `out` failed with exit 1 and one line on stderr starting with `prefix` (bad
/// input is one line that says what to do); returns that line.
#[allow(dead_code)] // each test crate uses a part of this module
pub fn one_line_error(out: &Output, prefix: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "exit: {:?}", out.status);
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(prefix), "{err}");
    err.trim_end().to_string()
}

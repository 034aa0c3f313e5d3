//! What the `codex` benchmarks share: a git workspace, a CODEX_HOME whose provider is the
//! scripted model, and one `codex exec` run against it.

use std::path::Path;
use std::process::{Command, Stdio};

use codex_scripted_model::ScriptedModel;

/// A fresh directory that is a git work tree (`codex exec` runs in one without
/// `--skip-git-repo-check`, and the sandbox binds its `.git` read-only).
pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("repo dir");
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .expect("git init");
    assert!(init.success(), "git init");
    dir
}

/// A CODEX_HOME whose config.toml asks `model` for the model `bench`.
pub fn scripted_home(model: &ScriptedModel) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "model = \"bench\"\nmodel_provider = \"scripted\"\n[model_providers.scripted]\nbase_url = \"{}\"\n",
            model.base_url()
        ),
    )
    .expect("config");
    home
}

/// Runs `codex exec --ephemeral ARGS... benchmark` in `work` with this CODEX_HOME, no key and
/// no log, and panics with its stderr unless it succeeds.
pub fn exec(codex: &Path, args: &[&str], work: &Path, home: &Path) {
    let out = Command::new(codex)
        .arg("exec")
        .arg("--ephemeral")
        .args(args)
        .arg("benchmark")
        .current_dir(work)
        .env("CODEX_HOME", home)
        .env_remove("RUST_LOG")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run codex exec");
    assert!(
        out.status.success(),
        "codex exec failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

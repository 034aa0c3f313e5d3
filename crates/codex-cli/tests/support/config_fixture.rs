//! A CODEX_HOME with a config.toml pointing at a scripted model, and a workspace that is a git
//! work tree, for the config.toml tests (config_compat.rs and config_keys.rs). Only the model
//! is scripted: it records every request, which is what the tests assert on.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use codex_scripted_model::{Reply, ScriptedModel};
use serde_json::Value;

/// The variable the scripted provider's key is read from.
pub const KEY_VAR: &str = "CODEX_CONFIG_TEST_API_KEY";

/// A home, a workspace and the model.
pub struct Fixture {
    /// `CODEX_HOME`.
    pub home: tempfile::TempDir,
    /// The working directory, `git init`ed (codex exec works in a git work tree).
    pub work: tempfile::TempDir,
    /// The scripted model.
    pub model: ScriptedModel,
}

impl Fixture {
    /// `extra` goes at the top of config.toml, before the provider's table.
    pub fn new(replies: Vec<Reply>, extra: &str) -> Fixture {
        let model = ScriptedModel::start(replies).expect("start scripted model");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        let git = Command::new("git")
            .args(["init", "-q"])
            .current_dir(work.path())
            .status()
            .expect("git init");
        assert!(git.success(), "git init failed");
        let config = format!(
            "model = \"scripted-1\"\nmodel_provider = \"scripted\"\n{extra}\n\
             [model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nenv_key = \"{KEY_VAR}\"\n",
            model.base_url()
        );
        std::fs::write(home.path().join("config.toml"), config).expect("config");
        Fixture { home, work, model }
    }

    /// The workspace.
    pub fn work(&self) -> &Path {
        self.work.path()
    }

    /// `codex exec ARGS...` in the workspace, with the key set and stdin closed.
    pub fn exec(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codex"));
        cmd.arg("exec")
            .args(args)
            .current_dir(self.work())
            .env("CODEX_HOME", self.home.path())
            .env(KEY_VAR, "sk-config-test-secret")
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
        body["input"]
            .as_array()
            .expect("input array")
            .iter()
            .find(|i| i["type"] == "function_call_output" && i["call_id"] == call_id)
            .and_then(|i| i["output"].as_str())
            .unwrap_or_else(|| panic!("no output for {call_id} in request {n}: {body:#}"))
            .to_string()
    }
}

/// Runs `cmd`, echoing its stderr for the test log.
pub fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let out = cmd.borrow_mut().output().expect("run codex");
    eprintln!(
        "--- codex stderr ---\n{}--- end ---",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Its stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Its stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

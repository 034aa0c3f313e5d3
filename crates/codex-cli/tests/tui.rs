//! The interactive codex in a real terminal: tmux runs the real binary against the scripted
//! model, `send-keys` types, `capture-pane` reads the screen. Approvals (accepted and denied),
//! Ctrl-C during a turn, `codex resume --last`, and the terminal after a panic.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use codex_scripted_model::{Reply, ScriptedModel, script};
use serde_json::json;

const KEY_VAR: &str = "CODEX_TUI_TEST_API_KEY";

/// A CODEX_HOME whose config points at a scripted model, and a workspace.
struct Fixture {
    home: tempfile::TempDir,
    work: tempfile::TempDir,
    model: ScriptedModel,
}

impl Fixture {
    fn new(replies: Vec<Reply>, extra_config: &str) -> Fixture {
        let model = ScriptedModel::start(replies).expect("start scripted model");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        let config = format!(
            "model = \"scripted-1\"\nmodel_provider = \"scripted\"\n{extra_config}\n\
             [model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nenv_key = \"{KEY_VAR}\"\n",
            model.base_url()
        );
        std::fs::write(home.path().join("config.toml"), config).expect("config");
        Fixture { home, work, model }
    }

    /// Starts `codex ARGS` in a fresh tmux server, in the workspace. `then` runs in the same
    /// shell after codex exits (to look at the terminal it left).
    fn tmux(&self, args: &str, then: &str) -> Tmux {
        // A fresh server each time: one being killed may still hold its socket.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = self.home.path().join(format!("tmux-{n}.sock"));
        let codex = env!("CARGO_BIN_EXE_codex");
        let then = if then.is_empty() { ":" } else { then };
        let script = format!("'{codex}' {args}; echo \"codex exited $?\"; {then}; sleep 600");
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "120",
                "-y",
                "40",
            ])
            .arg("-c")
            .arg(self.work.path())
            .arg(script)
            .env("CODEX_HOME", self.home.path())
            .env(KEY_VAR, "sk-test-secret")
            .env("CODEX_NO_UPDATE_CHECK", "1")
            .env("TERM", "xterm-256color")
            .env_remove("RUST_LOG")
            .env_remove("TMUX")
            .env("RUST_BACKTRACE", "0")
            .status()
            .expect("run tmux (the test set-up installs it)");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    /// The text of every user message and function output the model got in request `n`.
    fn request_texts(&self, n: usize) -> Vec<String> {
        let requests = self.model.requests();
        assert!(requests.len() > n, "only {} requests", requests.len());
        requests[n].body["input"]
            .as_array()
            .expect("input")
            .iter()
            .filter_map(|i| {
                i["content"][0]["text"]
                    .as_str()
                    .or(i["output"].as_str())
                    .map(str::to_string)
            })
            .collect()
    }
}

struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "t", "-l", "--", text])
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    /// Presses keys by tmux name (`Enter`, `C-c`, `Down`).
    fn press(&self, key: &str) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "t", key])
            .status()
            .expect("send-keys");
        assert!(ok.success());
    }

    /// The pid of codex, the child of the pane's shell.
    fn codex_pid(&self) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .output()
            .expect("display-message");
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep")
            .args(["-P", &shell])
            .output()
            .expect("pgrep");
        let pid = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(!pid.is_empty(), "no child of the pane's shell {shell}");
        pid
    }

    fn resize(&self, cols: u16, rows: u16) {
        let ok = self
            .cmd()
            .args([
                "resize-window",
                "-t",
                "t",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .status()
            .expect("resize-window");
        assert!(ok.success());
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "t"])
            .output()
            .expect("capture-pane");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            text.push_str(&format!(
                "[capture-pane failed: {}]",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        text
    }

    /// Waits until the screen shows `needle`, and returns the screen.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {needle:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn shell_call(call_id: &str, argv: &[&str]) -> Reply {
    Reply::Sse(script::responses_function_call(
        call_id,
        "shell",
        &json!({ "command": argv }),
    ))
}

fn patch_call(call_id: &str, patch: &str) -> Reply {
    Reply::Sse(script::responses_function_call(
        call_id,
        "apply_patch",
        &json!({ "input": patch }),
    ))
}

fn text(t: &str) -> Reply {
    Reply::Sse(script::responses_text(t))
}

#[test]
fn an_approved_command_runs_and_its_output_and_the_markdown_answer_are_shown() {
    let f = Fixture::new(
        vec![
            shell_call("c1", &["touch", "made-by-codex.txt"]),
            text("Created **the file**; see `made-by-codex.txt`."),
        ],
        "",
    );
    let t = f.tmux("--ask-for-approval untrusted --sandbox workspace-write", "");
    t.wait_for("approvals untrusted");
    t.type_text("make a file");
    t.press("Enter");
    let screen = t.wait_for("Run this command?");
    assert!(screen.contains("$ touch made-by-codex.txt"), "{screen}");
    assert!(!f.work.path().join("made-by-codex.txt").exists());
    t.type_text("y");
    let screen = t.wait_for("Created the file; see made-by-codex.txt.");
    assert!(f.work.path().join("made-by-codex.txt").exists());
    assert!(screen.contains("$ touch made-by-codex.txt"), "{screen}");
    // Quit: Ctrl-C twice on an idle session.
    t.press("C-c");
    t.wait_for("Press Ctrl-C again to quit");
    t.press("C-c");
    t.wait_for("codex exited 0");
}

#[test]
fn a_denied_command_does_not_run_and_the_model_is_told_the_users_message() {
    let f = Fixture::new(
        vec![
            shell_call("c1", &["rm", "-f", "keep.txt"]),
            text("Understood, I left keep.txt alone."),
        ],
        "approval_policy = \"untrusted\"\nsandbox_mode = \"workspace-write\"",
    );
    std::fs::write(f.work.path().join("keep.txt"), "precious").expect("write");
    let t = f.tmux("", "");
    t.wait_for("approvals untrusted");
    t.type_text("clean up");
    t.press("Enter");
    t.wait_for("Run this command?");
    t.type_text("m");
    t.wait_for("Tell codex:");
    t.type_text("keep that file");
    t.press("Enter");
    let screen = t.wait_for("Understood, I left keep.txt alone.");
    assert!(screen.contains("declined"), "{screen}");
    assert!(f.work.path().join("keep.txt").exists());
    let texts = f.request_texts(1);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("the user denied this command") && t.contains("keep that file")),
        "{texts:?}"
    );
}

#[test]
fn ctrl_c_interrupts_a_turn_and_the_next_message_goes_on_with_the_session() {
    let f = Fixture::new(
        vec![
            Reply::Hang(script::event(
                "response.output_text.delta",
                &json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
                        "content_index": 0, "delta": "Thinking about it"}),
            )),
            text("Second answer."),
        ],
        "",
    );
    let t = f.tmux("", "");
    t.wait_for("approvals on-request");
    t.type_text("a long task");
    t.press("Enter");
    t.wait_for("Thinking about it");
    t.wait_for("Ctrl-C to interrupt");
    t.press("C-c");
    t.wait_for("Interrupted");
    t.type_text("try again");
    t.press("Enter");
    t.wait_for("Second answer.");
    let texts = f.request_texts(1);
    assert!(texts.contains(&"a long task".to_string()), "{texts:?}");
    assert!(texts.contains(&"try again".to_string()), "{texts:?}");
}

#[test]
fn resume_last_shows_the_earlier_conversation_and_continues_it() {
    let f = Fixture::new(
        vec![
            text("The first answer."),
            text("The answer after resuming."),
        ],
        "",
    );
    {
        let t = f.tmux("", "");
        t.wait_for("approvals");
        t.type_text("first question");
        t.press("Enter");
        t.wait_for("The first answer.");
        t.type_text("/quit");
        t.press("Enter");
        let screen = t.wait_for("codex exited 0");
        assert!(screen.contains("codex resume "), "{screen}");
    }
    let t = f.tmux("resume --last", "");
    let screen = t.wait_for("resumed session");
    assert!(screen.contains("first question"), "{screen}");
    assert!(screen.contains("The first answer."), "{screen}");
    t.type_text("second question");
    t.press("Enter");
    t.wait_for("The answer after resuming.");
    let texts = f.request_texts(1);
    assert_eq!(
        texts,
        ["first question", "The first answer.", "second question"]
    );
}

/// A shell command that saves `stty -a` to `path`, written aside and renamed so that the file
/// appears only once complete.
fn save_stty_to(path: &std::path::Path) -> String {
    format!(
        "stty -a > '{0}.part' && mv '{0}.part' '{0}'",
        path.display()
    )
}

#[test]
fn the_terminal_is_back_in_cooked_mode_after_a_panic() {
    let f = Fixture::new(vec![], "");
    let stty = f.home.path().join("stty.txt");
    let t = f.tmux("", &save_stty_to(&stty));
    t.wait_for("approvals");
    t.type_text("/panic");
    t.press("Enter");
    let screen = t.wait_for("codex exited 101");
    assert!(screen.contains("test-panic: /panic was typed"), "{screen}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stty.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    for mode in ["icanon", "echo", "icrnl", "opost"] {
        assert!(
            modes.split_whitespace().any(|w| w == mode),
            "{mode} is off after the panic:\n{modes}"
        );
    }
    // And the main screen is back: the shell's output is on it, the UI's status line is not.
    assert!(!screen.contains("approvals on-request"), "{screen}");
}

#[test]
fn a_patch_the_read_only_sandbox_refuses_is_shown_as_a_diff_and_applied_once_approved() {
    let f = Fixture::new(
        vec![
            patch_call(
                "p1",
                "*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello, world\n*** End Patch\n",
            ),
            text("Patched."),
        ],
        "",
    );
    std::fs::write(f.work.path().join("hello.txt"), "hello\n").expect("write");
    let t = f.tmux("--sandbox read-only", "");
    t.wait_for("approvals on-request");
    t.type_text("greet the world");
    t.press("Enter");
    let screen = t.wait_for("Apply this patch?");
    assert!(screen.contains("+hello, world"), "{screen}");
    assert!(screen.contains("-hello"), "{screen}");
    assert!(screen.contains("read-only"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(f.work.path().join("hello.txt")).expect("read"),
        "hello\n"
    );
    t.type_text("y");
    t.wait_for("Patched.");
    assert_eq!(
        std::fs::read_to_string(f.work.path().join("hello.txt")).expect("read"),
        "hello, world\n"
    );
}

#[test]
fn the_screen_follows_a_resize_and_sigterm_restores_the_terminal() {
    let f = Fixture::new(vec![], "");
    let stty = f.home.path().join("stty.txt");
    let t = f.tmux("", &save_stty_to(&stty));
    t.wait_for("approvals on-request");
    t.resize(70, 20);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let screen = t.screen();
        let widths: Vec<usize> = screen.lines().map(|l| l.chars().count()).collect();
        // The composer's box is redrawn at the new width: 70 columns, corners included.
        if screen
            .lines()
            .any(|l| l.starts_with('╰') && l.chars().count() == 70)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not redrawn at 70 columns: {widths:?}\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = t.codex_pid();
    let ok = Command::new("sh")
        .args(["-c", "kill -TERM \"$0\"", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
    t.wait_for("codex exited 143");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stty.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    assert!(
        modes.split_whitespace().any(|w| w == "icanon"),
        "raw mode left on after SIGTERM:\n{modes}"
    );
}

#[test]
fn without_a_terminal_codex_says_so_and_points_to_codex_exec() {
    let f = Fixture::new(vec![], "");
    let out = Command::new(env!("CARGO_BIN_EXE_codex"))
        .arg("fix the tests")
        .current_dir(f.work.path())
        .env("CODEX_HOME", f.home.path())
        .env(KEY_VAR, "sk-test-secret")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run codex");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    insta::assert_snapshot!(stderr.trim_end(), @"error: the interactive codex needs a terminal (stdout is not a terminal): run `codex exec PROMPT` from scripts");
    assert!(f.model.requests().is_empty());
}

#[test]
fn no_alt_screen_leaves_the_last_screen_in_the_terminal_after_exit() {
    for (args, stays) in [("--no-alt-screen", true), ("", false)] {
        let f = Fixture::new(vec![text("An answer worth keeping.")], "");
        let t = f.tmux(args, "");
        t.wait_for("approvals");
        t.type_text("keep this question");
        t.press("Enter");
        t.wait_for("An answer worth keeping.");
        t.type_text("/quit");
        t.press("Enter");
        let screen = t.wait_for("codex exited 0");
        assert_eq!(
            screen.contains("An answer worth keeping."),
            stays,
            "{args:?}: {screen}"
        );
    }
}

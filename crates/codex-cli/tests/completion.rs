//! `codex completion [SHELL]`: scripts generated from the clap definitions, checked by the
//! shells themselves where they are installed.

use std::io::Write as _;
use std::process::{Command, Stdio};

fn completion(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_codex"))
        .arg("completion")
        .args(args)
        .output()
        .expect("run codex completion");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Whether `shell` is on PATH.
fn have(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `shell ARGS` with `script` on stdin; panics with the shell's errors if it fails.
fn shell_accepts(shell: &str, args: &[&str], script: &str) {
    let mut child = Command::new(shell)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shell");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{shell} {args:?} refused the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bash_is_the_default_and_its_script_parses_and_names_the_subcommands() {
    let script = completion(&[]);
    assert_eq!(script, completion(&["bash"]));
    assert!(script.contains("complete -F _codex"), "no complete line");
    for sub in ["exec", "resume", "mcp", "completion", "sandbox"] {
        assert!(script.contains(sub), "{sub} missing");
    }
    assert!(script.contains("--skip-git-repo-check"));
    shell_accepts("bash", &["-n"], &script);
    // Loaded for real, it registers the function for `codex`.
    shell_accepts(
        "bash",
        &[],
        &format!("{script}\ncomplete -p codex | grep -q _codex\n"),
    );
}

#[test]
fn zsh_fish_powershell_and_elvish_scripts_name_the_subcommands_and_parse_where_installed() {
    for (shell, check) in [
        ("zsh", Some(("zsh", vec!["-n"]))),
        ("fish", Some(("fish", vec!["--no-execute"]))),
        ("powershell", None),
        ("elvish", None),
    ] {
        let script = completion(&[shell]);
        for sub in ["exec", "resume", "mcp", "completion"] {
            assert!(script.contains(sub), "{shell}: {sub} missing");
        }
        match check {
            Some((bin, args)) if have(bin) => shell_accepts(bin, &args, &script),
            Some((bin, _)) => {
                eprintln!("SKIPPED: {bin} is not installed; its script is not parsed")
            }
            None => {}
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_codex"))
        .args(["completion", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}

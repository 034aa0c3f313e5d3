//! A parser for `codex exec …` that builds only the `exec` part of the command line.
//!
//! clap's derive builds every argument of every subcommand before it looks at the first one,
//! and `codex exec` is what scripts and CI jobs start over and over: building the whole tree
//! (the session flags appear four times in it) was most of exec's start-up. This parser knows
//! the global flags and `exec` only. Anything it does not accept (another subcommand, a flag
//! before `exec`, `--help`, a usage error) goes to the full parser, so what users see in those
//! cases, and every message, comes from one place.

use std::ffi::OsString;

use clap::{FromArgMatches, Parser};

use crate::{Cli, Command, exec, global};

/// `codex exec` as a command of its own: its arguments and the global ones, nothing else.
#[derive(Debug, Parser)]
#[command(name = "codex exec")]
struct ExecOnly {
    #[command(flatten)]
    exec: exec::ExecArgs,
    #[command(flatten)]
    global: global::ConfigArgs,
}

/// `args` parsed as the full parser would, when they are `codex exec …` or `codex e …` and
/// parse without error; `None` sends them to the full parser.
pub(crate) fn parse(args: &[OsString]) -> Option<Cli> {
    match args.get(1)?.to_str()? {
        "exec" | "e" => {}
        _ => return None,
    }
    let mut command = <ExecOnly as clap::CommandFactory>::command();
    let mut matches = command.try_get_matches_from_mut(&args[1..]).ok()?;
    let parsed = ExecOnly::from_arg_matches_mut(&mut matches).ok()?;
    // Built once per process and needed no more: freeing their many small allocations one by
    // one costs more than leaving them to the process's exit.
    std::mem::forget(command);
    std::mem::forget(matches);
    Some(Cli {
        prompt: None,
        agent: exec::AgentArgs::default(),
        global: parsed.global,
        command: Some(Command::Exec(parsed.exec)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(args: &[&str]) -> String {
        format!(
            "{:?}",
            Cli::try_parse_from(args).expect("the full parser accepts it")
        )
    }

    fn fast(args: &[&str]) -> Option<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args).map(|cli| format!("{cli:?}"))
    }

    #[test]
    fn exec_command_lines_parse_as_the_full_parser_parses_them() {
        let cases: &[&[&str]] = &[
            &["codex", "exec", "hi"],
            &["codex", "e", "hi"],
            &["codex", "exec"],
            &["codex", "exec", "-"],
            &[
                "codex",
                "exec",
                "--json",
                "--ephemeral",
                "-o",
                "out.txt",
                "task",
            ],
            &[
                "codex",
                "exec",
                "-m",
                "o3",
                "-s",
                "read-only",
                "--skip-git-repo-check",
                "x",
            ],
            &[
                "codex",
                "exec",
                "-c",
                "model=o3",
                "--enable",
                "web_search",
                "x",
            ],
            &["codex", "exec", "x", "-c", "a=1", "--disable", "memories"],
            &[
                "codex",
                "exec",
                "--color",
                "never",
                "--output-schema",
                "s.json",
                "x",
            ],
            &["codex", "exec", "-i", "a.png", "-i", "b.png", "--", "look"],
            &[
                "codex",
                "exec",
                "-a",
                "never",
                "--add-dir",
                "/tmp",
                "--search",
                "x",
            ],
            &[
                "codex",
                "exec",
                "--yolo",
                "--oss",
                "--local-provider",
                "ollama",
                "x",
            ],
            &[
                "codex",
                "exec",
                "-p",
                "work",
                "-C",
                "/tmp",
                "--strict-config",
                "--exec-server",
                "ws://127.0.0.1:1",
                "x",
            ],
            &["codex", "exec", "resume", "--last"],
            &["codex", "exec", "resume", "--last", "next step", "--json"],
            &["codex", "exec", "--json", "resume", "0199-abc", "go on"],
            &["codex", "e", "resume", "--all", "--last", "-c", "model=o3"],
        ];
        for case in cases {
            assert_eq!(fast(case), Some(full(case)), "{case:?}");
        }
    }

    #[test]
    fn everything_else_goes_to_the_full_parser() {
        let cases: &[&[&str]] = &[
            &["codex"],
            &["codex", "hi"],
            &["codex", "-c", "model=o3", "exec", "hi"],
            &["codex", "-m", "o3", "exec", "hi"],
            &["codex", "login", "status"],
            &["codex", "exec", "--help"],
            &["codex", "exec", "-h"],
            &["codex", "exec", "--version"],
            &["codex", "exec", "resume", "--help"],
            &["codex", "exec", "--no-such-flag"],
            &["codex", "exec", "--color", "purple", "x"],
            &["codex", "exec", "resume", "--last", "a", "b", "c"],
            &["codex", "execute", "x"],
        ];
        for case in cases {
            assert_eq!(fast(case), None, "{case:?}");
        }
    }
}

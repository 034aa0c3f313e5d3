//! The command line against Codex 0.169's: the real 0.169 binary's `--help` for each covered
//! command is parsed, and every flag and subcommand it lists must be accepted by ours or be in
//! the compatibility table (crates/codex-cli/src/compat.rs) with a reason. The table itself is
//! checked against our clap definitions, so that what it says of ours is true.

use std::process::Command;

use codex_cli::compat::{COMMANDS, ENTRIES, Entry, Ours};

/// The flags (as written in the help: `-m, --model` or `--json`) and subcommands 0.169's help
/// lists for `command`.
fn oracle(bin: &std::path::Path, command: &str) -> Vec<String> {
    let out = run_0_169(bin, command, &["--help"]);
    assert!(out.status.success(), "codex 0.169 {command} --help failed");
    parse_help(&String::from_utf8_lossy(&out.stdout))
}

/// 0.169 run as `codex COMMAND ARGS...` with an empty CODEX_HOME and no stdin.
fn run_0_169(bin: &std::path::Path, command: &str, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("home");
    Command::new(bin)
        .args(command.split_whitespace())
        .args(args)
        .env("CODEX_HOME", home.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run codex 0.169")
}

/// The items of a clap help text: option lines (`  -m, --model <MODEL>`, `      --json`) and
/// the names in its Commands section. Descriptions are indented further and are skipped.
fn parse_help(help: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut section = "";
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            section = line;
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let first = line.split_whitespace().next().unwrap_or("");
        match section {
            "Commands:" if indent == 2 => items.push(first.to_string()),
            "Options:" if (indent == 2 || indent == 6) && first.starts_with('-') => {
                let flag: Vec<&str> = line
                    .split_whitespace()
                    .take_while(|w| w.starts_with('-'))
                    .map(|w| w.trim_end_matches(','))
                    .collect();
                items.push(flag.join(", "));
            }
            _ => {}
        }
    }
    items
}

fn entry(command: &str, item: &str) -> Option<&'static Entry> {
    ENTRIES
        .iter()
        .find(|e| e.item == item && e.command == command)
        .or_else(|| ENTRIES.iter().find(|e| e.item == item && e.command == "*"))
}

/// Our `command` (as typed after `codex`) under the built `root`; `None` when ours lacks it.
fn our_command<'a>(root: &'a clap::Command, command: &str) -> Option<&'a clap::Command> {
    command
        .split_whitespace()
        .try_fold(root, |cmd, name| cmd.find_subcommand(name))
}

/// Whether our command line accepts `item` (a flag, every spelling of it, or a subcommand)
/// under `command`; `None` when ours has no such command at all.
fn ours_accepts(command: &str, item: &str) -> Option<bool> {
    let mut root = codex_cli::cli_command();
    root.build();
    let cmd = our_command(&root, command)?;
    if !item.starts_with('-') {
        return Some(cmd.find_subcommand(item).is_some());
    }
    let accepted = item.split(", ").all(|spelling| {
        cmd.get_arguments()
            .any(|a| match spelling.strip_prefix("--") {
                Some(long) => {
                    a.get_long() == Some(long)
                        || a.get_all_aliases().is_some_and(|al| al.contains(&long))
                }
                None => spelling
                    .strip_prefix('-')
                    .and_then(|s| s.chars().next())
                    .is_some_and(|c| a.get_short() == Some(c)),
            })
    });
    Some(accepted)
}

#[test]
fn every_flag_and_subcommand_of_0_169_is_accepted_or_listed_with_a_reason() {
    let Some(bin) = xtask::tools::codex_169_for_tests() else {
        return;
    };
    let mut missing = Vec::new();
    let mut listed = Vec::new();
    for command in COMMANDS {
        let items = oracle(&bin, command);
        assert!(!items.is_empty(), "no items parsed from `{command} --help`");
        for item in items {
            match entry(command, &item) {
                Some(e) => listed.push((e.command, e.item)),
                None if ours_accepts(command, &item) == Some(true) => {
                    missing.push(format!(
                        "`codex {command}` {item}: accepted by ours but not in compat.rs"
                    ));
                }
                None => missing.push(format!(
                    "`codex {command}` {item}: neither accepted by ours nor listed in compat.rs"
                )),
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    // And the table names nothing 0.169 does not have, except as ours only.
    for e in ENTRIES
        .iter()
        .filter(|e| e.command != "*" && !matches!(e.ours, Ours::Only(_)))
    {
        assert!(
            listed.contains(&(e.command, e.item)),
            "compat.rs lists `codex {}` {}, which 0.169's help does not",
            e.command,
            e.item
        );
    }
}

/// Whether 0.169 accepts `item` under `command` although its help does not show it (a hidden
/// subcommand or flag): clap says "unexpected argument" or "unrecognized subcommand" only for
/// what it does not know. `--help` after the item keeps 0.169 from doing anything; a flag that
/// wants a value refuses it with another message.
fn hidden_in_0_169(bin: &std::path::Path, command: &str, item: &str) -> bool {
    let spelling = item.split(", ").last().unwrap_or(item);
    let out = run_0_169(bin, command, &[spelling, "--help"]);
    let err = String::from_utf8_lossy(&out.stderr);
    !err.contains("unexpected argument") && !err.contains("unrecognized subcommand")
}

/// The reverse: every flag and subcommand our help shows that 0.169's help for the same command
/// does not is in the table as ours only, so a script written against ours knows what 0.169 will
/// refuse; and nothing listed as ours only is in 0.169's help.
#[test]
fn every_flag_and_subcommand_only_ours_has_is_listed() {
    let Some(bin) = xtask::tools::codex_169_for_tests() else {
        return;
    };
    let mut root = codex_cli::cli_command();
    root.build();
    let mut unlisted = Vec::new();
    for command in COMMANDS {
        // A command ours lacks is in the table as absent, and has nothing of ours to list.
        let Some(cmd) = our_command(&root, command) else {
            continue;
        };
        let theirs = oracle(&bin, command);
        let ours = parse_help(&cmd.clone().render_long_help().to_string());
        assert!(
            !ours.is_empty(),
            "no items parsed from our `{command} --help`"
        );
        for item in &ours {
            let only = entry(command, item).is_some_and(|e| matches!(e.ours, Ours::Only(_)));
            if theirs.contains(item) || hidden_in_0_169(&bin, command, item) {
                assert!(
                    !only,
                    "compat.rs lists `codex {command}` {item} as ours only, but 0.169 has it"
                );
            } else if !only {
                unlisted.push(format!("`codex {command}` {item}"));
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "in our help but not 0.169's, and not listed as Ours::Only in compat.rs:\n{}",
        unlisted.join("\n")
    );
}

#[test]
fn what_the_table_says_of_ours_is_true() {
    let mut wrong = Vec::new();
    for e in ENTRIES {
        let commands: Vec<&str> = if e.command == "*" {
            COMMANDS.to_vec()
        } else {
            vec![e.command]
        };
        for command in commands {
            let accepted = ours_accepts(command, e.item);
            let ok = match (e.ours, accepted) {
                // Ours lacks the whole command: right for a flag the table calls absent.
                (Ours::Absent(_), None) => true,
                // A global flag on a command ours lacks (listed for that command's parent) has
                // nothing to be checked against.
                (_, None) => e.command == "*",
                (Ours::Same | Ours::Differs(_) | Ours::Only(_), Some(a)) => a,
                (Ours::Absent(_), Some(a)) => !a,
            };
            if !ok {
                wrong.push(format!(
                    "`codex {command}` {}: the table says {:?}, ours {}",
                    e.item,
                    e.ours,
                    match accepted {
                        Some(true) => "accepts it",
                        Some(false) => "refuses it",
                        None => "has no such command",
                    }
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_help_parser_reads_options_and_commands_but_not_descriptions() {
    let help = "Usage: codex [OPTIONS]\n\nCommands:\n  exec    Run\n  help    Print\n\n\
                Options:\n  -m, --model <MODEL>\n          Model; use --last to pick\n\n      \
                --json\n          Print JSON\n";
    assert_eq!(parse_help(help), ["exec", "help", "-m, --model", "--json"]);
}

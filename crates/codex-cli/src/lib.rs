//! The `codex` command line: argument definitions and dispatch. `main.rs` only calls [`run`].

pub mod update;

use clap::{CommandFactory, Parser, Subcommand};

/// Codex: a coding agent that runs on your computer.
#[derive(Debug, Parser)]
#[command(
    name = "codex",
    version = codex_build_info::LONG_VERSION,
    about = "Codex: a coding agent that runs on your computer."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Update this copy of codex to the latest release (or --version, or back with --rollback).
    Update(update::UpdateArgs),
    /// Run the process runner, as `codex-exec-server` does (`codex exec-server --help`).
    #[command(disable_help_flag = true)]
    ExecServer {
        /// Arguments for codex-exec-server.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

/// Parses `args` and runs the chosen command, returning the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with exit 0 and usage errors to stderr with 2.
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_logging();
    let result = match &cli.command {
        Some(Command::Update(args)) => update::run(args),
        // It reports its own errors and picks its exit code.
        Some(Command::ExecServer { args }) => {
            let name = std::ffi::OsString::from("codex exec-server");
            return codex_exec_server::run(std::iter::once(name).chain(args.iter().cloned()));
        }
        None => {
            let _ = Cli::command().print_help();
            update::startup_check();
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            // One line: the error and its causes, which say what to do.
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_is_pinned() {
        let help = Cli::command().render_help().to_string();
        insta::assert_snapshot!(help);
    }

    #[test]
    fn update_help_is_pinned() {
        let mut cmd = Cli::command();
        cmd.build();
        let help = cmd
            .find_subcommand_mut("update")
            .expect("update subcommand")
            .render_help()
            .to_string();
        insta::assert_snapshot!(help);
    }

    #[test]
    fn version_names_target_and_commit() {
        let v = Cli::command().render_version().to_string();
        assert!(v.starts_with("codex "), "{v}");
        assert!(v.contains(codex_build_info::TARGET), "{v}");
        assert!(v.contains("commit "), "{v}");
    }
}

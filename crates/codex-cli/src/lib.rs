//! The `codex` command line: argument definitions and dispatch. `main.rs` only calls [`run`].

use clap::Parser;

/// Codex: a coding agent that runs on your computer.
#[derive(Debug, Parser)]
#[command(
    name = "codex",
    version = codex_build_info::LONG_VERSION,
    about = "Codex: a coding agent that runs on your computer.",
    arg_required_else_help = true
)]
pub struct Cli {}

/// Parses `args` and runs the chosen command, returning the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {}) => 0,
        Err(e) => {
            // clap prints help/version to stdout with exit 0 and usage errors to stderr with 2.
            let _ = e.print();
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn help_text_is_pinned() {
        let help = Cli::command().render_help().to_string();
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

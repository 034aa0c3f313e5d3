//! codex-exec-server: runs processes for a codex agent and streams their ordered output back,
//! over stdio or a WebSocket. [`server`] is the server, [`client`] the client library; the wire
//! types live in `codex-exec-server-protocol`. `main.rs` only calls [`run`].

pub mod client;
pub mod server;

use clap::Parser;

/// codex-exec-server: runs processes for a codex agent and streams their output back.
#[derive(Debug, Parser)]
#[command(
    name = "codex-exec-server",
    version = codex_build_info::LONG_VERSION,
    about = "Runs processes for a codex agent and streams their output back.",
    arg_required_else_help = true
)]
pub struct Cli {}

/// Parses `args` and runs the server, returning the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {}) => 0,
        Err(e) => {
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
}

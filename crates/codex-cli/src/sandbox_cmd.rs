//! `codex sandbox linux [OPTIONS] [--] COMMAND…`: one command under the sandbox policy the agent
//! would use, to try it out. The policy comes from the user's configuration (as the agent's does),
//! the flags adjust it, and this process then restricts itself and execs the command.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use codex_config::{Options, SandboxMode, SandboxPolicy};

/// `codex sandbox` arguments.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// The platform's sandbox.
    #[command(subcommand)]
    pub command: SandboxCommand,
}

/// The sandboxes `codex sandbox` can run a command in.
#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Run COMMAND under Landlock and seccomp, as the agent runs its commands on Linux.
    #[command(
        long_about = "Run COMMAND under Landlock and seccomp, as the agent runs its commands on Linux.

The policy is the agent's: sandbox_mode and [sandbox_workspace_write] from $CODEX_HOME/config.toml \
(default ~/.codex; no file means read-only), with the current directory as the workspace. \
--sandbox, -c, --network and --writable-root change it for this run.

read-only: read everything, write nothing but terminals and /dev/null, no network.
workspace-write: also write the current directory, the temp dir (/tmp), $CODEX_HOME/memories and \
the writable_roots; network only with --network (or network_access = true).
danger-full-access: no sandbox.

Without network, sockets other than Unix sockets fail with \"Operation not permitted\". A kernel \
without Landlock is refused: the command is not run.

Exit status: the command's; 126 when the sandbox (or the configuration) cannot be set up and the \
command was not run; 127 when the command is not found."
    )]
    Linux(LinuxArgs),
}

/// `codex sandbox linux` arguments.
#[derive(Debug, clap::Args)]
pub struct LinuxArgs {
    /// The sandbox mode (default: sandbox_mode from config.toml, else read-only).
    #[arg(
        long,
        value_name = "MODE",
        value_parser = PossibleValuesParser::new(SandboxMode::ALL.map(SandboxMode::as_str))
            .map(|s| s.parse::<SandboxMode>().unwrap_or_default())
    )]
    pub sandbox: Option<SandboxMode>,
    /// Allow network access (workspace-write only).
    #[arg(long)]
    pub network: bool,
    /// Another directory the command may write (workspace-write only; repeatable).
    #[arg(long = "writable-root", value_name = "DIR")]
    pub writable_roots: Vec<PathBuf>,
    /// The global `-c` (and `--enable`/`--disable`) overrides, filled in before it runs.
    #[arg(skip)]
    pub overrides: Vec<String>,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// Runs `codex sandbox`, returning the exit code (when the command could not be run; otherwise
/// this process has become the command).
pub fn run(args: &SandboxArgs) -> i32 {
    match &args.command {
        SandboxCommand::Linux(a) => linux(a),
    }
}

fn linux(a: &LinuxArgs) -> i32 {
    let policy = match policy(a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("codex sandbox: {e}");
            return codex_sandbox::EXIT_SETUP_FAILED;
        }
    };
    tracing::debug!(?policy, "sandbox policy");
    // Checked first so that a machine that cannot sandbox says so before anything changes.
    let e = match codex_sandbox::check_available(&policy) {
        Ok(()) => codex_sandbox::exec_sandboxed(&policy, &a.command),
        Err(e) => e,
    };
    eprintln!("codex sandbox: {e}");
    e.exit_code()
}

/// The agent's policy for the current directory, adjusted by the flags.
fn policy(a: &LinuxArgs) -> Result<SandboxPolicy, String> {
    let options = Options {
        sandbox_mode: a.sandbox,
        ..Options::default()
    };
    let (codex_home, config) =
        crate::exec::load_config(options, &a.overrides).map_err(|e| format!("{e:#}"))?;
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let mut policy = config.sandbox_policy(&cwd, &codex_home);
    if a.network || !a.writable_roots.is_empty() {
        if policy.mode != SandboxMode::WorkspaceWrite {
            return Err(format!(
                "--network and --writable-root need --sandbox workspace-write (the mode is {})",
                policy.mode
            ));
        }
        policy.network_access |= a.network;
        policy
            .writable_roots
            .extend(a.writable_roots.iter().map(|r| cwd.join(r)));
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn sandbox_linux_help_is_pinned() {
        let mut cmd = crate::Cli::command();
        cmd.build();
        let help = cmd
            .find_subcommand_mut("sandbox")
            .and_then(|s| s.find_subcommand_mut("linux"))
            .expect("sandbox linux subcommand")
            .render_long_help()
            .to_string();
        insta::assert_snapshot!(help);
    }
}

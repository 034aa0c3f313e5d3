//! The `codex` command line: argument definitions and dispatch. `main.rs` only calls [`run`].

pub mod color;
pub mod compat;
pub mod doctor;
pub mod exec;
mod exec_fast;
pub mod exec_resume;
pub mod global;
pub mod images;
mod json_schema;
pub mod login_cmd;
pub mod mcp_cmd;
pub mod mcp_server;
pub mod sandbox_cmd;
pub mod schema;
pub mod tui_cmd;
pub mod uninstall_cmd;
pub mod update;
mod workspace;

use clap::{CommandFactory, Parser, Subcommand};

/// Codex: a coding agent that runs on your computer.
#[derive(Debug, Parser)]
#[command(
    name = "codex",
    version = codex_build_info::long_version(),
    about = "Codex: a coding agent that runs on your computer.",
    long_about = "Codex: a coding agent that runs on your computer.\n\n\
        With no command, on a terminal, codex opens a full-screen session in the current \
        directory (PROMPT, if given, is its first message); the flags below configure it. \
        `codex exec PROMPT` runs one task to the end, for scripts.",
    override_usage = "codex [OPTIONS] [PROMPT]\n       codex [OPTIONS] <COMMAND> [ARGS]"
)]
pub struct Cli {
    /// The first message of the interactive session.
    #[arg(value_name = "PROMPT")]
    prompt: Option<String>,
    #[command(flatten)]
    agent: exec::AgentArgs,
    #[command(flatten)]
    global: global::ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent on one task until it is done, then exit (non-interactive).
    #[command(
        visible_alias = "e",
        version = codex_build_info::long_version(),
        override_usage = "codex exec [OPTIONS] [PROMPT]\n       codex exec [OPTIONS] <COMMAND> [ARGS]"
    )]
    Exec(exec::ExecArgs),
    /// Sign in: with ChatGPT in the browser (or --device-auth), or with an API key on stdin.
    Login(login_cmd::LoginArgs),
    /// Remove the stored credentials ($CODEX_HOME/auth.json).
    Logout(login_cmd::LogoutArgs),
    /// Reopen a saved session (--last, or by id) in the interactive codex; lists them otherwise.
    #[command(version = codex_build_info::long_version())]
    Resume(tui_cmd::ResumeArgs),
    /// Run a command under the sandbox policy the agent would use, to try it out.
    Sandbox(sandbox_cmd::SandboxArgs),
    /// Update this copy of codex to the latest release (or --version, or back with --rollback).
    Update(update::UpdateArgs),
    /// Check this install: which copy runs, PATH, layout, updatability, release source, config.
    Doctor(doctor::DoctorArgs),
    /// Remove this install of codex (and, unless --keep-config, CODEX_HOME).
    Uninstall(uninstall_cmd::UninstallArgs),
    /// Manage the MCP servers in config.toml whose tools the agent can use.
    Mcp(mcp_cmd::McpArgs),
    /// Print a shell completion script for codex (`codex completion zsh > _codex`).
    Completion {
        /// The shell to complete in.
        #[arg(value_enum, default_value_t = clap_complete::Shell::Bash)]
        shell: clap_complete::Shell,
    },
    /// Serve Codex over MCP on stdio (tools `codex` and `codex-reply`), for other agents.
    McpServer,
    /// Run the process runner, as `codex-exec-server` does (`codex exec-server --help`).
    #[command(disable_help_flag = true)]
    ExecServer {
        /// Arguments for codex-exec-server.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

/// The whole command line as clap sees it: for help, completions and the compatibility checks.
pub fn cli_command() -> clap::Command {
    Cli::command()
}

/// Parses `args` and runs the chosen command, returning the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if let [_, flag] = args.as_slice()
        && (flag == "--version" || flag == "-V")
    {
        // What clap prints for these, without building the whole command line first: scripts
        // and the npm launcher call `codex --version` often, and it should cost no more than
        // starting the program.
        println!("codex {}", codex_build_info::long_version());
        return 0;
    }
    let parsed = match exec_fast::parse(&args) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(args),
    };
    let mut cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with exit 0 and usage errors to stderr with 2.
            let _ = e.print();
            return e.exit_code();
        }
    };
    if cli.command.is_some() && cli.prompt.is_some() {
        eprintln!("error: a PROMPT cannot be given with a subcommand; see `codex --help`");
        return 2;
    }
    // The global overrides, and the session flags given before the subcommand, reach the
    // commands that start a session.
    cli.agent.config = cli.global.overrides();
    match &mut cli.command {
        Some(Command::Exec(a)) => a.agent = std::mem::take(&mut a.agent).over(&cli.agent),
        Some(Command::Resume(a)) => a.agent = std::mem::take(&mut a.agent).over(&cli.agent),
        Some(Command::Sandbox(a)) => match &mut a.command {
            sandbox_cmd::SandboxCommand::Linux(l) => l.overrides = cli.agent.config.clone(),
        },
        Some(Command::Login(a)) => a.config = cli.agent.config.clone(),
        Some(Command::Logout(a)) => a.config = cli.agent.config.clone(),
        _ => {}
    }
    let interactive = cli.command.is_none() && tui_cmd::not_a_terminal().is_none();
    // Agent sessions log to a file (progress or the screen owns stderr); `--ephemeral` writes
    // no file.
    let log_to_file = match &cli.command {
        Some(Command::Exec(a)) => !a.ephemeral,
        Some(Command::Resume(_)) => true,
        None => interactive,
        _ => false,
    };
    init_logging(log_to_file);
    let result = match &cli.command {
        Some(Command::Update(args)) => update::run(args),
        Some(Command::Doctor(args)) => match doctor::run(args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Some(Command::Uninstall(args)) => uninstall_cmd::run(args),
        Some(Command::Mcp(args)) => mcp_cmd::run(args),
        Some(Command::McpServer) => mcp_server::run(cli.agent.config.clone()),
        Some(Command::Completion { shell }) => {
            // From the same clap definitions as the parser, so it offers exactly what parses.
            clap_complete::generate(*shell, &mut Cli::command(), "codex", &mut std::io::stdout());
            Ok(())
        }
        Some(Command::Exec(args)) => return exec::run(args),
        Some(Command::Resume(args)) => return tui_cmd::resume(args),
        Some(Command::Sandbox(args)) => return sandbox_cmd::run(args),
        Some(Command::Login(args)) => return login_cmd::run(args),
        Some(Command::Logout(args)) => return login_cmd::logout(args),
        // It reports its own errors and picks its exit code.
        Some(Command::ExecServer { args }) => {
            let name = std::ffi::OsString::from("codex exec-server");
            return codex_exec_server::run(std::iter::once(name).chain(args.iter().cloned()));
        }
        None if interactive => return tui_cmd::run(&cli.agent, cli.prompt.clone()),
        None if cli.prompt.is_some() => {
            let why = tui_cmd::not_a_terminal().unwrap_or("no terminal");
            eprintln!(
                "error: the interactive codex needs a terminal ({why}): run `codex exec PROMPT` from scripts"
            );
            return 1;
        }
        None => {
            let _ = Cli::command().print_help();
            if let Some(why) = tui_cmd::not_a_terminal() {
                eprintln!(
                    "\nNot starting the interactive codex: {why}. `codex exec PROMPT` runs a task from scripts."
                );
            }
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

/// With `RUST_LOG` set and `to_file`, logs go to `$CODEX_HOME/log/codex.log` (appended), so
/// they never mix with the session's progress; otherwise to stderr, filtered by `RUST_LOG`
/// (default: warnings).
fn init_logging(to_file: bool) {
    let from_env = tracing_subscriber::EnvFilter::try_from_default_env().ok();
    if to_file
        && let Some(filter) = &from_env
        && let Some(file) = log_file()
    {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter.to_string())
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
        return;
    }
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time();
    let _ = match from_env {
        Some(filter) => builder.with_env_filter(filter).try_init(),
        // Without RUST_LOG, a plain level: an EnvFilter's directive machinery is a measurable
        // part of a `codex exec` start.
        None => builder
            .with_max_level(tracing::level_filters::LevelFilter::WARN)
            .try_init(),
    };
}

/// `$CODEX_HOME/log/codex.log`, opened for appending (created with its folder).
fn log_file() -> Option<std::fs::File> {
    let dir = codex_installer::settings::codex_home()?.join("log");
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("codex.log"))
        .ok()
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
    fn exec_help_is_pinned() {
        let mut cmd = Cli::command();
        cmd.build();
        let help = cmd
            .find_subcommand_mut("exec")
            .expect("exec subcommand")
            .render_help()
            .to_string();
        insta::assert_snapshot!(help);
    }

    /// The help of the subcommand at `path`.
    fn help_of(path: &[&str]) -> String {
        let mut cmd = Cli::command();
        cmd.build();
        let mut sub = &mut cmd;
        for name in path {
            sub = sub.find_subcommand_mut(name).expect("subcommand");
        }
        sub.render_help().to_string()
    }

    #[test]
    fn exec_resume_help_is_pinned() {
        insta::assert_snapshot!(help_of(&["exec", "resume"]));
    }

    #[test]
    fn resume_help_is_pinned() {
        insta::assert_snapshot!(help_of(&["resume"]));
    }

    #[test]
    fn completion_help_is_pinned() {
        insta::assert_snapshot!(help_of(&["completion"]));
    }

    #[test]
    fn login_help_is_pinned() {
        let mut cmd = Cli::command();
        cmd.build();
        let help = cmd
            .find_subcommand_mut("login")
            .expect("login subcommand")
            .render_help()
            .to_string();
        insta::assert_snapshot!(help);
    }

    #[test]
    fn the_version_shortcut_prints_what_clap_prints() {
        let clap = Cli::command().render_long_version();
        assert_eq!(
            clap,
            format!("codex {}\n", codex_build_info::long_version())
        );
    }

    #[test]
    fn version_names_target_and_commit() {
        let v = Cli::command().render_version().to_string();
        assert!(v.starts_with("codex "), "{v}");
        assert!(v.contains(codex_build_info::TARGET), "{v}");
        assert!(v.contains("commit "), "{v}");
    }
}

//! `codex exec resume [SESSION_ID] [PROMPT]`: one more task in a saved session, which goes to
//! the model with the whole earlier conversation and is appended to the same session log.

use anyhow::Result;
use codex_agent::rollout;

use crate::exec::{AgentArgs, ExecArgs, config_for, run_task};
use crate::tui_cmd::{Filter, find_session, session_dir};

/// The subcommand's name, under `codex exec`.
pub const NAME: &str = "resume";

/// Its one-line help, in `codex exec --help`.
pub const ABOUT: &str =
    "Go on with a saved session (by id, or the newest with --last) with one more prompt";

/// `codex exec resume` arguments (the output flags of `codex exec` apply too, before or after
/// `resume`).
#[derive(Debug, clap::Args)]
#[command(about = ABOUT, long_about = None)]
pub struct ExecResumeArgs {
    /// The session: its id, or the start of it. With --last, this is the prompt instead.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: Option<String>,
    /// The prompt to send after resuming; `-` or none reads it from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Resume the newest session run in this directory (--cd), without naming it.
    #[arg(long)]
    pub last: bool,
    /// With --last: the newest session of any directory.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub agent: AgentArgs,
}

/// Runs `codex exec resume`.
pub fn run(exec: &ExecArgs, args: &ExecResumeArgs) -> Result<i32> {
    if exec.prompt.is_some() {
        anyhow::bail!(
            "a prompt goes after `resume`: codex exec resume --last PROMPT, or codex exec resume SESSION_ID PROMPT"
        );
    }
    let agent = args.agent.clone().over(&exec.agent);
    // `--last PROMPT`: the one positional is the prompt, as in 0.169.
    let (id, prompt) = match (&args.session_id, &args.prompt) {
        (Some(p), None) if args.last => (None, Some(p.as_str())),
        (id, prompt) => (id.as_deref(), prompt.as_deref()),
    };
    if id.is_none() && !args.last {
        anyhow::bail!(
            "name the session to resume (`codex exec resume SESSION_ID`), or use --last for the newest; `codex resume` lists them"
        );
    }
    let (home, _) = config_for(&agent)?;
    let only_in = if args.all {
        None
    } else {
        Some(session_dir(&agent)?)
    };
    // Sessions of `codex exec` are the ones it resumes, so none is left out for being one.
    let filter = Filter {
        only_in: only_in.as_deref(),
        interactive_only: false,
    };
    // `find_session` gives a path whenever an id or --last is given.
    let Some(path) = find_session(&home, id, args.last, &filter)? else {
        anyhow::bail!("no session to resume");
    };
    let saved = rollout::read(&path)?;
    run_task(exec, &agent, prompt, Some((path, saved)))
}

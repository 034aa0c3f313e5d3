//! The interactive `codex` (and `codex resume`): the full-screen session of `codex-tui`, set up
//! from the same flags and config as `codex exec`, with approvals answered on screen.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, bail};
use codex_agent::rollout::{self, Saved};

use crate::exec::{AgentArgs, Setup, config_for, prepare, runtime};

/// `codex resume` arguments.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The session to reopen: its id, or the start of it. Without one (and without --last), the
    /// recent sessions are listed.
    #[arg(value_name = "ID", conflicts_with = "last")]
    pub id: Option<String>,
    /// Reopen the most recent session.
    #[arg(long)]
    pub last: bool,
    /// Consider the sessions of every directory, not only those run in this one (--cd).
    #[arg(long)]
    pub all: bool,
    /// Also consider sessions that `codex exec` or `codex mcp-server` ran.
    #[arg(long)]
    pub include_non_interactive: bool,
    #[command(flatten)]
    pub agent: AgentArgs,
}

/// Why the interactive codex cannot start here, if it cannot: it draws on stdout and reads
/// keys from stdin, so both must be terminals.
pub fn not_a_terminal() -> Option<&'static str> {
    if !std::io::stdout().is_terminal() {
        Some("stdout is not a terminal")
    } else if !std::io::stdin().is_terminal() {
        Some("stdin is not a terminal")
    } else {
        None
    }
}

/// Runs the interactive session, returning the exit code.
pub fn run(args: &AgentArgs, prompt: Option<String>) -> i32 {
    report(run_inner(args, prompt, None))
}

/// Runs `codex resume`.
pub fn resume(args: &ResumeArgs) -> i32 {
    report(resume_inner(args))
}

fn report(result: Result<i32>) -> i32 {
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        1
    })
}

fn resume_inner(args: &ResumeArgs) -> Result<i32> {
    let (home, _) = config_for(&args.agent)?;
    let only_in = if args.all {
        None
    } else {
        Some(session_dir(&args.agent)?)
    };
    let filter = Filter {
        only_in: only_in.as_deref(),
        interactive_only: !args.include_non_interactive,
    };
    let Some(path) = find_session(&home, args.id.as_deref(), args.last, &filter)? else {
        list_sessions(&home, &filter);
        return Ok(0);
    };
    let saved = rollout::read(&path)?;
    run_inner(&args.agent, None, Some((path, saved)))
}

/// The directory whose sessions `--last` picks from: `--cd`, else the current one.
pub(crate) fn session_dir(args: &AgentArgs) -> Result<PathBuf> {
    let dir = match &args.cd {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
}

/// Which saved sessions `--last` and the listing consider.
pub(crate) struct Filter<'a> {
    /// Only those run in this directory.
    pub only_in: Option<&'a std::path::Path>,
    /// Only those a person ran interactively (not `codex exec` or `codex mcp-server`).
    pub interactive_only: bool,
}

/// The saved session to go on with: the one `id` names (its id or the start of it, whatever
/// the filter), else with `last` the newest the filter lets through; `None` when neither is
/// asked for.
pub(crate) fn find_session(
    home: &std::path::Path,
    id: Option<&str>,
    last: bool,
    filter: &Filter<'_>,
) -> Result<Option<PathBuf>> {
    let only_in = filter.only_in;
    let sessions = home.join("sessions");
    match (id, last) {
        (Some(id), _) => rollout::find(home, id).map(Some).with_context(|| {
            format!(
                "no saved session {id} under {}: `codex resume` lists them",
                sessions.display()
            )
        }),
        (None, true) => sessions_in(home, filter)
            .into_iter()
            .next()
            .map(|(path, _)| Some(path))
            .with_context(|| match only_in {
                Some(dir) => format!(
                    "no saved session of {} under {}; --all looks at every directory's",
                    dir.display(),
                    sessions.display()
                ),
                None => format!("no saved session under {}", sessions.display()),
            }),
        (None, false) => Ok(None),
    }
}

/// The readable sessions the filter lets through, newest first.
fn sessions_in(home: &std::path::Path, filter: &Filter<'_>) -> Vec<(PathBuf, Saved)> {
    rollout::list(home)
        .into_iter()
        .filter_map(|p| rollout::read(&p).ok().map(|s| (p, s)))
        .filter(|(_, s)| filter.only_in.is_none_or(|d| s.meta.cwd == d))
        .filter(|(_, s)| !filter.interactive_only || s.meta.is_interactive())
        .collect()
}

/// `codex resume` with no session named: the recent ones, newest first.
fn list_sessions(home: &std::path::Path, filter: &Filter<'_>) {
    let all: Vec<PathBuf> = sessions_in(home, filter)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    if all.is_empty() {
        println!(
            "no saved sessions under {}",
            home.join("sessions").display()
        );
        return;
    }
    for path in all.iter().take(20) {
        let Ok(saved) = rollout::read(path) else {
            continue;
        };
        let first = saved
            .items()
            .iter()
            .find_map(|i| match i {
                codex_agent::model::Item::Message {
                    role: codex_agent::model::Role::User,
                    text,
                    ..
                } => Some(text.lines().next().unwrap_or("").to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let when = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.get(8..27))
            .unwrap_or("");
        println!(
            "{}  {when}  {}  {}",
            saved.meta.id,
            saved.meta.cwd.display(),
            first.chars().take(60).collect::<String>()
        );
    }
    println!("\n`codex resume ID` reopens one; `codex resume --last` the newest.");
}

fn run_inner(
    args: &AgentArgs,
    prompt: Option<String>,
    resume: Option<(PathBuf, Saved)>,
) -> Result<i32> {
    if let Some(why) = not_a_terminal() {
        bail!(
            "the interactive codex needs a terminal ({why}): run `codex exec PROMPT` from scripts"
        );
    }
    let (home, config) = config_for(args)?;
    // Read now, so that a bad image is one line before the screen opens.
    let mut images = Some(crate::images::load(&args.image)?);
    let replay = resume
        .as_ref()
        .map(|(_, saved)| saved.lines.clone())
        .unwrap_or_default();
    let banner = crate::update::banner().map(|(version, text)| codex_tui::Banner { version, text });
    let mut first = resume;
    let agent = args.clone();
    let open: codex_tui::OpenSession = Box::new(move |asker, fresh| {
        let resume = if fresh { None } else { first.take() };
        // The first session's first message gets the images; a `/new` one starts bare.
        let images = images.take();
        let agent = agent.clone();
        Box::pin(async move {
            let warnings = Arc::new(Mutex::new(Vec::new()));
            let setup = Setup {
                asker: Some(asker),
                resume,
                warnings: Some(warnings.clone()),
                source: Some("cli"),
                ..Setup::default()
            };
            let mut session = prepare(&agent, setup).await?;
            if let Some(images) = images {
                session.attach_images(images);
            }
            let warnings = std::mem::take(&mut *warnings.lock().unwrap_or_else(|p| p.into_inner()));
            Ok((session, warnings))
        })
    });
    let options = codex_tui::Options {
        prompt,
        banner,
        dismiss_banner: Box::new(crate::update::dismiss_banner),
        replay,
        history_file: Some(home.join("history.jsonl")),
        save_history: config.history.persistence == codex_config::HistoryPersistence::SaveAll,
        history_max_bytes: config.history.max_bytes,
        context_window: config.model_context_window,
        alt_screen: !args.no_alt_screen,
    };
    let runtime = runtime()?;
    let exit = runtime.block_on(codex_tui::run(options, open))?;
    eprintln!("To continue this session: codex resume {}", exit.session_id);
    Ok(exit.code)
}

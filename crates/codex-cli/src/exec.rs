//! `codex exec`: one task, run to completion. Progress goes to stderr and the final message to
//! stdout (or, with `--json`, every event as a JSON line on stdout), so it composes in scripts:
//! `codex exec "fix the tests" > summary.txt`.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::builder::TypedValueParser as _;
use codex_agent::approval::{ApprovalPolicy, Approvals, Asker};
use codex_agent::events::{AgentEvent, ItemDetails};
use codex_agent::executor::{Backend, Executor};
use codex_agent::model::ModelSettings;
use codex_agent::rollout::Saved;
use codex_agent::rollout::{Rollout, SessionMeta};
use codex_agent::session::Session;
use codex_agent::tools::{DEFAULT_SHELL_TIMEOUT, ToolContext, command_env};
use codex_agent::truncate::DEFAULT_MAX_BYTES;
use codex_sandbox::SandboxMode;

use crate::color::Painter;

/// The variable a remote exec-server's token may come from: the one the server reads.
pub const EXEC_SERVER_TOKEN_ENV: &str = codex_exec_server::env::TOKEN;

/// Flags shared by `codex exec` and the interactive `codex`: which model, which config, where
/// commands run and under which sandbox.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentArgs {
    /// The model (overrides `model` in config.toml).
    #[arg(short = 'm', long, value_name = "MODEL")]
    pub model: Option<String>,
    /// The profile to apply: `$CODEX_HOME/NAME.config.toml` and/or the `[profiles.NAME]` table
    /// of config.toml, laid over config.toml (the file over the table when both exist).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Refuse a config.toml (or profile file) with a key codex does not know, instead of
    /// warning about it.
    #[arg(long)]
    pub strict_config: bool,
    /// The `-c`, `--enable` and `--disable` overrides, in order (global flags: see
    /// [`crate::global::ConfigArgs`]; filled in before the command runs).
    #[arg(skip)]
    pub config: Vec<String>,
    /// The sandbox for the commands the model runs.
    #[arg(short = 's', long, value_name = "MODE",
          value_parser = clap::builder::PossibleValuesParser::new(["read-only", "workspace-write", "danger-full-access"])
              .try_map(|s| s.parse::<SandboxMode>()))]
    pub sandbox: Option<SandboxMode>,
    /// Work in DIR instead of the current directory.
    #[arg(short = 'C', long = "cd", value_name = "DIR")]
    pub cd: Option<PathBuf>,
    /// When to ask before the model's command or patch runs (interactive codex only; overrides
    /// `approval_policy`).
    #[arg(short = 'a', long = "ask-for-approval", value_name = "POLICY",
          value_parser = clap::builder::PossibleValuesParser::new(["untrusted", "on-request", "never"])
              .try_map(|s| s.parse::<ApprovalPolicy>()))]
    pub ask_for_approval: Option<ApprovalPolicy>,
    /// Run commands without any sandbox and never ask for approval. EXTREMELY DANGEROUS: only
    /// for environments that are sandboxed from the outside.
    #[arg(
        long = "dangerously-bypass-approvals-and-sandbox",
        alias = "yolo",
        conflicts_with = "ask_for_approval"
    )]
    pub dangerously_bypass_approvals_and_sandbox: bool,
    /// Image(s) to attach to the first prompt: PNG, JPEG, GIF or WebP (by content), comma-separated
    /// or one per flag.
    #[arg(short = 'i', long = "image", value_name = "FILE", value_delimiter = ',', num_args = 1..)]
    pub image: Vec<PathBuf>,
    /// Use a local open-source model server: --local-provider, else `oss_provider` in
    /// config.toml, else Ollama; the model is gpt-oss (20b) unless --model names another.
    #[arg(long)]
    pub oss: bool,
    /// With --oss: which local server, lmstudio or ollama.
    #[arg(long, value_name = "OSS_PROVIDER", value_parser = ["lmstudio", "ollama"])]
    pub local_provider: Option<String>,
    /// Do not read $CODEX_HOME/config.toml: only the built-in defaults, the flags and `-c`
    /// (CODEX_HOME still holds the session logs).
    #[arg(long)]
    pub ignore_user_config: bool,
    /// Another directory the commands may write under workspace-write (repeatable).
    #[arg(long = "add-dir", value_name = "DIR")]
    pub add_dir: Vec<PathBuf>,
    /// The interactive codex draws on the main screen instead of the alternate one, so the
    /// terminal's scrollback (and its last screen) stays.
    #[arg(long)]
    pub no_alt_screen: bool,
    /// Accepted for Codex 0.169's scripts: codex runs no hooks, so there is no hook trust to
    /// bypass.
    #[arg(long)]
    pub dangerously_bypass_hook_trust: bool,
    /// Let the model search the web with the provider's own web_search tool (Responses API
    /// providers only).
    #[arg(long)]
    pub search: bool,
    /// Accepted for Codex 0.169's scripts: codex never uses a shared background server, so it
    /// always runs without one.
    #[arg(long)]
    pub no_daemon: bool,
    /// Run commands on this exec-server instead of a local one.
    #[arg(long, value_name = "ws://HOST:PORT")]
    pub exec_server: Option<String>,
    /// Refused: a token on the command line is readable by every local user in /proc. Kept so
    /// that using it gets a message saying what to do instead.
    #[arg(long, value_name = "TOKEN", hide = true)]
    pub exec_server_token: Option<String>,
    /// A file whose first line is the remote exec-server's token (else it is read from
    /// CODEX_EXEC_SERVER_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub exec_server_token_file: Option<PathBuf>,
}

impl AgentArgs {
    /// These flags over `outer`, the ones given before the subcommand (`codex -m M exec`, as
    /// 0.169 allows): a flag given here wins, a list gets both (outer first).
    pub fn over(mut self, outer: &AgentArgs) -> AgentArgs {
        let o = outer.clone();
        self.model = self.model.or(o.model);
        self.profile = self.profile.or(o.profile);
        self.config = [o.config, self.config].concat();
        self.sandbox = self.sandbox.or(o.sandbox);
        self.cd = self.cd.or(o.cd);
        self.ask_for_approval = self.ask_for_approval.or(o.ask_for_approval);
        self.dangerously_bypass_approvals_and_sandbox |= o.dangerously_bypass_approvals_and_sandbox;
        self.add_dir = [o.add_dir, self.add_dir].concat();
        self.image = [o.image, self.image].concat();
        self.oss |= o.oss;
        self.no_daemon |= o.no_daemon;
        self.search |= o.search;
        self.no_alt_screen |= o.no_alt_screen;
        self.dangerously_bypass_hook_trust |= o.dangerously_bypass_hook_trust;
        self.ignore_user_config |= o.ignore_user_config;
        self.local_provider = self.local_provider.or(o.local_provider);
        self.exec_server = self.exec_server.or(o.exec_server);
        self.exec_server_token = self.exec_server_token.or(o.exec_server_token);
        self.exec_server_token_file = self.exec_server_token_file.or(o.exec_server_token_file);
        self
    }

    /// The remote exec-server's token: from `--exec-server-token-file`, else from the
    /// environment. A token given on the command line is refused.
    pub fn resolve_exec_server_token(&self) -> Result<Option<String>> {
        if self.exec_server_token.is_some() {
            bail!(
                "--exec-server-token puts the token where every local user can read it (/proc/*/cmdline); set {EXEC_SERVER_TOKEN_ENV} or use --exec-server-token-file FILE"
            );
        }
        if let Some(file) = &self.exec_server_token_file {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!("cannot read --exec-server-token-file {}", file.display())
            })?;
            let token = text.lines().next().unwrap_or("").trim().to_owned();
            if token.is_empty() {
                bail!(
                    "--exec-server-token-file {}: the file is empty; put the token on its first line",
                    file.display()
                );
            }
            return Ok(Some(token));
        }
        Ok(std::env::var(EXEC_SERVER_TOKEN_ENV)
            .ok()
            .filter(|t| !t.is_empty()))
    }
}

/// `codex exec` arguments.
#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The task. Read from stdin when absent (or `-`); when both are given, stdin is appended
    /// in a <stdin> block.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
    #[command(flatten)]
    pub agent: AgentArgs,
    // These are global, as in 0.169, so that `codex exec resume` takes them too.
    /// Print every event as a JSON line on stdout (nothing on stderr but errors).
    #[arg(long, global = true)]
    pub json: bool,
    /// Write nothing to disk: no session log under $CODEX_HOME/sessions, no log file.
    #[arg(long, global = true)]
    pub ephemeral: bool,
    /// Also write the final message to FILE.
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output_last_message: Option<PathBuf>,
    /// A JSON Schema file the final answer must follow: sent to the model as the structured
    /// output format, and the answer is checked against it (exit 1 when it does not follow).
    #[arg(long, value_name = "FILE", global = true)]
    pub output_schema: Option<PathBuf>,
    /// Run even outside a git work tree (one that is not a project trusted in config.toml).
    #[arg(long, global = true)]
    pub skip_git_repo_check: bool,
    /// Mark this project trusted in config.toml, for this run and later ones (even with
    /// --ephemeral); a project marked untrusted there stays so.
    #[arg(long, global = true)]
    pub trust: bool,
    /// Accepted for Codex 0.169's scripts: codex reads no execpolicy `.rules` files, so there
    /// is nothing to ignore.
    #[arg(long, global = true)]
    pub ignore_rules: bool,
    /// Colour in the progress on stderr: always, never, or auto (a terminal without NO_COLOR).
    #[arg(long, value_enum, value_name = "COLOR", default_value_t = crate::color::ColorChoice::Auto)]
    pub color: crate::color::ColorChoice,
    #[command(subcommand)]
    pub command: Option<ExecCommand>,
}

/// `codex exec` subcommands.
///
/// Written out rather than derived so that `resume`'s arguments are built only when `resume`
/// is the command (clap's `defer`): a plain `codex exec`, which scripts start over and over,
/// does not pay for a second copy of the session flags.
#[derive(Debug)]
pub enum ExecCommand {
    /// `codex exec resume`.
    Resume(Box<crate::exec_resume::ExecResumeArgs>),
}

impl clap::FromArgMatches for ExecCommand {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        use clap::error::ErrorKind;
        match matches.remove_subcommand() {
            Some((name, mut sub)) if name == crate::exec_resume::NAME => Ok(Self::Resume(
                Box::new(clap::FromArgMatches::from_arg_matches_mut(&mut sub)?),
            )),
            Some((name, _)) => Err(clap::Error::raw(
                ErrorKind::InvalidSubcommand,
                format!("`codex exec` has no subcommand `{name}`"),
            )),
            None => Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "`codex exec` needs a subcommand here",
            )),
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for ExecCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd.subcommand(
            clap::Command::new(crate::exec_resume::NAME)
                .about(crate::exec_resume::ABOUT)
                .defer(<crate::exec_resume::ExecResumeArgs as clap::Args>::augment_args),
        )
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        cmd.subcommand(
            clap::Command::new(crate::exec_resume::NAME)
                .about(crate::exec_resume::ABOUT)
                .defer(<crate::exec_resume::ExecResumeArgs as clap::Args>::augment_args_for_update),
        )
    }

    fn has_subcommand(name: &str) -> bool {
        name == crate::exec_resume::NAME
    }
}

/// Runs `codex exec`, returning the exit code.
pub fn run(args: &ExecArgs) -> i32 {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            let paint = Painter::new(args.color);
            eprintln!("{}", paint.error(&format!("error: {e:#}")));
            1
        }
    }
}

fn run_inner(args: &ExecArgs) -> Result<i32> {
    match &args.command {
        Some(ExecCommand::Resume(r)) => crate::exec_resume::run(args, r),
        None => run_task(args, &args.agent, args.prompt.as_deref(), None),
    }
}

/// One task: the prompt (or stdin) in a new session, or in the saved one `resume` names.
pub(crate) fn run_task(
    args: &ExecArgs,
    agent: &AgentArgs,
    prompt_arg: Option<&str>,
    resume: Option<(PathBuf, Saved)>,
) -> Result<i32> {
    let prompt = prompt(prompt_arg)?;
    let images = crate::images::load(&agent.image)?;
    let schema = args
        .output_schema
        .as_deref()
        .map(crate::schema::OutputSchema::load)
        .transpose()?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let paint = Painter::new(args.color);
        if agent
            .ask_for_approval
            .is_some_and(|p| p != ApprovalPolicy::Never)
        {
            eprintln!(
                "{}",
                paint.warning(
                    "warning: codex exec never asks for approval (no one is there to answer): \
                     what the sandbox refuses fails; choose the sandbox with --sandbox"
                )
            );
        }
        let setup = Setup {
            ephemeral: args.ephemeral,
            require_git_or_trust: !args.skip_git_repo_check,
            trust: args.trust,
            source: Some("exec"),
            resume,
            ..Setup::default()
        };
        let mut session = prepare(agent, setup).await?;
        session.attach_images(images);
        session.set_output_schema(schema.as_ref().map(|s| s.schema().clone()));
        let mut emit = emitter(args.json, paint);
        if !args.json {
            eprintln!("{}", paint.header(&session.header()));
        }
        emit(&AgentEvent::ThreadStarted {
            thread_id: session.id().to_string(),
        });
        match session.run_turn(prompt, &mut emit).await {
            Ok(outcome) => {
                if let Some(schema) = &schema {
                    schema.check(&outcome.final_message)?;
                }
                if !args.json {
                    println!("{}", outcome.final_message);
                }
                if let Some(file) = &args.output_last_message {
                    std::fs::write(file, &outcome.final_message)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                }
                Ok(0)
            }
            Err(e) => {
                eprintln!("{}", paint.error(&format!("error: {e}")));
                Ok(1)
            }
        }
    })
}

/// Where events go: JSON lines on stdout, or progress lines on stderr. An agent message is
/// held back until the next event shows whether it ended the turn: the final message is
/// printed on stdout alone, the others are progress.
pub(crate) fn emitter(json: bool, paint: Painter) -> impl FnMut(&AgentEvent) + Send {
    let mut held: Option<String> = None;
    move |event: &AgentEvent| {
        if json {
            // Deltas are for watching an answer appear; a script gets the whole message.
            if matches!(event, AgentEvent::AgentMessageDelta { .. }) {
                return;
            }
            if let Ok(line) = serde_json::to_string(event) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        if let Some(line) = held.take()
            && !matches!(event, AgentEvent::TurnCompleted { .. })
        {
            eprintln!("{line}");
        }
        let is_message = matches!(
            event,
            AgentEvent::ItemCompleted { item } if matches!(item.details, ItemDetails::AgentMessage { .. })
        );
        match event.progress_line() {
            Some(line) if is_message => held = Some(paint.progress(event, &line)),
            Some(line) => eprintln!("{}", paint.progress(event, &line)),
            None => {}
        }
    }
}

/// The task: the argument, stdin, or the argument followed by stdin in a `<stdin>` block.
fn prompt(arg: Option<&str>) -> Result<String> {
    let stdin = std::io::stdin();
    let piped = !stdin.is_terminal();
    let read_stdin = || -> Result<String> {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the prompt from stdin")?;
        Ok(s)
    };
    match arg {
        Some("-") | None => {
            if !piped {
                bail!("no prompt: give the task as an argument, or pipe it on stdin");
            }
            let s = read_stdin()?;
            if s.trim().is_empty() {
                bail!("no prompt: stdin was empty; give the task as an argument or on stdin");
            }
            Ok(s)
        }
        Some(p) => {
            if !piped {
                return Ok(p.to_string());
            }
            let s = read_stdin()?;
            if s.is_empty() {
                return Ok(p.to_string());
            }
            let s = s.strip_suffix('\n').unwrap_or(&s);
            Ok(format!("{p}\n\n<stdin>\n{s}\n</stdin>"))
        }
    }
}

/// A runtime for the agent: the exec-server client and the model stream run on it.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// How [`prepare`] sets a session up, besides the flags.
#[derive(Debug, Default)]
pub(crate) struct Setup {
    /// Write no session log.
    pub ephemeral: bool,
    /// Who answers approval questions; without one the policy is `never`.
    pub asker: Option<Asker>,
    /// Go on with this saved session (its log, read back) instead of starting one.
    pub resume: Option<(PathBuf, Saved)>,
    /// Where warnings go (a full-screen front end shows them itself); stderr when `None`.
    pub warnings: Option<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
    /// Refuse a working directory outside a git work tree that is not a trusted project
    /// (`codex exec` without `--skip-git-repo-check`).
    pub require_git_or_trust: bool,
    /// Mark the working directory trusted in config.toml first (`--trust`).
    pub trust: bool,
    /// What runs the session, recorded in its log: `cli`, `exec` or `mcp`.
    pub source: Option<&'static str>,
}

/// The session's configuration, as loaded for [`prepare`]: what the front end shows.
pub(crate) fn config_for(args: &AgentArgs) -> Result<(PathBuf, codex_config::Config)> {
    // The bypass beats `--sandbox` (as in 0.169); clap keeps it apart from `-a`.
    let bypass = args.dangerously_bypass_approvals_and_sandbox;
    let options = codex_config::Options {
        profile: args.profile.clone(),
        model: args.model.clone(),
        sandbox_mode: if bypass {
            Some(SandboxMode::DangerFullAccess)
        } else {
            args.sandbox
        },
        approval_policy: if bypass {
            Some(ApprovalPolicy::Never)
        } else {
            args.ask_for_approval
        },
        strict_config: args.strict_config,
        ..codex_config::Options::default()
    };
    let read_file = !args.ignore_user_config;
    if !args.oss {
        // As in 0.169, --local-provider alone changes nothing.
        return load_config_with(options, &args.config, read_file);
    }
    // The configured `oss_provider` is needed to pick the provider, and the provider to pick
    // the model: read the configuration once for it, then with both set.
    let (_, config) = load_config_with(options.clone(), &args.config, read_file)?;
    let provider = args
        .local_provider
        .clone()
        .or(config.oss_provider)
        .unwrap_or_else(|| codex_config::DEFAULT_OSS_PROVIDER.to_string());
    let mut overrides = args.config.clone();
    overrides.push(format!("model_provider={provider:?}"));
    let options = codex_config::Options {
        model: args
            .model
            .clone()
            .or_else(|| codex_config::default_oss_model(&provider).map(str::to_string)),
        ..options
    };
    load_config_with(options, &overrides, read_file)
}

/// A session from the flags and config: model client, sandbox, exec-server backend and (unless
/// `ephemeral`) its log. Everything that can be checked before the model is asked is checked
/// here, so a bad setup fails at once with one line.
pub(crate) async fn prepare(args: &AgentArgs, setup: Setup) -> Result<Session> {
    let (codex_home, mut config) = config_for(args)?;
    let warn = |line: String| match &setup.warnings {
        Some(w) => w.lock().unwrap_or_else(|p| p.into_inner()).push(line),
        None => eprintln!("{line}"),
    };
    for w in std::mem::take(&mut config.warnings) {
        warn(format!("warning: {w}"));
    }
    if let Some((_, saved)) = &setup.resume
        && args.model.is_none()
    {
        // The model the session was using, unless the user picked another one now.
        config.model = saved.meta.model.clone();
    }
    let cwd = match (&args.cd, &setup.resume) {
        (Some(d), _) => d.clone(),
        // A resumed session goes on where it ran.
        (None, Some((_, saved))) => saved.meta.cwd.clone(),
        (None, None) => std::env::current_dir().context("cannot read the current directory")?,
    };
    let cwd = std::fs::canonicalize(&cwd)
        .with_context(|| format!("{}: no such directory (check --cd)", cwd.display()))?;
    if setup.trust {
        let file = codex_home.join("config.toml");
        if codex_config::trust_project(&file, &cwd)? {
            config.projects.insert(
                cwd.display().to_string(),
                codex_config::Project {
                    trust_level: Some("trusted".into()),
                },
            );
        }
    }
    if setup.require_git_or_trust && !args.dangerously_bypass_approvals_and_sandbox {
        crate::workspace::check_git_or_trusted(&cwd, &config)?;
    }
    let mut warnings: Vec<String> = crate::workspace::add_dirs(&args.add_dir, &mut config)?
        .into_iter()
        .collect();
    let policy = config.sandbox_policy(&cwd, &codex_home);
    let backend = match &args.exec_server {
        Some(url) => {
            if !url.starts_with("ws://") {
                bail!("--exec-server {url}: expected ws://HOST:PORT");
            }
            Backend::Remote {
                url: url.clone(),
                token: args.resolve_exec_server_token()?,
            }
        }
        None => Backend::Local {
            exe: std::env::current_exe().context("cannot find this codex binary")?,
        },
    };
    if backend.is_local() && policy.is_sandboxed() {
        // Never run a command unsandboxed: a machine that cannot enforce the policy stops here.
        codex_sandbox::check_available(&policy)?;
    }
    let client = crate::login_cmd::model_client(&codex_home, &config)?
        .with_settings(ModelSettings::from_config(&config));
    let (id, instructions, rollout) = match &setup.resume {
        Some((path, saved)) => {
            let rollout = if setup.ephemeral {
                None
            } else {
                Some(
                    Rollout::append(path)
                        .with_context(|| format!("cannot append to {}", path.display()))?,
                )
            };
            (
                saved.meta.id.clone(),
                saved.meta.instructions.clone(),
                rollout,
            )
        }
        None => {
            let docs = codex_agent::project_docs::DocOptions {
                max_bytes: config.project_doc_max_bytes,
                fallback_filenames: config.project_doc_fallback_filenames.clone(),
                codex_home: Some(codex_home.clone()),
            };
            let instructions = codex_agent::instructions::build_with(&cwd, &policy, &docs)
                .context("cannot read the AGENTS.md files")?;
            let id = session_id();
            let rollout = if setup.ephemeral {
                None
            } else {
                let meta = SessionMeta {
                    id: id.clone(),
                    cwd: cwd.clone(),
                    model: config.model.clone(),
                    model_provider: config.model_provider_id.clone(),
                    sandbox: policy.mode.to_string(),
                    instructions: instructions.clone(),
                    cli_version: codex_build_info::version().to_string(),
                    source: setup.source.map(str::to_string),
                };
                Some(Rollout::create(&codex_home, &meta).with_context(|| {
                    format!(
                        "cannot create the session log under {}; use --ephemeral to run without one",
                        codex_home.join("sessions").display()
                    )
                })?)
            };
            (id, instructions, rollout)
        }
    };
    let mut secrets = vec![EXEC_SERVER_TOKEN_ENV];
    if let Some(k) = &config.model_provider.env_key {
        secrets.push(k.as_str());
    }
    let executor = Executor::new(backend);
    if let Backend::Remote { url, .. } = executor.backend() {
        // A remote server that cannot be reached fails every command; say so before starting.
        executor.client().await.map_err(|e| {
            anyhow::anyhow!("{e} (check --exec-server {url} and its token, --exec-server-token-file or {EXEC_SERVER_TOKEN_ENV})")
        })?;
    }
    if args.search && config.model_provider.wire_api != codex_config::WireApi::Responses {
        warnings.push(format!(
            "warning: --search needs a provider that speaks the Responses API; {} speaks Chat Completions, so the model gets no web search",
            config.model_provider_id
        ));
    }
    // Started together, each within its own start-up timeout; one that fails is left out.
    let (mcp, failures) = codex_mcp_client::McpManager::start(&config.mcp_servers).await;
    if let Some(f) = failures.iter().find(|f| {
        config
            .mcp_servers
            .get(&f.server)
            .is_some_and(|s| s.required)
    }) {
        bail!(
            "{f}; it is required (required = true in [mcp_servers.{}])",
            f.server
        );
    }
    warnings.extend(
        failures
            .into_iter()
            .map(|f| format!("warning: {f}; the session goes on without it")),
    );
    for line in warnings {
        warn(line);
    }
    let tools = ToolContext {
        mcp: std::sync::Arc::new(mcp),
        cwd,
        sandbox: policy,
        executor,
        env: command_env(&config.shell_environment_policy, &secrets),
        default_timeout: DEFAULT_SHELL_TIMEOUT,
        max_output_bytes: DEFAULT_MAX_BYTES,
        approvals: Approvals::new(config.approval_policy, setup.asker),
    };
    let session = match setup.resume {
        Some((_, saved)) => Session::resume(
            id,
            client,
            instructions,
            tools,
            rollout,
            saved.items(),
            &saved.events(),
        ),
        None => Session::new(id, client, instructions, tools, rollout),
    };
    let mut session = session
        .with_notify(config.notify.clone())
        .with_hidden_reasoning(config.hide_agent_reasoning);
    session.set_web_search(args.search);
    Ok(session)
}

/// `$CODEX_HOME` and the configuration layered from it, `options` and the `-c` arguments
/// (which are added to `options.overrides`).
pub(crate) fn load_config(
    options: codex_config::Options,
    overrides: &[String],
) -> Result<(PathBuf, codex_config::Config)> {
    load_config_with(options, overrides, true)
}

/// [`load_config`], leaving out config.toml when `read_file` is false (`--ignore-user-config`).
fn load_config_with(
    mut options: codex_config::Options,
    overrides: &[String],
    read_file: bool,
) -> Result<(PathBuf, codex_config::Config)> {
    let codex_home = codex_installer::settings::codex_home()
        .context("cannot find the home directory: set CODEX_HOME")?;
    for o in overrides {
        options.overrides.push(codex_config::parse_override(o)?);
    }
    let mut warnings = Vec::new();
    let loaded = if read_file {
        codex_config::load_warning(&codex_home, &options, &mut warnings)
    } else {
        codex_config::resolve(Default::default(), &options)
    };
    match loaded {
        Ok(mut config) => {
            // Shown by `prepare`, where a full-screen front end takes them.
            config.warnings = warnings;
            Ok((codex_home, config))
        }
        Err(e) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            Err(e.into())
        }
    }
}

/// A random id in UUID form.
fn session_id() -> String {
    let mut b = [0u8; 16];
    // The id only names a log file; should the OS have no randomness, the time still does.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

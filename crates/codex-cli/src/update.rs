//! `codex update`: finds how the running copy was installed and updates that copy.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use codex_installer::http::{Http, RetryPolicy};
use codex_installer::install::{Installer, Outcome, VersionRequest};
use codex_installer::layout::Layout;
use codex_installer::method::{self, InstallMethod};
use codex_installer::settings::{self, Config, EnvVar};
use codex_installer::source::{Origin, Source};
use codex_installer::target::Target;
use codex_installer::update_check;

/// Flags of `codex update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Only report whether a newer release exists.
    #[arg(long, conflicts_with_all = ["rollback", "dry_run"])]
    pub check: bool,
    /// Install this version instead of the latest (a `v` prefix is accepted).
    #[arg(long = "version", value_name = "VERSION", conflicts_with = "rollback")]
    pub version: Option<String>,
    /// Allow installing a release older than the current one [env: CODEX_ALLOW_DOWNGRADE=1].
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Say what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Switch back to the release that was current before the last update.
    #[arg(long)]
    pub rollback: bool,
    /// Release source: base URL of a mirror with GitHub's layout [env: CODEX_RELEASE_BASE_URL].
    #[arg(long, value_name = "URL", conflicts_with = "from")]
    pub base_url: Option<String>,
    /// Install from a local folder holding a release (manifest.json and archives), offline.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

/// The daily update check, run when codex starts: shows what the cache knows (no network), and
/// when the cache is a day old starts a detached `codex update --check` to refresh it, without
/// waiting for it. Off in CI, with `CODEX_NO_UPDATE_CHECK=1`, or `update_check = false`.
pub fn startup_check() {
    if let Some((home, current)) = refresh()
        && let Some(notice) = update_check::notice(&home, &current)
    {
        eprintln!("{notice}");
    }
}

/// What the interactive codex announces in its banner: the newer version (not dismissed) and
/// the line saying how to get it, with the exact command for this copy's install method. Also
/// starts the daily background check, like [`startup_check`].
pub fn banner() -> Option<(String, String)> {
    let (home, current) = refresh()?;
    let latest = update_check::banner_version(&home, &current)?;
    let how = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map(|exe| method::detect(&exe));
    let command = match &how {
        Ok(InstallMethod::Standalone { .. }) => "codex update".to_string(),
        Ok(m) => match m.update_command() {
            Some(c) => c,
            None => "codex doctor (it says how this copy was installed)".to_string(),
        },
        Err(_) => "codex update".to_string(),
    };
    Some((
        latest.to_string(),
        format!("codex {latest} is available (you have {current}): run {command}"),
    ))
}

/// Hides the banner for `version` from now on.
pub fn dismiss_banner(version: &str) {
    if let Some(home) = settings::codex_home()
        && let Err(e) = update_check::dismiss(&home, version)
    {
        tracing::warn!("cannot record the dismissed update banner: {e}");
    }
}

/// When checks are on: starts the background check if one is due, and returns CODEX_HOME and
/// the running version for reading the cache.
fn refresh() -> Option<(PathBuf, semver::Version)> {
    let home = settings::codex_home()?;
    let config = Config::load(&home).ok()?;
    if !update_check::enabled(&config) {
        return None;
    }
    let current = semver::Version::parse(codex_build_info::version()).ok()?;
    if update_check::due(&home) {
        // Record the attempt first, so an offline machine tries once a day, not on every start.
        let latest = update_check::read_cache(&home)
            .and_then(|c| semver::Version::parse(&c.latest).ok())
            .unwrap_or_else(|| current.clone());
        let _ = update_check::write_cache(&home, &latest);
        if let Ok(exe) = std::env::current_exe() {
            let _ = std::process::Command::new(exe)
                .args(["update", "--check"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
        }
    }
    Some((home, current))
}

/// Runs `codex update`.
pub fn run(args: &UpdateArgs) -> Result<()> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the running codex executable")?;
    match method::detect(&exe) {
        InstallMethod::Standalone { layout, .. } => standalone(args, layout),
        other => managed_elsewhere(args, &exe, &other),
    }
}

fn managed_elsewhere(args: &UpdateArgs, exe: &std::path::Path, m: &InstallMethod) -> Result<()> {
    let exe = shown(exe);
    let Some(cmd) = m.update_command() else {
        let script = if cfg!(windows) {
            "install.ps1"
        } else {
            "install.sh"
        };
        bail!(
            "codex at {exe} was not installed by {script}, npm or Homebrew, so `codex update` cannot replace it; update it the way it was installed, or reinstall with {script}"
        );
    };
    println!("codex at {exe} is managed by {}; update it with:", m.name());
    println!("  {cmd}");
    if args.yes && !args.check && !args.dry_run {
        let argv = m.update_argv().context("no update command")?;
        let (program, args) = argv.split_first().context("empty command")?;
        let status = std::process::Command::new(program)
            .args(args)
            .status()
            .with_context(|| format!("cannot run {program}"))?;
        if !status.success() {
            bail!("`{cmd}` failed ({status})");
        }
    }
    Ok(())
}

/// A path as the user would write it: canonical Windows paths carry a `\\?\` prefix.
pub(crate) fn shown(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if !rest.starts_with("UNC\\") => rest.to_owned(),
        _ => text,
    }
}

fn standalone(args: &UpdateArgs, layout: Layout) -> Result<()> {
    codex_installer::layout::no_group_or_world_writes();
    let receipt = layout.receipt();
    let target: &'static Target = match &receipt {
        Some(r) => Target::from_triple(&r.target)?,
        None => codex_installer::platform::detect()?,
    };
    let codex_home = settings::codex_home().context("HOME is not set")?;
    let config = Config::load(&codex_home)?;
    let flag = args
        .from
        .as_ref()
        .map(|d| d.display().to_string())
        .or_else(|| args.base_url.clone());
    let (source, _origin) = release_source(flag, &config, receipt.as_ref())?;
    let installer = Installer {
        layout: layout.clone(),
        source,
        http: Http::new(RetryPolicy::default())?,
        target,
        installed_by: "codex update".into(),
        keys: codex_installer::signature::builtin_keys(),
        allow_downgrade: args.allow_downgrade || EnvVar::AllowDowngrade.is_true(),
    };
    let current = receipt
        .as_ref()
        .and_then(|r| semver::Version::parse(&r.version).ok())
        .unwrap_or_else(|| {
            semver::Version::parse(codex_build_info::version())
                .unwrap_or(semver::Version::new(0, 0, 0))
        });

    if args.rollback {
        if args.dry_run {
            let prev = receipt.and_then(|r| r.previous);
            match prev {
                Some(p) => println!("would switch back to {p}"),
                None => println!("nothing to roll back to"),
            }
            return Ok(());
        }
        let outcome = installer.rollback()?;
        print_summary("rolled back", &outcome, &installer);
        return Ok(());
    }

    if !args.check && !args.dry_run {
        // Before any download: a read-only location should fail first and fast.
        installer.check_writable()?;
    }
    let request = match &args.version {
        Some(v) => VersionRequest::Exact(
            semver::Version::parse(v.trim_start_matches("rust-v").trim_start_matches('v'))
                .with_context(|| format!("--version {v:?} is not a version like 1.2.3"))?,
        ),
        None => VersionRequest::Latest,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let manifest = rt.block_on(installer.fetch_manifest(&request))?;
    let new = &manifest.version;
    if matches!(request, VersionRequest::Latest) {
        let _ = update_check::write_cache(&codex_home, new);
    }
    if args.check {
        if new > &current {
            println!(
                "codex {new} is available (installed: {current}); run `codex update` to install it"
            );
        } else {
            println!("codex {current} is up to date (latest: {new})");
        }
        return Ok(());
    }
    if new == &current
        && layout.current_release().as_deref() == Some(&Layout::release_name(new, target))
    {
        println!("codex {current} is already installed and current; nothing to do");
        return Ok(());
    }
    installer.check_downgrade(&manifest)?;
    if args.dry_run {
        println!(
            "would update codex {current} -> {new} ({}) from {}",
            target.triple, installer.source
        );
        return Ok(());
    }
    if !args.yes
        && std::io::stdin().is_terminal()
        && !confirm(&format!("Update codex {current} -> {new}?"))?
    {
        println!("update cancelled");
        return Ok(());
    }
    let outcome = rt.block_on(installer.install(&manifest))?;
    print_summary("updated", &outcome, &installer);
    Ok(())
}

/// The release source: the flag, else `CODEX_RELEASE_BASE_URL`, else config.toml, else the
/// receipt's (an install keeps updating from where it came from), else the default.
pub(crate) fn release_source(
    flag: Option<String>,
    config: &Config,
    receipt: Option<&codex_installer::layout::Receipt>,
) -> Result<(Source, Origin)> {
    Ok(Source::resolve(&[
        (Origin::Flag, flag),
        (Origin::Env, EnvVar::ReleaseBaseUrl.get()),
        (Origin::Config, config.release_base_url.clone()),
        (Origin::Receipt, receipt.map(|r| r.source.clone())),
    ])?)
}

/// Asks a yes/no question on stderr; an empty answer is yes.
pub(crate) fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [Y/n] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "" | "y" | "yes"
    ))
}

fn print_summary(verb: &str, o: &Outcome, installer: &Installer) {
    let from = o.from.as_deref().unwrap_or("nothing");
    println!("codex {verb}: {from} -> {} ({})", o.to, o.target);
    println!("  source:   {}", installer.source);
    println!(
        "  release:  {}",
        installer.layout.release_dir(&o.release).display()
    );
    println!("  commands: {}", o.bin_dir.display());
    match &o.previous {
        Some(p) => println!("  rollback: `codex update --rollback` returns to {p}"),
        None => println!("  rollback: no earlier release kept"),
    }
}

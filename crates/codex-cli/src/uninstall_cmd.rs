//! `codex uninstall`: removes a standalone install and what install.sh added for it; for a copy
//! that a package manager owns, prints that manager's command for this copy instead.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use clap::Args;
use codex_installer::layout::{InstallLock, Layout};
use codex_installer::method::{self, InstallMethod};
use codex_installer::settings;
use codex_installer::target::Target;
use codex_installer::uninstall;

use crate::update::shown;

/// Flags of `codex uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Keep CODEX_HOME (config.toml, sessions, logs); remove only the programs.
    #[arg(long)]
    pub keep_config: bool,
}

/// Runs `codex uninstall`.
pub fn run(args: &UninstallArgs) -> Result<()> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the running codex executable")?;
    match method::detect(&exe) {
        InstallMethod::Standalone { layout, .. } => standalone(args, &layout),
        other => managed_elsewhere(&exe, &other),
    }
}

fn managed_elsewhere(exe: &std::path::Path, m: &InstallMethod) -> Result<()> {
    let cmd = match m {
        InstallMethod::Npm {
            manager, prefix, ..
        } => match (manager.as_str(), prefix) {
            ("pnpm", _) => format!("pnpm remove -g {}", codex_installer::NPM_PACKAGE),
            ("bun", _) => format!("bun remove -g {}", codex_installer::NPM_PACKAGE),
            (_, Some(p)) => format!(
                "npm uninstall -g {} --prefix {}",
                codex_installer::NPM_PACKAGE,
                shell_word(&p.display().to_string())
            ),
            (_, None) => format!("npm uninstall {}", codex_installer::NPM_PACKAGE),
        },
        InstallMethod::Homebrew { cask: true } => "brew uninstall --cask codex".into(),
        InstallMethod::Homebrew { cask: false } => "brew uninstall codex".into(),
        InstallMethod::Other { .. } => bail!(
            "codex at {} was not installed by codex's installers, npm or Homebrew; remove it the way it was installed (or delete the file)",
            shown(exe)
        ),
        // Handled by the caller.
        InstallMethod::Standalone { .. } => return Ok(()),
    };
    println!(
        "codex at {} is managed by {}; uninstall it with:",
        shown(exe),
        m.name()
    );
    println!("  {cmd}");
    println!("(nothing was removed; your config and sessions in CODEX_HOME stay either way)");
    Ok(())
}

fn shell_word(w: &str) -> String {
    if w.chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

fn standalone(args: &UninstallArgs, layout: &Layout) -> Result<()> {
    codex_installer::layout::no_group_or_world_writes();
    let codex_home = settings::codex_home().context("HOME is not set")?;
    let home = settings::home_dir().context("HOME is not set")?;
    let target = match layout.receipt() {
        Some(r) => Target::from_triple(&r.target)?,
        None => Target::from_triple(codex_build_info::TARGET)
            .or_else(|_| codex_installer::platform::detect())?,
    };
    if !args.keep_config && uninstall::codex_home_holds_home(&codex_home, &home) {
        bail!(
            "CODEX_HOME ({}) is or holds your home folder, so it is not removed; set CODEX_HOME to the codex folder itself, or run with --keep-config",
            codex_home.display()
        );
    }
    // An update in progress would recreate what is being removed.
    let lock = InstallLock::acquire(layout)?;
    let plan = uninstall::plan(layout, target, &codex_home, &home, args.keep_config);
    println!("codex uninstall will:");
    for line in plan.describe() {
        println!("  {line}");
    }
    for f in &plan.foreign {
        println!("  keep {} (not part of this install)", f.display());
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("not removing anything without confirmation: run `codex uninstall --yes`");
        }
        eprint!("Remove codex? [y/N] ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            println!("uninstall cancelled; nothing was removed");
            return Ok(());
        }
    }
    // The lock lives inside the folder being removed; release it first.
    drop(lock);
    let done = plan.execute().context("uninstall stopped")?;
    for line in &done {
        println!("{line}");
    }
    if cfg!(windows) {
        // install.ps1 added the bin dir to the user's PATH in the registry; editing it from here
        // is not done yet, so say how.
        println!(
            "install.ps1 may have added {} to your user PATH; remove it under Settings > System > About > Advanced system settings > Environment Variables",
            layout.bin_dir.display()
        );
    }
    if args.keep_config {
        println!(
            "codex is uninstalled; {} (config and sessions) was kept",
            codex_home.display()
        );
    } else {
        println!("codex is uninstalled");
    }
    Ok(())
}

//! How the running copy of codex was installed, so `codex update` acts on that copy and not on
//! some other one that happens to be on PATH.

use std::path::{Path, PathBuf};

use crate::NPM_PACKAGE;
use crate::layout::Layout;
use crate::settings::EnvVar;

/// The channel that manages a copy of codex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallMethod {
    /// The standalone layout (install.sh, install.ps1, `codex update`): updates itself.
    Standalone {
        /// The layout the running binary lives in.
        layout: Layout,
        /// The release folder it runs from.
        release: String,
    },
    /// A JavaScript package manager.
    Npm {
        /// `npm`, `pnpm` or `bun`.
        manager: String,
        /// The package's folder.
        package_root: PathBuf,
        /// The global prefix that holds it, when it can be derived.
        prefix: Option<PathBuf>,
    },
    /// Homebrew.
    Homebrew {
        /// Installed as a cask (macOS) rather than a formula (Linux).
        cask: bool,
    },
    /// Something else: a copied binary, a cargo build, a distro package.
    Other {
        /// Where it runs from.
        exe: PathBuf,
    },
}

/// Classifies the copy at `exe` (canonicalized by the caller).
pub fn detect(exe: &Path) -> InstallMethod {
    if let Some((layout, release)) = Layout::owning(exe, crate::settings::codex_home().as_deref()) {
        return InstallMethod::Standalone { layout, release };
    }
    let text = exe.to_string_lossy().replace('\\', "/");
    let npm_root = EnvVar::NpmPackageRoot.get().map(PathBuf::from).or_else(|| {
        // The npm fast path runs the binary from inside node_modules without the launcher.
        let idx = text.find("/node_modules/")?;
        let rest = &text[idx + "/node_modules/".len()..];
        let pkg_len = if rest.starts_with('@') {
            rest.splitn(3, '/').take(2).map(str::len).sum::<usize>() + 1
        } else {
            rest.split('/').next().map_or(0, str::len)
        };
        Some(PathBuf::from(
            &text[..idx + "/node_modules/".len() + pkg_len],
        ))
    });
    if let Some(package_root) = npm_root {
        let root_text = package_root.to_string_lossy().replace('\\', "/");
        let manager = EnvVar::NpmManager.get().unwrap_or_else(|| {
            if root_text.contains("/.bun/") {
                "bun".into()
            } else if root_text.contains("/pnpm/") {
                "pnpm".into()
            } else {
                "npm".into()
            }
        });
        let prefix = global_prefix(&package_root);
        return InstallMethod::Npm {
            manager,
            package_root,
            prefix,
        };
    }
    if text.contains("/Caskroom/codex/") {
        return InstallMethod::Homebrew { cask: true };
    }
    if text.contains("/Cellar/codex/") {
        return InstallMethod::Homebrew { cask: false };
    }
    InstallMethod::Other {
        exe: exe.to_path_buf(),
    }
}

/// `<prefix>/lib/node_modules/<pkg>` (Unix) or `<prefix>/node_modules/<pkg>` (Windows) → prefix;
/// `None` for a project's own node_modules.
fn global_prefix(package_root: &Path) -> Option<PathBuf> {
    let depth = NPM_PACKAGE.split('/').count();
    let mut p = package_root;
    for _ in 0..depth {
        p = p.parent()?;
    }
    if p.file_name()? != "node_modules" {
        return None;
    }
    let parent = p.parent()?;
    if parent.file_name()? == "lib" {
        return Some(parent.parent()?.to_path_buf());
    }
    // On Windows a global prefix holds node_modules directly, beside npm's `codex.cmd` shim; a
    // project's node_modules has no such shim beside it.
    parent
        .join("codex.cmd")
        .is_file()
        .then(|| parent.to_path_buf())
}

/// `<project>/node_modules/<pkg>` -> `<project>`.
fn local_project(package_root: &Path) -> Option<PathBuf> {
    let mut p = package_root;
    for _ in 0..NPM_PACKAGE.split('/').count() {
        p = p.parent()?;
    }
    (p.file_name()? == "node_modules").then(|| p.parent().map(Path::to_path_buf))?
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl InstallMethod {
    /// The command that updates this copy, for channels that codex does not update itself, as
    /// the program and its arguments (run without a shell, so paths with spaces survive).
    pub fn update_argv(&self) -> Option<Vec<String>> {
        let latest = format!("{NPM_PACKAGE}@latest");
        let words: Vec<String> = match self {
            InstallMethod::Npm {
                manager,
                prefix,
                package_root,
            } => match (manager.as_str(), prefix) {
                ("pnpm", _) => vec!["pnpm".into(), "add".into(), "-g".into(), latest],
                ("bun", _) => vec!["bun".into(), "add".into(), "-g".into(), latest],
                (_, Some(p)) => vec![
                    "npm".into(),
                    "install".into(),
                    "-g".into(),
                    latest,
                    "--prefix".into(),
                    p.display().to_string(),
                ],
                // Not a global install: the project whose node_modules holds the package.
                (_, None) => match local_project(package_root) {
                    Some(project) => vec![
                        "npm".into(),
                        "install".into(),
                        latest,
                        "--prefix".into(),
                        project.display().to_string(),
                    ],
                    None => vec!["npm".into(), "install".into(), "-g".into(), latest],
                },
            },
            InstallMethod::Homebrew { cask: true } => {
                vec![
                    "brew".into(),
                    "upgrade".into(),
                    "--cask".into(),
                    "codex".into(),
                ]
            }
            InstallMethod::Homebrew { cask: false } => {
                vec!["brew".into(), "upgrade".into(), "codex".into()]
            }
            InstallMethod::Standalone { .. } | InstallMethod::Other { .. } => return None,
        };
        Some(words)
    }

    /// [`InstallMethod::update_argv`] as one line to paste into a POSIX shell.
    pub fn update_command(&self) -> Option<String> {
        let words = self.update_argv()?;
        Some(
            words
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// A short name: standalone, npm, pnpm, bun, homebrew, other.
    pub fn name(&self) -> &str {
        match self {
            InstallMethod::Standalone { .. } => "standalone",
            InstallMethod::Npm { manager, .. } => manager,
            InstallMethod::Homebrew { .. } => "homebrew",
            InstallMethod::Other { .. } => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_global_install_gives_the_prefixed_command() {
        let m = detect(Path::new(
            "/home/u/.nvm/versions/node/v20.1.0/lib/node_modules/@openai/codex/bin/codex",
        ));
        assert_eq!(m.name(), "npm");
        assert_eq!(
            m.update_command().as_deref(),
            Some("npm install -g @openai/codex@latest --prefix /home/u/.nvm/versions/node/v20.1.0")
        );
    }

    #[test]
    fn a_project_install_updates_the_project_and_spaces_survive() {
        let m = detect(Path::new(
            "/home/u/my app/node_modules/@openai/codex/bin/codex",
        ));
        assert_eq!(
            m.update_argv(),
            Some(
                [
                    "npm",
                    "install",
                    "@openai/codex@latest",
                    "--prefix",
                    "/home/u/my app"
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert_eq!(
            m.update_command().as_deref(),
            Some("npm install @openai/codex@latest --prefix '/home/u/my app'")
        );
    }

    #[test]
    fn homebrew_and_unknown_copies_are_told_apart() {
        let cask = detect(Path::new(
            "/opt/homebrew/Caskroom/codex/1.2.3/codex-aarch64-apple-darwin",
        ));
        assert_eq!(
            cask.update_command().as_deref(),
            Some("brew upgrade --cask codex")
        );
        let other = detect(Path::new("/usr/local/bin/codex"));
        assert_eq!(other.name(), "other");
        assert_eq!(other.update_command(), None);
    }
}

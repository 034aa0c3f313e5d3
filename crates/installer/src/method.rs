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

/// `<prefix>/lib/node_modules/<pkg>` (Unix) or `<prefix>/node_modules/<pkg>` (Windows) → prefix.
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
    Some(if parent.file_name()? == "lib" {
        parent.parent()?.to_path_buf()
    } else {
        parent.to_path_buf()
    })
}

impl InstallMethod {
    /// The command that updates this copy, for channels that codex does not update itself.
    pub fn update_command(&self) -> Option<String> {
        match self {
            InstallMethod::Npm {
                manager, prefix, ..
            } => Some(match manager.as_str() {
                "pnpm" => format!("pnpm add -g {NPM_PACKAGE}@latest"),
                "bun" => format!("bun add -g {NPM_PACKAGE}@latest"),
                _ => match prefix {
                    Some(p) => format!(
                        "npm install -g {NPM_PACKAGE}@latest --prefix {}",
                        p.display()
                    ),
                    None => format!("npm install -g {NPM_PACKAGE}@latest"),
                },
            }),
            InstallMethod::Homebrew { cask: true } => Some("brew upgrade --cask codex".into()),
            InstallMethod::Homebrew { cask: false } => Some("brew upgrade codex".into()),
            InstallMethod::Standalone { .. } | InstallMethod::Other { .. } => None,
        }
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

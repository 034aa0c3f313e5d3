//! The supported release targets: the single table every channel and the build read.

use std::fmt;
use std::str::FromStr;

/// Operating system family of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Os {
    /// Linux, any distribution (binaries are static musl).
    Linux,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
}

/// CPU architecture of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// 64-bit x86 (amd64).
    X86_64,
    /// 64-bit ARM (arm64).
    Aarch64,
}

/// How a target's binaries are packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveFormat {
    /// gzip-compressed tar, for Unix targets.
    TarGz,
    /// zip, for Windows targets.
    Zip,
}

impl ArchiveFormat {
    /// File extension without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::TarGz => "tar.gz",
            Self::Zip => "zip",
        }
    }
}

/// A binary that every release ships for every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Binary {
    /// The coding agent, `codex`.
    Codex,
    /// The remote process runner, `codex-exec-server`.
    ExecServer,
}

impl Binary {
    /// Every shipped binary, in manifest order.
    pub const ALL: [Binary; 2] = [Binary::Codex, Binary::ExecServer];

    /// The installed command name (also the cargo binary name).
    pub fn name(self) -> &'static str {
        match self {
            Self::Codex => "codex",
            Self::ExecServer => "codex-exec-server",
        }
    }

    /// The cargo package that builds this binary.
    pub fn package(self) -> &'static str {
        match self {
            Self::Codex => "codex-cli",
            Self::ExecServer => "codex-exec-server",
        }
    }

    /// Looks a binary up by its command name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One supported release target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// Rust target triple, which is also the suffix of every archive and entry name.
    pub triple: &'static str,
    /// Operating system.
    pub os: Os,
    /// CPU architecture.
    pub arch: Arch,
    /// One line for docs and tables.
    pub notes: &'static str,
}

/// Every target a release contains. Adding a target here adds it to the build, the manifest, the
/// installers and the docs (`cargo xtask generate` rewrites the derived files).
pub const TARGETS: &[Target] = &[
    Target {
        triple: "x86_64-unknown-linux-musl",
        os: Os::Linux,
        arch: Arch::X86_64,
        notes: "fully static; any x86_64 Linux",
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        os: Os::Linux,
        arch: Arch::Aarch64,
        notes: "fully static; any arm64 Linux",
    },
    Target {
        triple: "x86_64-apple-darwin",
        os: Os::MacOs,
        arch: Arch::X86_64,
        notes: "Intel Macs",
    },
    Target {
        triple: "aarch64-apple-darwin",
        os: Os::MacOs,
        arch: Arch::Aarch64,
        notes: "Apple Silicon; ad hoc code signature",
    },
    Target {
        triple: "x86_64-pc-windows-gnu",
        os: Os::Windows,
        arch: Arch::X86_64,
        notes: "Windows x64; no MSVC runtime needed",
    },
    Target {
        triple: "aarch64-pc-windows-gnullvm",
        os: Os::Windows,
        arch: Arch::Aarch64,
        notes: "Windows on ARM; native, not emulated x64",
    },
];

/// A triple that is not in [`TARGETS`].
#[derive(Debug, thiserror::Error)]
#[error("unknown target '{0}'; supported targets: {list}", list = supported_list())]
pub struct UnknownTarget(pub String);

/// The supported triples, comma-separated, for error messages.
pub fn supported_list() -> String {
    TARGETS
        .iter()
        .map(|t| t.triple)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Target {
    /// Looks a target up by triple.
    pub fn from_triple(triple: &str) -> Result<&'static Target, UnknownTarget> {
        TARGETS
            .iter()
            .find(|t| t.triple == triple)
            .ok_or_else(|| UnknownTarget(triple.to_owned()))
    }

    /// Archive format for this target's OS.
    pub fn archive_format(&self) -> ArchiveFormat {
        match self.os {
            Os::Windows => ArchiveFormat::Zip,
            Os::Linux | Os::MacOs => ArchiveFormat::TarGz,
        }
    }

    /// Executable suffix (`.exe` on Windows, empty elsewhere).
    pub fn exe_suffix(&self) -> &'static str {
        match self.os {
            Os::Windows => ".exe",
            Os::Linux | Os::MacOs => "",
        }
    }

    /// The single file inside the archive: `codex-<triple>` (`.exe` on Windows).
    pub fn entry_name(&self, binary: Binary) -> String {
        format!("{}-{}{}", binary.name(), self.triple, self.exe_suffix())
    }

    /// The archive file name: `codex-<triple>.tar.gz` or `codex-<triple>.zip`.
    pub fn archive_name(&self, binary: Binary) -> String {
        format!(
            "{}-{}.{}",
            binary.name(),
            self.triple,
            self.archive_format().extension()
        )
    }

    /// The name the binary is installed under: `codex` or `codex.exe`.
    pub fn installed_name(&self, binary: Binary) -> String {
        format!("{}{}", binary.name(), self.exe_suffix())
    }

    /// Node's `process.platform` for this target (npm's `os` field).
    pub fn npm_os(&self) -> &'static str {
        match self.os {
            Os::Linux => "linux",
            Os::MacOs => "darwin",
            Os::Windows => "win32",
        }
    }

    /// Node's `process.arch` for this target (npm's `cpu` field).
    pub fn npm_cpu(&self) -> &'static str {
        match self.arch {
            Arch::X86_64 => "x64",
            Arch::Aarch64 => "arm64",
        }
    }

    /// `<os>-<cpu>` as Node names them: the key the npm launcher looks its platform up by.
    pub fn npm_platform(&self) -> String {
        format!("{}-{}", self.npm_os(), self.npm_cpu())
    }

    /// The npm package holding this target's binaries: `@openai/codex-linux-x64`. No `libc`
    /// field is needed: the Linux binaries are static musl and run on glibc and musl alike.
    pub fn npm_package(&self) -> String {
        format!("{}-{}", crate::NPM_PACKAGE, self.npm_platform())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple)
    }
}

impl FromStr for &'static Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::from_triple(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_and_entry_names_follow_the_convention() {
        let linux = Target::from_triple("x86_64-unknown-linux-musl").expect("known");
        assert_eq!(
            linux.archive_name(Binary::Codex),
            "codex-x86_64-unknown-linux-musl.tar.gz"
        );
        assert_eq!(
            linux.entry_name(Binary::Codex),
            "codex-x86_64-unknown-linux-musl"
        );
        let win = Target::from_triple("x86_64-pc-windows-gnu").expect("known");
        assert_eq!(
            win.archive_name(Binary::ExecServer),
            "codex-exec-server-x86_64-pc-windows-gnu.zip"
        );
        assert_eq!(
            win.entry_name(Binary::ExecServer),
            "codex-exec-server-x86_64-pc-windows-gnu.exe"
        );
        assert_eq!(win.installed_name(Binary::Codex), "codex.exe");
    }

    #[test]
    fn triples_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(TARGETS.iter().all(|t| seen.insert(t.triple)));
    }

    #[test]
    fn unknown_target_error_lists_supported_targets() {
        let err = Target::from_triple("sparc-sun-solaris").expect_err("unknown");
        insta::assert_snapshot!(err.to_string(), @"unknown target 'sparc-sun-solaris'; supported targets: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-apple-darwin, aarch64-apple-darwin, x86_64-pc-windows-gnu, aarch64-pc-windows-gnullvm");
    }
}

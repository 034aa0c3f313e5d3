//! Which release target fits this machine. The mapping is a pure function so it can be tested
//! for every platform from any platform.

use crate::target::{Arch, Os, TARGETS, Target, supported_list};

/// The facts about a machine that choose its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine<'a> {
    /// `std::env::consts::OS` of the machine (not of this process's build).
    pub os: &'a str,
    /// Native CPU of the machine (an x86_64 process under Rosetta 2 or Windows' x64 emulation
    /// reports the arm64 host here).
    pub cpu: &'a str,
}

/// No release fits.
#[derive(Debug, thiserror::Error)]
#[error("no codex release for {os}/{cpu}; releases exist for: {list}", list = supported_list())]
pub struct Unsupported {
    /// OS as detected.
    pub os: String,
    /// CPU as detected.
    pub cpu: String,
}

/// Maps a machine to a target from the shared table.
pub fn target_for(machine: Machine<'_>) -> Result<&'static Target, Unsupported> {
    let os = match machine.os {
        "linux" => Some(Os::Linux),
        "macos" | "darwin" => Some(Os::MacOs),
        "windows" => Some(Os::Windows),
        _ => None,
    };
    let arch = match machine.cpu {
        "x86_64" | "amd64" | "x64" => Some(Arch::X86_64),
        "aarch64" | "arm64" | "armv8l" => Some(Arch::Aarch64),
        _ => None,
    };
    TARGETS
        .iter()
        .find(|t| Some(t.os) == os && Some(t.arch) == arch)
        .ok_or_else(|| Unsupported {
            os: machine.os.to_owned(),
            cpu: machine.cpu.to_owned(),
        })
}

/// The target for the machine this process runs on.
pub fn detect() -> Result<&'static Target, Unsupported> {
    let os = std::env::consts::OS;
    let mut cpu = std::env::consts::ARCH;
    if os == "macos" && cpu == "x86_64" && rosetta_translated() {
        cpu = "aarch64";
    }
    if os == "windows" && cpu == "x86_64" && windows_native_arm64() {
        cpu = "aarch64";
    }
    target_for(Machine { os, cpu })
}

/// An x86_64 process under Rosetta 2 gets the native arm64 build: `sysctl.proc_translated` is 1.
fn rosetta_translated() -> bool {
    std::process::Command::new("sysctl")
        .args(["-n", "sysctl.proc_translated"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "1")
}

/// Under x64 emulation on Windows on ARM, `PROCESSOR_ARCHITECTURE` says AMD64; the machine's
/// own architecture is in the registry key the OS keeps for it.
fn windows_native_arm64() -> bool {
    std::env::var("PROCESSOR_ARCHITEW6432").is_ok_and(|a| a.eq_ignore_ascii_case("ARM64"))
        || std::process::Command::new("reg")
            .args([
                "query",
                r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment",
                "/v",
                "PROCESSOR_ARCHITECTURE",
            ])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("ARM64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_machine_maps_to_its_target() {
        let t = |os, cpu| target_for(Machine { os, cpu }).map(|t| t.triple).ok();
        assert_eq!(t("linux", "x86_64"), Some("x86_64-unknown-linux-musl"));
        assert_eq!(t("linux", "aarch64"), Some("aarch64-unknown-linux-musl"));
        assert_eq!(t("macos", "x86_64"), Some("x86_64-apple-darwin"));
        assert_eq!(t("macos", "aarch64"), Some("aarch64-apple-darwin"));
        assert_eq!(t("windows", "x86_64"), Some("x86_64-pc-windows-gnu"));
        assert_eq!(t("windows", "aarch64"), Some("aarch64-pc-windows-gnullvm"));
    }

    #[test]
    fn unsupported_platform_lists_the_supported_ones() {
        let err = target_for(Machine {
            os: "freebsd",
            cpu: "x86_64",
        })
        .expect_err("none");
        insta::assert_snapshot!(err.to_string(), @"no codex release for freebsd/x86_64; releases exist for: x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-apple-darwin, aarch64-apple-darwin, x86_64-pc-windows-gnu, aarch64-pc-windows-gnullvm");
    }
}

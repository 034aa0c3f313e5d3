//! Enforcement on Linux: Landlock for the filesystem (and TCP, as a second network layer where
//! the kernel has Landlock ABI 4), a seccomp filter for sockets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, RestrictSelf,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, path_beneath_rules,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::{SandboxError, SandboxMode, SandboxPolicy};

/// The newest Landlock ABI this build knows. Every right it defines is handled (denied unless a
/// rule grants it); best-effort compatibility drops the rights an older kernel lacks, so the
/// sandbox is as strict as the kernel allows.
const BEST_ABI: ABI = ABI::V10;

/// Device files every command may write even in read-only mode: the null and zero devices, and
/// terminals, so that `> /dev/null` and programs in a pseudo-terminal (which open `/dev/tty` or
/// their `/dev/pts/N`) work.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
];

const NOT_IMPLEMENTED: &str =
    " (it needs Linux 5.13 or later built with CONFIG_SECURITY_LANDLOCK=y)";
const NOT_ENABLED: &str =
    " enabled (it is built in but off: add `landlock` to the kernel's lsm= boot parameter)";

/// The kernel's Landlock support, probed without changing this process: a `RestrictSelf` with
/// no flags and no `no_new_privs` only asks the kernel for its ABI version.
fn landlock_status() -> Result<LandlockStatus, SandboxError> {
    RestrictSelf::default()
        .no_new_privs(false)
        .apply()
        .map(|s| s.landlock)
        .map_err(|e| SandboxError::Setup(format!("probing Landlock: {e}")))
}

fn require_landlock() -> Result<(), SandboxError> {
    match landlock_status()? {
        LandlockStatus::Available { .. } => Ok(()),
        LandlockStatus::NotEnabled => Err(SandboxError::NoLandlock {
            detail: NOT_ENABLED,
        }),
        LandlockStatus::NotImplemented => Err(SandboxError::NoLandlock {
            detail: NOT_IMPLEMENTED,
        }),
    }
}

pub(crate) fn landlock_abi() -> Option<u32> {
    match landlock_status().ok()? {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => Some(
            kernel_abi
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(effective_abi as u32),
        ),
        LandlockStatus::NotEnabled | LandlockStatus::NotImplemented => None,
    }
}

pub(crate) fn check_available(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    require_landlock()?;
    if !policy.allows_network() {
        // Compiling the filter checks the architecture; /proc says whether the kernel has
        // seccomp at all (the line is absent without CONFIG_SECCOMP).
        network_filter()?;
        if let Ok(status) = std::fs::read_to_string("/proc/self/status")
            && !status.lines().any(|l| l.starts_with("Seccomp:"))
        {
            return Err(SandboxError::NoSeccomp(
                "this kernel has no seccomp (CONFIG_SECCOMP_FILTER), which the sandbox needs to cut off the network".into(),
            ));
        }
    }
    Ok(())
}

/// Restricts the calling thread (and what it execs) to `policy`, which must be sandboxed.
pub(crate) fn restrict_self(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    // A clear message for a kernel without Landlock, before anything is changed.
    require_landlock()?;
    let filter = (!policy.allows_network())
        .then(network_filter)
        .transpose()?;
    landlock(policy)?;
    if let Some(filter) = filter {
        // Landlock already set no_new_privs, which an unprivileged seccomp filter requires.
        seccompiler::apply_filter(&filter)
            .map_err(|e| SandboxError::Setup(format!("installing the seccomp filter: {e}")))?;
    }
    Ok(())
}

fn landlock(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let setup = |e: landlock::RulesetError| SandboxError::Setup(format!("Landlock: {e}"));
    let abi = BEST_ABI;
    // AF_UNIX stays usable by design, so connecting to a named socket (a right of ABI 9) is
    // granted everywhere like reading.
    let read = AccessFs::from_read(abi) | AccessFs::ResolveUnix;
    let device = read | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(setup)?;
    if !policy.allows_network() {
        // Handled with no rule: no TCP bind or connect at all. The seccomp filter already
        // refuses the sockets; this covers kernels where it could be bypassed.
        ruleset = ruleset
            .handle_access(AccessNet::from_all(abi))
            .map_err(setup)?;
    }
    let mut created = ruleset
        .create()
        .map_err(setup)?
        .add_rules(path_beneath_rules(["/"], read))
        .map_err(setup)?
        .add_rules(path_beneath_rules(DEVICES, device))
        .map_err(setup)?;
    if policy.mode == SandboxMode::WorkspaceWrite {
        created = created
            .add_rules(path_beneath_rules(
                existing(&policy.writable_roots),
                AccessFs::from_all(abi),
            ))
            .map_err(setup)?;
    }
    let status = created.restrict_self().map_err(setup)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        // The probe said Landlock is there, yet nothing was enforced: never run unsandboxed.
        return Err(SandboxError::NoLandlock {
            detail: " that enforces any rule",
        });
    }
    Ok(())
}

/// The roots that exist (Landlock needs a file descriptor for each).
fn existing(roots: &[PathBuf]) -> Vec<&Path> {
    roots
        .iter()
        .map(PathBuf::as_path)
        .filter(|r| r.exists())
        .collect()
}

fn target_arch() -> Result<TargetArch, SandboxError> {
    if cfg!(target_arch = "x86_64") {
        Ok(TargetArch::x86_64)
    } else if cfg!(target_arch = "aarch64") {
        Ok(TargetArch::aarch64)
    } else {
        Err(SandboxError::NoSeccomp(format!(
            "the sandbox's network filter knows x86_64 and aarch64 Linux, not {}",
            std::env::consts::ARCH
        )))
    }
}

/// The seccomp filter of a policy without network: `socket` and `socketpair` of any domain but
/// `AF_UNIX` fail with EPERM, and so does `io_uring_setup` (io_uring can create sockets without
/// the `socket` syscall). Everything else is allowed. A syscall of another architecture (e.g. a
/// 32-bit program) kills the process, since its numbers would not match these rules.
fn network_filter() -> Result<BpfProgram, SandboxError> {
    let bad = |e: seccompiler::BackendError| SandboxError::Setup(format!("seccomp filter: {e}"));
    let not_unix = || -> Result<Vec<SeccompRule>, SandboxError> {
        let domain_not_unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(bad)?;
        Ok(vec![SeccompRule::new(vec![domain_not_unix]).map_err(bad)?])
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut deny = |nr: i64| -> Result<(), SandboxError> {
        rules.insert(nr, not_unix()?);
        Ok(())
    };
    deny(libc::SYS_socket)?;
    deny(libc::SYS_socketpair)?;
    // x32 programs share x86_64's audit arch but number syscalls from 0x40000000; a kernel that
    // runs them must not offer a way around the rules.
    #[cfg(target_arch = "x86_64")]
    {
        const X32: i64 = 0x4000_0000;
        deny(X32 + libc::SYS_socket)?;
        deny(X32 + libc::SYS_socketpair)?;
    }
    // An empty rule list matches unconditionally.
    rules.insert(libc::SYS_io_uring_setup, Vec::new());
    #[cfg(target_arch = "x86_64")]
    rules.insert(0x4000_0000 + libc::SYS_io_uring_setup, Vec::new());
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        target_arch()?,
    )
    .map_err(bad)?;
    BpfProgram::try_from(filter).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_has_landlock_and_the_filter_compiles() {
        assert!(
            landlock_abi().is_some_and(|v| v >= 1),
            "{:?}",
            landlock_abi()
        );
        check_available(&SandboxPolicy::read_only()).expect("available here");
        assert!(!network_filter().expect("compiles").is_empty());
    }

    #[test]
    fn missing_writable_roots_are_skipped() {
        let roots = vec![PathBuf::from("/"), PathBuf::from("/does/not/exist")];
        assert_eq!(existing(&roots), vec![Path::new("/")]);
    }
}

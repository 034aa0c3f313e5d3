//! Enforcement on Linux: Landlock for the filesystem, signals and abstract sockets (and TCP, as a
//! second network layer where the kernel has Landlock ABI 4), a seccomp filter for what Landlock
//! has no right for (sockets, terminal injection, metadata changes), and a new session so the
//! command has no controlling terminal. docs/sandbox.md explains each choice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, LandlockStatus, RestrictSelf,
    Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::{SandboxError, SandboxMode, SandboxPolicy, mounts};

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

/// Ok with the kernel's Landlock ABI, or a clear error for a kernel without Landlock.
fn require_landlock() -> Result<i32, SandboxError> {
    match landlock_status()? {
        LandlockStatus::Available { effective_abi, .. } => Ok(effective_abi as i32),
        LandlockStatus::NotEnabled => Err(SandboxError::NoLandlock {
            detail: NOT_ENABLED,
        }),
        LandlockStatus::NotImplemented => Err(SandboxError::NoLandlock {
            detail: NOT_IMPLEMENTED,
        }),
    }
}

/// The ABI the sandbox uses: the kernel's `abi`, as far as this build knows it, lowered by
/// [`crate::MAX_LANDLOCK_ABI_ENV`].
fn effective_abi(abi: i32) -> i32 {
    let cap = std::env::var(crate::MAX_LANDLOCK_ABI_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok());
    cap.map_or(abi, |c| abi.min(c))
}

/// The protections of every sandboxed mode that Landlock ABI `abi` cannot give. (Abstract
/// sockets need ABI 6 too, but the seccomp filter refuses every AF_UNIX socket anyway.)
fn missing(abi: i32) -> Vec<&'static str> {
    let mut out = Vec::new();
    if abi < 3 {
        out.push("truncation of files outside the writable roots (ABI 3, Linux 6.2)");
    }
    if abi < 6 {
        out.push("signals to processes outside the sandbox (ABI 6, Linux 6.12)");
    }
    out
}

/// Refuses (or, with `allow_weaker`, warns about) a kernel too old for the mode; returns the
/// ABI to build the ruleset for.
fn require_protections(
    policy: &SandboxPolicy,
    kernel_abi: i32,
    warn: bool,
) -> Result<i32, SandboxError> {
    let abi = effective_abi(kernel_abi);
    let missing = missing(abi).join(" or ");
    if missing.is_empty() {
        return Ok(abi);
    }
    if !policy.allow_weaker {
        return Err(SandboxError::Weaker { abi, missing });
    }
    if warn {
        eprintln!(
            "codex sandbox: weaker than {}: Landlock ABI {abi} cannot stop {missing} (sandbox_allow_weaker is set)",
            policy.mode
        );
    }
    Ok(abi)
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
    let abi = require_landlock()?;
    require_protections(policy, abi, false)?;
    // Compiling the filter checks the architecture; /proc says whether the kernel has seccomp
    // at all (the line is absent without CONFIG_SECCOMP).
    filter(policy)?;
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && !status.lines().any(|l| l.starts_with("Seccomp:"))
    {
        return Err(SandboxError::NoSeccomp(
            "this kernel has no seccomp (CONFIG_SECCOMP_FILTER), which the sandbox needs to stop sockets and terminal injection".into(),
        ));
    }
    Ok(())
}

/// Restricts the calling thread (and what it execs) to `policy`, which must be sandboxed.
pub(crate) fn restrict_self(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    // A clear message for a kernel without Landlock, before anything is changed.
    let abi = require_protections(policy, require_landlock()?, true)?;
    let filter = filter(policy)?;
    // A new session drops the controlling terminal, so nothing can be typed into the user's
    // shell through it. It fails only for a process that already leads a process group (as a
    // command given its own pseudo-terminal does), whose terminal is then not the user's; the
    // seccomp filter refuses TIOCSTI either way.
    let _ = rustix::process::setsid();
    if policy.mode == SandboxMode::WorkspaceWrite {
        protect_folders(policy)?;
    }
    landlock(policy, abi)?;
    // Landlock already set no_new_privs, which an unprivileged seccomp filter requires.
    seccompiler::apply_filter(&filter)
        .map_err(|e| SandboxError::Setup(format!("installing the seccomp filter: {e}")))?;
    Ok(())
}

/// Keeps `.git`, `.codex` and `.agents` in the writable roots read-only (see [`crate::mounts`]);
/// where the system allows no user namespace, refuses, or with `allow_weaker` says so and goes
/// on.
fn protect_folders(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    let paths = mounts::protected_paths(&existing(&policy.writable_roots));
    if paths.is_empty() {
        return Ok(());
    }
    let Err(mounts::Refused(reason)) = mounts::make_read_only(&paths) else {
        return Ok(());
    };
    let shown = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !policy.allow_weaker {
        return Err(SandboxError::Unprotected {
            paths: shown,
            reason,
        });
    }
    eprintln!(
        "codex sandbox: weaker than {}: {shown} stay writable: {reason} (sandbox_allow_weaker is set)",
        policy.mode
    );
    Ok(())
}

fn landlock(policy: &SandboxPolicy, abi: i32) -> Result<(), SandboxError> {
    let setup = |e: landlock::RulesetError| SandboxError::Setup(format!("Landlock: {e}"));
    let scoped = abi >= 6;
    // BestEffort drops what the kernel lacks; a lower cap drops more.
    let abi = if abi >= BEST_ABI as i32 {
        BEST_ABI
    } else {
        ABI::from(abi)
    };
    // Connecting to named Unix sockets (ABI 9) is handled and never granted; the seccomp filter
    // refuses AF_UNIX sockets on every kernel anyway.
    let read = AccessFs::from_read(abi);
    let device = read | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(setup)?;
    if scoped {
        // No signals to processes outside the sandbox, no connecting to abstract Unix sockets
        // made outside it (ABI 6).
        ruleset = ruleset
            .scope(Scope::Signal | Scope::AbstractUnixSocket)
            .map_err(setup)?;
    }
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

/// The ioctls that push input into a terminal (asm-generic numbers, as x86_64 and aarch64 use;
/// libc types them differently per libc).
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;

/// Syscalls that change a file's mode, owner, times or extended attributes. Landlock has no
/// right for them, so a read-only command could otherwise change any file of the user's.
fn metadata_syscalls() -> Vec<i64> {
    // Only x86_64 adds the legacy calls below.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut nrs = vec![
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        452, // fchmodat2 (Linux 6.6), the same number on every architecture
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_fsetxattr,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
        463, // setxattrat (Linux 6.13)
        466, // removexattrat (Linux 6.13)
    ];
    #[cfg(target_arch = "x86_64")]
    nrs.extend([
        libc::SYS_chmod,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_utime,
        libc::SYS_utimes,
        libc::SYS_futimesat,
    ]);
    nrs
}

/// The seccomp filter of a sandboxed policy. Refused with EPERM:
/// - always: the TIOCSTI and TIOCLINUX ioctls (typing into a terminal), `socket(AF_UNIX)` (a
///   named or abstract socket outside, such as tmux's, D-Bus or docker.sock, would let the
///   command act outside) and `socketpair(AF_UNIX, SOCK_DGRAM)` (whose `sendto` reaches named
///   sockets); stream socket pairs, which only talk to each other, stay;
/// - without network: `socket` and `socketpair` of any other domain, and `io_uring_setup`
///   (io_uring can create sockets without the `socket` syscall);
/// - read-only: changing modes, owners, times and extended attributes.
///
/// Everything else is allowed. A syscall of another architecture (e.g. a 32-bit program) kills
/// the process, since its numbers would not match these rules.
fn filter(policy: &SandboxPolicy) -> Result<BpfProgram, SandboxError> {
    let bad = |e: seccompiler::BackendError| SandboxError::Setup(format!("seccomp filter: {e}"));
    let arg = |n: u8, op: SeccompCmpOp, v: u64| {
        SeccompCondition::new(n, SeccompCmpArgLen::Dword, op, v).map_err(bad)
    };
    let rule = |conds: Vec<SeccompCondition>| SeccompRule::new(conds).map_err(bad);
    let unix = libc::AF_UNIX as u64;
    let network = policy.allows_network();
    // Socket types carry SOCK_CLOEXEC and SOCK_NONBLOCK in their high bits.
    let dgram = || arg(1, SeccompCmpOp::MaskedEq(0xf), libc::SOCK_DGRAM as u64);
    let socket_rules = || -> Result<Vec<SeccompRule>, SandboxError> {
        Ok(if network {
            vec![rule(vec![arg(0, SeccompCmpOp::Eq, unix)?])?]
        } else {
            // Every domain: AF_UNIX as above, the others because there is no network.
            Vec::new()
        })
    };
    let socketpair_rules = || -> Result<Vec<SeccompRule>, SandboxError> {
        let mut rules = vec![rule(vec![arg(0, SeccompCmpOp::Eq, unix)?, dgram()?])?];
        if !network {
            rules.push(rule(vec![arg(0, SeccompCmpOp::Ne, unix)?])?);
        }
        Ok(rules)
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    // x32 programs share x86_64's audit arch but number syscalls from 0x40000000; a kernel that
    // runs them must not offer a way around the rules.
    let bases: &[i64] = if cfg!(target_arch = "x86_64") {
        &[0, 0x4000_0000]
    } else {
        &[0]
    };
    let tty_rules = || -> Result<Vec<SeccompRule>, SandboxError> {
        Ok(vec![
            rule(vec![arg(1, SeccompCmpOp::Eq, TIOCSTI)?])?,
            rule(vec![arg(1, SeccompCmpOp::Eq, TIOCLINUX)?])?,
        ])
    };
    // x32's ioctl has a number of its own.
    #[cfg(target_arch = "x86_64")]
    rules.insert(0x4000_0000 + 514, tty_rules()?);
    for &base in bases {
        rules.insert(base + libc::SYS_socket, socket_rules()?);
        rules.insert(base + libc::SYS_socketpair, socketpair_rules()?);
        if base == 0 {
            rules.insert(libc::SYS_ioctl, tty_rules()?);
        }
        if !network {
            // An empty rule list matches unconditionally.
            rules.insert(base + libc::SYS_io_uring_setup, Vec::new());
        }
        if policy.mode == SandboxMode::ReadOnly {
            for nr in metadata_syscalls() {
                rules.insert(base + nr, Vec::new());
            }
        }
    }
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
        for policy in [
            SandboxPolicy::read_only(),
            SandboxPolicy::workspace_write(vec![], true),
            SandboxPolicy::workspace_write(vec![], false),
        ] {
            assert!(!filter(&policy).expect("compiles").is_empty());
        }
    }

    #[test]
    fn missing_writable_roots_are_skipped() {
        let roots = vec![PathBuf::from("/"), PathBuf::from("/does/not/exist")];
        assert_eq!(existing(&roots), vec![Path::new("/")]);
    }
}

//! The sandbox for commands the agent runs.
//!
//! A [`SandboxPolicy`] says what a command may do: read everything, write nowhere
//! ([`SandboxMode::ReadOnly`]) or only under its writable roots
//! ([`SandboxMode::WorkspaceWrite`]), with or without the network. On Linux it is enforced by the
//! kernel: Landlock for the filesystem (and, where the kernel has it, TCP bind/connect) and a
//! seccomp filter that refuses every socket but `AF_UNIX`. Elsewhere a sandboxed policy is refused
//! with [`SandboxError::Unsupported`]; only [`SandboxMode::DangerFullAccess`] runs.
//!
//! # The helper
//!
//! The workspace denies unsafe code, so a sandbox cannot be applied in a `pre_exec` hook between
//! fork and exec. Instead the parent starts its own binary as a helper:
//!
//! ```text
//! EXE __codex-sandbox-exec POLICY_JSON -- PROGRAM ARGS...
//! ```
//!
//! ([`helper_argv`] builds it), and that binary's `main` calls [`run_helper_if_requested`] before
//! anything else: the helper restricts itself with the policy and execs the command, which
//! inherits the restrictions and can never lift them. Both `codex` and `codex-exec-server` do so.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod mounts;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The hidden first argument that makes a binary act as the sandbox helper.
pub const HELPER_ARG: &str = "__codex-sandbox-exec";

/// Exit code of the helper when the sandbox could not be set up (the command was not run), as
/// shells use 126 for "found but cannot be run".
pub const EXIT_SETUP_FAILED: i32 = 126;
/// Exit code of the helper when the command does not exist, as shells report it.
pub const EXIT_NOT_FOUND: i32 = 127;

/// How much a sandboxed command may do. kebab-case in serde, [`FromStr`] and [`Display`]:
/// `read-only`, `workspace-write`, `danger-full-access`.
///
/// [`Display`]: fmt::Display
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Read anything, write nothing (but terminals and `/dev/null`), no network.
    #[default]
    ReadOnly,
    /// Read anything, write under the policy's writable roots; network only when allowed.
    WorkspaceWrite,
    /// No sandbox at all.
    DangerFullAccess,
}

impl SandboxMode {
    /// Every mode, in order of increasing access.
    pub const ALL: [SandboxMode; 3] = [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::DangerFullAccess,
    ];

    /// The name as written in config.toml and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`SandboxMode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sandbox mode `{0}`: expected read-only, workspace-write or danger-full-access")]
pub struct ParseSandboxModeError(pub String);

impl FromStr for SandboxMode {
    type Err = ParseSandboxModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SandboxMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseSandboxModeError(s.to_string()))
    }
}

/// What a sandboxed command may do. serde camelCase, since it travels in the exec-server's
/// `process/start` (`{"mode":"workspace-write","writableRoots":["/w"],"networkAccess":false}`).
///
/// `writable_roots` and `network_access` only mean something in
/// [`SandboxMode::WorkspaceWrite`]: read-only never writes nor reaches the network, and
/// danger-full-access is not restricted at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxPolicy {
    /// The mode.
    pub mode: SandboxMode,
    /// Directories (and everything under them) the command may write; ones that do not exist
    /// are skipped.
    #[serde(default)]
    pub writable_roots: Vec<PathBuf>,
    /// Whether the command may open network sockets.
    #[serde(default)]
    pub network_access: bool,
    /// Run even where the system cannot give every protection of the mode (an old Landlock
    /// ABI, no user namespaces to keep `.git` read-only), saying what is missing on each run; without it such a kernel refuses to run the
    /// command. `sandbox_allow_weaker` in config.toml.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_weaker: bool,
}

/// Caps the Landlock ABI the sandbox uses at this number (never raises it), so that what an older
/// kernel gets can be tried, and tested, on a newer one.
pub const MAX_LANDLOCK_ABI_ENV: &str = "CODEX_SANDBOX_MAX_LANDLOCK_ABI";

/// The folders directly under each writable root that stay read-only in
/// [`SandboxMode::WorkspaceWrite`], as in Codex 0.169: what they hold runs later outside any
/// sandbox (git runs `.git/hooks/*` and obeys `.git/config`; `.codex` and `.agents` configure the
/// agent).
pub const READ_ONLY_NAMES: &[&str] = &[".git", ".codex", ".agents"];

impl SandboxPolicy {
    /// Reads everything, writes nothing, no network.
    pub fn read_only() -> Self {
        SandboxPolicy {
            mode: SandboxMode::ReadOnly,
            writable_roots: Vec::new(),
            network_access: false,
            allow_weaker: false,
        }
    }

    /// Reads everything, writes under `writable_roots`, network as given.
    pub fn workspace_write(writable_roots: Vec<PathBuf>, network_access: bool) -> Self {
        SandboxPolicy {
            mode: SandboxMode::WorkspaceWrite,
            writable_roots,
            network_access,
            allow_weaker: false,
        }
    }

    /// No sandbox.
    pub fn danger_full_access() -> Self {
        SandboxPolicy {
            mode: SandboxMode::DangerFullAccess,
            writable_roots: Vec::new(),
            network_access: true,
            allow_weaker: false,
        }
    }

    /// Whether anything is restricted (false for [`SandboxMode::DangerFullAccess`]).
    pub fn is_sandboxed(&self) -> bool {
        self.mode != SandboxMode::DangerFullAccess
    }

    /// Whether the command gets the network (read-only never does).
    pub fn allows_network(&self) -> bool {
        match self.mode {
            SandboxMode::ReadOnly => false,
            SandboxMode::WorkspaceWrite => self.network_access,
            SandboxMode::DangerFullAccess => true,
        }
    }

    /// What enforces this policy here, as the exec-server reports it in `sandboxType`:
    /// `none`, `linux-landlock` (network allowed, so no seccomp filter) or
    /// The read-only folder ([`READ_ONLY_NAMES`] under a writable root) that holds `path`, if
    /// one does: a write there would leave code that runs outside the sandbox. `path` is
    /// absolute; `..` is resolved lexically and names compare without case, as some file
    /// systems do. Always `None` outside workspace-write.
    pub fn read_only_folder_of(&self, path: &Path) -> Option<PathBuf> {
        if self.mode != SandboxMode::WorkspaceWrite {
            return None;
        }
        let path = lexical(path);
        self.writable_roots.iter().find_map(|root| {
            let root = lexical(root);
            let rest = path.strip_prefix(&root).ok()?;
            let first = rest.components().next()?.as_os_str().to_str()?;
            READ_ONLY_NAMES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(first))
                .map(|_| root.join(first))
        })
    }

    /// `linux-landlock-seccomp`.
    pub fn sandbox_type(&self) -> &'static str {
        match (self.is_sandboxed(), self.allows_network()) {
            (false, _) => "none",
            (true, true) => "linux-landlock",
            (true, false) => "linux-landlock-seccomp",
        }
    }
}

/// Why a command cannot be run sandboxed. Each message is one line that says what is missing
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Not Linux.
    #[error(
        "sandboxing is only implemented on Linux; use --sandbox danger-full-access to run without one"
    )]
    Unsupported,
    /// The kernel lacks Landlock, or has it switched off.
    #[error(
        "this kernel has no Landlock{detail}; the command was not run: use a kernel with Landlock, or --sandbox danger-full-access to run without a sandbox"
    )]
    NoLandlock {
        /// What exactly is missing, e.g. ` (not enabled: add landlock to the lsm= boot parameter)`.
        detail: &'static str,
    },
    /// The network filter cannot be installed on this machine.
    #[error(
        "{0}; the command was not run: allow network access (--network, or sandbox_workspace_write.network_access = true), or use --sandbox danger-full-access"
    )]
    NoSeccomp(String),
    /// The kernel's Landlock is too old for a protection the mode promises, and the user did not
    /// accept running with less.
    #[error(
        "this kernel's Landlock (ABI {abi}) cannot enforce {missing}; the command was not run: use Linux 6.12 or later, or set sandbox_allow_weaker = true in config.toml to run without that protection"
    )]
    Weaker {
        /// The ABI the sandbox has.
        abi: i32,
        /// What it cannot enforce, e.g. `signals to processes outside the sandbox (ABI 6)`.
        missing: String,
    },
    /// Folders of the workspace whose contents run later outside the sandbox (`.git`) could not
    /// be kept read-only, and the user did not accept running with less.
    #[error(
        "cannot keep {paths} read-only: {reason}; the command was not run: allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone or kernel.apparmor_restrict_unprivileged_userns), or set sandbox_allow_weaker = true in config.toml to run without that protection"
    )]
    Unprotected {
        /// The folders, comma-separated.
        paths: String,
        /// What failed.
        reason: String,
    },
    /// Landlock or seccomp refused the rules.
    #[error("cannot set up the sandbox: {0}; the command was not run")]
    Setup(String),
    /// There is nothing to run.
    #[error("no command given")]
    EmptyCommand,
    /// The program does not exist (on `PATH`).
    #[error("{program}: command not found")]
    NotFound {
        /// The program as given.
        program: String,
    },
    /// The program exists but could not be executed.
    #[error("cannot run {program}: {source}")]
    Exec {
        /// The program as given.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// The hidden helper was invoked with arguments it does not understand.
    #[error("bad helper invocation: {0} (expected `{HELPER_ARG} POLICY_JSON -- COMMAND...`)")]
    BadInvocation(String),
}

impl SandboxError {
    /// The exit code the helper reports it with: [`EXIT_NOT_FOUND`] for a missing command, else
    /// [`EXIT_SETUP_FAILED`].
    pub fn exit_code(&self) -> i32 {
        match self {
            SandboxError::NotFound { .. } => EXIT_NOT_FOUND,
            _ => EXIT_SETUP_FAILED,
        }
    }
}

/// Ok when this machine can enforce `policy` (always for an unsandboxed one). On Linux it probes
/// the kernel's Landlock ABI, and for a policy without network that seccomp filtering exists and
/// the architecture is one the filter knows (x86_64, aarch64). Nothing about this process
/// changes.
pub fn check_available(policy: &SandboxPolicy) -> Result<(), SandboxError> {
    if !policy.is_sandboxed() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        linux::check_available(policy)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(SandboxError::Unsupported)
    }
}

/// The Landlock ABI version of the running kernel (as far as this build knows ABIs), or `None`
/// when it has no Landlock or is not Linux. For messages only: enforcement never depends on it.
pub fn landlock_abi() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        linux::landlock_abi()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The argv that runs `argv` under `policy` through the hidden helper entry of `exe` (a `codex`
/// or `codex-exec-server` binary): `EXE __codex-sandbox-exec POLICY_JSON -- ARGV...`.
///
/// Writable roots that are not UTF-8 cannot travel in JSON and are left out, so the command gets
/// less access, never more.
pub fn helper_argv(exe: &Path, policy: &SandboxPolicy, argv: &[String]) -> Vec<String> {
    let policy = SandboxPolicy {
        writable_roots: policy
            .writable_roots
            .iter()
            .filter(|r| r.to_str().is_some())
            .cloned()
            .collect(),
        ..policy.clone()
    };
    // With every path UTF-8 serialization cannot fail; the fallback keeps this infallible.
    let json =
        serde_json::to_string(&policy).unwrap_or_else(|_| r#"{"mode":"read-only"}"#.to_string());
    let mut out = Vec::with_capacity(argv.len() + 4);
    out.push(exe.to_string_lossy().into_owned());
    out.push(HELPER_ARG.to_string());
    out.push(json);
    out.push("--".to_string());
    out.extend(argv.iter().cloned());
    out
}

/// Call first thing in `main()` with `std::env::args_os()` collected. If the arguments are the
/// hidden helper invocation (see [`helper_argv`]), applies the policy to this process and execs
/// the command: that never returns on success; on failure it prints one line
/// `codex sandbox: ...` to stderr and returns `Some(exit code)` ([`EXIT_SETUP_FAILED`], or
/// [`EXIT_NOT_FOUND`] for a missing command) for `main` to exit with. Otherwise `None`.
pub fn run_helper_if_requested(args: &[OsString]) -> Option<i32> {
    if args.get(1).map(OsString::as_os_str) != Some(OsStr::new(HELPER_ARG)) {
        return None;
    }
    let err = match parse_helper_args(&args[2..]) {
        Ok((policy, argv)) => exec_sandboxed(&policy, &argv),
        Err(e) => e,
    };
    eprintln!("codex sandbox: {err}");
    Some(err.exit_code())
}

/// Splits `POLICY_JSON -- ARGV...`.
fn parse_helper_args(rest: &[OsString]) -> Result<(SandboxPolicy, Vec<String>), SandboxError> {
    let bad = |why: &str| SandboxError::BadInvocation(why.to_string());
    let json = rest
        .first()
        .and_then(|a| a.to_str())
        .ok_or_else(|| bad("the policy is missing or not UTF-8"))?;
    let policy: SandboxPolicy =
        serde_json::from_str(json).map_err(|e| bad(&format!("policy {json:?}: {e}")))?;
    if rest.get(1).map(OsString::as_os_str) != Some(OsStr::new("--")) {
        return Err(bad("`--` must follow the policy"));
    }
    let argv = rest[2..]
        .iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| bad("an argument is not UTF-8"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((policy, argv))
}

/// Applies `policy` to the current process, then execs `argv` (`argv[0]` is looked up on
/// `PATH`), which inherits the restrictions. Returns only on failure, with why; the command has
/// then not been run. Used by the helper and by `codex sandbox linux`.
///
/// The restrictions apply to the calling thread, and exec ends every other thread, so call it
/// where nothing else in the process matters any more. On Windows, which has no exec, an
/// unsandboxed command is run as a child and this process exits with its exit code.
pub fn exec_sandboxed(policy: &SandboxPolicy, argv: &[String]) -> SandboxError {
    let Some((program, args)) = argv.split_first() else {
        return SandboxError::EmptyCommand;
    };
    if policy.is_sandboxed() {
        #[cfg(target_os = "linux")]
        if let Err(e) = linux::restrict_self(policy) {
            return e;
        }
        #[cfg(not(target_os = "linux"))]
        return SandboxError::Unsupported;
    }
    exec(program, args)
}

#[cfg(unix)]
fn exec(program: &str, args: &[String]) -> SandboxError {
    use std::os::unix::process::CommandExt as _;
    let e = std::process::Command::new(program).args(args).exec();
    exec_error(program, e)
}

#[cfg(not(unix))]
fn exec(program: &str, args: &[String]) -> SandboxError {
    match std::process::Command::new(program).args(args).status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => exec_error(program, e),
    }
}

fn exec_error(program: &str, e: std::io::Error) -> SandboxError {
    if e.kind() == std::io::ErrorKind::NotFound {
        SandboxError::NotFound {
            program: program.to_string(),
        }
    } else {
        SandboxError::Exec {
            program: program.to_string(),
            source: e,
        }
    }
}

/// What commands print when the sandbox stopped them, lower case: filesystem denials (EACCES,
/// EPERM, EROFS) and what network clients say when they get no socket or no name resolution.
const DENIAL_MARKERS: &[&str] = &[
    "permission denied",
    "operation not permitted",
    "read-only file system",
    "network is unreachable",
    "address family not supported",
    "temporary failure in name resolution",
    "could not resolve host",
    // curl's words for a socket it could not have; also said for a refused connection, which is
    // why this is a heuristic.
    "couldn't connect to server",
    "couldn't resolve host",
    "failed to resolve",
];

/// Heuristic: whether a sandboxed command that exited with `exit_code` and printed `output`
/// (stdout and stderr, or its terminal) was probably stopped by the sandbox: it failed, and its
/// output has a typical denial message such as "Permission denied", "Operation not permitted",
/// "Read-only file system" or "Network is unreachable". Meant for telling the user (or the model)
/// that retrying with more access may help, not for security decisions.
pub fn likely_denial(exit_code: i32, output: &[u8]) -> bool {
    if exit_code == 0 {
        return false;
    }
    let lower = output.to_ascii_lowercase();
    DENIAL_MARKERS
        .iter()
        .any(|m| lower.windows(m.len()).any(|w| w == m.as_bytes()))
}

/// `path` with `.` and `..` resolved without the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_agent_folders_under_a_writable_root_are_read_only_however_spelled() {
        let p = SandboxPolicy::workspace_write(vec!["/w".into(), "/tmp".into()], false);
        let of = |s: &str| p.read_only_folder_of(Path::new(s));
        assert_eq!(of("/w/.git/hooks/pre-commit"), Some("/w/.git".into()));
        assert_eq!(of("/w/sub/../.git/config"), Some("/w/.git".into()));
        assert_eq!(of("/w/./.GIT/config"), Some("/w/.GIT".into()));
        assert_eq!(of("/w/.codex/config.toml"), Some("/w/.codex".into()));
        assert_eq!(of("/tmp/.agents/x"), Some("/tmp/.agents".into()));
        assert_eq!(of("/w/src/.git-notes"), None);
        assert_eq!(of("/w/sub/.git/config"), None, "only directly under a root");
        assert_eq!(of("/elsewhere/.git/config"), None);
        assert_eq!(
            SandboxPolicy::danger_full_access().read_only_folder_of(Path::new("/w/.git")),
            None
        );
    }

    #[test]
    fn modes_parse_and_print_in_kebab_case() {
        for m in SandboxMode::ALL {
            assert_eq!(m.to_string().parse::<SandboxMode>().expect("parses"), m);
            assert_eq!(
                serde_json::to_string(&m).expect("json"),
                format!("\"{}\"", m.as_str())
            );
        }
        assert_eq!(
            "workspace-write".parse::<SandboxMode>().expect("parses"),
            SandboxMode::WorkspaceWrite
        );
        let e = "full".parse::<SandboxMode>().expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown sandbox mode `full`: expected read-only, workspace-write or danger-full-access"
        );
        assert_eq!(SandboxMode::default(), SandboxMode::ReadOnly);
    }

    #[test]
    fn policy_travels_in_camel_case_and_fills_defaults() {
        let p = SandboxPolicy::workspace_write(vec!["/w".into()], true);
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(
            json,
            r#"{"mode":"workspace-write","writableRoots":["/w"],"networkAccess":true}"#
        );
        let back: SandboxPolicy = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, p);
        let short: SandboxPolicy = serde_json::from_str(r#"{"mode":"read-only"}"#).expect("parses");
        assert_eq!(short, SandboxPolicy::read_only());
    }

    #[test]
    fn only_danger_full_access_is_unsandboxed_and_read_only_never_gets_the_network() {
        assert!(SandboxPolicy::read_only().is_sandboxed());
        assert!(SandboxPolicy::workspace_write(vec![], false).is_sandboxed());
        assert!(!SandboxPolicy::danger_full_access().is_sandboxed());
        let mut ro = SandboxPolicy::read_only();
        ro.network_access = true;
        assert!(!ro.allows_network());
        assert_eq!(ro.sandbox_type(), "linux-landlock-seccomp");
        assert_eq!(
            SandboxPolicy::workspace_write(vec![], true).sandbox_type(),
            "linux-landlock"
        );
        assert_eq!(SandboxPolicy::danger_full_access().sandbox_type(), "none");
    }

    #[test]
    fn helper_argv_round_trips_through_the_helper_parser() {
        let p = SandboxPolicy::workspace_write(vec!["/a b".into()], false);
        let argv = vec!["sh".to_string(), "-c".into(), "echo \"$0\" --".into()];
        let full = helper_argv(Path::new("/bin/codex"), &p, &argv);
        assert_eq!(full[0], "/bin/codex");
        assert_eq!(full[1], HELPER_ARG);
        assert_eq!(full[3], "--");
        let os: Vec<OsString> = full.iter().map(OsString::from).collect();
        let (policy, back) = parse_helper_args(&os[2..]).expect("parses");
        assert_eq!(policy, p);
        assert_eq!(back, argv);
    }

    #[test]
    fn ordinary_arguments_are_not_the_helper() {
        let args: Vec<OsString> = ["codex", "exec", HELPER_ARG]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(run_helper_if_requested(&args), None);
        assert_eq!(run_helper_if_requested(&[]), None);
    }

    #[test]
    fn a_malformed_helper_invocation_fails_with_126_without_running_anything() {
        let args: Vec<OsString> = ["x", HELPER_ARG, "{not json", "--", "true"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(run_helper_if_requested(&args), Some(EXIT_SETUP_FAILED));
        let no_dashes: Vec<OsString> = ["x", HELPER_ARG, r#"{"mode":"read-only"}"#, "true"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(run_helper_if_requested(&no_dashes), Some(EXIT_SETUP_FAILED));
    }

    #[test]
    fn denials_are_recognised_only_in_failed_commands() {
        assert!(likely_denial(
            1,
            b"sh: 1: cannot create /etc/x: Permission denied\n"
        ));
        assert!(likely_denial(
            2,
            b"touch: cannot touch 'x': Read-only file system"
        ));
        assert!(likely_denial(
            1,
            b"PermissionError: [Errno 1] Operation not permitted"
        ));
        assert!(likely_denial(7, b"connect: Network is unreachable"));
        assert!(likely_denial(
            1,
            b"socket: Address family not supported by protocol"
        ));
        assert!(likely_denial(
            7,
            b"curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"
        ));
        assert!(!likely_denial(0, b"Permission denied"));
        assert!(!likely_denial(1, b"error: no such file or directory"));
        assert!(!likely_denial(1, b""));
    }

    #[cfg(not(target_os = "linux"))]
    #[test]
    fn sandboxed_policies_are_refused_off_linux() {
        let e = check_available(&SandboxPolicy::read_only()).expect_err("not linux");
        assert_eq!(
            e.to_string(),
            "sandboxing is only implemented on Linux; use --sandbox danger-full-access to run without one"
        );
        assert!(check_available(&SandboxPolicy::danger_full_access()).is_ok());
    }
}

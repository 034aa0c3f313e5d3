//! Starting a child (on pipes, or in a pseudo-terminal) and the tasks that feed its output into
//! its [`Process`], write its stdin and wait for its exit.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use codex_exec_server_protocol::{Signal, Stream};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

use super::process::{Process, StdinWrite};

/// Bytes read from a child per chunk.
const READ_CHUNK: usize = 64 * 1024;

/// How long a paced reader waits for a connection that takes nothing before it treats the
/// client as stopped and reads freely again (dropping notifications past the budget).
pub const PACE_PATIENCE: std::time::Duration = std::time::Duration::from_millis(250);

/// How long a sandboxed child's exit waits for its output streams to reach EOF, so that
/// `sandboxDenied` is decided on all of it. Bounded because a background process that inherited
/// the streams may keep them open long after the child exited.
pub const OUTPUT_SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// What a client asked to run.
#[derive(Debug)]
pub struct Spec {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Working directory (checked to exist).
    pub cwd: PathBuf,
    /// The whole environment.
    pub env: BTreeMap<String, String>,
    /// Run in a pseudo-terminal.
    pub tty: bool,
    /// Keep stdin open for writes.
    pub pipe_stdin: bool,
    /// Pace reading to the connection (pipes only; a terminal's output is read freely).
    pub backpressure: bool,
    /// Run under this sandbox (checked to be enforceable and sandboxed), through the helper
    /// entry of our own binary.
    pub sandbox: Option<codex_sandbox::SandboxPolicy>,
}

/// Delivers signals to a running child.
#[derive(Debug)]
pub enum Control {
    /// Unix: the child leads its own process group, which gets the signal.
    #[cfg(unix)]
    Group(u32),
    /// Elsewhere: every signal kills the child.
    #[cfg(not(unix))]
    Kill(mpsc::UnboundedSender<()>),
}

impl Control {
    /// Sends `signal` (best effort: the child may be gone already).
    pub fn send(&self, signal: Signal) {
        match self {
            #[cfg(unix)]
            Control::Group(pid) => {
                use rustix::process::{Pid, Signal as S, kill_process, kill_process_group};
                let sig = match signal {
                    Signal::Interrupt => S::INT,
                    Signal::Terminate => S::TERM,
                    Signal::Hangup => S::HUP,
                    Signal::Kill => S::KILL,
                };
                let Some(pid) = i32::try_from(*pid).ok().and_then(Pid::from_raw) else {
                    return;
                };
                if kill_process_group(pid, sig).is_err() {
                    let _ = kill_process(pid, sig);
                }
            }
            #[cfg(not(unix))]
            Control::Kill(tx) => {
                let _ = signal;
                let _ = tx.send(());
            }
        }
    }
}

/// Finds `program` the way a shell would: as given when it names a path, else on the child's
/// `PATH` (or the server's, when the child's environment has none).
fn resolve(program: &str, env: &BTreeMap<String, String>, cwd: &Path) -> Result<PathBuf, String> {
    if program.contains('/') || (cfg!(windows) && program.contains('\\')) {
        return Ok(cwd.join(program));
    }
    let path = env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if candidate.is_file() {
            return Ok(candidate);
        }
        #[cfg(windows)]
        for ext in ["exe", "cmd", "bat"] {
            let c = candidate.with_extension(ext);
            if c.is_file() {
                return Ok(c);
            }
        }
    }
    Err(format!("cannot start `{program}`: not found on PATH"))
}

/// The tasks that feed a started child's output and exit into its [`Process`]; [`Launch::go`]
/// runs them once the `process/start` reply is queued, so no event can overtake it.
#[must_use]
pub struct Launch(Vec<Box<dyn FnOnce() + Send>>);

impl Launch {
    /// Starts the tasks.
    pub fn go(self) {
        for task in self.0 {
            task();
        }
    }
}

/// Starts the child for `process`; its output is read once the returned [`Launch`] goes.
pub fn spawn(process: &Arc<Process>, spec: Spec) -> Result<Launch, String> {
    let program = resolve(&spec.argv[0], &spec.env, &spec.cwd)?;
    let (program, args) = match &spec.sandbox {
        None => (program, spec.argv[1..].to_vec()),
        Some(policy) => {
            process.set_sandboxed();
            // The helper execs with the child's environment, so a name it finds on the child's
            // PATH (as `resolve` just did) is passed as it is: the command sees the same argv[0]
            // as unsandboxed. Without a PATH the helper would search a default one, so then it
            // gets the path found here.
            let program = if spec.env.contains_key("PATH") && !spec.argv[0].contains('/') {
                PathBuf::from(&spec.argv[0])
            } else {
                program
            };
            sandboxed(&spec.argv, program, policy)?
        }
    };
    if spec.tty {
        spawn_pty(process, spec, program, args)
    } else {
        spawn_pipes(process, spec, program, args)
    }
}

/// The program and arguments that run `program` with `argv[1..]` (the program was resolved
/// already, so a missing one is still refused at start) under `policy`: this very binary as the
/// sandbox helper, which restricts itself and execs the command. (`main` of every binary that
/// serves must call `codex_sandbox::run_helper_if_requested` first; ours do.)
fn sandboxed(
    argv: &[String],
    program: PathBuf,
    policy: &codex_sandbox::SandboxPolicy,
) -> Result<(PathBuf, Vec<String>), String> {
    let fail = |why: String| format!("cannot start `{}` sandboxed: {why}", argv[0]);
    let exe = std::env::current_exe().map_err(|e| fail(format!("no path to this server: {e}")))?;
    let program = program
        .into_os_string()
        .into_string()
        .map_err(|p| fail(format!("its path {p:?} is not UTF-8")))?;
    let inner: Vec<String> = std::iter::once(program)
        .chain(argv[1..].iter().cloned())
        .collect();
    // The first element is `exe` itself, as text; the path is used as it is.
    let args = codex_sandbox::helper_argv(&exe, policy, &inner)
        .into_iter()
        .skip(1)
        .collect();
    Ok((exe, args))
}

fn spawn_pipes(
    process: &Arc<Process>,
    spec: Spec,
    program: PathBuf,
    args: Vec<String>,
) -> Result<Launch, String> {
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&args)
        .env_clear()
        .envs(&spec.env)
        .current_dir(&spec.cwd)
        .stdin(if spec.pipe_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", spec.argv[0]))?;
    let mut tasks: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    let stdin = child.stdin.take().map(|pipe| {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_pipe(pipe, rx));
        tx
    });
    let paced = spec.backpressure;
    if let Some(out) = child.stdout.take() {
        let p = process.clone();
        tasks.push(Box::new(move || {
            tokio::spawn(read_stream(p, Stream::Stdout, out, paced));
        }));
    }
    if let Some(err) = child.stderr.take() {
        let p = process.clone();
        tasks.push(Box::new(move || {
            tokio::spawn(read_stream(p, Stream::Stderr, err, paced));
        }));
    }
    #[cfg(unix)]
    let (control, kill_rx) = (Control::Group(child.id().unwrap_or(0)), ());
    #[cfg(not(unix))]
    let (control, kill_rx) = {
        let (tx, rx) = mpsc::unbounded_channel();
        (Control::Kill(tx), rx)
    };
    process.started(stdin, control);
    let p = process.clone();
    tasks.push(Box::new(move || {
        tokio::spawn(wait_pipes(p, child, kill_rx));
    }));
    Ok(Launch(tasks))
}

/// How a pipe child's waiter hears that it should kill it (unix signals the group directly).
#[cfg(unix)]
type KillRx = ();
#[cfg(not(unix))]
type KillRx = mpsc::UnboundedReceiver<()>;

#[cfg_attr(unix, allow(clippy::let_unit_value, unused_mut, unused_variables))]
async fn wait_pipes(p: Arc<Process>, mut child: tokio::process::Child, mut kill_rx: KillRx) {
    #[cfg(not(unix))]
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(()) = kill_rx.recv() => { let _ = child.start_kill(); }
        }
    };
    #[cfg(unix)]
    let status = child.wait().await;
    if p.is_sandboxed() {
        // Whether the sandbox denied something is read from the output, which may still be in
        // the pipes: let the readers finish before the exit is recorded.
        p.streams_settled(OUTPUT_SETTLE).await;
    }
    match status {
        Ok(status) => p.exited(exit_code(status)),
        Err(e) => p.failed(format!("cannot wait for the process: {e}")),
    }
}

/// 128 + the signal for a child killed by one, as shells report it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    status.code().unwrap_or(-1)
}

/// Reads one stream into `process`. Unpaced, it never waits for anything but the child. Paced,
/// it reads only when the connection has room, so a reading client loses nothing; but a
/// connection that takes nothing for [`PACE_PATIENCE`] is taken for a stopped client, and the
/// child runs free again until the connection drains.
async fn read_stream(
    process: Arc<Process>,
    stream: Stream,
    mut pipe: impl AsyncRead + Unpin,
    paced: bool,
) {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut stalled = false;
    loop {
        if paced && let Some(conn) = process.connection() {
            if stalled {
                stalled = !conn.has_room();
            } else if !conn.room(PACE_PATIENCE).await {
                tracing::debug!(process = %process.id, "client stopped reading; no longer pacing");
                stalled = true;
            }
        }
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => process.output(stream, &buf[..n]),
        }
    }
    process.stream_ended();
}

async fn write_pipe(
    mut pipe: tokio::process::ChildStdin,
    mut rx: mpsc::UnboundedReceiver<StdinWrite>,
) {
    let mut seen = HashSet::new();
    while let Some(w) = rx.recv().await {
        // A retried writeId is acknowledged without writing the bytes again.
        if !seen.insert(w.write_id) {
            let _ = w.done.send(true);
            continue;
        }
        let ok = pipe.write_all(&w.bytes).await.is_ok() && pipe.flush().await.is_ok();
        let _ = w.done.send(ok);
        if !ok {
            break;
        }
    }
}

fn spawn_pty(
    process: &Arc<Process>,
    spec: Spec,
    program: PathBuf,
    args: Vec<String>,
) -> Result<Launch, String> {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("cannot start `{}`: {what}: {e}", spec.argv[0])
    };
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| fail("no pseudo-terminal", &e))?;
    let mut cmd = CommandBuilder::new(&program);
    cmd.args(&args);
    cmd.env_clear();
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    cmd.cwd(&spec.cwd);
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| fail("spawn", &e))?;
    // The child has the terminal now; our copy of its end would keep the master from seeing EOF.
    drop(pair.slave);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| fail("terminal", &e))?;
    let writer = pair
        .master
        .take_writer()
        .map_err(|e| fail("terminal", &e))?;
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || write_pty(writer, rx));
    #[cfg(unix)]
    let control = Control::Group(child.process_id().unwrap_or(0));
    #[cfg(not(unix))]
    let control = {
        let (ktx, mut krx) = mpsc::unbounded_channel::<()>();
        let mut killer = child.clone_killer();
        std::thread::spawn(move || {
            if krx.blocking_recv().is_some() {
                let _ = killer.kill();
            }
        });
        Control::Kill(ktx)
    };
    process.started(Some(tx), control);
    let p = process.clone();
    let master = pair.master;
    let read = move || {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut buf) {
                // Linux reports EIO once every holder of the terminal has closed it.
                Ok(0) | Err(_) => break,
                Ok(n) => p.output(Stream::Pty, &buf[..n]),
            }
        }
        drop(master);
        p.stream_ended();
    };
    let p = process.clone();
    let wait = move || {
        let status = child.wait();
        if p.is_sandboxed() {
            // As for pipes: the denial is read from the output, so take it all in first.
            p.streams_settled_blocking(OUTPUT_SETTLE);
        }
        match status {
            Ok(status) => p.exited(pty_exit_code(&status)),
            Err(e) => p.failed(format!("cannot wait for the process: {e}")),
        }
    };
    Ok(Launch(vec![
        Box::new(move || {
            std::thread::spawn(read);
        }),
        Box::new(move || {
            std::thread::spawn(wait);
        }),
    ]))
}

fn write_pty(
    mut writer: Box<dyn std::io::Write + Send>,
    mut rx: mpsc::UnboundedReceiver<StdinWrite>,
) {
    let mut seen = HashSet::new();
    while let Some(w) = rx.blocking_recv() {
        if !seen.insert(w.write_id) {
            let _ = w.done.send(true);
            continue;
        }
        let ok = writer.write_all(&w.bytes).is_ok() && writer.flush().is_ok();
        let _ = w.done.send(ok);
        if !ok {
            break;
        }
    }
}

/// portable-pty reports a signal by its `strsignal` name; shells report 128 + its number.
fn pty_exit_code(status: &portable_pty::ExitStatus) -> i32 {
    let Some(name) = status.signal() else {
        return i32::try_from(status.exit_code()).unwrap_or(-1);
    };
    let number = match name {
        "Hangup" => 1,
        "Interrupt" => 2,
        "Quit" => 3,
        "Aborted" => 6,
        "Killed" => 9,
        "Segmentation fault" => 11,
        "Broken pipe" => 13,
        "Terminated" => 15,
        other => other
            .strip_prefix("Signal ")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    };
    128 + number
}

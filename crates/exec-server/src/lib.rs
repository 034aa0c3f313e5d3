//! codex-exec-server: runs processes for a codex agent and streams their ordered output back,
//! over stdio or a WebSocket. [`server`] is the server, [`client`] the client library; the wire
//! types live in `codex-exec-server-protocol`. `main.rs` only calls [`run`].

pub mod client;
pub mod server;
mod sync;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;

use server::{Auth, Config, Lifetimes, Listening, Server};

/// Environment variables the server reads, declared once with their docs (the help is made
/// from [`env::ALL`]).
pub mod env {
    /// The bearer token WebSocket clients must present; generated and printed when unset.
    pub const TOKEN: &str = "CODEX_EXEC_SERVER_TOKEN";
    /// Log filter (tracing's `EnvFilter` syntax); default `warn`.
    pub const LOG: &str = "RUST_LOG";
    /// Every variable with its one-line doc.
    pub const ALL: [(&str, &str); 2] = [
        (
            TOKEN,
            "token WebSocket clients must send (printed when generated)",
        ),
        (LOG, "log filter for stderr (default: warn)"),
    ];
}

/// The help's closing text, made from [`env::ALL`].
fn after_help() -> String {
    let mut s = String::from("Environment:\n");
    for (name, doc) in env::ALL {
        s.push_str(&format!("  {name:<24} {doc}\n"));
    }
    s.push_str("\nProtocol: JSON-RPC 2.0, described in docs/exec-server-protocol.md.");
    s
}

/// The command line, with its generated help.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    Cli::command().after_help(after_help())
}

/// codex-exec-server: runs processes for a codex agent and streams their output back.
#[derive(Debug, Parser)]
#[command(
    name = "codex-exec-server",
    version = codex_build_info::long_version(),
    about = "Runs processes for a codex agent and streams their output back."
)]
pub struct Cli {
    /// Where to listen: `stdio` (one JSON message per line) or `ws://HOST:PORT` (port 0 picks one;
    /// the bound address is printed).
    #[arg(long, value_name = "URL", default_value = "ws://127.0.0.1:0")]
    listen: String,

    /// Accept WebSocket clients without a token. Anyone who can reach the port can then run
    /// programs as you.
    #[arg(long)]
    insecure_no_auth: bool,

    /// Seconds a disconnected session waits to be resumed before its processes are killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    session_ttl: f64,

    /// Seconds a finished process stays readable with `process/read`.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    closed_retention: f64,
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// stdin/stdout.
    Stdio,
    /// A WebSocket listener.
    Ws(SocketAddr),
}

impl std::str::FromStr for Listen {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        if s == "stdio" || s == "stdio://" {
            return Ok(Listen::Stdio);
        }
        let Some(rest) = s.strip_prefix("ws://") else {
            bail!("--listen must be `stdio` or `ws://HOST:PORT`, not `{s}`");
        };
        let rest = rest.trim_end_matches('/');
        let rest = match rest.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => rest.to_string(),
        };
        rest.parse().map(Listen::Ws).with_context(|| {
            format!("--listen `{s}`: HOST must be an IP address (or localhost) and PORT a number")
        })
    }
}

fn seconds(flag: &str, v: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(v)
        .with_context(|| format!("{flag} must be a number of seconds ≥ 0, not {v}"))
}

/// Parses `args` and runs the server, returning the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches as _;
    let parsed = command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_logging();
    match serve(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn serve(cli: Cli) -> Result<()> {
    let listen: Listen = cli.listen.parse()?;
    let config = Config {
        lifetimes: Lifetimes {
            session_ttl: seconds("--session-ttl", cli.session_ttl)?,
            closed_retention: seconds("--closed-retention", cli.closed_retention)?,
        },
        ..Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Before any child starts: see `Shutdown`.
        let mut shutdown = Shutdown::install().context("cannot install signal handlers")?;
        let server = Server::new(config);
        let work = async {
            match listen {
                Listen::Stdio => server.serve_stdio().await,
                Listen::Ws(addr) => serve_ws(&server, addr, cli.insecure_no_auth).await,
            }
        };
        let result = tokio::select! {
            r = work => r,
            _ = shutdown.wait() => Ok(()),
        };
        // On every way out, an error included: nothing a client started outlives the server.
        server.kill_all();
        result
    })
}

async fn serve_ws(server: &std::sync::Arc<Server>, addr: SocketAddr, no_auth: bool) -> Result<()> {
    let (auth, generated) = match (no_auth, std::env::var(env::TOKEN)) {
        (true, _) => (Auth::None, false),
        (false, Ok(t)) if !t.is_empty() => (Auth::Token(t), false),
        (false, _) => (Auth::Token(server::new_token()), true),
    };
    let listening = Listening::bind(addr, auth.clone())
        .await
        .with_context(|| format!("cannot listen on {addr}: choose another --listen address"))?;
    // Machine-readable: clients and tests read these lines.
    println!("listening on ws://{}", listening.addr);
    if let (Auth::Token(t), true) = (&auth, generated) {
        println!("token {t}");
    }
    if matches!(auth, Auth::None) {
        eprintln!(
            "warning: --insecure-no-auth: anyone who can reach {} can run programs as you",
            listening.addr
        );
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    server.serve_ws(listening).await
}

/// The server's own signal handling. SIGINT, SIGTERM and SIGQUIT stop it after killing every
/// child; SIGHUP is ignored (a server outlives its terminal). Handling them, rather than leaving
/// them as inherited, matters for the children too: a signal that is *ignored* stays ignored
/// across exec, so a server started under `nohup` or as a background job would start children
/// that `process/signal interrupt` cannot stop. A *handled* signal is reset to its default in
/// every child.
struct Shutdown {
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 4],
}

impl Shutdown {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Shutdown {
                signals: [
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::quit())?,
                    signal(SignalKind::hangup())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        {
            let [int, term, quit, hup] = &mut self.signals;
            loop {
                tokio::select! {
                    _ = int.recv() => return,
                    _ = term.recv() => return,
                    _ = quit.recv() => return,
                    _ = hup.recv() => tracing::info!("ignoring SIGHUP"),
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_is_pinned() {
        let help = command().render_help().to_string();
        insta::assert_snapshot!(help);
    }

    #[test]
    fn listen_accepts_stdio_and_ws_addresses() {
        assert_eq!(
            "stdio".parse::<Listen>().expect("test value"),
            Listen::Stdio
        );
        assert_eq!(
            "ws://127.0.0.1:0".parse::<Listen>().expect("test value"),
            Listen::Ws("127.0.0.1:0".parse().expect("test value"))
        );
        assert_eq!(
            "ws://localhost:8080".parse::<Listen>().expect("test value"),
            Listen::Ws("127.0.0.1:8080".parse().expect("test value"))
        );
        let e = "http://x"
            .parse::<Listen>()
            .expect_err("test value")
            .to_string();
        assert_eq!(
            e,
            "--listen must be `stdio` or `ws://HOST:PORT`, not `http://x`"
        );
    }
}

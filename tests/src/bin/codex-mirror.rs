//! Serves a directory of codex releases the way GitHub Releases does, on loopback, for shell
//! installer tests and benchmarks that cannot link the mirror as a library.
//!
//! Prints the HTTP base URL (`http://127.0.0.1:PORT/<owner>/<repo>/releases`) as its first line;
//! with `--https`, the HTTPS base URL and the CA certificate's path follow on the next two lines.
//! The API lives at the same origin under `/api`. It serves until stdin reaches EOF, so a test
//! that holds the pipe stops it by closing it, or dying; `--until-killed` ignores stdin for
//! callers that cannot keep it open (background jobs in scripts get `/dev/null`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use codex_e2e::mirror::{DEFAULT_OWNER_REPO, Mirror, MirrorOptions};

/// Serve `ROOT/download/<tag>/<file>` with GitHub Releases' URL layout.
#[derive(Debug, Parser)]
#[command(name = "codex-mirror")]
struct Args {
    /// Directory holding `download/<tag>/<file>`.
    #[arg(long)]
    root: PathBuf,
    /// Tag that `latest` URLs point to.
    #[arg(long)]
    latest: Option<String>,
    /// HTTP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Also serve HTTPS with a certificate from a freshly made CA.
    #[arg(long)]
    https: bool,
    /// HTTPS port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    https_port: u16,
    /// `owner/repo` in the URLs.
    #[arg(long, default_value = DEFAULT_OWNER_REPO)]
    owner_repo: String,
    /// Serve until killed instead of until stdin closes.
    #[arg(long)]
    until_killed: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mirror = Mirror::start(
        &args.root,
        MirrorOptions {
            owner_repo: args.owner_repo,
            latest: args.latest,
            https: args.https,
            port: args.port,
            https_port: args.https_port,
        },
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", mirror.base_url())?;
    if let (Some(url), Some(ca)) = (mirror.https_base_url(), mirror.ca_cert_path()) {
        writeln!(out, "{url}")?;
        writeln!(out, "{}", ca.display())?;
    }
    // Callers block on these lines to learn the port; buffered, they would never arrive.
    out.flush()?;
    drop(out);
    if args.until_killed {
        loop {
            std::thread::park();
        }
    }
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
    drop(mirror);
    Ok(())
}

//! The loopback stand-in of Apple's notary API (codex_e2e::notary) as a program, for
//! bench/notarize.sh. It makes a fresh App Store Connect-shaped key, writes its `.p8` text to
//! `KEY_DIR/AuthKey.p8` (mode 0600), prints the notary base URL, the S3 URL template, the key id
//! and the issuer id, one per line, and answers Accepted to every submission until killed.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use codex_e2e::notary::{NotaryStandIn, TestKey, Verdict};

/// Stand in for Apple's notary API on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "codex-notary-stand-in")]
struct Args {
    /// Directory the test key's `AuthKey.p8` is written to (created if missing).
    #[arg(long)]
    key_dir: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let key = TestKey::generate("BENCHKEY01", "00000000-0000-4000-8000-000000000000")?;
    std::fs::create_dir_all(&args.key_dir)?;
    let p8 = args.key_dir.join("AuthKey.p8");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&p8)
        .and_then(|mut f| f.write_all(key.p8.as_bytes()))
        .with_context(|| format!("writing {}", p8.display()))?;
    let stand_in = NotaryStandIn::start(&key, Verdict::Accepted)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", stand_in.base_url())?;
    writeln!(out, "{}", stand_in.s3_url())?;
    writeln!(out, "{}", key.key_id)?;
    writeln!(out, "{}", key.issuer)?;
    // The caller blocks on these lines; buffered, they would never arrive.
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}

//! `cargo xtask notarize`: submits every macOS binary of a finished release to Apple's notary
//! service and waits for the verdicts. It runs after `dist` has signed the binaries with the
//! Developer ID identity, and changes no file: notarization of a bare Mach-O produces a ticket
//! that Gatekeeper looks up online, because a ticket cannot be stapled to a file that is not an
//! app bundle, disk image or installer package. A release whose binaries are not all Accepted
//! must not ship, so anything else fails the command, with Apple's log printed.

pub mod api;
pub mod auth;
pub mod sigv4;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use codex_installer::archive::read_single_entry;
use codex_installer::digest::Digest;
use codex_installer::manifest::{MANIFEST_FILE, Manifest};
use codex_installer::target::{Os, Target};

use api::{Client, Status};
use auth::ApiKey;

/// What `notarize` works on and how patiently.
#[derive(Debug, Clone)]
pub struct NotarizeOptions {
    /// The release directory `dist` wrote.
    pub dir: PathBuf,
    /// Time between two status requests for one submission (and before a failed request is
    /// tried again).
    pub poll_interval: Duration,
    /// How long to wait for each verdict before giving up.
    pub timeout: Duration,
}

/// One binary to notarize: the zip that is submitted and its name.
#[derive(Debug)]
pub struct Subject {
    /// The binary's name in its archive, e.g. `codex-aarch64-apple-darwin`.
    pub name: String,
    /// A zip holding just that binary, the form the notary service takes a bare executable in.
    pub zip: Vec<u8>,
}

/// How one submission ended.
#[derive(Debug)]
struct Outcome {
    id: String,
    status: Status,
    log: Option<Result<String>>,
    took: Duration,
}

/// Notarizes every macOS binary in `opts.dir`; fails unless Apple accepts each one.
pub fn run(opts: &NotarizeOptions) -> Result<()> {
    // Credentials first: a release job without them must stop here, not after reading archives.
    let key = ApiKey::from_env()?;
    let client = Client::from_env(key, opts.poll_interval.min(Duration::from_secs(10)))?;
    let subjects = macos_binaries(&opts.dir)?;
    println!(
        "notarizing {} macOS binaries of {}",
        subjects.len(),
        opts.dir.display()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // All at once: Apple's queue time dominates, and each submission waits on its own.
    let outcomes = runtime.block_on(futures_util::future::join_all(
        subjects.iter().map(|s| notarize(&client, s, opts)),
    ));
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    for (subject, outcome) in subjects.iter().zip(outcomes) {
        let name = &subject.name;
        match outcome {
            Ok(o) if o.status == Status::Accepted => {
                println!(
                    "{name}: Accepted (submission {}, {:.0} s)",
                    o.id,
                    o.took.as_secs_f64()
                );
            }
            Ok(o) => {
                println!("{name}: {} (submission {})", o.status, o.id);
                let about_log = match o.log {
                    Some(Ok(log)) => {
                        println!("{}", pretty(&log));
                        "its notary log is printed above".to_owned()
                    }
                    Some(Err(e)) => format!("its notary log could not be read: {e:#}"),
                    None => "no notary log".to_owned(),
                };
                failures.push(format!(
                    "{name} is {} (submission {}; {about_log})",
                    o.status, o.id
                ));
            }
            Err(e) => errors.push((name.as_str(), format!("{e:#}"))),
        }
    }
    // An unreachable service or a refused key fails every submission the same way: say it once.
    let mut grouped: Vec<(Vec<&str>, String)> = Vec::new();
    for (name, message) in errors {
        match grouped.iter_mut().find(|(_, m)| *m == message) {
            Some((names, _)) => names.push(name),
            None => grouped.push((vec![name], message)),
        }
    }
    for (names, message) in grouped {
        failures.push(format!("{}: {message}", names.join(", ")));
    }
    if !failures.is_empty() {
        bail!("notarization failed: {}", failures.join("; "));
    }
    println!("all {} macOS binaries are notarized", subjects.len());
    Ok(())
}

/// The macOS binaries of the release in `dir`, each zipped for submission. Each archive must
/// still match its digest in the manifest, so that what is notarized is what ships.
pub fn macos_binaries(dir: &Path) -> Result<Vec<Subject>> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; run `cargo xtask dist` first",
            path.display()
        )
    })?;
    let manifest = Manifest::from_json(&text)?;
    let mut out = Vec::new();
    for artifact in &manifest.artifacts {
        let target = Target::from_triple(&artifact.target)?;
        if target.os != Os::MacOs {
            continue;
        }
        let archive = dir.join(&artifact.archive.name);
        let bytes = std::fs::read(&archive)
            .with_context(|| format!("cannot read {}", archive.display()))?;
        ensure!(
            Digest::of_bytes(&bytes) == artifact.archive.sha256,
            "{} does not match its digest in {MANIFEST_FILE}; rebuild the release",
            archive.display()
        );
        let entry = read_single_entry(target.archive_format(), &bytes, Some(&artifact.entry.name))
            .with_context(|| format!("reading {}", archive.display()))?;
        let zip = zip_one(&entry.name, &entry.contents)
            .with_context(|| format!("zipping {}", entry.name))?;
        out.push(Subject {
            name: entry.name,
            zip,
        });
    }
    ensure!(
        !out.is_empty(),
        "{} has no macOS archives to notarize",
        dir.display()
    );
    Ok(out)
}

/// A zip holding `contents` as `name` (mode 0755). Deflate's fastest level: the zip only
/// carries the binary to Apple and is thrown away, and on a 27 MiB `codex` level 9 took seven
/// times as long (8.9 s against 1.2 s) for an 11% smaller upload.
fn zip_one(name: &str, contents: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    use zip::write::SimpleFileOptions;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .unix_permissions(crate::archive::ENTRY_MODE);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, options)?;
    zip.write_all(contents)?;
    Ok(zip.finish()?.into_inner())
}

/// Submits one binary, uploads it and waits for the verdict; fetches the log unless Accepted.
async fn notarize(client: &Client, subject: &Subject, opts: &NotarizeOptions) -> Result<Outcome> {
    let started = Instant::now();
    let name = &subject.name;
    let sha256 = Digest::of_bytes(&subject.zip).to_string();
    let sub = client.submit(&format!("{name}.zip"), &sha256).await?;
    println!("{name}: submission {} created, uploading", sub.id);
    client.upload(&sub, subject.zip.clone()).await?;
    println!("{name}: uploaded, waiting for Apple's verdict");
    let status = loop {
        let status = client.status(&sub.id).await?;
        if status != Status::InProgress {
            break status;
        }
        if started.elapsed() >= opts.timeout {
            bail!(
                "still In Progress after {} s (submission {}); Apple's queue is slow: rerun the release job later or raise --timeout-secs",
                opts.timeout.as_secs(),
                sub.id
            );
        }
        tokio::time::sleep(opts.poll_interval).await;
    };
    let log = match status {
        Status::Accepted => None,
        _ => Some(client.log(&sub.id).await),
    };
    Ok(Outcome {
        id: sub.id,
        status,
        log,
        took: started.elapsed(),
    })
}

/// The log pretty-printed if it is JSON (Apple's is), as it came otherwise.
fn pretty(log: &str) -> String {
    serde_json::from_str::<serde_json::Value>(log)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| log.to_owned())
}

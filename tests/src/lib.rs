//! Shared fixtures for the end-to-end tests: real releases built by the real build driver.

pub mod mirror;
pub mod notary;
pub mod pki;
pub mod registry;
pub mod standalone;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};
use codex_installer::manifest::Manifest;
use codex_installer::target::Target;
use xtask::compile::Profiles;

/// A release directory built for a test, and its manifest.
#[derive(Debug, Clone)]
pub struct Release {
    /// The directory `cargo xtask dist --out` wrote.
    pub dir: PathBuf,
    /// Its parsed manifest.json.
    pub manifest: Manifest,
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    xtask::dist::workspace_root()
}

/// Scratch space for end-to-end tests, inside the workspace's target dir.
pub fn e2e_dir() -> PathBuf {
    xtask::dist::target_dir().join("e2e")
}

/// Builds the release `version` for `targets` with the real build driver, once per test process.
///
/// The host target is compiled with the shipped profile, the others with the cheap fixture
/// profile ([`Profiles::FixtureExceptHost`]); all are packaged, stamped, signed and verified
/// exactly as `cargo xtask dist` does for what ships.
///
/// Test processes (nextest runs one per test) take turns through a file lock; each runs the build,
/// which is a no-op of a few seconds when nothing changed, so a fixture can never be stale.
pub fn release(version: &str, targets: &[&'static Target]) -> Result<Release> {
    static BUILT: OnceLock<Mutex<HashMap<String, Release>>> = OnceLock::new();
    let triples: Vec<&str> = targets.iter().map(|t| t.triple).collect();
    let key = format!("{version}-{}", triples.join("+"));
    let cache = BUILT.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = cache.get(&key) {
        return Ok(r.clone());
    }

    let lock = release_lock()?;
    let base = e2e_dir();
    // One folder per version and target set, named short enough for any filesystem.
    let name = format!("release-{version}-{}", short_hash(&key));
    let dir = base.join(&name);
    // nextest runs each test in its own process; within one run, a release built by an earlier
    // process is reused rather than rebuilt (which would relink when versions alternate).
    let stamp = base.join(format!("{name}.run"));
    let run_id = std::env::var("NEXTEST_RUN_ID").ok();
    let fresh = run_id.is_some()
        && dir.join("manifest.json").is_file()
        && std::fs::read_to_string(&stamp).ok() == run_id;
    if !fresh {
        let started = std::time::Instant::now();
        xtask::dist::run(&xtask::dist::DistOptions {
            targets: targets.to_vec(),
            version: Some(version.to_owned()),
            out: dir.clone(),
            profiles: Profiles::FixtureExceptHost(xtask::dist::host_target()?),
            print_build_env: false,
            platform_signing: xtask::codesign::PlatformSigning::none(),
        })?;
        log_build(&base, &key, started.elapsed());
        if let Some(id) = &run_id {
            std::fs::write(&stamp, id)?;
        }
    }
    drop(lock);
    let manifest = Manifest::from_json(&std::fs::read_to_string(dir.join("manifest.json"))?)?;
    let r = Release { dir, manifest };
    cache.insert(key, r.clone());
    Ok(r)
}

/// The lock every build of a release by the tests holds (in [`release`]), so that two never
/// write the build driver's shared caches at once: held until the returned file is dropped.
pub fn release_lock() -> Result<File> {
    let base = e2e_dir();
    std::fs::create_dir_all(&base)?;
    let lock = File::create(base.join("release.lock"))?;
    lock.lock().context("locking the e2e release dir")?;
    Ok(lock)
}

/// Publishes each `(release, version)` under the tag `v<version>` into `root` and serves it on
/// loopback, `latest` pointing at the last one; `https` adds the HTTPS listener.
pub fn serve_releases(
    root: &Path,
    releases: &[(&Release, &str)],
    https: bool,
) -> Result<mirror::Mirror> {
    for (release, version) in releases {
        mirror::publish(root, &release.dir, &format!("v{version}"))?;
    }
    mirror::Mirror::start(
        root,
        mirror::MirrorOptions {
            latest: releases.last().map(|(_, v)| format!("v{v}")),
            https,
            ..mirror::MirrorOptions::default()
        },
    )
}

/// 32 random bytes: the seed of a signing key nobody trusts, for the refusal tests.
pub fn unknown_seed() -> [u8; 32] {
    use std::io::Read as _;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .expect("read /dev/urandom");
    seed
}

/// A finished command's status, stdout and stderr, for assertion messages.
pub fn describe(out: &std::process::Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Appends how long a fixture build took to `builds.log` beside the releases: the output of a
/// passing test is not shown, and this is where CI's minutes go.
pub fn log_build(base: &Path, what: &str, took: std::time::Duration) {
    use std::io::Write as _;
    let line = format!(
        "{} {what} built in {:.0} s\n",
        std::thread::current().name().unwrap_or("?"),
        took.as_secs_f64()
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(base.join("builds.log"))
    {
        let _ = f.write_all(line.as_bytes());
    }
}

fn short_hash(s: &str) -> String {
    codex_installer::Digest::of_bytes(s.as_bytes()).to_string()[..12].to_owned()
}

/// Copies the files git knows about (tracked and untracked-but-not-ignored) from the workspace to
/// `dest`, so a second build sees exactly the sources of the first, uncommitted edits included.
pub fn copy_sources(dest: &Path) -> Result<()> {
    let root = workspace_root();
    let out = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()?;
    anyhow::ensure!(out.status.success(), "git ls-files failed");
    for rel in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel)?);
        let from = root.join(rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = dest.join(rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", rel.display()))?;
    }
    Ok(())
}

/// Ways to spell the folder `home` that a string comparison does not see as `home`
/// (`home//`, `home/../<name>`, `home/./`), for the tests that CODEX_HOME set to one of them
/// never removes the home folder.
pub fn other_spellings(home: &Path) -> [String; 3] {
    let shown = home.display().to_string();
    let name = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    [
        format!("{shown}//"),
        format!("{shown}/../{name}"),
        format!("{shown}/./"),
    ]
}

/// A file of the user's in `home` (`notes/precious.txt`, holding `mine\n`) that no uninstall may
/// touch.
pub fn plant_precious(home: &Path) -> PathBuf {
    let precious = home.join("notes/precious.txt");
    std::fs::create_dir_all(home.join("notes")).expect("mkdir notes");
    std::fs::write(&precious, "mine\n").expect("precious");
    precious
}

/// Debian's wine64, which runs the Windows programs in the tests.
pub const WINE: &str = "/usr/lib/wine/wine64";

/// Puts the stub `bcryptprimitives.dll` (tests/wine) into the booted wine prefix `prefix`,
/// compiled with zig: Debian's wine 8 lacks the `ProcessPrng` that Rust programs import.
pub fn install_wine_prng_stub(prefix: &Path) -> Result<()> {
    let dll = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    let src = workspace_root().join("tests/wine");
    let out = xtask::tools::zig_command()
        .args([
            "cc",
            "-target",
            "x86_64-windows-gnu",
            "-shared",
            "-O2",
            "-o",
        ])
        .arg(&dll)
        .arg(src.join("bcryptprimitives.c"))
        .arg(src.join("bcryptprimitives.def"))
        .output()
        .context("running zig cc")?;
    anyhow::ensure!(out.status.success(), "zig cc: {}", describe(&out));
    Ok(())
}

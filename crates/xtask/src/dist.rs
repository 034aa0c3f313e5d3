//! `cargo xtask dist`: builds every target and writes a complete, verifiable release to `dist/`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use codex_build_info::stamp;
use codex_installer::digest::Digest;
use codex_installer::manifest::{
    Artifact, FileInfo, MANIFEST_FILE, Manifest, SCHEMA_VERSION, SHA256SUMS_FILE, tag_for,
};
use codex_installer::signature::{self, TrustedKey};
use codex_installer::target::{Binary, Os, Target};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::compile::{self, BuildEnv, Profiles};
use crate::env::EnvVar;
use crate::generate::{self, TrustedKeysRegion};
use crate::{archive, codesign, homebrew, macho, npm, signing, tools, verify};

/// What to build and where.
pub struct DistOptions {
    /// Targets to build, in table order.
    pub targets: Vec<&'static Target>,
    /// Version override (semver, optional leading `v`); default: the workspace version.
    pub version: Option<String>,
    /// Output directory, replaced as a whole when the build succeeds.
    pub out: PathBuf,
    /// Which cargo profile compiles which target: [`Profiles::Shipped`] for what ships, a
    /// cheaper one for the tests' fixtures. Everything after compiling is the same for all.
    pub profiles: Profiles,
    /// Print the environment each target would be compiled in (`KEY=VALUE` lines under a
    /// `# <triple>` line) and build nothing.
    pub print_build_env: bool,
    /// Developer ID and Authenticode credentials; [`codesign::PlatformSigning::none`] keeps
    /// the ad hoc (macOS) or no (Windows) signature. `cargo xtask dist` reads them from the
    /// environment, tests pass their own.
    pub platform_signing: codesign::PlatformSigning,
}

/// Bumped whenever [`archive::pack`] changes its output, so cached archives are not reused.
const ARCHIVE_CACHE_VERSION: u32 = 1;

/// The workspace root (this crate lives at `crates/xtask`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Checks a user-supplied version: semver, with an optional leading `v`.
pub fn parse_version(text: &str) -> Result<semver::Version> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    semver::Version::parse(bare).map_err(|e| {
        anyhow::anyhow!("version '{text}' is not semver ({e}); use MAJOR.MINOR.PATCH, e.g. 1.2.3 or 1.2.3-beta.1")
    })
}

/// The host's entry in the target table (Linux hosts build the static musl target).
pub fn host_target() -> Result<&'static Target> {
    let triple = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        ("windows", "x86_64") => "x86_64-pc-windows-gnu",
        ("windows", "aarch64") => "aarch64-pc-windows-gnullvm",
        (os, arch) => bail!(
            "this host ({os}/{arch}) has no release target; pass --target with one of: {}",
            codex_installer::target::supported_list()
        ),
    };
    Ok(Target::from_triple(triple)?)
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/` in the workspace. The build's
/// caches, the test tools and the end-to-end scratch space live under it.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The commit and timestamp a build of the sources at `root` stamps into its release:
/// [`EnvVar::GitCommit`] and [`EnvVar::SourceDateEpoch`] when set, else the checkout's HEAD and
/// its commit time.
pub fn release_identity(root: &Path) -> Result<(String, u64)> {
    let commit = match EnvVar::GitCommit.get() {
        Some(c) => c,
        None => git(root, &["rev-parse", "HEAD"])?,
    };
    let source_date_epoch = match EnvVar::SourceDateEpoch.get() {
        Some(s) => s.parse().with_context(|| {
            format!(
                "{} must be whole seconds since 1970, got {s:?}",
                EnvVar::SourceDateEpoch.name()
            )
        })?,
        None => git(root, &["log", "-1", "--format=%ct"])?
            .parse()
            .context("git printed a commit time that is not a number")?,
    };
    Ok((commit, source_date_epoch))
}

/// Builds the release described by `opts`.
pub fn run(opts: &DistOptions) -> Result<()> {
    let started = Instant::now();
    let root = workspace_root();
    let version = match &opts.version {
        Some(v) => parse_version(v)?,
        None => parse_version(env!("CARGO_PKG_VERSION"))?,
    };
    tools::ensure_rust_targets(&opts.targets)?;
    let zigbuild = tools::ensure_zigbuild()?;
    let (commit, source_date_epoch) = release_identity(&root)?;
    // Read before building, so a bad key fails in seconds rather than after every target.
    let signing_key = signing::release_key(&root)?;
    if signing_key.development {
        eprintln!(
            "signing with the development key ({}): this release is not trusted by released installers",
            signing::DEV_KEY_FILE
        );
    }
    for note in opts.platform_signing.unsigned_notes(&opts.targets) {
        eprintln!("{note}");
    }
    let env = BuildEnv {
        root: root.clone(),
        target_dir: target_dir().join("xtask-dist"),
        zigbuild,
        version: version.to_string(),
        commit: commit.clone(),
        source_date_epoch,
        trust_development_key: signing_key.development,
        profiles: opts.profiles,
    };
    if opts.print_build_env {
        println!("# cargo-zigbuild: {}", env.zigbuild.display());
        for target in &opts.targets {
            println!("# {} ({})", target.triple, opts.profiles.of(target));
            for (key, value) in compile::build_vars(&env, target)? {
                println!("{key}={value}");
            }
        }
        return Ok(());
    }
    // The keys this release's own channels trust: a development build must install itself.
    let keys = signature::keys_for(signing_key.development);
    let tty = std::io::stderr().is_terminal();
    eprintln!(
        "building codex {version} ({}) for {} target(s) with zig {}{}",
        short(&commit),
        opts.targets.len(),
        tools::zig_version(),
        if opts.profiles == Profiles::Shipped {
            String::new()
        } else {
            format!(", {}", opts.profiles)
        }
    );

    let staging = sibling(&opts.out, "partial")?;
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;

    let artifacts = build_all(&env, &opts.platform_signing, &opts.targets, &staging, tty)?;

    let manifest = Manifest {
        schema: SCHEMA_VERSION,
        tag: tag_for(&version),
        version,
        commit,
        source_date_epoch,
        artifacts,
    };
    let mut sums = String::new();
    for a in &manifest.artifacts {
        let line = a.archive.sha256.sha256sum_line(&a.archive.name);
        std::fs::write(staging.join(format!("{}.sha256", a.archive.name)), &line)?;
        sums.push_str(&line);
    }
    for script in InstallScript::ALL {
        let text = script.pinned(
            &root,
            &manifest.version,
            &keys,
            opts.platform_signing.windows.is_some(),
        )?;
        std::fs::write(staging.join(script.file_name()), &text)?;
        sums.push_str(&Digest::of_bytes(text.as_bytes()).sha256sum_line(script.file_name()));
    }
    std::fs::write(staging.join(SHA256SUMS_FILE), sums)?;
    std::fs::write(staging.join(MANIFEST_FILE), manifest.to_json())?;
    // Signed before anything else reads them: every channel trusts the release through these two.
    signing::sign_release(&staging, &signing_key, source_date_epoch)
        .context("signing the release")?;
    // The package-manager channels, made from the archives just written.
    npm::write_packages(&root, &manifest, &staging, source_date_epoch, &keys)
        .context("writing the npm packages")?;
    homebrew::write(&root, &manifest, &staging).context("writing the Homebrew tap files")?;
    verify::verify_dir(&staging).context("the fresh release failed verification")?;
    replace_dir(&staging, &opts.out)?;

    print_summary(&manifest);
    eprintln!(
        "release {} written to {} in {}",
        manifest.version,
        opts.out.display(),
        secs(started.elapsed())
    );
    Ok(())
}

/// An installer script published with every release, pinned to that release's version.
#[derive(Debug, Clone, Copy)]
pub enum InstallScript {
    /// `install.sh` for Linux and macOS.
    Sh,
    /// `install.ps1` for Windows.
    Ps1,
}

impl InstallScript {
    /// Both scripts.
    pub const ALL: [InstallScript; 2] = [InstallScript::Sh, InstallScript::Ps1];

    /// File name, in the repository root and in a release.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Sh => "install.sh",
            Self::Ps1 => "install.ps1",
        }
    }

    /// The line that names the default version: `latest` in the repository, the release's version
    /// in a release.
    pub fn version_line(self, version: &str) -> String {
        match self {
            Self::Sh => format!("DEFAULT_VERSION=\"{version}\""),
            Self::Ps1 => format!("$DefaultVersion = '{version}'"),
        }
    }

    /// The line of install.ps1 that says whether the release it is pinned to has
    /// Authenticode-signed programs.
    pub fn signed_release_line(signed: bool) -> String {
        format!("$SignedRelease = ${signed}")
    }

    /// The repository's script with its default version set to `version`, its trusted keys
    /// set to `keys`, and (install.ps1) `$SignedRelease` set to `windows_signed`.
    pub fn pinned(
        self,
        root: &Path,
        version: &semver::Version,
        keys: &[TrustedKey],
        windows_signed: bool,
    ) -> Result<String> {
        let path = root.join(self.file_name());
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let from = self.version_line("latest");
        if text.matches(&from).count() != 1 {
            bail!(
                "{} must contain the line `{from}` exactly once",
                self.file_name()
            );
        }
        let mut text = text.replace(&from, &self.version_line(&version.to_string()));
        if let Self::Ps1 = self {
            let unsigned = Self::signed_release_line(false);
            if text.matches(&unsigned).count() != 1 {
                bail!("install.ps1 must contain the line `{unsigned}` exactly once");
            }
            text = text.replace(&unsigned, &Self::signed_release_line(windows_signed));
        }
        generate::splice(
            self.file_name(),
            &text,
            TrustedKeysRegion::NAME,
            &self.keys_region().body(keys),
        )
    }

    /// The form of the trusted-keys region in this script.
    pub fn keys_region(self) -> TrustedKeysRegion {
        match self {
            Self::Sh => TrustedKeysRegion::Sh,
            Self::Ps1 => TrustedKeysRegion::Ps1,
        }
    }
}

/// Post-processes one binary and packs it, reusing a cached archive when nothing changed.
fn package(
    env: &BuildEnv,
    os_signing: &codesign::PlatformSigning,
    target: &Target,
    binary: Binary,
    built: &Path,
    out: &Path,
) -> Result<Artifact> {
    let mut bytes =
        std::fs::read(built).with_context(|| format!("cannot read {}", built.display()))?;
    stamp_version(env, target, &mut bytes)
        .with_context(|| format!("stamping version {} into {}", env.version, built.display()))?;
    if target.os == Os::Windows {
        // Signed or not, in the form that stripping a signature gives back (docs/release-build.md).
        codesign::authenticode::normalize_pe(&mut bytes)
            .with_context(|| format!("preparing {} for signing", built.display()))?;
    }
    // After stamping: what the signature covers is the reproducible unsigned build.
    let bytes = os_signing.sign(target, binary, bytes)?;
    let entry_name = target.entry_name(binary);
    let archive_name = target.archive_name(binary);
    let entry_digest = Digest::of_bytes(&bytes);

    let cache_dir = env.target_dir.join("archives");
    std::fs::create_dir_all(&cache_dir)?;
    let cached = cache_dir.join(&archive_name);
    let key_file = cache_dir.join(format!("{archive_name}.key"));
    let key = format!(
        "v{ARCHIVE_CACHE_VERSION} {entry_digest} {entry_name} {}\n",
        env.source_date_epoch
    );
    let archive_bytes = match std::fs::read_to_string(&key_file) {
        Ok(k) if k == key && cached.is_file() => std::fs::read(&cached)?,
        _ => {
            let packed = archive::pack(
                target.archive_format(),
                &entry_name,
                &bytes,
                env.source_date_epoch,
            )?;
            std::fs::write(&cached, &packed)?;
            std::fs::write(&key_file, key)?;
            packed
        }
    };
    std::fs::write(out.join(&archive_name), &archive_bytes)?;
    Ok(Artifact {
        binary: binary.name().to_owned(),
        target: target.triple.to_owned(),
        archive: FileInfo {
            name: archive_name,
            size: archive_bytes.len() as u64,
            sha256: Digest::of_bytes(&archive_bytes),
        },
        entry: FileInfo {
            name: entry_name,
            size: bytes.len() as u64,
            sha256: entry_digest,
        },
    })
}

/// Writes the release version and commit into the binary's version stamp, which the build
/// compiled with placeholders (see `codex_build_info::stamp`). On macOS this also pins LC_UUID
/// (zig's linker derives it from inputs that vary between builds) and re-signs the pages.
fn stamp_version(env: &BuildEnv, target: &Target, bytes: &mut [u8]) -> Result<()> {
    let slot = stamp::find(bytes)?;
    let found = stamp::decode(&bytes[slot.clone()])?;
    ensure!(
        found == (stamp::UNSTAMPED_VERSION, stamp::UNSTAMPED_COMMIT),
        "the binary was compiled with version {} (commit {}), not the placeholders",
        found.0,
        found.1
    );
    let stamped = stamp::encode(&env.version, &env.commit)?;
    if target.os == Os::MacOs {
        let patch = macho::Patch {
            offset: slot.start,
            bytes: &stamped,
        };
        macho::patch_and_reseal(bytes, Some(patch))?;
    } else {
        bytes[slot].copy_from_slice(&stamped);
    }
    Ok(())
}

/// How many targets build at the same time: each target's last step, the fat-LTO link, runs on
/// one core, so a second target's compile fills the others. More than that only adds memory.
/// Targets that share a cargo target dir count once: cargo serialises them on its lock, and each
/// of their runs uses every core.
fn parallel_targets(env: &BuildEnv, targets: &[&'static Target]) -> usize {
    let dirs: std::collections::BTreeSet<PathBuf> =
        targets.iter().map(|t| env.cargo_target_dir(t)).collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.clamp(1, 4).min(dirs.len()).max(1)
}

/// Builds and packages every target into `staging`, a few at a time; the artifacts come back
/// in the order of `targets`. The first failure stops the targets not yet started.
fn build_all(
    env: &BuildEnv,
    os_signing: &codesign::PlatformSigning,
    targets: &[&'static Target],
    staging: &Path,
    tty: bool,
) -> Result<Vec<Artifact>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let bars = MultiProgress::with_draw_target(if tty {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let results: Vec<(usize, Result<Vec<Artifact>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..parallel_targets(env, targets))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= targets.len() || failed.load(std::sync::atomic::Ordering::SeqCst) {
                            return done;
                        }
                        let label = format!("[{}/{}] {}", i + 1, targets.len(), targets[i].triple);
                        let r = build_one(env, os_signing, targets[i], staging, tty, &bars, &label);
                        if r.is_err() {
                            failed.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        done.push((i, r));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);
    if results.len() < targets.len() && !failed.into_inner() {
        bail!("a build worker stopped before building every target");
    }
    let mut artifacts = Vec::new();
    for (_, r) in results {
        artifacts.extend(r?);
    }
    Ok(artifacts)
}

/// Builds one target and packages its binaries.
fn build_one(
    env: &BuildEnv,
    os_signing: &codesign::PlatformSigning,
    target: &'static Target,
    staging: &Path,
    tty: bool,
    bars: &MultiProgress,
    label: &str,
) -> Result<Vec<Artifact>> {
    let bar = bars.add(progress_bar(tty, label));
    let t0 = Instant::now();
    let binaries = compile::build_target(env, target, tty, |done, total, name| {
        bar.set_length(total);
        bar.set_position(done);
        bar.set_message(name.to_owned());
    });
    bar.finish_and_clear();
    bars.remove(&bar);
    let mut artifacts = Vec::new();
    for (binary, path) in binaries? {
        artifacts.push(package(env, os_signing, target, binary, &path, staging)?);
    }
    let line = format!("{label} built in {}", secs(t0.elapsed()));
    if tty {
        // Above the bars of the targets still building, rather than through them.
        let _ = bars.println(line);
    } else {
        eprintln!("{line}");
    }
    Ok(artifacts)
}

fn progress_bar(tty: bool, label: &str) -> ProgressBar {
    if !tty {
        eprintln!("{label} building");
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} crates {elapsed} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn print_summary(m: &Manifest) {
    println!(
        "{:<28} {:<18} {:>10} {:>10}  sha256",
        "target", "binary", "binary", "archive"
    );
    for a in &m.artifacts {
        println!(
            "{:<28} {:<18} {:>10} {:>10}  {}",
            a.target,
            a.binary,
            human(a.entry.size),
            human(a.archive.size),
            &a.archive.sha256.to_string()[..16]
        );
    }
}

/// Size in KiB/MiB with one decimal.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn git(root: &Path, args: &[&str]) -> Result<String> {
    tools::output(Command::new("git").args(args).current_dir(root))
        .map(|s| s.trim().to_owned())
        .with_context(|| {
            format!(
                "cannot read the commit from git; outside a git checkout set {} and {}",
                EnvVar::GitCommit.name(),
                EnvVar::SourceDateEpoch.name()
            )
        })
}

/// `<dir>.<suffix>` next to `dir`, for staging and swapping.
fn sibling(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .with_context(|| format!("{} has no final path component", dir.display()))?;
    let mut name = name.to_os_string();
    name.push(format!(".{suffix}"));
    Ok(dir.with_file_name(name))
}

/// Replaces `dest` with `staging` so that `dest` is never half-written: a failed build leaves
/// the previous release in place.
///
/// When `dest` already holds exactly the same files, it is left alone, so a no-change rebuild
/// does not disturb anything reading the release meanwhile.
fn replace_dir(staging: &Path, dest: &Path) -> Result<()> {
    if same_files(staging, dest) {
        std::fs::remove_dir_all(staging)?;
        return Ok(());
    }
    let old = sibling(dest, "old")?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if dest.exists() {
        std::fs::rename(dest, &old)
            .with_context(|| format!("cannot move the old {} aside", dest.display()))?;
    }
    std::fs::rename(staging, dest).with_context(|| format!("cannot create {}", dest.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Whether two directories hold the same file names with the same contents.
fn same_files(a: &Path, b: &Path) -> bool {
    let list = |d: &Path| -> Option<Vec<std::ffi::OsString>> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .ok()?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .ok()?;
        v.sort();
        Some(v)
    };
    match (list(a), list(b)) {
        (Some(x), Some(y)) if x == y => x.iter().all(|name| {
            matches!(
                (std::fs::read(a.join(name)), std::fs::read(b.join(name))),
                (Ok(p), Ok(q)) if p == q
            )
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_must_be_semver_with_optional_v() {
        assert_eq!(parse_version("v1.2.3").expect("ok").to_string(), "1.2.3");
        assert_eq!(
            parse_version("1.2.3-beta.1").expect("ok").to_string(),
            "1.2.3-beta.1"
        );
        let err = parse_version("1.2").expect_err("not semver");
        insta::assert_snapshot!(err.to_string(), @"version '1.2' is not semver (unexpected end of input while parsing minor version number); use MAJOR.MINOR.PATCH, e.g. 1.2.3 or 1.2.3-beta.1");
    }
}

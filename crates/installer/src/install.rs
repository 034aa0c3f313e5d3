//! Installing a release: fetch the manifest, download, verify, extract, smoke-test, then switch
//! `current` atomically. Every step before the switch works on files the running install does
//! not use, so a failure or a kill at any point leaves the previous install working.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::archive::{ArchiveError, read_single_entry};
use crate::digest::Digest;
use crate::http::{FetchError, Http, SIGNED_SIZE};
use crate::layout::{InstallLock, Layout, LockError, Receipt, check_writable};
use crate::manifest::{
    MANIFEST_FILE, MAX_API_RESPONSE_SIZE, MAX_MANIFEST_SIZE, Manifest, ManifestError, tag_for,
};
use crate::settings::EnvVar;
use crate::signature::{self, MAX_SIGNATURE_SIZE, SIG_SUFFIX, SignatureError, TrustedKey};
use crate::source::Source;
use crate::target::{Binary, Target};

/// Which release to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRequest {
    /// The newest release of the source.
    Latest,
    /// Exactly this version.
    Exact(semver::Version),
}

/// Why an install or update did not happen. Whatever the variant, the previous install is
/// untouched.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The manifest is unusable or lacks this target.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The requested version does not exist at the source.
    #[error("release {version} was not found at {source_} ({url} answered 404); check the version")]
    VersionNotFound {
        /// Requested version.
        version: String,
        /// The source searched.
        source_: String,
        /// The URL that was missing.
        url: String,
    },
    /// The manifest's signature is missing: nothing from this release is trusted.
    #[error(
        "release {release} from {source_} is not signed ({missing}); refusing it, since codex installs only signed releases"
    )]
    Unsigned {
        /// The release (tag, or the folder).
        release: String,
        /// The source searched.
        source_: String,
        /// What was missing: the URL that answered 404, or the file.
        missing: String,
    },
    /// The manifest's signature is malformed or is not by a trusted key.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The release is older than the installed one and no downgrade was asked for.
    #[error(
        "release {to} is older than the installed {from}; refusing to downgrade (pass --allow-downgrade, or set {var}=1, to install it anyway)",
        var = EnvVar::AllowDowngrade.name()
    )]
    Downgrade {
        /// The installed version.
        from: String,
        /// The version offered.
        to: String,
    },
    /// The install location cannot be written.
    #[error(
        "cannot install into {path}: {detail}; fix its permissions or choose another CODEX_HOME / --install-dir"
    )]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// Another install is running, or the lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A download's digest differs from the manifest's.
    #[error(
        "checksum mismatch for {file}: expected sha256 {expected}, got {actual}; the download was discarded and nothing was changed"
    )]
    ChecksumMismatch {
        /// The archive.
        file: String,
        /// Digest in the manifest.
        expected: Digest,
        /// Digest of what arrived.
        actual: Digest,
    },
    /// The archive broke the release rules (entries, links, paths).
    #[error("{file}: {source}")]
    Archive {
        /// The archive.
        file: String,
        /// What was wrong.
        source: ArchiveError,
    },
    /// The new binary did not run or reported another version.
    #[error("the downloaded {binary} failed its check ({detail}); the current install was kept")]
    SmokeTest {
        /// Which binary.
        binary: String,
        /// What happened.
        detail: String,
    },
    /// `--rollback` with nothing to go back to.
    #[error("nothing to roll back to: {0}")]
    NoPrevious(String),
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Reads a file of a release folder, refusing one longer than `limit` bytes (a release folder
/// may be a hostile mirror's copy too) without reading more than that.
fn read_capped(path: &Path, limit: u64, what: &'static str) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(FetchError::TooLarge {
            url: path.display().to_string(),
            limit,
            what,
        }));
    }
    Ok(bytes)
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> InstallError {
    let context = context.into();
    move |source| InstallError::Io { context, source }
}

/// What an install changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Version that was current before, if any.
    pub from: Option<String>,
    /// Version current now.
    pub to: String,
    /// Target triple.
    pub target: String,
    /// Folder of the now-current release under `releases/`.
    pub release: String,
    /// Whether anything changed (false: it was already current).
    pub changed: bool,
    /// The release kept for rollback.
    pub previous: Option<String>,
    /// Where the links are.
    pub bin_dir: PathBuf,
}

/// Installs releases from one source into one layout.
#[derive(Debug, Clone)]
pub struct Installer {
    /// Where to install.
    pub layout: Layout,
    /// Where releases come from.
    pub source: Source,
    /// HTTP client.
    pub http: Http,
    /// Target to install.
    pub target: &'static Target,
    /// Name recorded in the receipt (`codex update`, `install.sh`, …).
    pub installed_by: String,
    /// The keys a release's manifest must be signed by; normally
    /// [`signature::builtin_keys`].
    pub keys: Vec<TrustedKey>,
    /// Whether a release older than the installed one may be installed.
    pub allow_downgrade: bool,
}

impl Installer {
    /// Fetches the manifest of the requested release and checks its signature against
    /// [`Installer::keys`]. Nothing in a manifest is used before its signature verifies, and an
    /// unsigned release is refused.
    pub async fn fetch_manifest(&self, req: &VersionRequest) -> Result<Manifest, InstallError> {
        let (bytes, tag) = match &self.source {
            Source::Dir(dir) => {
                let path = dir.join(MANIFEST_FILE);
                let bytes = read_capped(&path, MAX_MANIFEST_SIZE, "")
                    .map_err(io_err(format!("cannot read {}", path.display())))?;
                (bytes, None)
            }
            Source::Url { .. } => {
                let (url, tag) = match req {
                    VersionRequest::Latest => (self.source.latest_location(MANIFEST_FILE), None),
                    VersionRequest::Exact(v) => (
                        self.source.file_location(&tag_for(v), MANIFEST_FILE),
                        Some(tag_for(v)),
                    ),
                };
                match self.http.get_bytes(&url, MAX_MANIFEST_SIZE).await {
                    Ok(bytes) => (bytes, tag),
                    Err(FetchError::NotFound { url }) => match (req, self.source.github_repo()) {
                        (VersionRequest::Latest, Some(repo)) => {
                            let (bytes, tag) = self.latest_via_api(&repo).await?;
                            (bytes, Some(tag))
                        }
                        _ => {
                            return Err(InstallError::VersionNotFound {
                                version: match req {
                                    VersionRequest::Latest => "latest".into(),
                                    VersionRequest::Exact(v) => v.to_string(),
                                },
                                source_: self.source.to_string(),
                                url,
                            });
                        }
                    },
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.verify_manifest(&bytes, tag).await?;
        let manifest = Manifest::from_json(&String::from_utf8_lossy(&bytes))?;
        if let VersionRequest::Exact(v) = req
            && &manifest.version != v
        {
            return Err(InstallError::VersionNotFound {
                version: v.to_string(),
                source_: self.source.to_string(),
                url: format!("{} holds {}", MANIFEST_FILE, manifest.version),
            });
        }
        Ok(manifest)
    }

    /// Checks `manifest.json.sig` of the release `tag` (for a `latest` download, the tag the
    /// manifest names: `latest` may move between two requests, a tag does not).
    async fn verify_manifest(&self, bytes: &[u8], tag: Option<String>) -> Result<(), InstallError> {
        let sig_file = format!("{MANIFEST_FILE}{SIG_SUFFIX}");
        let (sig, release) = match &self.source {
            Source::Dir(dir) => {
                let path = dir.join(&sig_file);
                let release = manifest_tag(bytes)?;
                match read_capped(&path, MAX_SIGNATURE_SIZE, "") {
                    Ok(sig) => (sig, release),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(InstallError::Unsigned {
                            release,
                            source_: self.source.to_string(),
                            missing: format!("{} is missing", path.display()),
                        });
                    }
                    Err(e) => return Err(io_err(format!("cannot read {}", path.display()))(e)),
                }
            }
            Source::Url { .. } => {
                let tag = match tag {
                    Some(t) => t,
                    None => manifest_tag(bytes)?,
                };
                let url = self.source.file_location(&tag, &sig_file);
                match self.http.get_bytes(&url, MAX_SIGNATURE_SIZE).await {
                    Ok(sig) => (sig, tag),
                    Err(FetchError::NotFound { url }) => {
                        return Err(InstallError::Unsigned {
                            release: tag,
                            source_: self.source.to_string(),
                            missing: format!("{url} answered 404"),
                        });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let signer = signature::verify_named(
            MANIFEST_FILE,
            bytes,
            &String::from_utf8_lossy(&sig),
            &self.keys,
        )?;
        tracing::debug!("manifest of {release} is signed by {}", signer.id);
        Ok(())
    }

    /// Refuses a release older than the installed one unless [`Installer::allow_downgrade`].
    /// [`Installer::install`] checks this itself; callers that only report (a dry run) call it.
    pub fn check_downgrade(&self, manifest: &Manifest) -> Result<(), InstallError> {
        if self.allow_downgrade {
            return Ok(());
        }
        let installed = self
            .layout
            .receipt()
            .and_then(|r| semver::Version::parse(&r.version).ok());
        match installed {
            Some(from) if from > manifest.version => Err(InstallError::Downgrade {
                from: from.to_string(),
                to: manifest.version.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// When `latest/download/manifest.json` is missing (the newest release predates manifests or
    /// is still uploading), ask the API which tag is latest. Costs one API request. Returns the
    /// manifest's bytes and its tag.
    async fn latest_via_api(&self, repo: &str) -> Result<(Vec<u8>, String), InstallError> {
        #[derive(serde::Deserialize)]
        struct Latest {
            tag_name: String,
        }
        let api = format!("{}/repos/{repo}/releases/latest", self.http.api_base());
        let body = self.http.get_bytes(&api, MAX_API_RESPONSE_SIZE).await?;
        let latest: Latest = serde_json::from_slice(&body).map_err(ManifestError::Parse)?;
        let tag = checked_tag(latest.tag_name)?;
        let url = self.source.file_location(&tag, MANIFEST_FILE);
        Ok((self.http.get_bytes(&url, MAX_MANIFEST_SIZE).await?, tag))
    }

    /// Checks that the install root and the bin dir accept new files. Callers run it before
    /// fetching anything; [`Installer::install`] runs it again.
    pub fn check_writable(&self) -> Result<(), InstallError> {
        for dir in [&self.layout.root, &self.layout.bin_dir] {
            check_writable(dir).map_err(|e| InstallError::NotWritable {
                path: dir.clone(),
                detail: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Installs `manifest`'s release for this target and makes it current.
    pub async fn install(&self, manifest: &Manifest) -> Result<Outcome, InstallError> {
        let layout = &self.layout;
        self.check_writable()?;
        let _lock = InstallLock::acquire(layout)?;
        self.check_downgrade(manifest)?;
        let name = Layout::release_name(&manifest.version, self.target);
        let before = layout.current_release();
        let from = layout.receipt().map(|r| r.version);
        if before.as_deref() == Some(name.as_str()) && layout.is_complete(&name, self.target) {
            layout
                .activate(&name, self.target)
                .map_err(io_err("repairing the bin dir"))?;
            return Ok(Outcome {
                from: from.clone(),
                to: manifest.version.to_string(),
                target: self.target.triple.to_owned(),
                release: name,
                changed: false,
                previous: layout.receipt().and_then(|r| r.previous),
                bin_dir: layout.bin_dir.clone(),
            });
        }

        let staging = layout.staging_dir();
        std::fs::create_dir_all(&staging).map_err(io_err("creating the staging folder"))?;
        let unpacked = staging.join(format!("{name}.tmp"));
        if unpacked.exists() {
            std::fs::remove_dir_all(&unpacked).map_err(io_err("clearing old staging"))?;
        }
        std::fs::create_dir_all(&unpacked).map_err(io_err("creating the staging folder"))?;

        let mut parts = Vec::new();
        for binary in Binary::ALL {
            let part = self.fetch_binary(manifest, binary, &unpacked).await?;
            parts.extend(part);
        }
        for binary in Binary::ALL {
            smoke_test(
                &unpacked.join(self.target.installed_name(binary)),
                &manifest.version,
            )?;
        }

        let dest = layout.release_dir(&name);
        std::fs::create_dir_all(layout.releases_dir()).map_err(io_err("creating releases/"))?;
        if dest.exists() {
            // An older copy of this release that is not current: replace it with the verified one.
            std::fs::remove_dir_all(&dest).map_err(io_err("replacing an old copy"))?;
        }
        std::fs::rename(&unpacked, &dest).map_err(io_err("moving the release into place"))?;
        layout
            .activate(&name, self.target)
            .map_err(io_err("switching to the new release"))?;
        let previous = before.filter(|b| b != &name && layout.is_complete(b, self.target));
        self.write_receipt(manifest.version.to_string(), &name, previous.clone())?;
        for p in parts {
            let _ = std::fs::remove_file(p);
        }
        prune(layout, &[Some(name.as_str()), previous.as_deref()]);
        Ok(Outcome {
            from,
            to: manifest.version.to_string(),
            target: self.target.triple.to_owned(),
            release: name,
            changed: true,
            previous,
            bin_dir: layout.bin_dir.clone(),
        })
    }

    /// Downloads, verifies and unpacks one binary into `into`; returns the partial download to
    /// delete once the install is complete.
    async fn fetch_binary(
        &self,
        manifest: &Manifest,
        binary: Binary,
        into: &Path,
    ) -> Result<Option<PathBuf>, InstallError> {
        let artifact = manifest.artifact(binary, self.target)?;
        let file = &artifact.archive.name;
        let (bytes, part) = match &self.source {
            Source::Dir(dir) => {
                let path = dir.join(file);
                let bytes = read_capped(&path, artifact.archive.size, SIGNED_SIZE)
                    .map_err(io_err(format!("cannot read {}", path.display())))?;
                (bytes, None)
            }
            Source::Url { .. } => {
                // Named by digest, so a resumed download can only continue the same file.
                let part = self.layout.staging_dir().join(format!(
                    "{file}.{}.part",
                    &artifact.archive.sha256.to_string()[..16]
                ));
                let url = self.source.file_location(&manifest.tag, file);
                let bar = progress_bar(file);
                let result = self
                    .http
                    .download(&url, &part, artifact.archive.size, &bar)
                    .await;
                bar.finish_and_clear();
                match result {
                    Err(FetchError::NotFound { url }) => {
                        return Err(InstallError::VersionNotFound {
                            version: manifest.version.to_string(),
                            source_: self.source.to_string(),
                            url,
                        });
                    }
                    other => other?,
                }
                let bytes = std::fs::read(&part).map_err(io_err("reading the download"))?;
                (bytes, Some(part))
            }
        };
        let actual = Digest::of_bytes(&bytes);
        if actual != artifact.archive.sha256 {
            if let Some(p) = &part {
                let _ = std::fs::remove_file(p);
            }
            return Err(InstallError::ChecksumMismatch {
                file: file.clone(),
                expected: artifact.archive.sha256,
                actual,
            });
        }
        let entry = read_single_entry(
            self.target.archive_format(),
            &bytes,
            Some(&artifact.entry.name),
        )
        .map_err(|source| InstallError::Archive {
            file: file.clone(),
            source,
        })?;
        let entry_digest = Digest::of_bytes(&entry.contents);
        if entry_digest != artifact.entry.sha256 {
            return Err(InstallError::ChecksumMismatch {
                file: artifact.entry.name.clone(),
                expected: artifact.entry.sha256,
                actual: entry_digest,
            });
        }
        let dest = into.join(self.target.installed_name(binary));
        write_executable(&dest, &entry.contents)?;
        Ok(part)
    }

    /// Makes the release kept by the last install current again.
    pub fn rollback(&self) -> Result<Outcome, InstallError> {
        let layout = &self.layout;
        self.check_writable()?;
        let _lock = InstallLock::acquire(layout)?;
        let receipt = layout.receipt().ok_or_else(|| {
            InstallError::NoPrevious(format!("no receipt in {}", layout.root.display()))
        })?;
        let previous = receipt
            .previous
            .clone()
            .ok_or_else(|| InstallError::NoPrevious("no earlier release was kept".into()))?;
        if !layout.is_complete(&previous, self.target) {
            return Err(InstallError::NoPrevious(format!(
                "{} is missing or incomplete",
                layout.release_dir(&previous).display()
            )));
        }
        let version = previous
            .strip_suffix(&format!("-{}", self.target.triple))
            .unwrap_or(&previous)
            .to_owned();
        let parsed = semver::Version::parse(&version).map_err(|e| {
            InstallError::NoPrevious(format!("cannot read the version of {previous}: {e}"))
        })?;
        for binary in Binary::ALL {
            smoke_test(
                &layout
                    .release_dir(&previous)
                    .join(self.target.installed_name(binary)),
                &parsed,
            )?;
        }
        layout
            .activate(&previous, self.target)
            .map_err(io_err("switching back"))?;
        self.write_receipt(version.clone(), &previous, Some(receipt.release.clone()))?;
        Ok(Outcome {
            from: Some(receipt.version),
            to: version,
            target: self.target.triple.to_owned(),
            release: previous,
            changed: true,
            previous: Some(receipt.release),
            bin_dir: layout.bin_dir.clone(),
        })
    }

    fn write_receipt(
        &self,
        version: String,
        release: &str,
        previous: Option<String>,
    ) -> Result<(), InstallError> {
        let receipt = Receipt {
            schema: 1,
            method: "standalone".into(),
            version,
            target: self.target.triple.to_owned(),
            release: release.to_owned(),
            previous,
            source: self.source.to_string(),
            bin_dir: self.layout.bin_dir.clone(),
            installed_by: self.installed_by.clone(),
            installed_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        self.layout
            .write_receipt(&receipt)
            .map_err(io_err("writing the receipt"))
    }
}

/// The tag an (unverified) manifest names, to find its signature by: only its field is read.
fn manifest_tag(bytes: &[u8]) -> Result<String, InstallError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        tag: String,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(ManifestError::Parse)?;
    checked_tag(probe.tag)
}

/// A tag as it may appear in a URL path: not empty, and only characters a version tag uses, so an
/// unverified manifest cannot point the signature request elsewhere.
fn checked_tag(tag: String) -> Result<String, InstallError> {
    let ok = !tag.is_empty()
        && !tag.starts_with('.')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if ok {
        Ok(tag)
    } else {
        Err(ManifestError::BadTag(tag).into())
    }
}

fn write_executable(path: &Path, contents: &[u8]) -> Result<(), InstallError> {
    use std::io::Write;
    let mut f =
        std::fs::File::create(path).map_err(io_err(format!("creating {}", path.display())))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(io_err(format!("writing {}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err(format!("making {} executable", path.display())))?;
    }
    Ok(())
}

/// Runs `exe --version` and checks it names `version`, before the release may become current.
fn smoke_test(exe: &Path, version: &semver::Version) -> Result<(), InstallError> {
    let binary = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |detail: String| InstallError::SmokeTest {
        binary: binary.clone(),
        detail,
    };
    let mut child = std::process::Command::new(exe)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                return Err(fail("`--version` did not finish in 10 s".into()));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read its output: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(fail(format!("`--version` exited with {}", out.status)));
    }
    let expected = format!(" {version} ");
    if !stdout.contains(&expected) {
        return Err(fail(format!(
            "`--version` printed {:?}, expected version {version}",
            stdout.trim()
        )));
    }
    Ok(())
}

/// Removes releases other than `keep`; failures only cost disk space, so they are logged.
fn prune(layout: &Layout, keep: &[Option<&str>]) {
    let Ok(entries) = std::fs::read_dir(layout.releases_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !keep.contains(&Some(name.as_str()))
            && let Err(err) = std::fs::remove_dir_all(e.path())
        {
            tracing::warn!("could not remove old release {name}: {err}");
        }
    }
}

/// A download bar on a TTY, nothing otherwise.
pub fn progress_bar(label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(label.to_owned());
    bar
}

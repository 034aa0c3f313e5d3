//! `codex doctor`: explains this install in one line per check (✓, ⚠, ✗), with the fix for
//! anything wrong. The local checks are in `codex_installer::doctor`; this adds the release
//! source (a real request, signature checked), the update check and the config.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::Args;
use codex_installer::doctor::{self, Check, Report, Status};
use codex_installer::http::{Http, RetryPolicy};
use codex_installer::install::{Installer, VersionRequest};
use codex_installer::layout::Layout;
use codex_installer::method::{self, InstallMethod};
use codex_installer::settings::{self, Config, EnvVar};
use codex_installer::source::Origin;
use codex_installer::target::Target;
use codex_installer::update_check;

use crate::update::{release_source, shown};

/// Flags of `codex doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// Proxy variables reqwest reads, in the order it prefers them.
const PROXY_VARS: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The macOS code signature of the running copy, and its quarantine mark.
fn signature(exe: &Path) -> Check {
    let sig = std::fs::read(exe)
        .map_err(|e| format!("cannot read {}: {e}", exe.display()))
        .and_then(|bytes| codex_installer::codesign::inspect(&bytes).map_err(|e| e.to_string()));
    doctor::check_signature(exe, sig, codex_installer::codesign::quarantined(exe))
}

/// Runs `codex doctor`; the exit code is 1 when a check failed.
pub fn run(args: &DoctorArgs) -> Result<i32> {
    let report = report()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.failed() { 1 } else { 0 })
}

fn report() -> Result<Report> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot find the running codex executable")?;
    let target = Target::from_triple(codex_build_info::TARGET)
        .or_else(|_| codex_installer::platform::detect())?;
    let m = method::detect(&exe);
    let mut checks = vec![this_copy(&exe, &m)];
    let copies = doctor::find_copies(&std::env::var_os("PATH").unwrap_or_default(), target, &exe);
    checks.push(doctor::check_path(&copies));
    if target.os == codex_installer::target::Os::MacOs {
        checks.push(signature(&exe));
    }
    if let InstallMethod::Standalone { layout, .. } = &m {
        checks.push(doctor::check_layout(layout, target));
    }
    checks.push(doctor::check_updatable(&m));
    let home = settings::codex_home();
    let config = home.as_deref().map(Config::load);
    let receipt = match &m {
        InstallMethod::Standalone { layout, .. } => layout.receipt(),
        _ => None,
    };
    checks.push(match &config {
        Some(Ok(c)) => source(c, receipt.as_ref(), target),
        _ => source(&Config::default(), receipt.as_ref(), target),
    });
    if let (Some(home), Some(Ok(c))) = (&home, &config) {
        checks.push(update_state(home, c, &m));
    }
    checks.push(paths(
        home.as_deref(),
        config.as_ref().map(|c| c.as_ref().err()),
    ));
    if let Some(home) = &home {
        checks.push(sign_in(home));
    }
    Ok(Report {
        version: codex_build_info::version().to_owned(),
        target: target.triple.to_owned(),
        checks,
        copies,
    })
}

fn this_copy(exe: &Path, m: &InstallMethod) -> Check {
    let summary = format!(
        "codex {} ({}), installed {}",
        codex_build_info::version(),
        codex_build_info::TARGET,
        match m {
            InstallMethod::Standalone { .. } =>
                "standalone (install.sh, install.ps1 or codex update)".into(),
            InstallMethod::Npm { manager, .. } => format!("with {manager}"),
            InstallMethod::Homebrew { cask: true } => "with Homebrew (cask)".into(),
            InstallMethod::Homebrew { cask: false } => "with Homebrew (formula)".into(),
            InstallMethod::Other { .. } => "by something other than codex's installers".into(),
        }
    );
    let mut c =
        Check::new("this copy", Status::Ok, summary).detail(format!("path: {}", shown(exe)));
    match m {
        InstallMethod::Standalone { layout, release } => {
            c = c.detail(format!("release: {release}"));
            if let Some(r) = layout.receipt() {
                c = c.detail(format!(
                    "receipt: {} (by {})",
                    layout.receipt_path().display(),
                    r.installed_by
                ));
            }
        }
        InstallMethod::Npm {
            package_root,
            prefix,
            ..
        } => {
            c = c.detail(format!("package: {}", package_root.display()));
            if let Some(p) = prefix {
                c = c.detail(format!("prefix: {}", p.display()));
            }
            if let Some(v) = EnvVar::NpmPackageRoot.get() {
                c = c.detail(format!("{}={v}", EnvVar::NpmPackageRoot.name()));
            }
        }
        InstallMethod::Homebrew { .. } | InstallMethod::Other { .. } => {}
    }
    c
}

/// Proxy settings as `NAME=value`, with any password in them hidden.
fn proxies() -> Vec<String> {
    PROXY_VARS
        .iter()
        .filter_map(|name| {
            let v = std::env::var(name).ok().filter(|v| !v.is_empty())?;
            Some(format!("{name}={}", hide_credentials(&v)))
        })
        .collect()
}

fn hide_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn source(
    config: &Config,
    receipt: Option<&codex_installer::layout::Receipt>,
    target: &'static Target,
) -> Check {
    let (source, origin) = match release_source(None, config, receipt) {
        Ok(s) => s,
        Err(e) => {
            return Check::new("release source", Status::Fail, format!("{e:#}"))
                .fix("fix CODEX_RELEASE_BASE_URL or release_base_url in config.toml");
        }
    };
    let origin = match origin {
        Origin::Flag => "flag",
        Origin::Env => "CODEX_RELEASE_BASE_URL",
        Origin::Config => "config.toml",
        Origin::Receipt => "the receipt",
        Origin::Default => "default",
    };
    let mut details = Vec::new();
    for p in proxies() {
        details.push(format!("proxy: {p}"));
    }
    if let Some(ca) = EnvVar::SslCertFile.get() {
        details.push(format!("CA bundle: {ca} ({})", EnvVar::SslCertFile.name()));
    }
    let fetched = (|| -> Result<semver::Version, String> {
        let http = Http::new(RetryPolicy {
            attempts: 1,
            first_delay: Duration::from_millis(0),
        })
        .map_err(|e| e.to_string())?;
        let home = settings::codex_home().unwrap_or_default();
        let installer = Installer {
            layout: Layout::new(&home, &home),
            source: source.clone(),
            http,
            target,
            installed_by: "codex doctor".into(),
            keys: codex_installer::signature::builtin_keys(),
            allow_downgrade: true,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(installer.fetch_manifest(&VersionRequest::Latest))
            .map(|m| m.version)
            .map_err(|e| e.to_string())
    })();
    let mut c = match fetched {
        Ok(latest) => {
            let newer = semver::Version::parse(codex_build_info::version())
                .is_ok_and(|current| latest > current);
            let note = if newer { " (newer than this copy)" } else { "" };
            Check::new(
                "release source",
                Status::Ok,
                format!(
                    "{source} ({origin}) answers; latest is {latest}{note}, signature verified"
                ),
            )
        }
        Err(e) => {
            let lower = e.to_ascii_lowercase();
            let tls = ["certificate", "unknownissuer", "tls", "handshake"]
                .iter()
                .any(|w| lower.contains(w));
            let proxy = proxies()
                .into_iter()
                .find(|p| !p.to_ascii_lowercase().starts_with("no_proxy"));
            let fix = if tls {
                format!(
                    "a proxy or firewall may be replacing the server's certificate: set {} to a PEM file with your organisation's CA",
                    EnvVar::SslCertFile.name()
                )
            } else if let Some(p) = &proxy {
                format!(
                    "the request went through the proxy {p}: check that it runs and lets the request through, or unset it"
                )
            } else {
                format!(
                    "check the network, or point {} at a mirror you can reach",
                    EnvVar::ReleaseBaseUrl.name()
                )
            };
            Check::new(
                "release source",
                Status::Fail,
                format!("{source} ({origin}) cannot be used: {e}"),
            )
            .fix(fix)
        }
    };
    c.details = details;
    c
}

fn update_state(home: &Path, config: &Config, m: &InstallMethod) -> Check {
    if !update_check::enabled(config) {
        let why = if EnvVar::Ci.is_set() {
            "CI is set".to_owned()
        } else if EnvVar::NoUpdateCheck.get().is_some_and(|v| v != "0") {
            format!("{}=1", EnvVar::NoUpdateCheck.name())
        } else {
            "update_check = false in config.toml".to_owned()
        };
        return Check::new("update check", Status::Ok, format!("off ({why})"));
    }
    let Some(cache) = update_check::read_cache(home) else {
        return Check::new("update check", Status::Ok, "on; no check has run yet");
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let hours = now.saturating_sub(cache.checked_at) / 3600;
    let mut c = Check::new(
        "update check",
        Status::Ok,
        format!(
            "on; last checked {hours} h ago, latest known {}",
            cache.latest
        ),
    )
    .detail(format!(
        "cache: {}",
        update_check::cache_path(home).display()
    ));
    let newer = semver::Version::parse(&cache.latest)
        .ok()
        .zip(semver::Version::parse(codex_build_info::version()).ok())
        .is_some_and(|(latest, current)| latest > current);
    if newer {
        c.status = Status::Warn;
        c.summary = format!(
            "codex {} is available (this is {})",
            cache.latest,
            codex_build_info::version()
        );
        c.fix = Some(match m.update_command() {
            Some(cmd) => cmd,
            None => "codex update".into(),
        });
    }
    c
}

fn paths(home: Option<&Path>, installer_config: Option<Option<&settings::ConfigError>>) -> Check {
    let Some(home) = home else {
        return Check::new("paths", Status::Fail, "neither CODEX_HOME nor HOME is set")
            .fix("set HOME (or CODEX_HOME)");
    };
    let from = if EnvVar::CodexHome.is_set() {
        EnvVar::CodexHome.name()
    } else {
        "default"
    };
    let file: PathBuf = home.join("config.toml");
    let mut c = Check::new("paths", Status::Ok, "the config file parses")
        .detail(format!("CODEX_HOME: {} ({from})", home.display()));
    if !file.exists() {
        c.summary = "no config file (the defaults apply)".into();
        return c.detail(format!("config: {} (absent)", file.display()));
    }
    c = c.detail(format!("config: {}", file.display()));
    let agent = codex_config::load(home, &codex_config::Options::default()).err();
    let problem = agent
        .map(|e| e.to_string())
        .or_else(|| installer_config.flatten().map(|e| e.to_string()));
    if let Some(p) = problem {
        c.status = Status::Fail;
        c.summary = format!("the config file does not parse: {p}");
        c.fix = Some(format!("fix {} and run codex doctor again", file.display()));
    }
    c
}

/// Whether auth.json can be read: a corrupt one fails every session that needs it.
fn sign_in(home: &Path) -> Check {
    match crate::login_cmd::describe(home) {
        Ok(what) => Check::new("sign-in", Status::Ok, what),
        Err(e) => Check::new("sign-in", Status::Fail, e.to_string())
            .fix("run `codex logout`, then `codex login`"),
    }
}

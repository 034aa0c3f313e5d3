//! First install of a release through the installer library, the way install.sh will do it; for
//! benchmarks and shell-level tests that need a standalone install to update from.
//!
//! Usage: codex-e2e-install --base-url URL --version X --codex-home DIR --bin-dir DIR

use anyhow::{Context, Result, bail};
use codex_installer::http::{Http, RetryPolicy};
use codex_installer::install::{Installer, VersionRequest};
use codex_installer::layout::Layout;
use codex_installer::source::{Origin, Source};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut base, mut version, mut home, mut bin) = (None, None, None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--base-url" => base = Some(value),
            "--version" => version = Some(value),
            "--codex-home" => home = Some(value),
            "--bin-dir" => bin = Some(value),
            other => bail!("unknown flag {other}"),
        }
    }
    let (Some(base), Some(version), Some(home), Some(bin)) = (base, version, home, bin) else {
        bail!("usage: codex-e2e-install --base-url URL --version X --codex-home DIR --bin-dir DIR");
    };
    let installer = Installer {
        layout: Layout::new(home.as_ref(), bin.as_ref()),
        source: Source::parse(&base, Origin::Flag)?,
        http: Http::new(RetryPolicy::default())?,
        target: codex_installer::platform::detect()?,
        installed_by: "codex-e2e-install".into(),
        // The fixtures are development builds, signed with the development key.
        keys: codex_installer::signature::keys_for(true),
        allow_downgrade: false,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let request = VersionRequest::Exact(semver::Version::parse(&version)?);
    let manifest = rt.block_on(installer.fetch_manifest(&request))?;
    let outcome = rt.block_on(installer.install(&manifest))?;
    println!(
        "installed codex {} into {}",
        outcome.to,
        outcome.bin_dir.display()
    );
    Ok(())
}

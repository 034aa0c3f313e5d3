//! Release signing in the build driver: `cargo xtask keygen`, the signatures `dist` writes and
//! the check `verify` makes. The format is `codex_installer::signature`'s (docs/signing.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use codex_installer::signature::{
    self, DEVELOPMENT_KEY, MINISIG_SUFFIX, SIG_SUFFIX, SIGNED_FILES, TRUSTED_KEYS, TrustedKey,
};

use crate::env::EnvVar;

/// The committed development seed, relative to the workspace root.
pub const DEV_KEY_FILE: &str = "keys/dev-signing-key.b64";

/// The key a release is signed with.
pub struct SigningKey {
    /// The 32-byte Ed25519 seed.
    pub seed: [u8; 32],
    /// Whether it is the committed development key, which no released installer trusts.
    pub development: bool,
}

/// The signing key for `dist`: `CODEX_SIGNING_KEY` if set, else the committed development key.
pub fn release_key(root: &Path) -> Result<SigningKey> {
    if let Some(text) = EnvVar::SigningKey.get() {
        let seed = signature::seed_from_base64(&text)
            .with_context(|| format!("{} is not usable", EnvVar::SigningKey.name()))?;
        return env_key(seed);
    }
    let path = root.join(DEV_KEY_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the development signing key {}", path.display()))?;
    let seed = signature::seed_from_base64(&text)
        .with_context(|| format!("{} is not usable", path.display()))?;
    if !is_development(&seed) {
        bail!(
            "{DEV_KEY_FILE} does not belong to DEVELOPMENT_KEY in crates/installer/src/signature.rs; restore it from git"
        );
    }
    Ok(SigningKey {
        seed,
        development: true,
    })
}

/// A key from `CODEX_SIGNING_KEY`, refused now unless its release would verify: a key that is
/// neither trusted nor the development key would fail only after every target was built.
fn env_key(seed: [u8; 32]) -> Result<SigningKey> {
    let public = signature::public_key(&seed);
    let trusted = TRUSTED_KEYS
        .iter()
        .any(|k| k.public_key_bytes().ok() == Some(public));
    if !trusted && !is_development(&seed) {
        bail!(
            "{} belongs to public key {}, which is not in TRUSTED_KEYS (crates/installer/src/signature.rs); add it there first (docs/signing.md) or unset it to sign with the development key",
            EnvVar::SigningKey.name(),
            STANDARD.encode(public)
        );
    }
    Ok(SigningKey {
        development: !trusted,
        seed,
    })
}

fn is_development(seed: &[u8; 32]) -> bool {
    DEVELOPMENT_KEY.public_key_bytes().ok() == Some(signature::public_key(seed))
}

/// Writes `<file>.sig` and `<file>.minisig` beside each of [`SIGNED_FILES`] in `dir`.
///
/// The minisign trusted comment holds `source_date_epoch` rather than the time of signing, so a
/// rebuild reproduces the signature files byte for byte (Ed25519 signatures are deterministic).
pub fn sign_release(dir: &Path, key: &SigningKey, source_date_epoch: u64) -> Result<()> {
    let key_id = signature::key_id(&signature::public_key(&key.seed));
    for name in SIGNED_FILES {
        let data = std::fs::read(dir.join(name)).with_context(|| format!("cannot read {name}"))?;
        let sig = signature::sign(&key.seed, &data);
        std::fs::write(dir.join(format!("{name}{SIG_SUFFIX}")), sig.to_sig_file())?;
        let comment = format!("timestamp:{source_date_epoch}\tfile:{name}");
        let minisig = signature::minisign(&key.seed, &key_id, &data, &comment);
        std::fs::write(dir.join(format!("{name}{MINISIG_SUFFIX}")), minisig)?;
    }
    Ok(())
}

/// The names of the signature files in a release, for the exact file-set check.
pub fn signature_files() -> Vec<String> {
    SIGNED_FILES
        .iter()
        .flat_map(|f| [format!("{f}{SIG_SUFFIX}"), format!("{f}{MINISIG_SUFFIX}")])
        .collect()
}

/// Checks every signature file in `dir` and returns the key that made them all.
///
/// Accepts a key in `TRUSTED_KEYS` or the development key; every file must be signed by the same
/// one, in both formats.
pub fn verify_release(dir: &Path) -> Result<TrustedKey> {
    // Every trusted key, and the development key.
    let keys = signature::keys_for(true);
    let mut signer: Option<TrustedKey> = None;
    for name in SIGNED_FILES {
        let data = std::fs::read(dir.join(name)).with_context(|| format!("cannot read {name}"))?;
        let sig_name = format!("{name}{SIG_SUFFIX}");
        let sig = std::fs::read_to_string(dir.join(&sig_name))
            .with_context(|| format!("cannot read {sig_name}; is the release signed?"))?;
        let by = *signature::verify_named(name, &data, &sig, &keys)?;
        let mini_name = format!("{name}{MINISIG_SUFFIX}");
        let mini = std::fs::read_to_string(dir.join(&mini_name))
            .with_context(|| format!("cannot read {mini_name}; is the release signed?"))?;
        let mini_by = *signature::verify_minisign(name, &data, &mini, &keys)?;
        match signer {
            _ if mini_by != by => {
                bail!("{sig_name} and {mini_name} are signed by different keys")
            }
            Some(first) if first != by => bail!(
                "{name} is signed by {} but {} by {}; sign a release with one key",
                by.id,
                SIGNED_FILES[0],
                first.id
            ),
            _ => signer = Some(by),
        }
    }
    signer.context("no signed files")
}

/// `cargo xtask keygen`: makes a new key pair, prints the public key in every form the channels
/// use, and writes the seed to `out` (mode 0600, never overwriting) or, without `out`, to stdout.
pub fn keygen(out: Option<&PathBuf>) -> Result<()> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let public = signature::public_key(&seed);
    let seed_b64 = format!("{}\n", STANDARD.encode(seed));
    if let Some(path) = out {
        write_secret(path, &seed_b64)?;
    }
    // Public halves on stderr when the secret goes to stdout, so `> file` captures only it.
    let mut public_text = format!(
        "public key (TrustedKey::public_key): {}\n\nminisign public key:\n{}\n{}",
        STANDARD.encode(public),
        signature::minisign_public_key(&public),
        signature::spki_pem(&public)
    );
    match out {
        Some(path) => {
            public_text.push_str(&format!(
                "\nseed written to {} (mode 0600)\n",
                path.display()
            ));
            print!("{public_text}");
        }
        None => {
            eprint!(
                "{public_text}\nseed (keep it secret; pass --out FILE to keep it off the terminal):\n"
            );
            print!("{seed_b64}");
        }
    }
    Ok(())
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; keygen never overwrites a key, choose another --out",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot create {}: {e}", path.display())
        }
    })?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_dir(key: &SigningKey) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("manifest.json"), "{\"schema\": 1}\n").expect("write");
        std::fs::write(dir.path().join("SHA256SUMS"), "abc  x.tar.gz\n").expect("write");
        sign_release(dir.path(), key, 1_700_000_000).expect("sign");
        dir
    }

    /// The committed development key, whatever `CODEX_SIGNING_KEY` says.
    fn dev_key() -> SigningKey {
        let path = crate::dist::workspace_root().join(DEV_KEY_FILE);
        SigningKey {
            seed: signature::seed_from_base64(&std::fs::read_to_string(path).expect("read"))
                .expect("seed"),
            development: true,
        }
    }

    #[test]
    fn committed_development_key_matches_development_key() {
        assert!(is_development(&dev_key().seed));
        // Unless the environment sets a real key, dist falls back to the committed one.
        if EnvVar::SigningKey.get().is_none() {
            let key = release_key(&crate::dist::workspace_root()).expect("key");
            assert!(key.development && key.seed == dev_key().seed);
        }
    }

    #[test]
    fn signed_release_verifies_and_names_the_development_key() {
        let key = dev_key();
        let dir = signed_dir(&key);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        names.sort();
        let mut expected = signature_files();
        expected.extend(["SHA256SUMS".to_owned(), "manifest.json".to_owned()]);
        expected.sort();
        assert_eq!(names, expected);
        assert_eq!(
            verify_release(dir.path()).expect("verifies").id,
            DEVELOPMENT_KEY.id
        );
        // Reproducible: signing again gives the same files.
        let again = signed_dir(&key);
        for name in signature_files() {
            assert_eq!(
                std::fs::read(dir.path().join(&name)).expect("a"),
                std::fs::read(again.path().join(&name)).expect("b"),
                "{name}"
            );
        }
    }

    #[test]
    fn altered_manifest_or_foreign_key_fails_verification() {
        let key = dev_key();
        let dir = signed_dir(&key);
        std::fs::write(dir.path().join("manifest.json"), "{\"schema\": 2}\n").expect("write");
        let err = format!("{:#}", verify_release(dir.path()).expect_err("altered"));
        insta::assert_snapshot!(err, @"manifest.json was not signed by any trusted key (trusted: codex-release-1, codex-development); the download may have been tampered with, do not install it");

        let foreign = signed_dir(&SigningKey {
            seed: [9; 32],
            development: false,
        });
        let err = format!("{:#}", verify_release(foreign.path()).expect_err("foreign"));
        assert!(err.contains("not signed by any trusted key"), "{err}");

        let unsigned = signed_dir(&key);
        std::fs::remove_file(unsigned.path().join("SHA256SUMS.minisig")).expect("rm");
        let err = format!(
            "{:#}",
            verify_release(unsigned.path()).expect_err("missing")
        );
        assert!(err.contains("cannot read SHA256SUMS.minisig"), "{err}");
    }

    #[test]
    fn an_environment_key_must_be_trusted_or_the_development_key() {
        let err = env_key([9; 32]).err().expect("untrusted key refused");
        assert!(err.to_string().contains("not in TRUSTED_KEYS"), "{err}");
        assert!(env_key(dev_key().seed).expect("dev key").development);
    }

    #[test]
    fn keygen_writes_a_private_seed_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.secret");
        write_secret(&path, "seed\n").expect("first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = write_secret(&path, "other\n").expect_err("exists");
        assert!(err.to_string().contains("never overwrites"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "seed\n");
    }
}

//! Release signatures: which keys a release must be signed by, and how signatures are made and
//! checked. The format and its reasons are in `docs/signing.md`.
//!
//! A signature is raw Ed25519 (RFC 8032, pure, not prehashed) over the exact bytes of a file,
//! written beside it as `<file>.sig`: the standard base64 of the 64 signature bytes on one line.
//! OpenSSL 3 (`pkeyutl -verify -rawin`), Node's `crypto.verify(null, …)` and this module all
//! check it as it is. The same signature is also written as `<file>.minisig` in minisign's format, for
//! machines with minisign but without OpenSSL 3.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Suffix of the raw signature file beside each signed file.
pub const SIG_SUFFIX: &str = ".sig";

/// The largest signature file (`.sig` or `.minisig`) any installer accepts; real ones are under
/// 400 bytes.
pub const MAX_SIGNATURE_SIZE: u64 = 16 << 10;

/// Suffix of the minisign signature file beside each signed file.
pub const MINISIG_SUFFIX: &str = ".minisig";

/// The release files that are signed; everything else in a release is reached through their
/// digests (`SHA256SUMS` and `manifest.json` both name every archive's SHA-256).
pub const SIGNED_FILES: [&str; 2] = [
    crate::manifest::MANIFEST_FILE,
    crate::manifest::SHA256SUMS_FILE,
];

/// A public key that release signatures are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedKey {
    /// Name of the key, shown in messages (`codex-release-1`).
    pub id: &'static str,
    /// Standard base64 of the 32 raw Ed25519 public key bytes.
    pub public_key: &'static str,
}

/// The keys that released installers accept. To rotate: add the new key here and ship releases
/// that trust both but are still signed by the old key (installs that know only the old key must
/// be able to update to them); then switch the signing secret to the new key, and drop the old
/// key a few releases later (docs/signing.md).
pub const TRUSTED_KEYS: &[TrustedKey] = &[TrustedKey {
    id: "codex-release-1",
    public_key: "GQDfW+ejGsQd6lKu5JQgUGRgA1zrEkfDL0zI3UAFJXc=",
}];

/// Who signs the release's executables for the operating systems, declared once: `cargo xtask
/// dist` refuses a Developer ID or Authenticode certificate that is not this identity, `cargo
/// xtask verify --release` refuses binaries signed by anyone else, and install.ps1 checks the
/// Windows publisher (its `expected-publisher` region is generated from here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformIdentity {
    /// Apple team identifier: the Developer ID certificate's OU and the signatures' team id.
    pub apple_team_id: &'static str,
    /// Common name of the Developer ID Application certificate.
    pub apple_common_name: &'static str,
    /// Subject common name of the Authenticode certificate: the publisher Windows shows.
    pub windows_publisher: &'static str,
}

/// The release's identities. Placeholders: set them to the real certificates' names before the
/// first signed release (docs/releasing.md); until then `dist` refuses any real certificate.
pub const RELEASE_PLATFORM_IDENTITY: PlatformIdentity = PlatformIdentity {
    apple_team_id: "UNSETTEAM0",
    apple_common_name: "Developer ID Application: OpenAI (UNSETTEAM0)",
    windows_publisher: "OpenAI (set before the first signed release)",
};

/// The development key: its secret half is committed (`keys/dev-signing-key.b64`) so that local
/// `cargo xtask dist` builds are signed too. It is deliberately not in [`TRUSTED_KEYS`]; only
/// tests and development tools that opt in by passing it accept its signatures.
pub const DEVELOPMENT_KEY: TrustedKey = TrustedKey {
    id: "codex-development",
    public_key: "ql42vAuaoTRraMZ5yHlsdW6b+QUALM8CQouvJFZGUPc=",
};

/// Name of the build-time variable that makes a build also trust [`DEVELOPMENT_KEY`]. `cargo
/// xtask dist` sets it to `1` when it signs with the development key, so that the binaries (and
/// the install scripts and npm package of that build) accept the release they came in.
pub const TRUST_DEVELOPMENT_KEY_VAR: &str = "CODEX_TRUST_DEVELOPMENT_KEY";

/// Whether this build was made by a development `dist` (see [`TRUST_DEVELOPMENT_KEY_VAR`]).
/// Cargo records the variable, so flipping it rebuilds this crate.
pub const BUILT_TRUSTING_DEVELOPMENT_KEY: bool = matches!(option_env!("CODEX_TRUST_DEVELOPMENT_KEY"), Some(v) if v.len() == 1 && v.as_bytes()[0] == b'1');

/// The keys a build made with or without the development key trusts: [`TRUSTED_KEYS`], then
/// [`DEVELOPMENT_KEY`] when `development` is true.
pub fn keys_for(development: bool) -> Vec<TrustedKey> {
    let mut keys = TRUSTED_KEYS.to_vec();
    if development {
        keys.push(DEVELOPMENT_KEY);
    }
    keys
}

/// The keys this very program trusts: [`keys_for`] of [`BUILT_TRUSTING_DEVELOPMENT_KEY`].
pub fn builtin_keys() -> Vec<TrustedKey> {
    keys_for(BUILT_TRUSTING_DEVELOPMENT_KEY)
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING { 0 unused bits, then the 32 key bytes } }.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// minisign's algorithm tag for a signature over the file itself (not prehashed) and for keys.
const MINISIGN_ED: &[u8; 2] = b"Ed";

/// A release signature that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The signature file is not one line of base64 of 64 bytes (or not minisign's format).
    #[error(
        "the signature of {file} is malformed ({reason}); download the release again, and report it if that keeps happening"
    )]
    Malformed {
        /// The signed file's name.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A valid signature, but by none of the trusted keys, or not over these bytes.
    #[error(
        "{file} was not signed by any trusted key (trusted: {trusted}); the download may have been tampered with, do not install it"
    )]
    Untrusted {
        /// The signed file's name.
        file: String,
        /// The ids of the keys that were tried, comma separated.
        trusted: String,
    },
    /// A key in a trusted key list is not base64 of 32 bytes: this program was built wrong.
    #[error(
        "trusted key {id} is not a valid Ed25519 public key; this build of codex is broken, install an official release"
    )]
    BadTrustedKey {
        /// The key's id.
        id: String,
    },
    /// A seed (secret key) that is not base64 of 32 bytes.
    #[error(
        "a signing key must be the standard base64 of a 32-byte Ed25519 seed ({reason}); make one with `cargo xtask keygen`"
    )]
    BadSeed {
        /// What is wrong with it.
        reason: String,
    },
}

/// A 64-byte Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({})", self.to_base64())
    }
}

impl Signature {
    /// The raw 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }

    /// Standard base64 of the 64 bytes, without a newline.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The contents of a `.sig` file: the base64 and one newline.
    pub fn to_sig_file(&self) -> String {
        let mut s = self.to_base64();
        s.push('\n');
        s
    }

    /// Parses a `.sig` file's contents (or just its base64): one line, surrounding whitespace
    /// ignored, base64 of exactly 64 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SignatureError> {
        let malformed = |reason: String| SignatureError::Malformed {
            file: "the file".to_owned(),
            reason,
        };
        let line = text.trim();
        if line.lines().count() > 1 {
            return Err(malformed("more than one line".to_owned()));
        }
        let bytes = STANDARD
            .decode(line)
            .map_err(|e| malformed(format!("not base64: {e}")))?;
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| malformed(format!("{} bytes instead of 64", b.len())))?;
        Ok(Self(bytes))
    }
}

impl TrustedKey {
    /// The 32 raw public key bytes.
    pub fn public_key_bytes(&self) -> Result<[u8; 32], SignatureError> {
        STANDARD
            .decode(self.public_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| SignatureError::BadTrustedKey {
                id: self.id.to_owned(),
            })
    }

    /// The key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), what `openssl pkeyutl -pubin` reads.
    pub fn spki_pem(&self) -> Result<String, SignatureError> {
        Ok(spki_pem(&self.public_key_bytes()?))
    }

    /// The key in minisign's public key format: its untrusted comment line and its base64 line
    /// (what `minisign -P` takes), each ending in a newline.
    pub fn minisign_public_key(&self) -> Result<String, SignatureError> {
        Ok(minisign_public_key(&self.public_key_bytes()?))
    }

    /// The 8-byte key number minisign puts in keys and signatures: see [`key_id`].
    pub fn key_id(&self) -> Result<[u8; 8], SignatureError> {
        Ok(key_id(&self.public_key_bytes()?))
    }
}

/// The public key of a seed (the 32-byte Ed25519 secret key).
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// Parses a seed written as standard base64 (surrounding whitespace ignored), as in
/// `CODEX_SIGNING_KEY` and `keys/dev-signing-key.b64`.
pub fn seed_from_base64(text: &str) -> Result<[u8; 32], SignatureError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| SignatureError::BadSeed {
            reason: format!("not base64: {e}"),
        })?;
    <[u8; 32]>::try_from(bytes).map_err(|b| SignatureError::BadSeed {
        reason: format!("{} bytes instead of 32", b.len()),
    })
}

/// The key number minisign puts in keys and signatures so a verifier can tell keys apart: the
/// first 8 bytes of SHA-256 of the public key. minisign itself draws it at random; deriving it
/// instead means a public key alone determines its minisign form, with nothing more to store.
pub fn key_id(public_key: &[u8; 32]) -> [u8; 8] {
    let digest = Sha256::digest(public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// The key number as minisign prints it: the 8 bytes read as a little-endian integer, in hex.
fn key_id_hex(key_id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*key_id))
}

/// A public key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo DER, base64, 64-column lines).
pub fn spki_pem(public_key: &[u8; 32]) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(public_key);
    // 44 bytes of DER encode to 60 base64 characters: one line.
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

/// A public key in minisign's format: `untrusted comment: minisign public key <ID>` and the
/// base64 of `Ed` || key number || public key, each line ending in a newline.
pub fn minisign_public_key(public_key: &[u8; 32]) -> String {
    let id = key_id(public_key);
    let mut raw = MINISIGN_ED.to_vec();
    raw.extend_from_slice(&id);
    raw.extend_from_slice(public_key);
    format!(
        "untrusted comment: minisign public key {}\n{}\n",
        key_id_hex(&id),
        STANDARD.encode(raw)
    )
}

/// Signs `data` with the key `seed`: pure Ed25519 over the exact bytes.
pub fn sign(seed: &[u8; 32], data: &[u8]) -> Signature {
    Signature(SigningKey::from_bytes(seed).sign(data).to_bytes())
}

/// Checks a `.sig` file's contents against `data` and returns the key in `keys` that made it.
pub fn verify<'k>(
    data: &[u8],
    sig_b64: &str,
    keys: &'k [TrustedKey],
) -> Result<&'k TrustedKey, SignatureError> {
    verify_named("the file", data, sig_b64, keys)
}

/// [`verify`], naming the signed file `file` in errors.
pub fn verify_named<'k>(
    file: &str,
    data: &[u8],
    sig_b64: &str,
    keys: &'k [TrustedKey],
) -> Result<&'k TrustedKey, SignatureError> {
    let sig = Signature::from_base64(sig_b64).map_err(|e| name_error(e, file))?;
    find_signer(file, data, &sig.0, keys)
}

/// The key in `keys` whose signature over `data` is `sig`.
fn find_signer<'k>(
    file: &str,
    data: &[u8],
    sig: &[u8; 64],
    keys: &'k [TrustedKey],
) -> Result<&'k TrustedKey, SignatureError> {
    let sig = ed25519_dalek::Signature::from_bytes(sig);
    for key in keys {
        let vk = VerifyingKey::from_bytes(&key.public_key_bytes()?).map_err(|_| {
            SignatureError::BadTrustedKey {
                id: key.id.to_owned(),
            }
        })?;
        // Strict: refuses weak keys and non-canonical signatures, which no honest signer makes.
        if vk.verify_strict(data, &sig).is_ok() {
            return Ok(key);
        }
    }
    Err(SignatureError::Untrusted {
        file: file.to_owned(),
        trusted: keys.iter().map(|k| k.id).collect::<Vec<_>>().join(", "),
    })
}

fn name_error(e: SignatureError, file: &str) -> SignatureError {
    match e {
        SignatureError::Malformed { reason, .. } => SignatureError::Malformed {
            file: file.to_owned(),
            reason,
        },
        other => other,
    }
}

/// A minisign signature file (`.minisig`) for `data`, in minisign's legacy `Ed` form (the
/// signature is over the file itself, the same one as in `.sig`).
///
/// `key_id` must be [`key_id`] of the seed's public key, or minisign will say the key does not
/// match. `trusted_comment` is signed too (minisign prints it after verifying); since the format
/// is line based, any line breaks in it become spaces.
pub fn minisign(seed: &[u8; 32], key_id: &[u8; 8], data: &[u8], trusted_comment: &str) -> String {
    let sig = sign(seed, data).to_bytes();
    let comment = trusted_comment.replace(['\r', '\n'], " ");
    let mut raw = MINISIGN_ED.to_vec();
    raw.extend_from_slice(key_id);
    raw.extend_from_slice(&sig);
    // minisign's "global signature" binds the trusted comment to the signature.
    let mut global = sig.to_vec();
    global.extend_from_slice(comment.as_bytes());
    let global = sign(seed, &global);
    format!(
        "untrusted comment: codex release signature, key {}\n{}\ntrusted comment: {comment}\n{}\n",
        key_id_hex(key_id),
        STANDARD.encode(raw),
        global.to_base64()
    )
}

/// Checks a `.minisig` file's contents (legacy `Ed` form, as [`minisign`] writes) against `data`
/// and returns the key in `keys` that made it. Both the signature and the global signature over
/// the trusted comment must be by that key.
pub fn verify_minisign<'k>(
    file: &str,
    data: &[u8],
    minisig: &str,
    keys: &'k [TrustedKey],
) -> Result<&'k TrustedKey, SignatureError> {
    let malformed = |reason: &str| SignatureError::Malformed {
        file: file.to_owned(),
        reason: format!("minisign signature: {reason}"),
    };
    let lines: Vec<&str> = minisig.lines().collect();
    let [untrusted, sig_line, trusted, global_line] = lines[..] else {
        return Err(malformed("expected 4 lines"));
    };
    if !untrusted.starts_with("untrusted comment: ") {
        return Err(malformed("no untrusted comment line"));
    }
    let comment = trusted
        .strip_prefix("trusted comment: ")
        .ok_or_else(|| malformed("no trusted comment line"))?;
    let raw = STANDARD
        .decode(sig_line.trim())
        .map_err(|_| malformed("signature line is not base64"))?;
    if raw.len() != 2 + 8 + 64 {
        return Err(malformed("signature line is not 74 bytes"));
    }
    if &raw[..2] != MINISIGN_ED {
        return Err(malformed("not a legacy Ed signature"));
    }
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&raw[10..]);
    let global: [u8; 64] = STANDARD
        .decode(global_line.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("global signature line is not base64 of 64 bytes"))?;
    let signer = find_signer(file, data, &sig, keys)?;
    if raw[2..10] != signer.key_id()? {
        return Err(malformed("key number does not match the signing key"));
    }
    let mut signed_comment = sig.to_vec();
    signed_comment.extend_from_slice(comment.as_bytes());
    find_signer(file, &signed_comment, &global, std::slice::from_ref(signer))
        .map_err(|_| malformed("trusted comment is not signed by the same key"))?;
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_development_build_trusts_the_development_key() {
        assert!(!keys_for(false).contains(&DEVELOPMENT_KEY));
        assert_eq!(keys_for(false), TRUSTED_KEYS.to_vec());
        assert_eq!(keys_for(true).last(), Some(&DEVELOPMENT_KEY));
        // A plain `cargo build` (and so this test run) is not a development dist build.
        assert_eq!(builtin_keys(), TRUSTED_KEYS.to_vec());
        assert_eq!(TRUST_DEVELOPMENT_KEY_VAR, "CODEX_TRUST_DEVELOPMENT_KEY");
    }

    /// RFC 8032 section 7.1, TEST 1: empty message.
    const RFC_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const RFC_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    /// A key pair for tests, with its public key leaked into a `TrustedKey`.
    fn test_key(byte: u8, id: &'static str) -> ([u8; 32], TrustedKey) {
        let seed = [byte; 32];
        let public: &'static str = Box::leak(STANDARD.encode(public_key(&seed)).into_boxed_str());
        (
            seed,
            TrustedKey {
                id,
                public_key: public,
            },
        )
    }

    #[test]
    fn signing_matches_rfc_8032_test_vector() {
        let seed = hex::<32>(RFC_SEED);
        assert_eq!(public_key(&seed), hex::<32>(RFC_PUBLIC));
        assert_eq!(sign(&seed, b"").to_bytes(), hex::<64>(RFC_SIG));
    }

    #[test]
    fn sign_verify_round_trip_names_the_signer() {
        let (seed, key) = test_key(1, "one");
        let (_, other) = test_key(2, "two");
        let keys = [other, key];
        let sig = sign(&seed, b"manifest bytes");
        let file = sig.to_sig_file();
        assert!(file.ends_with('\n') && file.lines().count() == 1);
        assert_eq!(Signature::from_base64(&file).expect("parse"), sig);
        let signer = verify(b"manifest bytes", &file, &keys).expect("verifies");
        assert_eq!(signer.id, "one");
    }

    #[test]
    fn one_altered_byte_is_refused() {
        let (seed, key) = test_key(1, "one");
        let data = b"0123456789".to_vec();
        let sig = sign(&seed, &data).to_sig_file();
        for i in 0..data.len() {
            let mut altered = data.clone();
            altered[i] ^= 1;
            let err = verify_named("manifest.json", &altered, &sig, &[key]).expect_err("altered");
            assert!(matches!(err, SignatureError::Untrusted { .. }), "{err}");
        }
        let mut longer = data.clone();
        longer.push(b'\n');
        assert!(verify(&longer, &sig, &[key]).is_err());
    }

    #[test]
    fn signature_by_an_unknown_key_is_refused_naming_the_trusted_keys() {
        let (seed, _) = test_key(1, "one");
        let sig = sign(&seed, b"data").to_sig_file();
        let err = verify_named("manifest.json", b"data", &sig, TRUSTED_KEYS).expect_err("unknown");
        insta::assert_snapshot!(err.to_string(), @"manifest.json was not signed by any trusted key (trusted: codex-release-1); the download may have been tampered with, do not install it");
        let err = verify(b"data", &sig, &[]).expect_err("no keys");
        assert!(matches!(err, SignatureError::Untrusted { .. }));
    }

    #[test]
    fn malformed_signature_files_are_refused() {
        let (seed, key) = test_key(1, "one");
        let good = sign(&seed, b"data").to_base64();
        let cases = [
            ("", "0 bytes instead of 64"),
            ("not base64!", "not base64"),
            (&good[..good.len() - 4], "bytes instead of 64"),
            (&format!("{good}\n{good}\n"), "more than one line"),
            (&good.replace('=', ""), "not base64"),
        ];
        for (text, reason) in cases {
            let err = verify_named("SHA256SUMS", b"data", text, &[key]).expect_err(text);
            assert!(
                matches!(&err, SignatureError::Malformed { file, .. } if file == "SHA256SUMS"),
                "{err}"
            );
            assert!(err.to_string().contains(reason), "{text:?}: {err}");
        }
        let err = verify_named("SHA256SUMS", b"data", "", &[key]).expect_err("empty");
        insta::assert_snapshot!(err.to_string(), @"the signature of SHA256SUMS is malformed (0 bytes instead of 64); download the release again, and report it if that keeps happening");
        // Whitespace around the one line is fine (a file edited on Windows, say).
        assert!(verify(b"data", &format!("  {good}\r\n"), &[key]).is_ok());
    }

    #[test]
    fn every_built_in_key_is_valid_and_distinct() {
        let mut all: Vec<TrustedKey> = TRUSTED_KEYS.to_vec();
        all.push(DEVELOPMENT_KEY);
        for key in &all {
            let bytes = key.public_key_bytes().expect("32 bytes of base64");
            assert!(VerifyingKey::from_bytes(&bytes).is_ok(), "{}", key.id);
            assert!(!VerifyingKey::from_bytes(&bytes).expect("point").is_weak());
        }
        let mut ids: Vec<_> = all.iter().map(|k| k.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        assert!(!TRUSTED_KEYS.contains(&DEVELOPMENT_KEY));
        assert!(
            TRUSTED_KEYS
                .iter()
                .all(|k| k.public_key != DEVELOPMENT_KEY.public_key)
        );
    }

    #[test]
    fn a_broken_trusted_key_is_reported_not_skipped() {
        let bad = TrustedKey {
            id: "bad",
            public_key: "AAAA",
        };
        let err = verify(b"", &sign(&[1; 32], b"").to_base64(), &[bad]).expect_err("bad key");
        assert!(matches!(err, SignatureError::BadTrustedKey { .. }), "{err}");
    }

    #[test]
    fn pem_is_spki_der_of_the_key() {
        let pk = hex::<32>(RFC_PUBLIC);
        insta::assert_snapshot!(spki_pem(&pk), @r"
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
        -----END PUBLIC KEY-----
        ");
        let pem = spki_pem(&pk);
        let b64 = pem.lines().nth(1).expect("body");
        let der = STANDARD.decode(b64).expect("base64");
        assert_eq!(&der[..12], &SPKI_PREFIX);
        assert_eq!(&der[12..], &pk);
    }

    #[test]
    fn minisign_public_key_is_ed_key_number_and_key() {
        let pk = hex::<32>(RFC_PUBLIC);
        let text = minisign_public_key(&pk);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let id = key_id(&pk);
        assert_eq!(
            lines[0],
            format!("untrusted comment: minisign public key {}", key_id_hex(&id))
        );
        let raw = STANDARD.decode(lines[1]).expect("base64");
        assert_eq!(&raw[..2], b"Ed");
        assert_eq!(&raw[2..10], &id);
        assert_eq!(&raw[10..], &pk);
        // Key number: first 8 bytes of SHA-256 of the key, shown as minisign shows it.
        assert_eq!(id, Sha256::digest(pk)[..8]);
        assert_eq!(key_id_hex(&[1, 2, 3, 4, 5, 6, 7, 8]), "0807060504030201");
    }

    #[test]
    fn minisign_signature_round_trips_and_binds_its_comment() {
        let (seed, key) = test_key(3, "three");
        let id = key.key_id().expect("id");
        let text = minisign(&seed, &id, b"data", "timestamp:1\tfile:SHA256SUMS\nsecond");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[2],
            "trusted comment: timestamp:1\tfile:SHA256SUMS second"
        );
        // The signature inside is the .sig one.
        let raw = STANDARD.decode(lines[1]).expect("base64");
        assert_eq!(raw[10..], sign(&seed, b"data").to_bytes());
        assert_eq!(
            verify_minisign("SHA256SUMS", b"data", &text, &[key])
                .expect("ok")
                .id,
            "three"
        );
        assert!(verify_minisign("SHA256SUMS", b"date", &text, &[key]).is_err());
        let forged = text.replace("timestamp:1", "timestamp:2");
        let err = verify_minisign("SHA256SUMS", b"data", &forged, &[key]).expect_err("comment");
        assert!(err.to_string().contains("trusted comment"), "{err}");
        let wrong_id = minisign(&seed, &[0; 8], b"data", "c");
        assert!(verify_minisign("SHA256SUMS", b"data", &wrong_id, &[key]).is_err());
    }

    #[test]
    fn seeds_parse_from_base64_and_say_how_to_make_one() {
        let seed = [7u8; 32];
        assert_eq!(
            seed_from_base64(&format!("{}\n", STANDARD.encode(seed))).expect("seed"),
            seed
        );
        let err = seed_from_base64("AAAA").expect_err("short");
        insta::assert_snapshot!(err.to_string(), @"a signing key must be the standard base64 of a 32-byte Ed25519 seed (3 bytes instead of 32); make one with `cargo xtask keygen`");
    }
}

//! Developer ID signatures on the macOS binaries, made and checked from Linux with the
//! `apple-codesign` crate: hardened runtime, a secure timestamp, and the release's identifiers.

use anyhow::{Context, Result, bail, ensure};
use apple_codesign::cryptography::{InMemoryPrivateKey, parse_pfx_data};
use apple_codesign::{
    AppleCertificate, CodeSignatureFlags, KnownCertificate, MachFile, MachOSigner, SettingsScope,
    SigningSettings,
};
use codex_installer::signature::PlatformIdentity;
use x509_certificate::CapturedX509Certificate;

use super::{Pkcs12, SignatureTrust};

/// A Developer ID Application certificate and key, checked to be the release's identity.
#[derive(Debug, Clone)]
pub struct AppleIdentity {
    pkcs12: Pkcs12,
    team_id: String,
    timestamp_url: String,
}

impl AppleIdentity {
    /// Opens `pkcs12` and checks that its certificate is `expected`'s Developer ID (common name
    /// and team); signatures will carry a token from the time-stamp authority at `timestamp_url`.
    pub fn new(pkcs12: Pkcs12, expected: &PlatformIdentity, timestamp_url: &str) -> Result<Self> {
        let (cert, _key) = open(&pkcs12)?;
        let (cn, ou) = names(&cert);
        ensure!(
            cn.as_deref() == Some(expected.apple_common_name)
                && ou.as_deref() == Some(expected.apple_team_id),
            "the certificate is {:?} (team {:?}), not the release's {:?} (team {:?}); use the \
             release's Developer ID or change RELEASE_PLATFORM_IDENTITY (crates/installer/src/signature.rs)",
            cn.unwrap_or_default(),
            ou.unwrap_or_default(),
            expected.apple_common_name,
            expected.apple_team_id
        );
        super::check_url(timestamp_url)?;
        Ok(Self {
            pkcs12,
            team_id: expected.apple_team_id.to_owned(),
            timestamp_url: timestamp_url.to_owned(),
        })
    }

    /// `bytes` (a thin Mach-O, ad hoc signed or not signed at all) signed with this identity:
    /// hardened runtime, identifier `identifier`, the team id, and a time-stamp token.
    pub fn sign(&self, bytes: &[u8], identifier: &str) -> Result<Vec<u8>> {
        let (cert, key) = open(&self.pkcs12)?;
        let mut settings = SigningSettings::default();
        settings.set_signing_key(&key, cert);
        // A real Developer ID chains to Apple's roots: embed the intermediates as codesign does.
        settings.chain_apple_certificates();
        settings.set_team_id(&self.team_id);
        settings.set_binary_identifier(SettingsScope::Main, identifier);
        settings.set_code_signature_flags(SettingsScope::Main, CodeSignatureFlags::RUNTIME);
        settings
            .set_time_stamp_url(self.timestamp_url.as_str())
            .context("the time-stamp URL")?;
        let signer = MachOSigner::new(bytes).context("not a Mach-O apple-codesign can sign")?;
        let mut out = Vec::with_capacity(bytes.len() + 64 * 1024);
        signer
            .write_signed_binary(&settings, &mut out)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| {
                format!(
                    "signing failed (is the time-stamp authority {} reachable?)",
                    self.timestamp_url
                )
            })?;
        Ok(out)
    }
}

/// The subject common name of the certificate in `p` (Authenticode checks its publisher with it).
pub(super) fn certificate_common_name(p: &Pkcs12) -> Result<String> {
    let (cert, _key) = open(p)?;
    Ok(cert.subject_common_name().unwrap_or_default())
}

fn open(p: &Pkcs12) -> Result<(CapturedX509Certificate, InMemoryPrivateKey)> {
    parse_pfx_data(&p.der, &p.password)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("cannot open the PKCS#12 bundle (wrong password, or not a .p12 with one key and certificate)")
}

/// The subject's common name and organizational unit (Apple puts the team id there).
fn names(cert: &CapturedX509Certificate) -> (Option<String>, Option<String>) {
    (cert.subject_common_name(), cert.apple_team_id())
}

/// What kind of signature a Mach-O carries, for `verify`'s messages (`codex doctor` reads it with
/// `codex_installer::codesign`, which the shipped binary can carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureKind {
    /// No LC_CODE_SIGNATURE.
    None,
    /// Only page hashes, no CMS signature (what zig's linker writes).
    AdHoc,
    /// A CMS signature by the certificate with this common name.
    Signed(String),
}

/// The kind of signature `bytes` carries.
pub fn signature_kind(bytes: &[u8]) -> Result<SignatureKind> {
    let file = MachFile::parse(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(macho) = file.into_iter().next() else {
        bail!("no Mach-O in the file");
    };
    let Some(sig) = macho.code_signature().map_err(|e| anyhow::anyhow!("{e}"))? else {
        return Ok(SignatureKind::None);
    };
    let Some(signed) = sig.signed_data().map_err(|e| anyhow::anyhow!("{e}"))? else {
        return Ok(SignatureKind::AdHoc);
    };
    let cn = signed
        .signers()
        .next()
        .and_then(|s| signer_certificate(&signed, s))
        .and_then(|c| names(c).0)
        .unwrap_or_default();
    Ok(SignatureKind::Signed(cn))
}

fn signer_certificate<'a>(
    signed: &'a cryptographic_message_syntax::SignedData,
    signer: &cryptographic_message_syntax::SignerInfo,
) -> Option<&'a CapturedX509Certificate> {
    let (issuer, serial) = signer.certificate_issuer_and_serial()?;
    signed
        .certificates()
        .find(|c| c.issuer_name() == issuer && c.serial_number_asn1() == serial)
}

/// Checks that `bytes` is a thin Mach-O signed by `trust`'s Developer ID: a CMS signature that
/// verifies, by a certificate with the expected common name and team that chains to one of
/// `trust`'s roots (Apple's by default), over a CodeDirectory with identifier `identifier`, the
/// team id, the hardened-runtime flag and a hash of every page, plus a valid time-stamp token.
pub fn verify(bytes: &[u8], identifier: &str, trust: &SignatureTrust) -> Result<()> {
    match signature_kind(bytes)? {
        SignatureKind::None => bail!(
            "the binary has no code signature; build with the Developer ID (CODEX_APPLE_CERTIFICATE_P12)"
        ),
        SignatureKind::AdHoc => bail!(
            "the binary carries only an ad hoc signature; build with the Developer ID (CODEX_APPLE_CERTIFICATE_P12)"
        ),
        SignatureKind::Signed(_) => {}
    }
    // Page hashes, the CMS signature over the CodeDirectory and its message digest.
    let problems = apple_codesign::verify_macho_data(bytes);
    if let Some(p) = problems.first() {
        bail!(
            "the code signature does not verify: {p}{}",
            if problems.len() > 1 {
                format!(" (and {} more problems)", problems.len() - 1)
            } else {
                String::new()
            }
        );
    }
    let file = MachFile::parse(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let macho = file.into_iter().next().context("no Mach-O in the file")?;
    let sig = macho
        .code_signature()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("no code signature")?;
    let cd = sig
        .code_directory()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the signature has no CodeDirectory")?;
    ensure!(
        cd.ident == identifier,
        "the signature's identifier is {:?}, expected {identifier:?}",
        cd.ident
    );
    ensure!(
        cd.team_name.as_deref() == Some(trust.identity.apple_team_id),
        "the signature's team is {:?}, not the release's {:?}",
        cd.team_name,
        trust.identity.apple_team_id
    );
    ensure!(
        cd.flags.contains(CodeSignatureFlags::RUNTIME),
        "the signature lacks the hardened-runtime flag (flags {:?})",
        cd.flags
    );
    let limit = macho
        .code_signature_load_command()
        .context("no LC_CODE_SIGNATURE")?
        .dataoff as u64;
    let pages = limit.div_ceil(u64::from(cd.page_size.max(1)));
    ensure!(
        cd.code_limit as u64 == limit && cd.code_digests.len() as u64 == pages,
        "the CodeDirectory hashes {} pages up to {}, the file has {pages} pages before its \
         signature at {limit}",
        cd.code_digests.len(),
        cd.code_limit
    );

    let signed = sig
        .signed_data()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("no CMS signature")?;
    let signer = signed
        .signers()
        .next()
        .context("the CMS signature has no signer")?;
    ensure!(
        signed.signers().count() == 1,
        "the CMS signature has more than one signer"
    );
    let leaf = signer_certificate(&signed, signer)
        .context("the CMS signature does not hold its signer's certificate")?;
    let (cn, ou) = names(leaf);
    ensure!(
        cn.as_deref() == Some(trust.identity.apple_common_name)
            && ou.as_deref() == Some(trust.identity.apple_team_id),
        "signed by {:?} (team {:?}), not the release's {:?} (team {:?})",
        cn.unwrap_or_default(),
        ou.unwrap_or_default(),
        trust.identity.apple_common_name,
        trust.identity.apple_team_id
    );
    let roots: Vec<CapturedX509Certificate> = if trust.apple_roots.is_empty() {
        KnownCertificate::all_roots()
            .iter()
            .map(|c| (*c).clone())
            .collect()
    } else {
        trust
            .apple_roots
            .iter()
            .map(|der| CapturedX509Certificate::from_der(der.clone()))
            .collect::<Result<_, _>>()
            .context("a trusted root is not a DER certificate")?
    };
    let pool: Vec<&CapturedX509Certificate> = signed.certificates().collect();
    chains_to(leaf, &pool, &roots)?;
    match signer.verify_time_stamp_token() {
        Ok(Some(())) => {}
        Ok(None) => bail!("the signature has no time-stamp token (a secure timestamp is required)"),
        Err(e) => bail!("the signature's time-stamp token does not verify: {e}"),
    }
    Ok(())
}

/// Whether `leaf` chains to one of `roots` through certificates in `pool` (at most 4 links),
/// each link's signature checked.
fn chains_to(
    leaf: &CapturedX509Certificate,
    pool: &[&CapturedX509Certificate],
    roots: &[CapturedX509Certificate],
) -> Result<()> {
    let mut current = leaf.clone();
    for _ in 0..4 {
        if let Some(root) = roots
            .iter()
            .find(|r| r.subject_name() == current.issuer_name())
        {
            return current
                .verify_signed_by_certificate(root)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("the signer's certificate is not signed by the trusted root it names");
        }
        let Some(next) = pool
            .iter()
            .find(|c| c.subject_name() == current.issuer_name() && !c.subject_is_issuer())
        else {
            break;
        };
        current
            .verify_signed_by_certificate(*next)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("a certificate in the signature's chain is not signed by its issuer")?;
        current = (*next).clone();
    }
    bail!("the signer's certificate does not chain to a trusted root")
}

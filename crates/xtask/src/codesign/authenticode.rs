//! Authenticode signatures on the Windows binaries, made and checked from Linux with Debian's
//! `osslsigncode`: SHA-256, an RFC 3161 timestamp, the release's publisher.
//!
//! The key and its password reach `osslsigncode` as files (mode 0600, in a private temporary
//! folder removed afterwards), never on its command line.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use codex_installer::signature::PlatformIdentity;
use codex_installer::target::Binary;

use super::{Pkcs12, SignatureTrust};

/// The program that signs and verifies PE files (Debian package `osslsigncode`).
pub const OSSLSIGNCODE: &str = "osslsigncode";
/// The project URL written into each signature's SpcSpOpusInfo (shown by Windows' dialogs).
pub const INFO_URL: &str = "https://github.com/openai/codex";

/// An Authenticode certificate and key, checked to be the release's publisher.
#[derive(Debug, Clone)]
pub struct AuthenticodeIdentity {
    pkcs12: Pkcs12,
    timestamp_url: String,
}

impl AuthenticodeIdentity {
    /// Opens `pkcs12` and checks that its certificate's subject common name is `expected`'s
    /// Windows publisher; signatures will be time-stamped by `timestamp_url` (RFC 3161).
    pub fn new(pkcs12: Pkcs12, expected: &PlatformIdentity, timestamp_url: &str) -> Result<Self> {
        let cn = super::apple::certificate_common_name(&pkcs12)?;
        ensure!(
            cn == expected.windows_publisher,
            "the certificate is issued to {cn:?}, not the release's publisher {:?}; use the \
             release's certificate or change RELEASE_PLATFORM_IDENTITY (crates/installer/src/signature.rs)",
            expected.windows_publisher
        );
        super::check_url(timestamp_url)?;
        which_osslsigncode()?;
        Ok(Self {
            pkcs12,
            timestamp_url: timestamp_url.to_owned(),
        })
    }

    /// `bytes` (a PE executable) with an Authenticode signature: SHA-256, an RFC 3161 timestamp,
    /// the binary's name and the project URL as its description.
    pub fn sign(&self, bytes: &[u8], binary: Binary) -> Result<Vec<u8>> {
        let dir = tempfile::Builder::new()
            .prefix("codex-authenticode-")
            .tempdir()
            .context("cannot create a temporary folder for signing")?;
        let p12 = dir.path().join("identity.p12");
        let pass = dir.path().join("password");
        let input = dir.path().join("unsigned.exe");
        let output = dir.path().join("signed.exe");
        write_private(&p12, &self.pkcs12.der)?;
        write_private(&pass, self.pkcs12.password.as_bytes())?;
        std::fs::write(&input, bytes)?;
        let out = Command::new(OSSLSIGNCODE)
            .arg("sign")
            .arg("-pkcs12")
            .arg(&p12)
            .arg("-readpass")
            .arg(&pass)
            .args(["-h", "sha256", "-n", binary.name(), "-i", INFO_URL])
            .args(["-ts", &self.timestamp_url])
            .arg("-in")
            .arg(&input)
            .arg("-out")
            .arg(&output)
            .output()
            .with_context(|| format!("cannot run {OSSLSIGNCODE}"))?;
        if !out.status.success() {
            bail!(
                "{OSSLSIGNCODE} sign failed (is the time-stamp authority {} reachable?): {}",
                self.timestamp_url,
                last_lines(&out)
            );
        }
        std::fs::read(&output).context("reading the signed executable")
    }
}

/// Puts a PE file in the form `osslsigncode` leaves it after `remove-signature`: its length padded
/// with zeros to a multiple of 8 (where a certificate table would start) and the optional
/// header's CheckSum computed. `dist` does this to every Windows program, signed or not, so that
/// stripping a release's signature gives back exactly the reproducible unsigned build.
pub fn normalize_pe(bytes: &mut Vec<u8>) -> Result<()> {
    let checksum_at = checksum_range(bytes)?.start;
    bytes.resize(bytes.len().next_multiple_of(8), 0);
    bytes[checksum_at..checksum_at + 4].fill(0);
    let checksum = pe_checksum(bytes);
    bytes[checksum_at..checksum_at + 4].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// Where the optional header's CheckSum (4 bytes) lies in a PE file. It is computed over the
/// whole file, so it changes with any byte, the version stamp included.
pub fn checksum_range(bytes: &[u8]) -> Result<std::ops::Range<usize>> {
    ensure!(
        bytes.len() >= 0x40 && bytes[..2] == *b"MZ",
        "not a PE file (no MZ header)"
    );
    let pe = u32::from_le_bytes([bytes[0x3c], bytes[0x3d], bytes[0x3e], bytes[0x3f]]) as usize;
    // "PE\0\0", the 20-byte COFF header, then the optional header; CheckSum is at offset 64.
    let checksum_at = pe + 4 + 20 + 64;
    ensure!(
        bytes.len() >= checksum_at + 4 && bytes.get(pe..pe + 4) == Some(b"PE\0\0".as_slice()),
        "not a PE file (no PE signature at {pe:#x})"
    );
    Ok(checksum_at..checksum_at + 4)
}

/// The PE image checksum: the 16-bit one's-complement-style sum of the file (CheckSum field
/// zeroed), folded, plus the file length.
fn pe_checksum(bytes: &[u8]) -> u32 {
    let mut sum: u64 = 0;
    for chunk in bytes.chunks(2) {
        let word = u64::from(chunk[0]) | (u64::from(*chunk.get(1).unwrap_or(&0)) << 8);
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32).wrapping_add(bytes.len() as u32)
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(data)?;
    Ok(())
}

fn which_osslsigncode() -> Result<()> {
    match Command::new(OSSLSIGNCODE).arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => bail!(
            "{OSSLSIGNCODE} is not installed; install the Debian package osslsigncode (apt-get install osslsigncode)"
        ),
    }
}

/// The last few lines of a failed command's output, for an error message.
fn last_lines(out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// What `osslsigncode verify` reported about a PE file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The signer certificate's subject common name.
    pub signer: String,
    /// Whether the signature carries a timestamp whose signature osslsigncode verified.
    pub timestamped: bool,
}

/// Checks that `bytes` carries an Authenticode signature `osslsigncode verify` accepts (page
/// hashes, certificate chain to `trust`'s CAs, timestamp), with a SHA-256 digest, by `trust`'s
/// Windows publisher.
pub fn verify(bytes: &[u8], trust: &SignatureTrust) -> Result<()> {
    let report = verify_report(bytes, trust)?;
    ensure!(
        report.signer == trust.identity.windows_publisher,
        "signed by {:?}, not the release's publisher {:?}",
        report.signer,
        trust.identity.windows_publisher
    );
    ensure!(
        report.timestamped,
        "the Authenticode signature has no timestamp"
    );
    Ok(())
}

/// Runs `osslsigncode verify` on `bytes` under `trust`'s CAs and reads its report.
pub fn verify_report(bytes: &[u8], trust: &SignatureTrust) -> Result<Report> {
    let dir = tempfile::Builder::new()
        .prefix("codex-authenticode-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let input = dir.path().join("binary.exe");
    std::fs::write(&input, bytes)?;
    let mut cmd = Command::new(OSSLSIGNCODE);
    cmd.arg("verify").arg("-in").arg(&input);
    if let Some(ca) = &trust.windows_ca_file {
        cmd.arg("-CAfile").arg(ca);
    }
    if let Some(ca) = &trust.windows_tsa_ca_file {
        cmd.arg("-TSA-CAfile").arg(ca);
    }
    let out = cmd.output().with_context(|| {
        format!("cannot run {OSSLSIGNCODE}; install the Debian package osslsigncode")
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("No signature found") {
        bail!(
            "the executable has no Authenticode signature; build with CODEX_WINDOWS_CERTIFICATE_P12"
        );
    }
    if !out.status.success() {
        bail!(
            "the Authenticode signature does not verify: {}",
            last_lines(&out)
        );
    }
    ensure!(
        text.lines()
            .any(|l| l.trim_start().starts_with("Message digest algorithm") && l.contains("SHA256")),
        "the Authenticode signature does not use SHA-256"
    );
    Ok(Report {
        signer: signer_common_name(&text).context("osslsigncode named no signer")?,
        // Printed only after the countersignature's own signature and chain were checked.
        timestamped: text.contains("Timestamp Server Signature verification: ok"),
    })
}

/// The CN of the first `Subject:` line after `Signer's certificate:` in osslsigncode's report.
fn signer_common_name(report: &str) -> Option<String> {
    let after = &report[report.find("Signer's certificate:")?..];
    let subject = after
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("Subject:"))?;
    // OpenSSL's one-line form: /C=US/O=Example/CN=Name (a CN holding "/" is not supported).
    subject
        .split('/')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .map(|cn| cn.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_pads_to_eight_bytes_and_sets_the_checksum_once() {
        // A minimal PE header: MZ, e_lfanew = 0x40, "PE\0\0", zeroed COFF and optional headers.
        let mut pe = vec![0u8; 0x40 + 4 + 20 + 96 + 3];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        pe[0x50] = 0x77;
        let mut a = pe.clone();
        normalize_pe(&mut a).expect("normalize");
        assert_eq!(a.len() % 8, 0);
        let at = 0x40 + 4 + 20 + 64;
        let sum = u32::from_le_bytes([a[at], a[at + 1], a[at + 2], a[at + 3]]);
        // The 16-bit words "MZ", e_lfanew, "PE" and 0x77, then the length.
        assert_eq!(sum, 0x5a4d + 0x40 + 0x4550 + 0x77 + a.len() as u32);
        let mut b = a.clone();
        normalize_pe(&mut b).expect("again");
        assert_eq!(a, b, "idempotent");
        let mut not_pe = b"ELF".to_vec();
        assert!(normalize_pe(&mut not_pe).is_err());
    }

    #[test]
    fn the_signer_is_read_from_the_signers_certificate_block() {
        let report = "Message digest algorithm  : SHA256\nSigner's certificate:\n\tSigner #0:\n\t\tSubject: /C=US/O=Codex Test/CN=Codex Test Publisher\n\t\tIssuer : /CN=Codex Test CA\n";
        assert_eq!(
            signer_common_name(report).as_deref(),
            Some("Codex Test Publisher")
        );
        assert_eq!(signer_common_name("Subject: /CN=Elsewhere\n"), None);
    }
}

//! What kind of code signature a macOS executable carries, for `codex doctor`: none, ad hoc
//! (what zig's linker writes, and what Gatekeeper refuses in a quarantined download), or one made
//! with a certificate, such as a Developer ID, with its signer, team, hardened runtime and
//! timestamp.
//!
//! This reads; it does not verify. Whether the signature is valid is the kernel's and
//! Gatekeeper's business on the Mac that runs the program, and the release build checks its own
//! signatures (`cargo xtask verify --release`). Portable, so it is tested on any host.

use std::fmt;

/// A problem reading the signature.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

fn err<T>(what: impl Into<String>) -> Result<T, Error> {
    Err(Error(what.into()))
}

/// The signature a Mach-O executable carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// No LC_CODE_SIGNATURE: arm64 macOS will not run it at all.
    Unsigned,
    /// Signed ad hoc: hashes of the pages and no identity.
    AdHoc {
        /// Whether the hardened runtime flag is set.
        hardened_runtime: bool,
    },
    /// Signed with a certificate.
    Certificate {
        /// The signing certificate's common name, e.g. `Developer ID Application: Name (TEAMID)`.
        signer: String,
        /// The organisational unit of that certificate: Apple's team identifier.
        team: Option<String>,
        /// Whether the hardened runtime flag is set (notarization requires it).
        hardened_runtime: bool,
        /// Whether the signature holds an RFC 3161 timestamp token (notarization requires it).
        timestamped: bool,
    },
}

impl Signature {
    /// Whether the signer is a Developer ID Application certificate.
    pub fn is_developer_id(&self) -> bool {
        matches!(self, Signature::Certificate { signer, .. } if signer.starts_with("Developer ID Application:"))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signature::Unsigned => write!(f, "not signed"),
            Signature::AdHoc { .. } => write!(f, "ad hoc signature (no identity)"),
            Signature::Certificate {
                signer,
                hardened_runtime,
                timestamped,
                ..
            } => {
                write!(f, "signed by {signer:?}")?;
                let mut notes = Vec::new();
                notes.push(if *hardened_runtime {
                    "hardened runtime"
                } else {
                    "no hardened runtime"
                });
                notes.push(if *timestamped {
                    "timestamped"
                } else {
                    "no timestamp"
                });
                write!(f, " ({})", notes.join(", "))
            }
        }
    }
}

/// Whether `path` carries macOS's quarantine mark (the `com.apple.quarantine` extended
/// attribute that browsers and Homebrew casks set on downloads); `None` when that cannot be
/// told, and always `None` off macOS.
pub fn quarantined(path: &std::path::Path) -> Option<bool> {
    #[cfg(target_os = "macos")]
    {
        let mut value = [0u8; 256];
        match rustix::fs::getxattr(path, "com.apple.quarantine", &mut value) {
            Ok(_) => Some(true),
            Err(rustix::io::Errno::NOATTR) => Some(false),
            // The value is longer than the buffer: the mark is there.
            Err(rustix::io::Errno::RANGE) => Some(true),
            Err(_) => None,
        }
    }
    #[cfg(not(target_os = "macos"))]
    {
        let _ = path;
        None
    }
}

const MH_MAGIC_64: u32 = 0xfeed_facf;
const LC_CODE_SIGNATURE: u32 = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
const CSMAGIC_BLOBWRAPPER: u32 = 0xfade_0b01;
const CSSLOT_CODEDIRECTORY: u32 = 0;
const CSSLOT_SIGNATURESLOT: u32 = 0x1_0000;
const CS_ADHOC: u32 = 0x2;
const CS_RUNTIME: u32 = 0x1_0000;
/// DER of the OID 1.2.840.113549.1.9.16.2.14 (id-aa-timeStampToken), an unsigned attribute.
const TIMESTAMP_TOKEN_OID: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e,
];

/// Reads the signature of a thin 64-bit Mach-O file.
pub fn inspect(bytes: &[u8]) -> Result<Signature, Error> {
    if le32(bytes, 0)? != MH_MAGIC_64 {
        return err("not a 64-bit Mach-O executable");
    }
    let ncmds = le32(bytes, 16)?;
    let mut at = 32usize;
    let mut blob = None;
    for _ in 0..ncmds {
        let cmd = le32(bytes, at)?;
        let size = le32(bytes, at + 4)? as usize;
        if size < 8 {
            return err("a load command is shorter than its header");
        }
        if cmd == LC_CODE_SIGNATURE {
            let off = le32(bytes, at + 8)? as usize;
            let len = le32(bytes, at + 12)? as usize;
            blob = Some(slice(bytes, off, len)?);
        }
        at = at
            .checked_add(size)
            .ok_or_else(|| Error("load commands overflow".into()))?;
    }
    let Some(blob) = blob else {
        return Ok(Signature::Unsigned);
    };
    if be32(blob, 0)? != CSMAGIC_EMBEDDED_SIGNATURE {
        return err("the code signature is not an embedded signature");
    }
    let count = be32(blob, 8)? as usize;
    let mut flags = None;
    let mut cms: &[u8] = &[];
    for i in 0..count {
        let slot = be32(blob, 12 + i * 8)?;
        let off = be32(blob, 16 + i * 8)? as usize;
        let sub = slice(blob, off, 8)?;
        let len = be32(sub, 4)? as usize;
        let sub = slice(blob, off, len)?;
        match (slot, be32(sub, 0)?) {
            (CSSLOT_CODEDIRECTORY, CSMAGIC_CODEDIRECTORY) => flags = Some(be32(sub, 12)?),
            (CSSLOT_SIGNATURESLOT, CSMAGIC_BLOBWRAPPER) => cms = &sub[8..],
            _ => {}
        }
    }
    let Some(flags) = flags else {
        return err("the code signature has no code directory");
    };
    let hardened_runtime = flags & CS_RUNTIME != 0;
    if flags & CS_ADHOC != 0 || cms.is_empty() {
        return Ok(Signature::AdHoc { hardened_runtime });
    }
    let (signer, team) = leaf_subject(cms)?;
    Ok(Signature::Certificate {
        signer,
        team,
        hardened_runtime,
        timestamped: cms
            .windows(TIMESTAMP_TOKEN_OID.len())
            .any(|w| w == TIMESTAMP_TOKEN_OID),
    })
}

/// The common name and organisational unit of the signing (leaf) certificate in a CMS
/// SignedData: the certificate whose subject issued none of the others.
fn leaf_subject(cms: &[u8]) -> Result<(String, Option<String>), Error> {
    // ContentInfo ::= SEQUENCE { contentType OID, [0] EXPLICIT SignedData }
    let content_info = Der::new(cms).expect(0x30)?;
    let mut ci = Der::new(content_info);
    ci.expect(0x06)?;
    let signed_data = Der::new(ci.expect(0xa0)?).expect(0x30)?;
    // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQ,
    //   certificates [0] IMPLICIT SET OF Certificate OPTIONAL, ... }
    let mut sd = Der::new(signed_data);
    sd.expect(0x02)?;
    sd.expect(0x31)?;
    sd.expect(0x30)?;
    let mut certs = Der::new(sd.expect(0xa0)?);
    let mut subjects = Vec::new();
    while !certs.rest.is_empty() {
        let mut cert = Der::new(certs.expect(0x30)?);
        let mut tbs = Der::new(cert.expect(0x30)?);
        if tbs.peek() == Some(0xa0) {
            tbs.expect(0xa0)?;
        }
        tbs.expect(0x02)?; // serialNumber
        tbs.expect(0x30)?; // signature algorithm
        let issuer = tbs.expect(0x30)?;
        tbs.expect(0x30)?; // validity
        let subject = tbs.expect(0x30)?;
        subjects.push((issuer, subject));
    }
    let leaf = subjects
        .iter()
        .find(|(_, s)| !subjects.iter().any(|(i, _)| i == s))
        .or(subjects.first())
        .ok_or_else(|| Error("the signature holds no certificate".into()))?;
    let cn = attribute(leaf.1, &[0x55, 0x04, 0x03])?
        .ok_or_else(|| Error("the signing certificate has no common name".into()))?;
    Ok((cn, attribute(leaf.1, &[0x55, 0x04, 0x0b])?))
}

/// The string value of attribute `oid` in an X.501 Name (the contents of its SEQUENCE).
fn attribute(name: &[u8], oid: &[u8]) -> Result<Option<String>, Error> {
    let mut rdns = Der::new(name);
    while !rdns.rest.is_empty() {
        let mut set = Der::new(rdns.expect(0x31)?);
        while !set.rest.is_empty() {
            let mut atv = Der::new(set.expect(0x30)?);
            if atv.expect(0x06)? == oid {
                let (_, value) = atv.any()?;
                return Ok(Some(String::from_utf8_lossy(value).into_owned()));
            }
        }
    }
    Ok(None)
}

/// A cursor over DER elements.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Der { rest: bytes }
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element's tag and contents.
    fn any(&mut self) -> Result<(u8, &'a [u8]), Error> {
        let [tag, first, ..] = *self.rest else {
            return err("the signature's certificates are truncated");
        };
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return err("the signature's certificates use an unsupported length");
            }
            let bytes = slice(self.rest, 2, n)?;
            (
                bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize),
                2 + n,
            )
        };
        let contents = slice(self.rest, header, len)?;
        self.rest = &self.rest[header + len..];
        Ok((tag, contents))
    }

    /// The next element's contents, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        match self.any()? {
            (t, contents) if t == tag => Ok(contents),
            (t, _) => err(format!(
                "unexpected element {t:#04x} in the signature (wanted {tag:#04x})"
            )),
        }
    }
}

fn slice(bytes: &[u8], offset: usize, len: usize) -> Result<&[u8], Error> {
    offset
        .checked_add(len)
        .and_then(|end| bytes.get(offset..end))
        .ok_or_else(|| Error("the file is truncated".into()))
}

fn le32(bytes: &[u8], offset: usize) -> Result<u32, Error> {
    let b = slice(bytes, offset, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn be32(bytes: &[u8], offset: usize) -> Result<u32, Error> {
    let b = slice(bytes, offset, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // zig's links (see crates/xtask/src/macho.rs): arm64 is signed ad hoc, x86_64 not at all.
    const ARM64: &[u8] = include_bytes!("../../xtask/tests/fixtures/hello-aarch64-apple-darwin-1");
    const X86_64: &[u8] = include_bytes!("../../xtask/tests/fixtures/hello-x86_64-apple-darwin");

    #[test]
    fn zig_arm64_binaries_are_ad_hoc() {
        assert_eq!(
            inspect(ARM64).unwrap(),
            Signature::AdHoc {
                hardened_runtime: false
            }
        );
    }

    #[test]
    fn zig_x86_64_binaries_are_unsigned() {
        assert_eq!(inspect(X86_64).unwrap(), Signature::Unsigned);
    }

    #[test]
    fn other_files_and_truncations_are_errors_not_panics() {
        assert!(inspect(b"#!/bin/sh\n").is_err());
        for len in [0, 8, 31, 100, ARM64.len() - 1] {
            let _ = inspect(&ARM64[..len]);
        }
        let mut corrupt = ARM64.to_vec();
        let n = corrupt.len();
        for b in &mut corrupt[n - 200..] {
            *b = 0xff;
        }
        let _ = inspect(&corrupt);
    }

    #[test]
    fn certificates_are_named_by_their_leaf() {
        let s = Signature::Certificate {
            signer: "Developer ID Application: Codex Test (TEAMID1234)".into(),
            team: Some("TEAMID1234".into()),
            hardened_runtime: true,
            timestamped: true,
        };
        assert!(s.is_developer_id());
        assert_eq!(
            s.to_string(),
            "signed by \"Developer ID Application: Codex Test (TEAMID1234)\" (hardened runtime, timestamped)"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod cms_tests {
    use std::process::Command;

    use super::*;

    fn openssl(dir: &std::path::Path, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CMS signature by a leaf under a CA, both certificates included, as Apple's are.
    #[test]
    fn the_signer_is_the_leaf_certificate_not_its_ca() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        openssl(
            p,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=Codex Test CA/O=Codex Test",
                "-days",
                "2",
            ],
        );
        openssl(
            p,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/UID=TEAMID1234/CN=Developer ID Application: Codex Test (TEAMID1234)/OU=TEAMID1234/O=Codex Test/C=US",
            ],
        );
        openssl(
            p,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
            ],
        );
        std::fs::write(p.join("cd"), b"a code directory").unwrap();
        // -certfile adds the CA; the signer's own certificate goes in as well.
        openssl(
            p,
            &[
                "cms",
                "-sign",
                "-binary",
                "-in",
                "cd",
                "-signer",
                "leaf.pem",
                "-inkey",
                "leaf.key",
                "-certfile",
                "ca.pem",
                "-outform",
                "DER",
                "-out",
                "sig.der",
                "-nosmimecap",
            ],
        );
        let der = std::fs::read(p.join("sig.der")).unwrap();
        // openssl puts the signer first; the same signature with the CA first must name the
        // same signer (the lengths stay, so only the two certificates' bytes swap places).
        let swapped = swap_certificates(&der);
        assert_ne!(swapped, der);
        for der in [der, swapped] {
            let (cn, team) = leaf_subject(&der).unwrap();
            assert_eq!(cn, "Developer ID Application: Codex Test (TEAMID1234)");
            assert_eq!(team.as_deref(), Some("TEAMID1234"));
        }
    }

    /// `der` with its two certificates in the other order.
    fn swap_certificates(der: &[u8]) -> Vec<u8> {
        let mut ci = Der::new(Der::new(der).expect(0x30).unwrap());
        ci.expect(0x06).unwrap();
        let mut sd = Der::new(Der::new(ci.expect(0xa0).unwrap()).expect(0x30).unwrap());
        sd.expect(0x02).unwrap();
        sd.expect(0x31).unwrap();
        sd.expect(0x30).unwrap();
        let set = sd.expect(0xa0).unwrap();
        let mut certs = Der::new(set);
        let first_len = set.len() - {
            certs.any().unwrap();
            certs.rest.len()
        };
        let second_len = certs.rest.len() - {
            certs.any().unwrap();
            certs.rest.len()
        };
        assert!(certs.rest.is_empty(), "two certificates");
        let start = set.as_ptr() as usize - der.as_ptr() as usize;
        let mut out = der[..start].to_vec();
        out.extend_from_slice(&set[first_len..first_len + second_len]);
        out.extend_from_slice(&set[..first_len]);
        out.extend_from_slice(&der[start + set.len()..]);
        out
    }
}

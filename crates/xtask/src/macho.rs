//! Deterministic LC_UUID and ad hoc code signature repair for thin 64-bit Mach-O executables.
//!
//! zig's linker (what `cargo zigbuild` links Apple targets with) gives two links of identical
//! inputs different LC_UUIDs. On arm64 it also signs the output ad hoc, and the signature's hash
//! of the first page covers the UUID, so that differs as well. In stripped release builds those
//! 48 bytes are the only difference, so rewriting the UUID from the file's own contents and
//! re-hashing the pages makes releases byte-identical without a macOS host or `codesign`.
//! (Unstripped builds also differ in the object-file mtimes of their N_OSO debug-map symbols,
//! which this module does not touch: releases must be stripped.) [`patch_and_reseal`] does the
//! same after writing bytes into the signed part of the file, which is how `dist` stamps the
//! version into macOS binaries without invalidating their signature.
//!
//! Only what release builds need is supported: a thin, little-endian, 64-bit Mach-O whose
//! signature uses SHA-256 CodeDirectories. Everything else is rejected with an error rather than
//! guessed at, because a wrongly "fixed" binary would be killed by the kernel on users' machines.

use std::ops::Range;

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};

/// `cputype` of x86_64 Mach-O files (`CPU_TYPE_X86 | CPU_ARCH_ABI64`).
pub const CPU_TYPE_X86_64: u32 = 0x0100_0007;
/// `cputype` of arm64 Mach-O files (`CPU_TYPE_ARM | CPU_ARCH_ABI64`).
pub const CPU_TYPE_ARM64: u32 = 0x0100_000c;

const MH_MAGIC_64: u32 = 0xfeed_facf;
const MACH_HEADER_64_SIZE: usize = 32;
const LC_UUID: u32 = 0x1b;
const LC_CODE_SIGNATURE: u32 = 0x1d;
const UUID_LEN: usize = 16;

const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
const CSSLOT_CODEDIRECTORY: u32 = 0;
const CSSLOT_ALTERNATE_CODEDIRECTORIES: Range<u32> = 0x1000..0x1005;
const CSSLOT_SIGNATURESLOT: u32 = 0x1_0000;
/// An empty CMS wrapper (just magic and length) is what ad hoc signers emit as a placeholder.
const EMPTY_BLOB_LEN: usize = 8;
const CS_HASHTYPE_SHA256: u8 = 2;
const SHA256_LEN: usize = 32;
/// CodeDirectory header fields every version has (through `spare2`, before `scatterOffset`).
const CD_BASE_HEADER_LEN: usize = 44;
const CS_SUPPORTSCODELIMIT64: u32 = 0x20300;
/// Header length once `codeLimit64` (at offset 56) exists.
const CD_CODELIMIT64_HEADER_LEN: usize = 64;

/// Facts read from a Mach-O header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachO {
    /// `cputype` from the header; compare with [`CPU_TYPE_ARM64`] / [`CPU_TYPE_X86_64`].
    pub cputype: u32,
    /// The 16 bytes of LC_UUID, if the file has one.
    pub uuid: Option<[u8; 16]>,
    /// Where the embedded code signature lives, if the file has LC_CODE_SIGNATURE.
    pub code_signature: Option<CodeSignature>,
}

/// Location of the embedded code signature, from LC_CODE_SIGNATURE (`linkedit_data_command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSignature {
    /// File offset of the signature's SuperBlob.
    pub dataoff: u32,
    /// Bytes reserved for the signature in the file (the SuperBlob may be shorter).
    pub datasize: u32,
}

/// Parses the Mach-O header and load commands.
///
/// Only the header and load commands are checked here; the signature blob itself is validated by
/// [`verify_code_signature`] and [`make_uuid_deterministic`], which are the only users of it.
pub fn parse(bytes: &[u8]) -> Result<MachO> {
    Ok(parse_layout(bytes)?.info)
}

/// Rewrites LC_UUID to a digest of the file (with the UUID bytes zeroed and everything from the
/// code signature's dataoff on excluded), with RFC 4122 version/variant bits set, then recomputes
/// every code-slot hash of every CodeDirectory in the embedded signature. Returns whether anything
/// changed. A file with no LC_UUID is left alone (Ok(false)).
///
/// The new UUID depends only on bytes it does not itself influence, so the operation is
/// idempotent: a second call leaves the bytes as they are and returns `Ok(false)`.
///
/// Refuses (with an error) to touch a file whose existing signature does not already verify, since
/// re-hashing would silently bless whatever corrupted it, and a file carrying a real (CMS)
/// signature, since that signs the CodeDirectory we would change. All validation happens before the
/// first write; after an error the buffer is unchanged except in the one case noted below.
/// A final self-check re-verifies the result: only a hostile signature whose hash slots overlap
/// another CodeDirectory can fail it, and then the buffer is left modified and must be discarded.
pub fn make_uuid_deterministic(bytes: &mut [u8]) -> Result<bool> {
    patch_and_reseal(bytes, None)
}

/// Bytes to write at a file offset before [`patch_and_reseal`] rehashes the file.
#[derive(Debug, Clone, Copy)]
pub struct Patch<'a> {
    /// File offset of the first byte.
    pub offset: usize,
    /// What to write there.
    pub bytes: &'a [u8],
}

/// [`make_uuid_deterministic`] after writing `patch` (the version stamp) into the file: the
/// existing signature is checked before the write, and the UUID and page hashes are computed
/// from the patched bytes, so the result is signed exactly as if the linker had written them.
/// The patch must lie in the signed part of the file and must not touch LC_UUID.
pub fn patch_and_reseal(bytes: &mut [u8], patch: Option<Patch<'_>>) -> Result<bool> {
    let layout = parse_layout(bytes)?;

    let directories = match layout.info.code_signature {
        Some(signature) => {
            let parsed = parse_signature(bytes, signature)?;
            ensure!(
                !parsed.has_cms_signature,
                "the code signature carries a CMS signature (not ad hoc); rewriting the UUID would \
                 invalidate it and only `codesign` with the original identity can re-sign it"
            );
            for directory in &parsed.directories {
                check_directory(bytes, directory).context(
                    "the existing code signature does not match the file, refusing to re-sign it",
                )?;
            }
            parsed.directories
        }
        None => Vec::new(),
    };

    // The signature is excluded because it is rewritten from the result; the UUID is zeroed
    // because it is the output. Everything else (including LC_CODE_SIGNATURE's offsets and the
    // segment sizes) is deterministic linker output.
    let hashed_end = layout
        .info
        .code_signature
        .map_or(bytes.len(), |signature| signature.dataoff as usize);
    let uuid_range = layout.uuid_offset.map(|offset| offset..offset + UUID_LEN);
    if let Some(uuid_range) = &uuid_range {
        ensure!(
            uuid_range.end <= hashed_end,
            "LC_UUID at {:#x} lies inside the code signature at {hashed_end:#x}",
            uuid_range.start
        );
    }
    let mut changed = false;
    if let Some(patch) = patch {
        let range = patch.offset..patch.offset + patch.bytes.len();
        ensure!(
            range.end <= hashed_end,
            "the patch at {:#x}..{:#x} reaches past the signed part of the file ({hashed_end:#x})",
            range.start,
            range.end
        );
        if let Some(uuid_range) = &uuid_range {
            ensure!(
                range.end <= uuid_range.start || range.start >= uuid_range.end,
                "the patch at {:#x} overlaps LC_UUID",
                range.start
            );
        }
        changed = bytes[range.clone()] != *patch.bytes;
        bytes[range].copy_from_slice(patch.bytes);
    }

    if let (Some(old_uuid), Some(uuid_range)) = (layout.info.uuid, uuid_range) {
        let mut hasher = Sha256::new();
        hasher.update(&bytes[..uuid_range.start]);
        hasher.update([0u8; UUID_LEN]);
        hasher.update(&bytes[uuid_range.end..hashed_end]);
        let digest = hasher.finalize();
        let mut new_uuid = [0u8; UUID_LEN];
        new_uuid.copy_from_slice(&digest[..UUID_LEN]);
        // Version 3 with the RFC 4122 variant is what zig (like ld64 and lld) stamps on its
        // content-hash UUIDs, so ours look like any other linker-made UUID to tools that check.
        new_uuid[6] = (new_uuid[6] & 0x0f) | 0x30;
        new_uuid[8] = (new_uuid[8] & 0x3f) | 0x80;
        changed |= new_uuid != old_uuid;
        bytes[uuid_range].copy_from_slice(&new_uuid);
    }

    for directory in &directories {
        // Hash everything first: the slots live after `code_limit`, so they never cover
        // themselves, but computing before writing keeps the borrow simple.
        let hashes = (0..directory.n_code_slots)
            .map(|slot| page_hash(bytes, directory, slot))
            .collect::<Vec<_>>();
        for (slot, hash) in hashes.iter().enumerate() {
            let stored = directory.slot_hash_range(slot);
            if bytes[stored.clone()] != hash[..] {
                bytes[stored].copy_from_slice(hash);
                changed = true;
            }
        }
    }

    if !directories.is_empty() {
        verify_code_signature(bytes).context("the re-signed file does not verify")?;
    }
    Ok(changed)
}

/// Checks that every code-slot hash in the embedded signature's CodeDirectory matches the file's
/// pages (SHA-256, hashType 2). Errors say which slot is wrong. Ok(false) when there is no
/// signature.
///
/// Every CodeDirectory (primary and alternates) is checked, and the slot count must match
/// `codeLimit`, so no page can escape the check. Special slots (Info.plist, entitlements, ...)
/// and any CMS signature are not checked: linker ad hoc signatures have none worth checking,
/// and this exists to prove our page hashes agree with the signer's.
pub fn verify_code_signature(bytes: &[u8]) -> Result<bool> {
    let layout = parse_layout(bytes)?;
    let Some(signature) = layout.info.code_signature else {
        return Ok(false);
    };
    let parsed = parse_signature(bytes, signature)?;
    for directory in &parsed.directories {
        check_directory(bytes, directory)?;
    }
    Ok(true)
}

/// [`MachO`] plus the file offsets needed to edit it, kept private so the public struct stays
/// plain facts.
struct Layout {
    info: MachO,
    uuid_offset: Option<usize>,
}

fn parse_layout(bytes: &[u8]) -> Result<Layout> {
    ensure!(
        bytes.len() >= MACH_HEADER_64_SIZE,
        "file is {} bytes, too short for a 64-bit Mach-O header ({MACH_HEADER_64_SIZE} bytes)",
        bytes.len()
    );
    let magic = le32(bytes, 0, "Mach-O magic")?;
    match magic {
        MH_MAGIC_64 => {}
        0xbeba_feca | 0xbfba_feca => {
            bail!("file is a fat (universal) Mach-O; only thin 64-bit files are supported")
        }
        0xfeed_face => bail!("file is a 32-bit Mach-O; only 64-bit files are supported"),
        0xcffa_edfe | 0xcefa_edfe => {
            bail!("file is a big-endian Mach-O; only little-endian files are supported")
        }
        other => bail!(
            "not a 64-bit little-endian Mach-O: magic is {other:#010x}, expected {MH_MAGIC_64:#010x}"
        ),
    }
    let cputype = le32(bytes, 4, "Mach-O cputype")?;
    let ncmds = le32(bytes, 16, "Mach-O ncmds")?;
    let sizeofcmds = le32(bytes, 20, "Mach-O sizeofcmds")? as usize;
    let commands_end = MACH_HEADER_64_SIZE
        .checked_add(sizeofcmds)
        .filter(|&end| end <= bytes.len())
        .with_context(|| {
            format!(
                "load commands ({sizeofcmds} bytes after the header) extend past the end of the \
                 {}-byte file",
                bytes.len()
            )
        })?;
    let commands = &bytes[..commands_end];

    let mut info = MachO {
        cputype,
        uuid: None,
        code_signature: None,
    };
    let mut uuid_offset = None;
    let mut offset = MACH_HEADER_64_SIZE;
    for index in 0..ncmds {
        let what = |field: &str| format!("load command {index} {field}");
        let cmd = le32(commands, offset, &what("cmd"))?;
        let cmdsize = le32(commands, offset + 4, &what("cmdsize"))? as usize;
        ensure!(
            cmdsize >= 8,
            "load command {index} at {offset:#x} has cmdsize {cmdsize}, less than its own header"
        );
        let body = slice(commands, offset, cmdsize, &what("body"))?;
        match cmd {
            LC_UUID => {
                ensure!(uuid_offset.is_none(), "file has more than one LC_UUID");
                let uuid = slice(body, 8, UUID_LEN, "LC_UUID uuid")?;
                let mut value = [0u8; UUID_LEN];
                value.copy_from_slice(uuid);
                info.uuid = Some(value);
                uuid_offset = Some(offset + 8);
            }
            LC_CODE_SIGNATURE => {
                ensure!(
                    info.code_signature.is_none(),
                    "file has more than one LC_CODE_SIGNATURE"
                );
                info.code_signature = Some(CodeSignature {
                    dataoff: le32(body, 8, "LC_CODE_SIGNATURE dataoff")?,
                    datasize: le32(body, 12, "LC_CODE_SIGNATURE datasize")?,
                });
            }
            _ => {}
        }
        // Cannot overflow: `offset + cmdsize` was just bounds-checked against `commands`.
        offset += cmdsize;
    }
    Ok(Layout { info, uuid_offset })
}

/// What the signer put in the embedded signature, with every offset already bounds-checked.
struct Signature {
    directories: Vec<CodeDirectory>,
    has_cms_signature: bool,
}

/// A SHA-256 CodeDirectory, in absolute file offsets.
struct CodeDirectory {
    /// Index slot type, to say which directory an error is about.
    slot_type: u32,
    /// File offset of the first code slot's hash.
    hashes_offset: usize,
    n_code_slots: usize,
    code_limit: usize,
    /// log2 of the page size; 0 means one hash over everything up to `code_limit`.
    page_shift: u8,
}

impl CodeDirectory {
    fn slot_hash_range(&self, slot: usize) -> Range<usize> {
        // Bounds (and therefore overflow) were checked for every slot in `parse_directory`.
        let start = self.hashes_offset + slot * SHA256_LEN;
        start..start + SHA256_LEN
    }

    fn page_range(&self, slot: usize) -> Range<usize> {
        if self.page_shift == 0 {
            return 0..self.code_limit;
        }
        // `parse_directory` checked that `n_code_slots` pages of this size cover exactly
        // `code_limit`, so these stay within `code_limit` and cannot overflow.
        let page = 1usize << self.page_shift;
        let start = slot * page;
        start..(start + page).min(self.code_limit)
    }
}

fn parse_signature(bytes: &[u8], signature: CodeSignature) -> Result<Signature> {
    let dataoff = signature.dataoff as usize;
    let region = slice(
        bytes,
        dataoff,
        signature.datasize as usize,
        "code signature (LC_CODE_SIGNATURE dataoff/datasize)",
    )?;
    let magic = be32(region, 0, "code signature SuperBlob magic")?;
    ensure!(
        magic == CSMAGIC_EMBEDDED_SIGNATURE,
        "code signature at {dataoff:#x} has magic {magic:#010x}, expected an embedded-signature \
         SuperBlob ({CSMAGIC_EMBEDDED_SIGNATURE:#010x})"
    );
    let length = be32(region, 4, "code signature SuperBlob length")? as usize;
    let superblob = slice(region, 0, length, "code signature SuperBlob")?;
    let count = be32(superblob, 8, "code signature SuperBlob count")?;

    let mut directories = Vec::new();
    let mut has_cms_signature = false;
    for index in 0..count {
        // 12-byte SuperBlob header, then 8-byte (type, offset) entries. Saturating keeps a
        // hostile count or offset an out-of-bounds error for `slice` instead of an overflow.
        let entry = (index as usize).saturating_mul(8).saturating_add(12);
        let slot_type = be32(superblob, entry, "code signature index entry type")?;
        let blob_offset = be32(
            superblob,
            entry.saturating_add(4),
            "code signature index entry offset",
        )? as usize;
        let blob_magic = be32(superblob, blob_offset, "code signature blob magic")?;
        let blob_length = be32(
            superblob,
            blob_offset.saturating_add(4),
            "code signature blob length",
        )? as usize;
        ensure!(
            blob_length >= EMPTY_BLOB_LEN,
            "code signature blob of slot type {slot_type:#x} has length {blob_length}, less than \
             its own header"
        );
        let blob = slice(superblob, blob_offset, blob_length, "code signature blob")?;
        if slot_type == CSSLOT_CODEDIRECTORY
            || CSSLOT_ALTERNATE_CODEDIRECTORIES.contains(&slot_type)
        {
            ensure!(
                blob_magic == CSMAGIC_CODEDIRECTORY,
                "code signature slot {slot_type:#x} should hold a CodeDirectory but has magic \
                 {blob_magic:#010x}"
            );
            directories.push(
                parse_directory(blob, slot_type, dataoff + blob_offset, dataoff)
                    .with_context(|| format!("CodeDirectory in slot {slot_type:#x}"))?,
            );
        } else if slot_type == CSSLOT_SIGNATURESLOT && blob_length > EMPTY_BLOB_LEN {
            has_cms_signature = true;
        }
    }
    ensure!(
        !directories.is_empty(),
        "code signature at {dataoff:#x} has no CodeDirectory"
    );
    Ok(Signature {
        directories,
        has_cms_signature,
    })
}

/// `blob` is the CodeDirectory (exactly `length` bytes); `file_offset` is where it starts in the
/// file and `signature_offset` where the signature starts, which the hashed pages must not reach.
fn parse_directory(
    blob: &[u8],
    slot_type: u32,
    file_offset: usize,
    signature_offset: usize,
) -> Result<CodeDirectory> {
    ensure!(
        blob.len() >= CD_BASE_HEADER_LEN,
        "CodeDirectory is {} bytes, shorter than its {CD_BASE_HEADER_LEN}-byte header",
        blob.len()
    );
    let version = be32(blob, 8, "CodeDirectory version")?;
    let hash_offset = be32(blob, 16, "CodeDirectory hashOffset")? as usize;
    let n_code_slots = be32(blob, 28, "CodeDirectory nCodeSlots")? as usize;
    let code_limit32 = be32(blob, 32, "CodeDirectory codeLimit")?;
    let hash_size = blob[36];
    let hash_type = blob[37];
    let page_shift = blob[39];

    ensure!(
        hash_type == CS_HASHTYPE_SHA256,
        "CodeDirectory uses hashType {hash_type}; only SHA-256 (hashType {CS_HASHTYPE_SHA256}) \
         is supported"
    );
    ensure!(
        usize::from(hash_size) == SHA256_LEN,
        "CodeDirectory has hashType SHA-256 but hashSize {hash_size}, expected {SHA256_LEN}"
    );

    let mut code_limit = u64::from(code_limit32);
    if version >= CS_SUPPORTSCODELIMIT64 {
        ensure!(
            blob.len() >= CD_CODELIMIT64_HEADER_LEN,
            "CodeDirectory version {version:#x} is {} bytes, too short for codeLimit64",
            blob.len()
        );
        let code_limit64 = be64(blob, 56, "CodeDirectory codeLimit64")?;
        if code_limit64 != 0 {
            code_limit = code_limit64;
        }
    }
    let code_limit = usize::try_from(code_limit)
        .ok()
        .filter(|&limit| limit <= signature_offset)
        .with_context(|| {
            format!(
                "codeLimit {code_limit:#x} extends into the code signature at \
                 {signature_offset:#x}"
            )
        })?;

    let expected_slots = if page_shift == 0 {
        usize::from(code_limit > 0)
    } else {
        let page = 1usize
            .checked_shl(u32::from(page_shift))
            .filter(|&page| page <= 1 << 30)
            .with_context(|| format!("pageSize 2^{page_shift} is not a plausible page size"))?;
        code_limit.div_ceil(page)
    };
    ensure!(
        n_code_slots == expected_slots,
        "CodeDirectory has {n_code_slots} code slots but codeLimit {code_limit:#x} with pageSize \
         2^{page_shift} needs {expected_slots}"
    );

    ensure!(
        hash_offset >= CD_BASE_HEADER_LEN,
        "CodeDirectory hashOffset {hash_offset:#x} points into its own header"
    );
    n_code_slots
        .checked_mul(SHA256_LEN)
        .and_then(|len| slice(blob, hash_offset, len, "").ok())
        .with_context(|| {
            format!(
                "CodeDirectory's {n_code_slots} code slot hashes at hashOffset {hash_offset:#x} \
                 extend past its length {}",
                blob.len()
            )
        })?;

    Ok(CodeDirectory {
        slot_type,
        hashes_offset: file_offset + hash_offset,
        n_code_slots,
        code_limit,
        page_shift,
    })
}

fn page_hash(bytes: &[u8], directory: &CodeDirectory, slot: usize) -> [u8; SHA256_LEN] {
    Sha256::digest(&bytes[directory.page_range(slot)]).into()
}

fn check_directory(bytes: &[u8], directory: &CodeDirectory) -> Result<()> {
    for slot in 0..directory.n_code_slots {
        let expected = page_hash(bytes, directory, slot);
        let stored = &bytes[directory.slot_hash_range(slot)];
        if stored != expected {
            let pages = directory.page_range(slot);
            bail!(
                "CodeDirectory in slot {:#x}: code slot {slot} (file bytes {:#x}..{:#x}) has hash \
                 {} but the file hashes to {}",
                directory.slot_type,
                pages.start,
                pages.end,
                hex(stored),
                hex(&expected),
            );
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `buf[offset..offset + len]`, or an error naming `what` instead of a panic.
fn slice<'a>(buf: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    offset
        .checked_add(len)
        .and_then(|end| buf.get(offset..end))
        .with_context(|| {
            format!(
                "{what}: {len} bytes at offset {offset:#x} are out of bounds (only {} bytes \
                 available)",
                buf.len()
            )
        })
}

fn array<const N: usize>(buf: &[u8], offset: usize, what: &str) -> Result<[u8; N]> {
    Ok(slice(buf, offset, N, what)?.try_into()?)
}

fn le32(buf: &[u8], offset: usize, what: &str) -> Result<u32> {
    array(buf, offset, what).map(u32::from_le_bytes)
}

fn be32(buf: &[u8], offset: usize, what: &str) -> Result<u32> {
    array(buf, offset, what).map(u32::from_be_bytes)
}

fn be64(buf: &[u8], offset: usize, what: &str) -> Result<u64> {
    array(buf, offset, what).map(u64::from_be_bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // Two `cargo zigbuild --release --target aarch64-apple-darwin` links of the same hello world
    // (strip, lto, opt-level "z", panic "abort"), and one x86_64 link. See the module docs.
    const ARM64_1: &[u8] = include_bytes!("../tests/fixtures/hello-aarch64-apple-darwin-1");
    const ARM64_2: &[u8] = include_bytes!("../tests/fixtures/hello-aarch64-apple-darwin-2");
    const X86_64: &[u8] = include_bytes!("../tests/fixtures/hello-x86_64-apple-darwin");

    fn uuid_range(bytes: &[u8]) -> Range<usize> {
        let offset = parse_layout(bytes).unwrap().uuid_offset.unwrap();
        offset..offset + UUID_LEN
    }

    #[test]
    fn parses_zig_arm64_binary() {
        for fixture in [ARM64_1, ARM64_2] {
            let macho = parse(fixture).unwrap();
            assert_eq!(macho.cputype, CPU_TYPE_ARM64);
            assert!(macho.uuid.is_some());
            let signature = macho.code_signature.unwrap();
            // zig puts the signature last, filling the file exactly.
            assert_eq!(
                signature.dataoff as usize + signature.datasize as usize,
                fixture.len()
            );
        }
    }

    #[test]
    fn zig_signature_verifies() {
        assert!(verify_code_signature(ARM64_1).unwrap());
        assert!(verify_code_signature(ARM64_2).unwrap());
    }

    #[test]
    fn builds_differ_only_in_uuid_and_signature() {
        assert_eq!(ARM64_1.len(), ARM64_2.len());
        assert_ne!(
            ARM64_1, ARM64_2,
            "fixtures should show zig's UUID nondeterminism"
        );
        let uuid = uuid_range(ARM64_1);
        let dataoff = parse(ARM64_1).unwrap().code_signature.unwrap().dataoff as usize;
        for (offset, (a, b)) in ARM64_1.iter().zip(ARM64_2).enumerate() {
            if a != b {
                assert!(
                    uuid.contains(&offset) || offset >= dataoff,
                    "unexpected difference at {offset:#x}"
                );
            }
        }
    }

    #[test]
    fn deterministic_uuid_keeps_signature_valid_and_is_idempotent() {
        let mut bytes = ARM64_1.to_vec();
        let before = parse(&bytes).unwrap().uuid.unwrap();
        assert!(make_uuid_deterministic(&mut bytes).unwrap());
        let after = parse(&bytes).unwrap().uuid.unwrap();
        assert_ne!(before, after);
        assert_eq!(after[6] >> 4, 3, "UUID version");
        assert_eq!(after[8] >> 6, 0b10, "UUID variant");
        assert!(verify_code_signature(&bytes).unwrap());

        let once = bytes.clone();
        assert!(!make_uuid_deterministic(&mut bytes).unwrap());
        assert_eq!(bytes, once);
    }

    #[test]
    fn a_patched_file_is_resealed_as_if_linked_that_way() {
        let at = ARM64_1
            .windows(12)
            .position(|w| w == b"hello, world")
            .unwrap();
        let patch = Patch {
            offset: at,
            bytes: b"HELLO, WORLD",
        };
        let mut patched = ARM64_1.to_vec();
        assert!(patch_and_reseal(&mut patched, Some(patch)).unwrap());
        assert!(verify_code_signature(&patched).unwrap());
        assert_eq!(&patched[at..at + 12], b"HELLO, WORLD");
        // Same as patching the other build: the patch goes into the UUID, not the build's noise.
        let mut other = ARM64_2.to_vec();
        patch_and_reseal(&mut other, Some(patch)).unwrap();
        assert!(patched == other);
        let mut plain = ARM64_1.to_vec();
        make_uuid_deterministic(&mut plain).unwrap();
        assert_ne!(parse(&plain).unwrap().uuid, parse(&patched).unwrap().uuid);
        // Patching again with the same bytes changes nothing.
        let once = patched.clone();
        assert!(!patch_and_reseal(&mut patched, Some(patch)).unwrap());
        assert!(patched == once);
    }

    #[test]
    fn patches_into_the_signature_or_the_uuid_are_refused() {
        let dataoff = parse(ARM64_1).unwrap().code_signature.unwrap().dataoff as usize;
        let uuid = uuid_range(ARM64_1);
        for offset in [dataoff, dataoff - 2, uuid.start + 4] {
            let mut bytes = ARM64_1.to_vec();
            let patch = Patch {
                offset,
                bytes: b"abcd",
            };
            assert!(
                patch_and_reseal(&mut bytes, Some(patch)).is_err(),
                "{offset:#x}"
            );
            assert!(
                bytes == ARM64_1,
                "refused patch at {offset:#x} changed the file"
            );
        }
    }

    #[test]
    fn unsigned_files_are_patched_too() {
        let mut bytes = X86_64.to_vec();
        let patch = Patch {
            offset: bytes.len() - 4,
            bytes: b"abcd",
        };
        patch_and_reseal(&mut bytes, Some(patch)).unwrap();
        assert!(bytes.ends_with(b"abcd"));
    }

    #[test]
    fn two_builds_become_identical() {
        let mut first = ARM64_1.to_vec();
        let mut second = ARM64_2.to_vec();
        assert!(make_uuid_deterministic(&mut first).unwrap());
        assert!(make_uuid_deterministic(&mut second).unwrap());
        assert!(
            first == second,
            "builds still differ after make_uuid_deterministic"
        );
    }

    #[test]
    fn x86_64_binary_has_no_signature() {
        let macho = parse(X86_64).unwrap();
        assert_eq!(macho.cputype, CPU_TYPE_X86_64);
        assert!(macho.uuid.is_some());
        assert_eq!(macho.code_signature, None);
        assert!(!verify_code_signature(X86_64).unwrap());

        let mut bytes = X86_64.to_vec();
        assert!(make_uuid_deterministic(&mut bytes).unwrap());
        let once = bytes.clone();
        assert!(!make_uuid_deterministic(&mut bytes).unwrap());
        assert_eq!(bytes, once);
        let uuid = uuid_range(X86_64);
        for (offset, (a, b)) in X86_64.iter().zip(&bytes).enumerate() {
            assert!(a == b || uuid.contains(&offset), "changed byte {offset:#x}");
        }
    }

    #[test]
    fn corrupted_page_is_reported_and_not_resigned() {
        let mut bytes = ARM64_1.to_vec();
        bytes[5 * 4096 + 17] ^= 1;
        let error = format!("{:#}", verify_code_signature(&bytes).unwrap_err());
        assert!(error.contains("code slot 5 "), "{error}");
        let error = format!("{:#}", make_uuid_deterministic(&mut bytes).unwrap_err());
        assert!(error.contains("refusing to re-sign"), "{error}");
    }

    #[test]
    fn truncated_files_are_errors() {
        let sizeofcmds = u32::from_le_bytes(ARM64_1[20..24].try_into().unwrap()) as usize;
        let dataoff = parse(ARM64_1).unwrap().code_signature.unwrap().dataoff as usize;
        for len in [
            0,
            4,
            31,
            32,
            100,
            MACH_HEADER_64_SIZE + sizeofcmds - 1,
            MACH_HEADER_64_SIZE + sizeofcmds,
            dataoff,
            dataoff + 12,
            dataoff + 100,
            ARM64_1.len() - 1,
        ] {
            let truncated = &ARM64_1[..len];
            assert!(verify_code_signature(truncated).is_err(), "length {len}");
            assert!(
                make_uuid_deterministic(&mut truncated.to_vec()).is_err(),
                "length {len}"
            );
            if len < MACH_HEADER_64_SIZE + sizeofcmds {
                assert!(parse(truncated).is_err(), "length {len}");
            }
        }
    }

    #[test]
    fn wrong_magic_is_an_error() {
        let mut bytes = ARM64_1.to_vec();
        bytes[0] ^= 0xff;
        let error = format!("{:#}", parse(&bytes).unwrap_err());
        assert!(error.contains("magic"), "{error}");
        assert!(verify_code_signature(&bytes).is_err());
        assert!(make_uuid_deterministic(&mut bytes).is_err());

        bytes[..4].copy_from_slice(&[0xca, 0xfe, 0xba, 0xbe]);
        let error = format!("{:#}", parse(&bytes).unwrap_err());
        assert!(error.contains("fat"), "{error}");
    }

    /// Options for [`synthetic`], covering layouts zig does not produce.
    #[derive(Clone, Copy)]
    struct Synth {
        code_len: usize,
        page_shift: u8,
        hash_type: u8,
        code_limit64: bool,
        cms_len: usize,
    }

    const SYNTH: Synth = Synth {
        code_len: 2 * 4096 + 100,
        page_shift: 12,
        hash_type: CS_HASHTYPE_SHA256,
        code_limit64: false,
        cms_len: 8,
    };

    /// A minimal signed Mach-O: header, LC_UUID, LC_CODE_SIGNATURE, filler, then a SuperBlob
    /// with one CodeDirectory and a CMS wrapper. Hashes are computed here independently of the
    /// module so the verifier is not only checked against itself.
    fn synthetic(options: Synth) -> Vec<u8> {
        let Synth {
            code_len,
            page_shift,
            hash_type,
            code_limit64,
            cms_len,
        } = options;
        let mut file = Vec::new();
        for word in [MH_MAGIC_64, CPU_TYPE_ARM64, 0, 2, 2, 24 + 16, 0, 0] {
            file.extend(word.to_le_bytes());
        }
        file.extend(LC_UUID.to_le_bytes());
        file.extend(24u32.to_le_bytes());
        file.extend([0x42; 16]);
        file.extend(LC_CODE_SIGNATURE.to_le_bytes());
        file.extend(16u32.to_le_bytes());
        // The sizes are hashed too, so lay the signature out before hashing anything.
        let page = if page_shift == 0 {
            code_len
        } else {
            1 << page_shift
        };
        let n_code_slots = code_len.div_ceil(page);
        let hash_offset = 88 + 2;
        let cd_len = hash_offset + n_code_slots * 32;
        let cd_offset = 12 + 2 * 8;
        let cms_offset = cd_offset + cd_len;
        let total = cms_offset + cms_len;
        file.extend(u32::try_from(code_len).unwrap().to_le_bytes());
        file.extend(u32::try_from(total).unwrap().to_le_bytes());
        while file.len() < code_len {
            file.push(u8::try_from(file.len() % 251).unwrap());
        }
        let hashes: Vec<u8> = file
            .chunks(page)
            .flat_map(|chunk| Sha256::digest(chunk).to_vec())
            .collect();
        assert_eq!(hashes.len(), n_code_slots * 32);
        let mut cd = Vec::new();
        let code_limit32 = if code_limit64 { 0 } else { code_len };
        for word in [
            CSMAGIC_CODEDIRECTORY,
            u32::try_from(cd_len).unwrap(),
            0x20400,
            0x2,
            u32::try_from(hash_offset).unwrap(),
            88,
            0,
            u32::try_from(n_code_slots).unwrap(),
            u32::try_from(code_limit32).unwrap(),
        ] {
            cd.extend(word.to_be_bytes());
        }
        cd.extend([32, hash_type, 0, page_shift]);
        cd.extend([0; 16]);
        let limit64 = if code_limit64 { code_len as u64 } else { 0 };
        cd.extend(limit64.to_be_bytes());
        cd.extend([0; 24]);
        assert_eq!(cd.len(), 88);
        cd.extend(b"x\0");
        cd.extend(hashes);

        let mut signature = Vec::new();
        for word in [
            CSMAGIC_EMBEDDED_SIGNATURE,
            u32::try_from(total).unwrap(),
            2,
            CSSLOT_CODEDIRECTORY,
            u32::try_from(cd_offset).unwrap(),
            CSSLOT_SIGNATURESLOT,
            u32::try_from(cms_offset).unwrap(),
        ] {
            signature.extend(word.to_be_bytes());
        }
        signature.extend(cd);
        signature.extend(0xfade_0b01u32.to_be_bytes());
        signature.extend(u32::try_from(cms_len).unwrap().to_be_bytes());
        signature.resize(total, 0);
        file.extend(signature);
        file
    }

    fn round_trip(options: Synth) {
        let mut bytes = synthetic(options);
        assert!(verify_code_signature(&bytes).unwrap());
        assert!(make_uuid_deterministic(&mut bytes).unwrap());
        assert!(verify_code_signature(&bytes).unwrap());
        assert!(!make_uuid_deterministic(&mut bytes).unwrap());
    }

    #[test]
    fn synthetic_layouts_round_trip() {
        round_trip(SYNTH);
        round_trip(Synth {
            page_shift: 0,
            ..SYNTH
        });
        round_trip(Synth {
            code_limit64: true,
            ..SYNTH
        });
        round_trip(Synth {
            code_len: 3 * 4096,
            page_shift: 14,
            ..SYNTH
        });
    }

    #[test]
    fn unsupported_signatures_are_errors() {
        let sha1 = synthetic(Synth {
            hash_type: 1,
            ..SYNTH
        });
        let error = format!("{:#}", verify_code_signature(&sha1).unwrap_err());
        assert!(error.contains("hashType 1"), "{error}");

        let mut cms = synthetic(Synth {
            cms_len: 64,
            ..SYNTH
        });
        assert!(verify_code_signature(&cms).unwrap());
        let error = format!("{:#}", make_uuid_deterministic(&mut cms).unwrap_err());
        assert!(error.contains("CMS"), "{error}");
    }

    /// Every single-byte corruption of the structures we parse must give a result, not a panic.
    #[test]
    fn corrupted_structures_do_not_panic() {
        let original = synthetic(SYNTH);
        let dataoff = SYNTH.code_len;
        let positions = (0..MACH_HEADER_64_SIZE + 40).chain(dataoff..dataoff + 12 + 16 + 90);
        for position in positions {
            for value in [0x00, 0xff, 0x80, 0x01, original[position] ^ 0x01] {
                let mut bytes = original.clone();
                bytes[position] = value;
                let _ = parse(&bytes);
                let _ = verify_code_signature(&bytes);
                let _ = make_uuid_deterministic(&mut bytes);
            }
        }
    }
}

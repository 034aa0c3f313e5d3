//! Deterministic release archives: a `.tar.gz` or `.zip` holding exactly one executable.
//!
//! Reading them back goes through `codex_installer::archive`, the same code installers use.
//!
//! Every byte is a function of the entry name, its contents and `SOURCE_DATE_EPOCH`: owner 0/0,
//! mode 0755, a fixed mtime, a gzip header without name or time, fixed zip timestamps. Two
//! builds of the same commit therefore produce identical archives.

use std::io::Write;

use anyhow::{Context, Result};
use codex_installer::target::ArchiveFormat;
use flate2::{Compression, GzBuilder};

/// Mode of the executable inside every archive.
pub const ENTRY_MODE: u32 = 0o755;

/// Builds an archive in memory holding `contents` under `entry_name`.
pub fn pack(
    format: ArchiveFormat,
    entry_name: &str,
    contents: &[u8],
    epoch: u64,
) -> Result<Vec<u8>> {
    match format {
        ArchiveFormat::TarGz => pack_tar_gz(entry_name, contents, epoch),
        ArchiveFormat::Zip => pack_zip(entry_name, contents, epoch),
    }
}

fn pack_tar_gz(entry_name: &str, contents: &[u8], epoch: u64) -> Result<Vec<u8>> {
    tar_gz(&[(entry_name, ENTRY_MODE, contents)], epoch)
}

/// A deterministic `.tar.gz` of `(path, mode, contents)` entries, in the order given: owner
/// root 0/0, mtime `epoch`, and a gzip header without name or time. The npm tarballs use it too.
pub fn tar_gz(entries: &[(&str, u32, &[u8])], epoch: u64) -> Result<Vec<u8>> {
    // OS byte 3 (Unix) and mtime 0 keep the gzip header identical on every machine.
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    for (path, mode, contents) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(path)?;
        header.set_size(contents.len() as u64);
        header.set_mode(*mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root")?;
        header.set_groupname("root")?;
        header.set_mtime(epoch);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, *contents)?;
    }
    let gz = tar.into_inner().context("finishing tar stream")?;
    Ok(gz.finish()?)
}

fn pack_zip(entry_name: &str, contents: &[u8], epoch: u64) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let (y, mo, d, h, mi, s) = civil_from_epoch(epoch);
    // DOS timestamps start in 1980; clamp older epochs rather than fail.
    let time = zip::DateTime::from_date_and_time(y.clamp(1980, 2107), mo, d, h, mi, s)
        .or_else(|_| zip::DateTime::from_date_and_time(1980, 1, 1, 0, 0, 0))
        .map_err(|e| anyhow::anyhow!("zip timestamp: {e}"))?;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(time)
        .unix_permissions(ENTRY_MODE);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(entry_name, options)?;
    zip.write_all(contents)?;
    Ok(zip.finish()?.into_inner())
}

/// Seconds since the Unix epoch as UTC (year, month, day, hour, minute, second).
pub(crate) fn civil_from_epoch(epoch: u64) -> (u16, u8, u8, u8, u8, u8) {
    let t = codex_login::time::Utc::from_unix(i64::try_from(epoch).unwrap_or(i64::MAX));
    (
        u16::try_from(t.year).unwrap_or(u16::MAX),
        t.month as u8,
        t.day as u8,
        t.hour as u8,
        t.minute as u8,
        t.second as u8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_installer::archive::read_single_entry;

    const EPOCH: u64 = 1_700_000_000;

    #[test]
    fn packing_twice_gives_identical_bytes_for_both_formats() {
        for format in [ArchiveFormat::TarGz, ArchiveFormat::Zip] {
            let a = pack(format, "codex-x", b"\x7fELF payload", EPOCH).expect("pack");
            let b = pack(format, "codex-x", b"\x7fELF payload", EPOCH).expect("pack");
            assert_eq!(a, b, "{format:?}");
            let c = pack(format, "codex-x", b"\x7fELF payload", EPOCH + 2).expect("pack");
            assert_ne!(a, c, "{format:?}: the epoch must reach the archive");
        }
    }

    #[test]
    fn packed_entry_reads_back_with_name_mode_and_owner() {
        let tgz = pack(ArchiveFormat::TarGz, "codex-t", b"data", EPOCH).expect("pack");
        let e = read_single_entry(ArchiveFormat::TarGz, &tgz, None).expect("unpack");
        assert_eq!(
            (e.name.as_str(), e.mode, e.owner),
            ("codex-t", 0o755, Some((0, 0)))
        );
        assert_eq!(e.contents, b"data");
        let zip = pack(ArchiveFormat::Zip, "codex-t.exe", b"data", EPOCH).expect("pack");
        let e = read_single_entry(ArchiveFormat::Zip, &zip, None).expect("unpack");
        assert_eq!((e.name.as_str(), e.mode), ("codex-t.exe", 0o755));
        assert_eq!(e.contents, b"data");
    }

    #[test]
    fn gzip_header_carries_no_time_or_name() {
        let tgz = pack(ArchiveFormat::TarGz, "codex-t", b"data", EPOCH).expect("pack");
        // ID1 ID2 CM FLG MTIME(4) XFL OS
        assert_eq!(&tgz[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&tgz[4..8], &[0, 0, 0, 0]);
        assert_eq!(tgz[9], 3);
    }

    #[test]
    fn civil_dates_match_known_values() {
        assert_eq!(civil_from_epoch(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil_from_epoch(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil_from_epoch(1_700_000_000), (2023, 11, 14, 22, 13, 20));
    }
}

//! Reading release archives safely: exactly one regular file, with the expected name, and nothing
//! that could write outside the target directory (absolute paths, `..`, links, devices).

use std::io::Read;
use std::path::{Component, Path};

use crate::target::ArchiveFormat;

/// The single file of a release archive, read into memory.
#[derive(Debug)]
pub struct Entry {
    /// Path as stored in the archive.
    pub name: String,
    /// Permission bits (`0o755` in releases).
    pub mode: u32,
    /// Owner uid and gid (tar only; zip records none).
    pub owner: Option<(u64, u64)>,
    /// The file's contents.
    pub contents: Vec<u8>,
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The bytes are not a readable archive of the expected format.
    #[error("archive is corrupt or not a {format}: {detail}")]
    Corrupt {
        /// Expected format's extension.
        format: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// The archive holds no entry.
    #[error("archive is empty")]
    Empty,
    /// More than the one expected entry.
    #[error("archive holds more than one entry (second: {0:?}); release archives hold exactly one")]
    ExtraEntry(String),
    /// An entry whose path could escape the destination.
    #[error(
        "archive entry {0:?} has an unsafe path (absolute or containing `..`); refusing to extract"
    )]
    UnsafePath(String),
    /// A symlink, hard link, device, FIFO or directory.
    #[error("archive entry {name:?} is a {kind}, not a regular file; refusing to extract")]
    NotRegular {
        /// Entry path.
        name: String,
        /// What it is instead.
        kind: String,
    },
    /// The entry does not have the name the release convention requires.
    #[error("archive entry is {found:?}, expected {expected:?}")]
    WrongName {
        /// Name found.
        found: String,
        /// Name expected.
        expected: String,
    },
}

fn corrupt(format: ArchiveFormat, e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Corrupt {
        format: format.extension(),
        detail: e.to_string(),
    }
}

/// Refuses absolute paths and any `..`, so no entry can land outside the destination directory.
fn check_path(name: &str) -> Result<(), ArchiveError> {
    let path = Path::new(name);
    let safe = !name.is_empty()
        && !name.starts_with('/')
        && !name.starts_with('\\')
        && !name.contains(":\\")
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && !name.split(['/', '\\']).any(|part| part == "..");
    if safe {
        Ok(())
    } else {
        Err(ArchiveError::UnsafePath(name.to_owned()))
    }
}

/// Reads the one regular file in `bytes`. With `expected_name`, the entry must be called exactly
/// that. Every entry is checked before anything is returned, so a bad second entry still fails.
pub fn read_single_entry(
    format: ArchiveFormat,
    bytes: &[u8],
    expected_name: Option<&str>,
) -> Result<Entry, ArchiveError> {
    let entry = match format {
        ArchiveFormat::TarGz => read_tar_gz(bytes)?,
        ArchiveFormat::Zip => read_zip(bytes)?,
    };
    if let Some(expected) = expected_name.filter(|e| *e != entry.name) {
        return Err(ArchiveError::WrongName {
            found: entry.name,
            expected: expected.to_owned(),
        });
    }
    Ok(entry)
}

fn read_tar_gz(bytes: &[u8]) -> Result<Entry, ArchiveError> {
    let f = ArchiveFormat::TarGz;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut found: Option<Entry> = None;
    for entry in tar.entries().map_err(|e| corrupt(f, e))? {
        let mut entry = entry.map_err(|e| corrupt(f, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_path(&name)?;
        let kind = entry.header().entry_type();
        if kind != tar::EntryType::Regular && kind != tar::EntryType::Continuous {
            return Err(ArchiveError::NotRegular {
                name,
                kind: tar_kind(kind),
            });
        }
        if found.is_some() {
            return Err(ArchiveError::ExtraEntry(name));
        }
        let header = entry.header();
        let mode = header.mode().map_err(|e| corrupt(f, e))? & 0o7777;
        let owner = Some((
            header.uid().map_err(|e| corrupt(f, e))?,
            header.gid().map_err(|e| corrupt(f, e))?,
        ));
        let mut contents = Vec::new();
        entry
            .read_to_end(&mut contents)
            .map_err(|e| corrupt(f, e))?;
        found = Some(Entry {
            name,
            mode,
            owner,
            contents,
        });
    }
    found.ok_or(ArchiveError::Empty)
}

fn tar_kind(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "symlink".into(),
        tar::EntryType::Link => "hard link".into(),
        tar::EntryType::Directory => "directory".into(),
        tar::EntryType::Char | tar::EntryType::Block => "device".into(),
        tar::EntryType::Fifo => "FIFO".into(),
        other => format!("{other:?} entry"),
    }
}

fn read_zip(bytes: &[u8]) -> Result<Entry, ArchiveError> {
    let f = ArchiveFormat::Zip;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| corrupt(f, e))?;
    // Check every entry's name and kind first, so a bad second entry is reported as such.
    for i in 0..zip.len() {
        let file = zip.by_index_raw(i).map_err(|e| corrupt(f, e))?;
        let name = file.name().to_owned();
        check_path(&name)?;
        let kind = if file.is_symlink() {
            Some("symlink")
        } else if file.is_dir() {
            Some("directory")
        } else {
            None
        };
        if let Some(kind) = kind {
            return Err(ArchiveError::NotRegular {
                name,
                kind: kind.into(),
            });
        }
        if i > 0 {
            return Err(ArchiveError::ExtraEntry(name));
        }
    }
    if zip.is_empty() {
        return Err(ArchiveError::Empty);
    }
    let mut file = zip.by_index(0).map_err(|e| corrupt(f, e))?;
    let name = file.name().to_owned();
    let mode = file.unix_mode().unwrap_or(0o644) & 0o7777;
    let mut contents = Vec::new();
    file.read_to_end(&mut contents).map_err(|e| corrupt(f, e))?;
    Ok(Entry {
        name,
        mode,
        owner: None,
        contents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_gz(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            // set_path refuses `..` and absolute paths, so write the raw name like an attacker.
            let raw = &mut h.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_entry_type(*kind);
            h.set_mode(0o755);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_size(data.len() as u64);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").expect("link");
                h.set_size(0);
            }
            h.set_cksum();
            b.append(
                &h,
                if *kind == tar::EntryType::Symlink {
                    &b""[..]
                } else {
                    data
                },
            )
            .expect("append");
        }
        b.into_inner().expect("tar").finish().expect("gz")
    }

    fn zip_of(entries: &[(&str, bool)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, symlink) in entries {
            let o = zip::write::SimpleFileOptions::default();
            if *symlink {
                z.add_symlink(*name, "/etc/passwd", o).expect("symlink");
            } else {
                z.start_file(*name, o.unix_permissions(0o755))
                    .expect("file");
                z.write_all(b"MZ").expect("write");
            }
        }
        z.finish().expect("zip").into_inner()
    }

    use tar::EntryType::{Regular, Symlink};

    #[test]
    fn single_regular_entry_is_read_with_its_mode() {
        let a = tar_gz(&[("codex-x", Regular, b"bin")]);
        let e = read_single_entry(ArchiveFormat::TarGz, &a, Some("codex-x")).expect("ok");
        assert_eq!(
            (e.name.as_str(), e.mode, &e.contents[..]),
            ("codex-x", 0o755, &b"bin"[..])
        );
        let z = zip_of(&[("codex-x.exe", false)]);
        let e = read_single_entry(ArchiveFormat::Zip, &z, Some("codex-x.exe")).expect("ok");
        assert_eq!(e.contents, b"MZ");
    }

    #[test]
    fn parent_dir_and_absolute_entries_are_refused() {
        for name in ["../codex", "a/../../codex", "/usr/bin/codex"] {
            let a = tar_gz(&[(name, Regular, b"x")]);
            let err = read_single_entry(ArchiveFormat::TarGz, &a, None).expect_err(name);
            assert!(matches!(err, ArchiveError::UnsafePath(_)), "{name}: {err}");
        }
        let z = zip_of(&[("../codex.exe", false)]);
        assert!(matches!(
            read_single_entry(ArchiveFormat::Zip, &z, None),
            Err(ArchiveError::UnsafePath(_))
        ));
    }

    #[test]
    fn links_and_second_entries_are_refused() {
        let a = tar_gz(&[("codex-x", Symlink, b"")]);
        let err = read_single_entry(ArchiveFormat::TarGz, &a, None).expect_err("symlink");
        insta::assert_snapshot!(err.to_string(), @r#"archive entry "codex-x" is a symlink, not a regular file; refusing to extract"#);
        let a = tar_gz(&[("codex-x", Regular, b"x"), ("evil", Regular, b"y")]);
        assert!(matches!(
            read_single_entry(ArchiveFormat::TarGz, &a, None),
            Err(ArchiveError::ExtraEntry(n)) if n == "evil"
        ));
        let z = zip_of(&[("codex-x.exe", true)]);
        assert!(matches!(
            read_single_entry(ArchiveFormat::Zip, &z, None),
            Err(ArchiveError::NotRegular { .. })
        ));
    }

    #[test]
    fn wrong_name_and_garbage_are_errors() {
        let a = tar_gz(&[("other", Regular, b"x")]);
        assert!(matches!(
            read_single_entry(ArchiveFormat::TarGz, &a, Some("codex-x")),
            Err(ArchiveError::WrongName { .. })
        ));
        assert!(matches!(
            read_single_entry(ArchiveFormat::TarGz, b"not gzip", None),
            Err(ArchiveError::Corrupt { .. })
        ));
        assert!(read_single_entry(ArchiveFormat::Zip, b"PK junk", None).is_err());
    }
}

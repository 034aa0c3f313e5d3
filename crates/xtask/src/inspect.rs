//! Reads just enough of ELF, Mach-O and PE headers to check that a release binary is the right
//! kind of executable for its target, without external tools (`file`, `otool`, `objdump`).

use anyhow::{Context, Result, bail};
use codex_installer::target::{Arch, Os, Target};

use crate::macho;

/// What a binary's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executable {
    /// ELF: machine and whether it needs a dynamic loader or shared libraries.
    Elf {
        /// Architecture from `e_machine`.
        arch: Arch,
        /// No `PT_INTERP` and no `DT_NEEDED`: runs on any Linux, whatever its libc.
        fully_static: bool,
    },
    /// Mach-O (thin, 64-bit).
    MachO {
        /// Architecture from `cputype`.
        arch: Arch,
        /// Has an `LC_CODE_SIGNATURE` (ad hoc at least), which Apple Silicon requires.
        signed: bool,
    },
    /// PE/COFF.
    Pe {
        /// Architecture from the COFF `Machine` field.
        arch: Arch,
    },
}

impl Executable {
    /// The OS family this executable format belongs to.
    pub fn os(&self) -> Os {
        match self {
            Self::Elf { .. } => Os::Linux,
            Self::MachO { .. } => Os::MacOs,
            Self::Pe { .. } => Os::Windows,
        }
    }

    /// The CPU architecture.
    pub fn arch(&self) -> Arch {
        match self {
            Self::Elf { arch, .. } | Self::MachO { arch, .. } | Self::Pe { arch } => *arch,
        }
    }
}

/// Identifies an executable from its bytes.
pub fn identify(bytes: &[u8]) -> Result<Executable> {
    match bytes.get(..4) {
        Some([0x7f, b'E', b'L', b'F']) => elf(bytes),
        Some([0xcf, 0xfa, 0xed, 0xfe]) => {
            let m = macho::parse(bytes)?;
            let arch = match m.cputype {
                macho::CPU_TYPE_X86_64 => Arch::X86_64,
                macho::CPU_TYPE_ARM64 => Arch::Aarch64,
                other => bail!("Mach-O cputype {other:#x} is neither x86_64 nor arm64"),
            };
            Ok(Executable::MachO {
                arch,
                signed: m.code_signature.is_some(),
            })
        }
        Some([b'M', b'Z', ..]) => pe(bytes),
        _ => bail!("not an ELF, Mach-O or PE executable"),
    }
}

/// Checks that `bytes` is an executable that runs on `target`, with the properties the release
/// promises (static on Linux, signed on arm64 macOS).
pub fn check_for_target(bytes: &[u8], target: &Target) -> Result<Executable> {
    let exe = identify(bytes)?;
    if exe.os() != target.os || exe.arch() != target.arch {
        bail!(
            "{} binary is {:?} for {:?}, expected {:?} for {:?}",
            target.triple,
            exe.os(),
            exe.arch(),
            target.os,
            target.arch
        );
    }
    match exe {
        Executable::Elf {
            fully_static: false,
            ..
        } => bail!("{} binary is dynamically linked", target.triple),
        Executable::MachO { signed: false, .. } if target.arch == Arch::Aarch64 => {
            bail!(
                "{} binary has no code signature; Apple Silicon refuses to run it",
                target.triple
            )
        }
        _ => Ok(exe),
    }
}

fn u16le(b: &[u8], at: usize) -> Result<u16> {
    let s = b.get(at..at + 2).context("header truncated")?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], at: usize) -> Result<u32> {
    let s = b.get(at..at + 4).context("header truncated")?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64le(b: &[u8], at: usize) -> Result<u64> {
    let s = b.get(at..at + 8).context("header truncated")?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn elf(b: &[u8]) -> Result<Executable> {
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const DT_NEEDED: u64 = 1;
    if b.get(4) != Some(&2) || b.get(5) != Some(&1) {
        bail!("only 64-bit little-endian ELF is supported");
    }
    let arch = match u16le(b, 18)? {
        62 => Arch::X86_64,
        183 => Arch::Aarch64,
        other => bail!("ELF machine {other} is neither x86_64 nor aarch64"),
    };
    let phoff = usize::try_from(u64le(b, 32)?)?;
    let phentsize = usize::from(u16le(b, 54)?);
    let phnum = usize::from(u16le(b, 56)?);
    let mut fully_static = true;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        match u32le(b, ph)? {
            PT_INTERP => fully_static = false,
            PT_DYNAMIC => {
                let off = usize::try_from(u64le(b, ph + 8)?)?;
                let size = usize::try_from(u64le(b, ph + 32)?)?;
                let mut at = off;
                while at + 16 <= off + size {
                    match u64le(b, at)? {
                        0 => break,
                        DT_NEEDED => fully_static = false,
                        _ => {}
                    }
                    at += 16;
                }
            }
            _ => {}
        }
    }
    Ok(Executable::Elf { arch, fully_static })
}

fn pe(b: &[u8]) -> Result<Executable> {
    let pe = usize::try_from(u32le(b, 0x3c)?)?;
    if b.get(pe..pe + 4) != Some(b"PE\0\0") {
        bail!("MZ file without a PE signature");
    }
    let arch = match u16le(b, pe + 4)? {
        0x8664 => Arch::X86_64,
        0xaa64 => Arch::Aarch64,
        other => bail!("PE machine {other:#x} is neither AMD64 nor ARM64"),
    };
    Ok(Executable::Pe { arch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_test_binary_is_identified_as_host_elf() {
        let exe = std::env::current_exe().expect("current exe");
        let bytes = std::fs::read(exe).expect("read self");
        let id = identify(&bytes).expect("identify");
        let arch = if cfg!(target_arch = "aarch64") {
            Arch::Aarch64
        } else {
            Arch::X86_64
        };
        // Test binaries link glibc dynamically: the static check must notice.
        assert_eq!(
            id,
            Executable::Elf {
                arch,
                fully_static: false
            }
        );
    }

    #[test]
    fn garbage_and_truncated_headers_are_errors_not_panics() {
        assert!(identify(b"hello world").is_err());
        assert!(identify(&[0x7f, b'E', b'L', b'F', 2, 1]).is_err());
        assert!(identify(b"MZ").is_err());
    }
}

//! The version stamp: a fixed-size slot in every binary that holds its release version and commit.
//!
//! A release build compiles the binaries once with [`UNSTAMPED_VERSION`] and [`UNSTAMPED_COMMIT`]
//! in the slot, and `cargo xtask dist` writes the real values into the linked file. The compiled
//! code is therefore the same for every version, so building a second version (or rebuilding at a
//! new commit that changed nothing compiled) relinks nothing. Plain `cargo build` fills the slot at
//! compile time instead, through the same [`encode`].
//!
//! Layout, [`LEN`] bytes: [`MARKER`], one length byte and the version, one length byte and the
//! commit, zeros to the end.

use std::ops::Range;

/// Opens the slot; `dist` finds the slot by it, so it must occur exactly once in a binary.
pub const MARKER: [u8; 16] = *b"\0codex-stamp:v1\0";

/// [`MARKER`] with every bit flipped: all that the code of [`encode`] and [`find`] holds. An
/// unoptimised build keeps a constant such code uses as data, and some linkers (Windows') keep
/// functions nothing calls, which would put a second marker in the binary.
/// (Runtime code must not even take [`MARKER`]`.len()`: unoptimised, that keeps the array.)
const MARKER_FLIPPED: [u8; 16] = flip(MARKER);

/// [`MARKER`]'s length, for the code that runs.
const MARKER_LEN: usize = MARKER.len();

const fn flip(mut bytes: [u8; 16]) -> [u8; 16] {
    let mut i = 0;
    while i < bytes.len() {
        bytes[i] = !bytes[i];
        i += 1;
    }
    bytes
}

/// Size of the slot in bytes.
pub const LEN: usize = 192;

/// Room for version and commit together (each also needs its length byte).
pub const CAPACITY: usize = LEN - MARKER.len() - 2;

/// The version a release build compiles in, before `dist` stamps the real one.
pub const UNSTAMPED_VERSION: &str = "0.0.0-unstamped";

/// The commit a release build compiles in, before `dist` stamps the real one.
pub const UNSTAMPED_COMMIT: &str = "unstamped";

/// Why a stamp could not be made, found or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// Version and commit do not fit in the slot.
    #[error("version and commit take {len} bytes; the version stamp holds at most {CAPACITY}")]
    TooLong {
        /// Bytes needed.
        len: usize,
    },
    /// The binary has no slot: it was not built with codex-build-info.
    #[error("the binary has no version stamp slot (is it a codex binary?)")]
    Missing,
    /// The marker occurs more than once, so the slot is ambiguous.
    #[error("the version stamp marker occurs {count} times in the binary; expected once")]
    Ambiguous {
        /// How many times.
        count: usize,
    },
    /// The slot's contents do not follow the layout.
    #[error("the version stamp slot is malformed")]
    Malformed,
}

/// The slot holding `version` and `commit`. A `const fn` so that the compiled-in slot and the
/// stamp `dist` writes come from the same code.
pub const fn encode(version: &str, commit: &str) -> Result<[u8; LEN], StampError> {
    let v = version.as_bytes();
    let c = commit.as_bytes();
    if v.len() + c.len() > CAPACITY || v.len() > u8::MAX as usize || c.len() > u8::MAX as usize {
        return Err(StampError::TooLong {
            len: v.len() + c.len(),
        });
    }
    let mut out = [0u8; LEN];
    let marker = flip(MARKER_FLIPPED);
    let mut i = 0;
    while i < marker.len() {
        out[i] = marker[i];
        i += 1;
    }
    out[i] = v.len() as u8;
    i += 1;
    let mut j = 0;
    while j < v.len() {
        out[i] = v[j];
        i += 1;
        j += 1;
    }
    out[i] = c.len() as u8;
    i += 1;
    j = 0;
    while j < c.len() {
        out[i] = c[j];
        i += 1;
        j += 1;
    }
    Ok(out)
}

/// Version and commit from a slot. The marker is skipped, not compared: the running binary
/// decodes its own slot, and comparing would put a second copy of the marker into it.
pub fn decode(slot: &[u8]) -> Result<(&str, &str), StampError> {
    let body = slot.get(MARKER_LEN..LEN).ok_or(StampError::Malformed)?;
    let (version, rest) = field(body)?;
    let (commit, rest) = field(rest)?;
    if rest.iter().any(|&b| b != 0) {
        return Err(StampError::Malformed);
    }
    Ok((version, commit))
}

fn field(bytes: &[u8]) -> Result<(&str, &[u8]), StampError> {
    let (&len, rest) = bytes.split_first().ok_or(StampError::Malformed)?;
    let len = usize::from(len);
    let text = rest.get(..len).ok_or(StampError::Malformed)?;
    let text = std::str::from_utf8(text).map_err(|_| StampError::Malformed)?;
    Ok((text, &rest[len..]))
}

/// Where the slot is in a binary's bytes.
pub fn find(binary: &[u8]) -> Result<Range<usize>, StampError> {
    let marker = flip(std::hint::black_box(MARKER_FLIPPED));
    let mut hits = binary
        .windows(MARKER_LEN)
        .enumerate()
        .filter(|(_, w)| *w == marker)
        .map(|(i, _)| i);
    let start = hits.next().ok_or(StampError::Missing)?;
    let extra = hits.count();
    if extra > 0 {
        return Err(StampError::Ambiguous { count: extra + 1 });
    }
    let range = start..start + LEN;
    if range.end > binary.len() {
        return Err(StampError::Malformed);
    }
    Ok(range)
}

/// Version and commit stamped in a binary's bytes.
pub fn read(binary: &[u8]) -> Result<(&str, &str), StampError> {
    decode(&binary[find(binary)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_stamps_decode_to_what_was_encoded() {
        let slot = encode("1.2.3-rc.1+build.5", "0123456789abcdef").expect("fits");
        assert_eq!(
            decode(&slot),
            Ok(("1.2.3-rc.1+build.5", "0123456789abcdef"))
        );
        assert_eq!(decode(&encode("", "").expect("fits")), Ok(("", "")));
    }

    #[test]
    fn a_stamp_is_found_once_in_a_binary_and_rewritten_in_place() {
        let mut binary = b"header".to_vec();
        binary.extend(encode(UNSTAMPED_VERSION, UNSTAMPED_COMMIT).expect("fits"));
        binary.extend(b"trailer");
        let at = find(&binary).expect("found");
        assert_eq!(at, 6..6 + LEN);
        assert_eq!(read(&binary), Ok((UNSTAMPED_VERSION, UNSTAMPED_COMMIT)));
        binary[at].copy_from_slice(&encode("2.0.0", "abc").expect("fits"));
        assert_eq!(read(&binary), Ok(("2.0.0", "abc")));
        assert!(binary.ends_with(b"trailer"));
    }

    #[test]
    fn missing_doubled_and_truncated_slots_are_errors() {
        assert_eq!(find(b"no stamp here"), Err(StampError::Missing));
        let slot = encode("1.0.0", "c").expect("fits");
        assert_eq!(
            find(&[slot, slot].concat()),
            Err(StampError::Ambiguous { count: 2 })
        );
        assert_eq!(find(&slot[..LEN - 1]), Err(StampError::Malformed));
    }

    #[test]
    fn malformed_slots_are_errors_not_panics() {
        let mut slot = encode("1.0.0", "c").expect("fits");
        slot[MARKER.len()] = 200;
        assert_eq!(decode(&slot), Err(StampError::Malformed));
        let mut slot = encode("1.0.0", "c").expect("fits");
        slot[LEN - 1] = 1;
        assert_eq!(decode(&slot), Err(StampError::Malformed));
        let mut slot = encode("1.0.0", "c").expect("fits");
        slot[MARKER.len() + 1] = 0xff;
        assert_eq!(decode(&slot), Err(StampError::Malformed));
        assert_eq!(decode(&slot[..10]), Err(StampError::Malformed));
    }

    #[test]
    fn stamps_that_do_not_fit_are_refused() {
        let long = "9".repeat(CAPACITY);
        assert_eq!(
            encode(&long, "c"),
            Err(StampError::TooLong { len: CAPACITY + 1 })
        );
        assert!(encode(&long, "").is_ok());
    }
}

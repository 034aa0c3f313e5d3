//! Output and stdin bytes travel as base64 strings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as a base64 string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Chunk(pub Vec<u8>);

impl Chunk {
    /// The encoded length of `n` bytes, so a sender can budget before encoding.
    pub const fn encoded_len(n: usize) -> usize {
        n.div_ceil(3) * 4
    }

    /// Encodes `bytes` as base64 into `out`.
    pub fn encode_into(bytes: &[u8], out: &mut String) {
        STANDARD.encode_string(bytes, out);
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Chunk {
    fn from(v: Vec<u8>) -> Self {
        Chunk(v)
    }
}

impl From<&[u8]> for Chunk {
    fn from(v: &[u8]) -> Self {
        Chunk(v.to_vec())
    }
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chunk({:?})", String::from_utf8_lossy(&self.0))
    }
}

impl Serialize for Chunk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map(Chunk)
            .map_err(|e| serde::de::Error::custom(format!("chunk is not base64: {e}")))
    }
}

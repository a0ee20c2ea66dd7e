//! [`Encoding`]: how a chunk's bytes are encoded, and [`ChunkError`]: why a
//! chunk cannot be decoded.

/// How a chunk's bytes are encoded. Stored as one byte beside every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// Prometheus's XOR float encoding (Prometheus also numbers it 1).
    Xor = 1,
    /// Timestamps and values as integers (values as exact decimals or IEEE bit
    /// patterns), predicted from earlier samples, the errors Rice coded. Written
    /// only by [`encode`](super::encode), for chunks whose samples are all known.
    Delta = 2,
}

impl Encoding {
    /// The encoding's name in reports (`tidemark tsdb analyze`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Xor => "xor",
            Encoding::Delta => "delta",
        }
    }
}

impl From<Encoding> for u8 {
    fn from(e: Encoding) -> u8 {
        e as u8
    }
}

impl TryFrom<u8> for Encoding {
    type Error = ChunkError;

    fn try_from(b: u8) -> Result<Self, ChunkError> {
        match b {
            1 => Ok(Encoding::Xor),
            2 => Ok(Encoding::Delta),
            other => Err(ChunkError::UnknownEncoding(other)),
        }
    }
}

/// A chunk that cannot be decoded. Offsets are byte offsets from the start of the
/// chunk (its 2-byte header included); sample indexes count from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("unknown chunk encoding {0}")]
    UnknownEncoding(u8),
    #[error("chunk of {len} bytes is too short for its 2-byte header")]
    BadHeader { len: usize },
    #[error(
        "chunk truncated: sample {sample} (from byte {offset}) runs past the end of the {len}-byte chunk"
    )]
    Truncated {
        sample: u16,
        offset: usize,
        len: usize,
    },
    #[error("malformed varint timestamp in sample {sample} at byte {offset}")]
    BadVarint { sample: u16, offset: usize },
    #[error(
        "bad value window in sample {sample} (from byte {offset}): {leading} leading zeros and {sigbits} significant bits exceed 64"
    )]
    BadValueWindow {
        sample: u16,
        offset: usize,
        leading: u8,
        sigbits: u8,
    },
    /// A field of a chunk header (after the sample count) that is cut short or out
    /// of range.
    #[error("bad chunk header: {field} at byte {offset}: {problem}")]
    BadField {
        field: &'static str,
        offset: usize,
        problem: &'static str,
    },
    #[error("chunk has {len} bytes but its {samples} samples end at byte {end}")]
    TrailingBytes {
        samples: u16,
        end: usize,
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_byte_roundtrips_and_rejects_unknown() {
        assert_eq!(u8::from(Encoding::Xor), 1);
        assert_eq!(Encoding::try_from(1), Ok(Encoding::Xor));
        assert_eq!(u8::from(Encoding::Delta), 2);
        assert_eq!(Encoding::try_from(2), Ok(Encoding::Delta));
        assert_eq!(Encoding::try_from(0), Err(ChunkError::UnknownEncoding(0)));
        assert_eq!(
            Encoding::try_from(0xff),
            Err(ChunkError::UnknownEncoding(0xff))
        );
    }
}

//! Chunks: compressed runs of samples of one series.
//!
//! A chunk holds up to a few hundred `(t, v)` samples of a single series, in time
//! order, compressed. The head appends to one open chunk per series and cuts it at
//! about 120 samples or at a 2h-aligned boundary, whichever comes first; blocks
//! store closed chunks. Every stored chunk is tagged with an [`Encoding`] byte, so
//! a chunk written today stays readable when other encodings are added.
//!
//! The main types:
//!
//! - [`XorAppender`] builds a chunk in Prometheus's XOR layout ([`Encoding::Xor`]):
//!   timestamps as delta-of-delta, values XORed with the previous one. The bytes
//!   are identical to what Prometheus writes for the same samples.
//! - [`XorIter`] decodes such a chunk from any byte container (`Vec<u8>`, `&[u8]`,
//!   an mmap'd slice, `Arc<[u8]>`), can be reset onto another chunk without
//!   allocating, and reports a malformed chunk through [`XorIter::err`] instead of
//!   panicking.
//!
//! ```
//! use tidemark::tsdb::chunk::{XorAppender, XorIter};
//!
//! let mut app = XorAppender::new();
//! for i in 0..120 {
//!     app.append(1_700_000_000_000 + i * 15_000, i as f64);
//! }
//! let mut it = XorIter::new(app.bytes());
//! assert_eq!(it.seek(1_700_000_000_000 + 60_000), Some((1_700_000_000_000 + 60_000, 4.0)));
//! assert_eq!(it.count(), 115);
//! ```
//!
//! - [`encode`] writes a run of known samples in whichever encoding is smallest
//!   for them, and [`ChunkIter`] reads a chunk of any encoding; blocks use these,
//!   with chunks of [`BLOCK_CHUNK_SAMPLES`]. Besides XOR, `encode` writes
//!   [`Encoding::Delta`]: timestamps predicted from a line through the first
//!   one (or delta-of-delta), values as exact decimals (`v = m / 10^scale`) or
//!   IEEE bit patterns, predicted from the previous ones, and the residuals
//!   Rice coded with per-chunk parameters. On scraped data it takes 40–45 % of
//!   XOR's bytes and decodes about as fast. It needs all samples up front, so
//!   the head's open chunks stay XOR.
//!
//! ```
//! use tidemark::tsdb::chunk::{ChunkIter, Encoding, encode};
//!
//! let samples: Vec<(i64, f64)> =
//!     (0..240).map(|i| (1_700_000_000_000 + i * 15_000, (i * 7 % 13) as f64 / 100.0)).collect();
//! let mut bytes = Vec::new();
//! let encoding = encode(&samples, &mut bytes);
//! assert_eq!(encoding, Encoding::Delta);
//! assert!(bytes.len() < 240); // under a byte a sample
//! assert!(ChunkIter::new(encoding, bytes.as_slice()).eq(samples));
//! ```
//!
//! The bit layouts are specified in `docs/format/chunks.md`.

mod any;
mod bstream;
mod delta;
#[cfg(test)]
mod om_sizes;
mod xor;

pub use any::{ChunkIter, encode, num_samples};
pub use xor::{XorAppender, XorIter};

/// How many samples a chunk written in one go (by [`encode`]: block writing,
/// import, compaction) should hold, at most.
///
/// Bigger chunks spread the delta encoding's per-chunk header over more samples
/// but make a seek decode more. On the 2h OpenMetrics benchmark file
/// (`docs/benchmarks.md`, "Chunk encodings") 120, 240 and 480 samples take 1.69,
/// 1.60 and 1.56 bytes per sample: doubling from 240 saves 3 % of the bytes and
/// doubles the samples a seek may decode (a whole 2h block of a 15 s series), so
/// 240 (an hour at 15 s, about 2.5 µs to decode in full).
pub const BLOCK_CHUNK_SAMPLES: usize = 240;

/// How a chunk's bytes are encoded. Stored as one byte beside every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// Prometheus's XOR float encoding (Prometheus also numbers it 1).
    Xor = 1,
    /// Timestamps and values as integers (values as exact decimals or IEEE bit
    /// patterns), predicted from earlier samples, the errors Rice coded. Written
    /// only by [`encode`], for chunks whose samples are all known.
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

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
mod encoding;
#[cfg(test)]
mod om_sizes;
mod xor;

pub use any::{BLOCK_CHUNK_SAMPLES, ChunkIter, encode, num_samples};
pub use encoding::{ChunkError, Encoding};
pub use xor::{XorAppender, XorIter};

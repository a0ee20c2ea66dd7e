//! Chunks of any encoding: [`encode`] picks the encoding for a run of samples,
//! [`ChunkIter`] decodes whatever encoding a stored chunk has.
//!
//! The head appends to XOR chunks (they take one sample at a time); blocks hold
//! chunks written in one go from known samples, so the writer of a block can
//! choose, per chunk, the encoding that stores those samples in the fewest bytes.

use super::delta::{self, DeltaIter};
use super::encoding::{ChunkError, Encoding};
use super::xor::{XorAppender, XorIter};

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

/// Encodes `samples` (timestamps strictly increasing, at most 65,535 of them) into
/// `out` (cleared first), in the encoding that takes the fewest bytes, and returns
/// that encoding.
///
/// Both encodings are written and the smaller kept: on scraped data the delta
/// encoding nearly always wins, but XOR stays smaller for a handful of samples
/// (the delta headers cost a few bytes more).
pub fn encode(samples: &[(i64, f64)], out: &mut Vec<u8>) -> Encoding {
    delta::encode(samples, out);
    let mut app = XorAppender::with_buffer(Vec::with_capacity(out.len()));
    for &(t, v) in samples {
        app.append(t, v);
        if app.bytes().len() >= out.len() {
            return Encoding::Delta;
        }
    }
    *out = app.into_bytes();
    Encoding::Xor
}

/// The number of samples a chunk of encoding `encoding` holds, read from its
/// header without decoding the samples.
pub fn num_samples(encoding: Encoding, bytes: &[u8]) -> Result<u16, ChunkError> {
    let (n, err) = match encoding {
        Encoding::Xor => {
            let it = XorIter::new(bytes);
            (it.num_samples(), it.err().cloned())
        }
        Encoding::Delta => {
            let it = DeltaIter::new(bytes);
            (it.num_samples(), it.err().cloned())
        }
    };
    match err {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// Iterates over the samples of a chunk of any encoding. Like [`XorIter`], it
/// never panics on malformed bytes: iteration stops and [`err`](Self::err) says
/// why.
#[derive(Debug, Clone)]
pub struct ChunkIter<B: AsRef<[u8]>> {
    inner: Inner<B>,
}

#[derive(Debug, Clone)]
enum Inner<B: AsRef<[u8]>> {
    Xor(XorIter<B>),
    Delta(DeltaIter<B>),
}

impl<B: AsRef<[u8]>> ChunkIter<B> {
    /// An iterator over the chunk `bytes` of encoding `encoding`, positioned before
    /// its first sample.
    pub fn new(encoding: Encoding, bytes: B) -> Self {
        let inner = match encoding {
            Encoding::Xor => Inner::Xor(XorIter::new(bytes)),
            Encoding::Delta => Inner::Delta(DeltaIter::new(bytes)),
        };
        ChunkIter { inner }
    }

    /// Number of samples the chunk holds.
    pub fn num_samples(&self) -> u16 {
        match &self.inner {
            Inner::Xor(it) => it.num_samples(),
            Inner::Delta(it) => it.num_samples(),
        }
    }

    /// Advances to the first sample with timestamp `>= t` and returns it; never
    /// moves backwards (see [`XorIter::seek`]).
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        match &mut self.inner {
            Inner::Xor(it) => it.seek(t),
            Inner::Delta(it) => it.seek(t),
        }
    }

    /// Appends the remaining samples to `out`. The encoding is matched once for
    /// the chunk rather than once per sample, so the decoding loop is the
    /// encoding's own. Stops early on a malformed chunk; [`err`](Self::err) then
    /// says why.
    pub fn read_all(&mut self, out: &mut Vec<(i64, f64)>) {
        match &mut self.inner {
            Inner::Xor(it) => out.extend(it.by_ref()),
            Inner::Delta(it) => it.read_all(out),
        }
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<&ChunkError> {
        match &self.inner {
            Inner::Xor(it) => it.err(),
            Inner::Delta(it) => it.err(),
        }
    }
}

impl<B: AsRef<[u8]>> Iterator for ChunkIter<B> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        match &mut self.inner {
            Inner::Xor(it) => it.next(),
            Inner::Delta(it) => it.next(),
        }
    }
}

impl<B: AsRef<[u8]>> std::iter::FusedIterator for ChunkIter<B> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_iterate_round_trips() {
        let samples: Vec<(i64, f64)> = (0..300).map(|i| (i * 15_000, (i % 7) as f64)).collect();
        let mut buf = Vec::new();
        let enc = encode(&samples, &mut buf);
        assert_eq!(num_samples(enc, &buf), Ok(300));
        let it = ChunkIter::new(enc, buf.as_slice());
        assert_eq!(it.collect::<Vec<_>>(), samples);
        let mut it = ChunkIter::new(enc, buf.as_slice());
        assert_eq!(it.seek(15_001), Some((30_000, 2.0)));
        let mut rest = Vec::new();
        it.read_all(&mut rest);
        assert_eq!(rest, samples[3..]);
    }

    #[test]
    fn read_all_equals_iterating_in_every_encoding() {
        let counter: Vec<(i64, f64)> = (0..240)
            .map(|i| (i * 15_000 + i % 3, (i * 5) as f64))
            .collect();
        let noisy: Vec<(i64, f64)> = (0..7).map(|i| (i * 1000, (i as f64).sin())).collect();
        for samples in [counter, noisy] {
            let mut buf = Vec::new();
            let enc = encode(&samples, &mut buf);
            for skip in [0, 1, 2, 5] {
                let mut it = ChunkIter::new(enc, buf.as_slice());
                let mut got: Vec<(i64, f64)> = it.by_ref().take(skip).collect();
                it.read_all(&mut got);
                assert_eq!(got, samples, "{enc:?} after {skip}");
                assert!(it.err().is_none());
            }
        }
    }

    #[test]
    fn damaged_chunk_reports_instead_of_panicking() {
        assert!(num_samples(Encoding::Xor, &[1]).is_err());
        let mut it = ChunkIter::new(Encoding::Xor, [0u8, 5, 0xff].as_slice());
        assert_eq!(it.by_ref().count(), 0);
        assert!(it.err().is_some());
        let samples: Vec<(i64, f64)> = (0..100).map(|i| (i * 15_000, i as f64)).collect();
        let mut buf = Vec::new();
        let enc = encode(&samples, &mut buf);
        buf.truncate(buf.len() / 2);
        let mut got = Vec::new();
        ChunkIter::new(enc, buf.as_slice()).read_all(&mut got);
        let mut it = ChunkIter::new(enc, buf.as_slice());
        let mut read = Vec::new();
        it.read_all(&mut read);
        assert!(it.err().is_some());
        assert_eq!(
            read,
            ChunkIter::new(enc, buf.as_slice()).collect::<Vec<_>>()
        );
    }
}

//! The delta chunk encoding ([`Encoding::Delta`](super::Encoding::Delta)): a chunk
//! written in one go from known samples, with timestamps and values each turned
//! into a sequence of integers, predicted, and the prediction errors Rice coded.
//!
//! ```text
//! chunk  = count:u16 (big endian) · t stream header · scale:u8 · v stream header · bits
//! stream = mode:u8 (order | zigzag << 2) · k:u8 · first:varint · [param:varint]
//!          · gcd:uvarint · base:varint
//! bits   = for each sample from the second: t code (if coded) · v code (if coded)
//! code   = q ones · 0 · k low bits of u            (q = u >> k < 16)
//!        | 16 ones · u in 64 bits                   (escape)
//! ```
//!
//! Why it beats XOR on scraped data:
//!
//! - Timestamps sit on a regular grid plus a few milliseconds of jitter. Order 0
//!   predicts `first + i · slope` (a line), so each sample costs about one bit per
//!   millisecond of jitter, where XOR's delta-of-delta pays 16 bits whenever two
//!   neighbouring jitters differ.
//! - Values that are exact decimals (integer counters, 1/100 s ticks, 2-decimal
//!   gauges) become integers `m` with `v = m / 10^scale`; their deltas are small
//!   integers, and a common factor (4096 for page-sized byte gauges) is divided
//!   out. Values that are not become their IEEE bit patterns, whose deltas count
//!   units in the last place: for a full-precision float counter that is the
//!   information the increment really carries, without XOR's carry noise and
//!   window bookkeeping.
//! - Rice coding with a per-chunk parameter `k` is within a fraction of a bit of
//!   the entropy of the geometric-like residuals counters and gauges produce; rare
//!   outliers (counter resets, stale markers) escape to 64 raw bits.
//!
//! The encoder tries a few predictions per stream (orders, bases) and keeps the
//! cheapest, computing sizes without writing. See `docs/format/chunks.md` for the
//! byte layout.
//!
//! The parts: [`predict`] turns a sequence into residuals under a prediction
//! order and holds a stream's header ([`Stream`](predict::Stream)); [`values`]
//! turns values into integers (a decimal scale, or the bit patterns); [`rice`]
//! codes residuals and estimates their size; [`encode`](mod@encode) plans each
//! stream and writes the chunk; [`iter`] reads it back.

mod encode;
mod iter;
mod predict;
mod rice;
mod values;

pub(crate) use encode::encode;
pub(crate) use iter::DeltaIter;

#[cfg(test)]
mod tests;

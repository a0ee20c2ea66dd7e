//! Samples and the staleness marker.

/// Bit pattern of the NaN that marks a series as stale (it disappeared from its
/// target, or its target disappeared). It is the same value Prometheus writes, so
/// data exchanged with Prometheus keeps its meaning. Any other NaN is an ordinary
/// value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (compares bits: an ordinary NaN is not).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// Bit pattern of the NaN a parsed `NaN` value becomes: Prometheus's "normal NaN",
/// kept distinct from [`STALE_NAN_BITS`] so that an exporter reporting `NaN` never
/// marks its series stale, and equal to what Prometheus stores for the same input.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// One sample: a timestamp in milliseconds since the Unix epoch and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: i64,
    pub v: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_distinguished_from_ordinary_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(stale_nan().is_nan());
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(0.0));
    }
}

//! How to import: the options and the window length they give.

/// The shortest window, and the default: 2h in milliseconds.
pub const DEFAULT_BLOCK_DURATION: i64 = 2 * 3_600_000;
/// Bytes read and parsed at a time by default ([`ImportOptions::piece_bytes`]).
pub const DEFAULT_PIECE_BYTES: usize = 8 << 20;

/// How to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The longest a block may span, in milliseconds (promtool's
    /// `--max-block-duration`); the window used is [`block_duration`] of it.
    pub max_block_duration: i64,
    /// Stop at the first bad line, writing no block.
    pub strict: bool,
    /// Bytes of input read and parsed at a time (a longer line grows the buffer):
    /// the input's share of the memory.
    pub piece_bytes: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_block_duration: DEFAULT_BLOCK_DURATION,
            strict: false,
            piece_bytes: DEFAULT_PIECE_BYTES,
        }
    }
}

/// The window length for a maximum block duration, as promtool picks it: the
/// largest of 2h, 6h, 18h, … (2h × 3^k, k < 10) not above `max_block_duration`,
/// and 2h when that is less than 2h.
pub fn block_duration(max_block_duration: i64) -> i64 {
    let mut d = DEFAULT_BLOCK_DURATION;
    for _ in 1..10 {
        if d * 3 > max_block_duration {
            break;
        }
        d *= 3;
    }
    d
}

//! The head: the in-memory, appendable part of the database.
//!
//! The head holds every series that received samples since the data directory was
//! opened (or since the WAL's oldest record): a lock-striped series map
//! ([`stripe`]), an inverted index for matcher selection ([`postings`]), and per
//! series one open XOR chunk in memory plus references to its full chunks, which
//! are moved to a spill file ([`spill`]) as soon as they are cut.
//!
//! Writes go through an [`Appender`]: samples are checked against the series
//! (out-of-order and duplicate timestamps are refused at `append`), buffered, and
//! on `commit` written to the WAL first and then applied to the chunks. Replaying
//! the WAL applies the same records through the same path.

mod appender;
mod batch;
mod postings;
mod ref_list;
mod replay;
mod series;
mod spill;
mod state;
mod stripe;
mod symbols;
mod truncate;

pub use appender::{AppendError, Appender};
pub(crate) use replay::Replay;
pub(crate) use series::ChunkLimits;
pub use spill::SpillError;
pub(crate) use spill::{ChunkSpill, SpillLoc};
pub use state::DeleteError;
pub(crate) use state::{ChunkSource, Head, HeadSeries};

//! Backfill: turning an OpenMetrics text file of timestamped samples into blocks,
//! the job of `promtool tsdb create-blocks-from openmetrics`. It sits on top of
//! [`crate::exposition`] and [`crate::tsdb`], so the storage core does not depend on
//! the parser.
//!
//! [`import_openmetrics`] reads a file (or [`import_openmetrics_from`] any
//! reader) in large pieces, parses it with the crate's OpenMetrics parser
//! ([`crate::exposition`]), and writes one block per aligned time window through a
//! [`BlockBuilder`](crate::tsdb::block::BlockBuilder) per window, opened when the
//! window's first chunk is ready. Two threads parse alternate pieces (each starting
//! with the last `# TYPE` line before it, so a piece reads as it would in one
//! pass); the calling thread reads the input and stores what they parsed in input
//! order, so the result does not depend on timing.
//!
//! Memory does not grow with the file's length at a given time span: it holds a
//! few pieces of input ([`ImportOptions::piece_bytes`], 8 MiB, up to five at a
//! time), per series its label set and one partial chunk (at most
//! [`BLOCK_CHUNK_SAMPLES`](crate::tsdb::chunk::BLOCK_CHUNK_SAMPLES) samples: a
//! series' partial chunks of earlier windows are written out when its samples move
//! to a later window), and the builders' chunk references. A chunk is encoded
//! ([`chunk::encode`](crate::tsdb::chunk::encode)) and written out as soon as it is
//! full; chunks never span a window. What does grow with the time span is small
//! per window: an open builder per window (its 1 MiB write buffer and 24 bytes per
//! chunk) and 64 bytes per series and window it has data in, since a series may
//! come back to any window later in the file.
//!
//! What is stored, following promtool:
//!
//! - every sample line, `_created` series included (promtool's parser hands them
//!   over as ordinary series); exemplars and `# HELP`/`# TYPE`/`# UNIT` are not
//!   stored. `le` and `quantile` values are normalised as floats (`le="1"` is
//!   `le="1.0"`), as Prometheus 3's parser does.
//! - Windows are `2h × 3^k`, the largest not above
//!   [`ImportOptions::max_block_duration`] (at least 2h: [`block_duration`]),
//!   aligned to multiples of that length since the epoch. A block's
//!   `minTime`/`maxTime` are its window (promtool writes the range of the data;
//!   aligned ranges are what blocks cut from the head have, so compaction treats
//!   both alike).
//!
//! Where promtool stops the whole import, tidemark reports a [`BadLine`] with its
//! line number, skips the line and goes on, unless [`ImportOptions::strict`]:
//!
//! - a line that does not parse, and a missing `# EOF` at the end;
//! - a sample without a timestamp (promtool: "expected timestamp for series");
//! - a label set that is not valid (a label name twice);
//! - a sample at or before the last one of its series in the same window with a
//!   different value (promtool's head refuses it: "out of order sample",
//!   "duplicate sample for timestamp"). A series may reappear later in the file:
//!   its samples land in the same series, so what counts is the order of the
//!   series' own samples, window by window.
//!
//! A sample repeating its series' last one exactly (same timestamp, same value
//! bits) is dropped silently and counted in [`ImportReport::duplicates`], as
//! Prometheus's head drops it.
//!
//! The work is split as the data flows: `pieces` cuts the input into pieces of
//! whole lines, `parse` turns a piece into samples grouped by label set (on the
//! parser threads), `store` takes the parsed pieces in input order (series lookup,
//! bad lines, `# EOF`), and `sink` keeps each series' partial chunks and writes
//! them into a block builder per window. `options` and `report` hold the public
//! types.

mod options;
mod parse;
mod pieces;
mod report;
mod sink;
mod store;

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

pub use options::{DEFAULT_BLOCK_DURATION, DEFAULT_PIECE_BYTES, ImportOptions, block_duration};
pub use report::{BadLine, ImportError, ImportObserver, ImportReport};

use parse::{Batch, parse_piece};
use pieces::{Piece, Pieces};
use sink::Sink;
use store::Store;

/// Parser threads.
const PARSERS: usize = 2;
/// Pieces each parser may have queued or parsed but not yet stored.
const IN_FLIGHT_PER_PARSER: usize = 2;

/// Imports the OpenMetrics file `file` into blocks under `data_dir` (created if
/// missing). See the module docs for what is stored and what is skipped.
pub fn import_openmetrics(
    file: &Path,
    data_dir: &Path,
    options: &ImportOptions,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, ImportError> {
    let input = file.display().to_string();
    let f = File::open(file).map_err(|source| ImportError::Read {
        input: input.clone(),
        offset: 0,
        source,
    })?;
    import_openmetrics_from(f, &input, data_dir, options, observer)
}

/// [`import_openmetrics`] from any reader; `input` names it in errors.
///
/// Two threads parse alternate pieces of the input while the calling thread
/// reads the next pieces and stores the parsed samples in file order, so
/// results do not depend on the threads' timing.
pub fn import_openmetrics_from<R: Read>(
    reader: R,
    input: &str,
    data_dir: &Path,
    options: &ImportOptions,
    observer: &mut dyn ImportObserver,
) -> Result<ImportReport, ImportError> {
    fs::create_dir_all(data_dir).map_err(|source| ImportError::DataDir {
        dir: data_dir.to_owned(),
        source,
    })?;
    let sink = Sink::new(data_dir, block_duration(options.max_block_duration));
    let mut store = Store::new(input, options.strict, sink, observer);
    let mut pieces = Pieces::new(reader, input, options.piece_bytes.max(1));
    std::thread::scope(|scope| -> Result<(), ImportError> {
        let mut jobs = Vec::with_capacity(PARSERS);
        let mut results = Vec::with_capacity(PARSERS);
        for _ in 0..PARSERS {
            // Room for every piece a parser can have in flight, so neither side
            // ever blocks on a full channel while the other waits for it.
            let (job_tx, job_rx) = mpsc::sync_channel::<Piece>(IN_FLIGHT_PER_PARSER);
            let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT_PER_PARSER);
            scope.spawn(move || {
                for piece in job_rx {
                    if batch_tx.send(parse_piece(piece)).is_err() {
                        break;
                    }
                }
            });
            jobs.push(job_tx);
            results.push(batch_rx);
        }
        let mut free: Vec<Vec<u8>> = Vec::new();
        let (mut sent, mut stored) = (0usize, 0usize);
        loop {
            while !pieces.done && sent - stored < PARSERS * IN_FLIGHT_PER_PARSER {
                let buf = free.pop().unwrap_or_default();
                let piece = pieces.next(buf)?;
                if jobs[sent % PARSERS].send(piece).is_err() {
                    break;
                }
                sent += 1;
            }
            if stored == sent {
                break;
            }
            let Ok(batch) = results[stored % PARSERS].recv() else {
                break;
            };
            stored += 1;
            free.push(store.batch(batch)?);
        }
        // Dropping the senders ends the parsers' loops.
        drop(jobs);
        Ok(())
    })?;
    store.finish()
}

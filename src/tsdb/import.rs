//! Backfill: turning an OpenMetrics text file of timestamped samples into blocks,
//! the job of `promtool tsdb create-blocks-from openmetrics`.
//!
//! [`import_openmetrics`] reads a file (or [`import_openmetrics_from`] any
//! reader) in large pieces, parses it with the crate's OpenMetrics parser
//! ([`crate::exposition`]), and writes one block per aligned time window through a
//! [`BlockBuilder`] per window, opened when the window's first chunk is ready.
//! Two threads parse alternate pieces (each starting with the last `# TYPE` line
//! before it, so a piece reads as it would in one pass); the calling thread reads
//! the input and stores what they parsed in input order, so the result does not
//! depend on timing.
//!
//! Memory does not grow with the file's length at a given time span: it holds a
//! few pieces of input ([`ImportOptions::piece_bytes`], 8 MiB, up to five at a
//! time), per series its label set and one partial chunk (at most
//! [`chunk::BLOCK_CHUNK_SAMPLES`] samples: a series' partial chunks of earlier
//! windows are written out when its samples move to a later window), and the
//! builders' chunk references. A chunk is encoded ([`chunk::encode`]) and written
//! out as soon as it is full; chunks never span a window. What does grow with the
//! time span is small per window: an open builder per window (its 1 MiB write
//! buffer and 24 bytes per chunk) and 64 bytes per series and window it has data
//! in, since a series may come back to any window later in the file.
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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::exposition::{Entry, Format, Mode, ParseError, ParseState, Parser, Sample};
use crate::model::{Labels, METRIC_NAME};
use crate::tsdb::block::{BlockBuilder, BlockError, BlockMeta, BuilderSeries};
use crate::tsdb::chunk;

/// The shortest window, and the default: 2h in milliseconds.
pub const DEFAULT_BLOCK_DURATION: i64 = 2 * 3_600_000;
/// Bytes read and parsed at a time by default ([`ImportOptions::piece_bytes`]).
pub const DEFAULT_PIECE_BYTES: usize = 8 << 20;
/// Growth step of a partial chunk's sample buffer, in samples: keeps the unused
/// room of every series' buffer small without reallocating per sample.
const PARTIAL_STEP: usize = 16;

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

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// From 1.
    pub line: usize,
    /// From 1, in characters; for parse errors only.
    pub column: Option<usize>,
    pub problem: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

impl From<&ParseError> for BadLine {
    fn from(e: &ParseError) -> BadLine {
        BadLine {
            line: e.line,
            column: Some(e.column),
            problem: format!("found {}, expected {}", e.found, e.expected),
        }
    }
}

/// What an import reports while it runs. Every method has an empty default.
pub trait ImportObserver {
    /// `bytes` of the input have been parsed (called once per piece).
    fn progress(&mut self, _bytes: u64) {}
    /// A line was skipped.
    fn bad_line(&mut self, _bad: &BadLine) {}
    /// A block is complete, in its final place.
    fn block_written(&mut self, _meta: &BlockMeta) {}
}

/// Observes nothing.
impl ImportObserver for () {}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The blocks written, in time order.
    pub blocks: Vec<BlockMeta>,
    /// Samples stored.
    pub samples: u64,
    /// Exact repeats of a series' last sample, dropped.
    pub duplicates: u64,
    /// Lines skipped (each reported through [`ImportObserver::bad_line`]).
    pub bad_lines: u64,
    /// Lines read.
    pub lines: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// Why an import stopped. Blocks already complete stay; partial ones are removed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("read {input} at byte offset {offset}: {source}")]
    Read {
        input: String,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("create the data directory {}: {source}", dir.display())]
    DataDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{input}: {bad} (stopped at the first bad line)")]
    Strict { input: String, bad: BadLine },
    #[error(transparent)]
    Block(#[from] BlockError),
}

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
    let mut store = Store {
        input,
        strict: options.strict,
        sink: Sink::new(data_dir, block_duration(options.max_block_duration)),
        report: ImportReport::default(),
        observer,
        prev: PrevSeries::default(),
        next_line: 1,
        eof_seen: false,
    };
    let mut pieces = Pieces {
        reader,
        input,
        piece_bytes: options.piece_bytes.max(1),
        tail: Vec::new(),
        type_line: Vec::new(),
        offset: 0,
        done: false,
    };
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
    store.end()?;
    let Store {
        sink,
        mut report,
        observer,
        ..
    } = store;
    let (blocks, samples, duplicates) = sink.finish(observer)?;
    report.blocks = blocks;
    report.samples = samples;
    report.duplicates = duplicates;
    Ok(report)
}

/// Parser threads.
const PARSERS: usize = 2;
/// Pieces each parser may have queued or parsed but not yet stored.
const IN_FLIGHT_PER_PARSER: usize = 2;

/// A piece of input for a parser: the last `# TYPE` line before it (so that
/// `le` and `quantile` values read as they would in one pass), then whole lines.
struct Piece {
    buf: Vec<u8>,
    /// Bytes of `buf` that are the repeated `# TYPE` line (0 if none yet).
    prefix: usize,
}

/// Cuts the input into pieces of whole lines.
struct Pieces<'a, R> {
    reader: R,
    input: &'a str,
    piece_bytes: usize,
    /// Bytes read after the last newline of the previous piece.
    tail: Vec<u8>,
    /// The last `# TYPE` line so far, with its newline.
    type_line: Vec<u8>,
    /// Bytes of input read so far.
    offset: u64,
    done: bool,
}

impl<R: Read> Pieces<'_, R> {
    /// The next piece, in `buf` (a recycled buffer). At the end of the input the
    /// piece holds the rest, which may not end with a newline.
    fn next(&mut self, mut buf: Vec<u8>) -> Result<Piece, ImportError> {
        buf.clear();
        buf.extend_from_slice(&self.type_line);
        let prefix = buf.len();
        buf.append(&mut self.tail);
        let mut want = prefix + self.piece_bytes;
        loop {
            if buf.len() < want {
                // `read_to_end` through `take` reads into the spare capacity
                // without zeroing it first (a file reads straight into it):
                // zeroing every piece cost 5 % of an import.
                let limit = (want - buf.len()) as u64;
                let n = (&mut self.reader)
                    .take(limit)
                    .read_to_end(&mut buf)
                    .map_err(|source| ImportError::Read {
                        input: self.input.to_owned(),
                        offset: self.offset,
                        source,
                    })?;
                self.offset += n as u64;
                if n == 0 {
                    self.done = true;
                    return Ok(Piece { buf, prefix });
                }
                if buf.len() < want {
                    continue;
                }
            }
            match memchr::memrchr(b'\n', &buf[prefix..]) {
                Some(i) => {
                    let cut = prefix + i + 1;
                    self.tail.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    if let Some(line) = last_type_line(&buf[prefix..]) {
                        self.type_line.clear();
                        self.type_line.extend_from_slice(line);
                    }
                    return Ok(Piece { buf, prefix });
                }
                // One line longer than a piece: read on until it ends.
                None => want += self.piece_bytes,
            }
        }
    }
}

/// The last line of `lines` (whole lines) that starts with `# TYPE `.
fn last_type_line(lines: &[u8]) -> Option<&[u8]> {
    let mut end = lines.len();
    while let Some(hash) = memchr::memrchr(b'#', &lines[..end]) {
        end = hash;
        if (hash == 0 || lines[hash - 1] == b'\n') && lines[hash..].starts_with(b"# TYPE ") {
            let stop = memchr::memchr(b'\n', &lines[hash..]).map_or(lines.len(), |i| hash + i + 1);
            return Some(&lines[hash..stop]);
        }
    }
    None
}

/// What a parser made of a piece, in input order. Line numbers count from the
/// piece's first line (1), the prefix not included.
struct Batch {
    piece: Piece,
    keys: Vec<Key>,
    items: Vec<Item>,
    /// Lines of the piece.
    lines: usize,
    /// Whether the piece holds `# EOF`.
    eof: bool,
}

/// A label set as written on a run of consecutive sample lines.
struct Key {
    name: std::ops::Range<usize>,
    labels: std::ops::Range<usize>,
    /// A `# TYPE` line came before it in the piece: the same bytes may read
    /// differently than before it.
    after_type: bool,
    /// `name` and `labels` locate its text in the piece.
    comparable: bool,
    parsed: Option<Labels>,
}

enum Item {
    /// A sample of `keys[key]`; `end` is the offset in the piece just past its line.
    Sample {
        key: u32,
        end: u32,
        t: i64,
        v: f64,
    },
    Bad(BadLine),
}

/// Parses one piece (on a parser thread).
fn parse_piece(piece: Piece) -> Batch {
    let mut keys: Vec<Key> = Vec::new();
    let mut items = Vec::new();
    let prefix_lines = usize::from(piece.prefix > 0);
    let src = piece.buf.as_slice();
    let mut parser = Parser::piece(src, ParseState::new(Format::OpenMetrics, Mode::Lenient));
    let mut lines = LineCounter {
        pos: piece.prefix,
        line: 1,
    };
    let mut after_type = false;
    // Whether the current key's label set is valid (`Err`: why not).
    let mut current: Option<Result<u32, String>> = None;
    // Where a borrowed text is in the piece; `None` for one that is not (an
    // empty label set is a static empty string).
    let range_of = |s: &str| {
        let at = (s.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
        (at + s.len() <= src.len()).then_some(at..at + s.len())
    };
    while let Some(entry) = parser.next() {
        let s = match entry {
            Ok(Entry::Sample(s)) => s,
            Ok(Entry::Type { .. }) => {
                after_type = true;
                current = None;
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                if e.line > prefix_lines {
                    let mut bad = BadLine::from(&e);
                    bad.line -= prefix_lines;
                    items.push(Item::Bad(bad));
                }
                continue;
            }
        };
        let end = parser.consumed();
        let bad = |lines: &mut LineCounter, problem: String| {
            Item::Bad(BadLine {
                line: lines.line_before(src, end),
                column: None,
                problem,
            })
        };
        let Some(t) = s.timestamp else {
            let problem = "sample without a timestamp: every imported sample needs one";
            items.push(bad(&mut lines, problem.to_owned()));
            continue;
        };
        let (name, raw) = (s.name.raw(), s.labels.raw());
        let same = current.is_some()
            && keys.last().is_some_and(|k| {
                k.comparable
                    && src[k.name.clone()] == *name.as_bytes()
                    && src[k.labels.clone()] == *raw.as_bytes()
            });
        if !same {
            let parsed = labels_of(&s);
            // Fewer than 2^32 keys: each takes a line of the piece.
            current = Some(
                parsed
                    .as_ref()
                    .map(|_| keys.len() as u32)
                    .map_err(Clone::clone),
            );
            let (name_range, labels_range) = (range_of(name), range_of(raw));
            keys.push(Key {
                // Text not found in the piece (only ever empty) cannot be
                // compared with other lines': such a key is never reused.
                comparable: name_range.is_some() && labels_range.is_some(),
                name: name_range.unwrap_or_default(),
                labels: labels_range.unwrap_or_default(),
                after_type: std::mem::take(&mut after_type),
                parsed: parsed.ok(),
            });
        }
        match &current {
            Some(Ok(key)) => items.push(Item::Sample {
                key: *key,
                // Pieces are far smaller than 4 GiB.
                end: end as u32,
                t,
                v: s.value,
            }),
            Some(Err(problem)) => items.push(bad(&mut lines, problem.clone())),
            None => {}
        }
    }
    let state = parser.into_state();
    let lines = state.lines().saturating_sub(prefix_lines);
    // In lenient mode the end-of-input check is only whether `# EOF` was seen.
    let mut state = state;
    let eof = state.finish().is_ok();
    Batch {
        piece,
        keys,
        items,
        lines,
        eof,
    }
}

/// The label-set bytes of the previous sample line and its series: consecutive
/// lines of one series (the usual backfill file) skip building and looking up
/// the label set.
#[derive(Default)]
struct PrevSeries {
    name: Vec<u8>,
    labels: Vec<u8>,
    series: Option<u32>,
}

/// The storing side of an import: batches in input order go into the sink.
struct Store<'a> {
    input: &'a str,
    strict: bool,
    sink: Sink,
    report: ImportReport,
    observer: &'a mut dyn ImportObserver,
    prev: PrevSeries,
    /// The number of the first line of the next batch.
    next_line: usize,
    /// `# EOF` was seen: any later line is bad.
    eof_seen: bool,
}

impl Store<'_> {
    /// Stores a batch; gives back its buffer for reuse.
    fn batch(&mut self, mut batch: Batch) -> Result<Vec<u8>, ImportError> {
        let base = self.next_line - 1;
        let src = &batch.piece.buf;
        if self.eof_seen {
            // Every line after `# EOF` is bad, as the parser reports them.
            let mut line = base;
            for text in src[batch.piece.prefix..].split(|&b| b == b'\n') {
                line += 1;
                if line > base + batch.lines {
                    break;
                }
                let text = String::from_utf8_lossy(text);
                self.bad(BadLine {
                    line,
                    column: Some(1),
                    problem: format!("found {text:?}, expected nothing after \"# EOF\""),
                })?;
            }
        } else {
            let mut lines = LineCounter {
                pos: batch.piece.prefix,
                line: 1,
            };
            let mut current: Option<(u32, u32)> = None;
            for item in std::mem::take(&mut batch.items) {
                match item {
                    Item::Bad(mut bad) => {
                        bad.line += base;
                        self.bad(bad)?;
                    }
                    Item::Sample { key, end, t, v } => {
                        let series = match current {
                            Some((k, id)) if k == key => id,
                            _ => {
                                let id = self.resolve(src, &mut batch.keys, key);
                                current = Some((key, id));
                                id
                            }
                        };
                        match self.sink.append(series, t, v) {
                            Ok(()) => {}
                            Err(SampleError::Bad(problem)) => {
                                let line = base + lines.line_before(src, end as usize);
                                self.bad(BadLine {
                                    line,
                                    column: None,
                                    problem,
                                })?;
                            }
                            Err(SampleError::Block(e)) => return Err(e.into()),
                        }
                    }
                }
            }
            self.eof_seen = batch.eof;
        }
        self.next_line += batch.lines;
        self.report.lines = self.next_line - 1;
        self.report.bytes += (src.len() - batch.piece.prefix) as u64;
        self.observer.progress(self.report.bytes);
        Ok(batch.piece.buf)
    }

    /// The series of `keys[key]`: the previous line's when the bytes are the same.
    fn resolve(&mut self, src: &[u8], keys: &mut [Key], key: u32) -> u32 {
        let k = &mut keys[key as usize];
        let (name, raw) = (&src[k.name.clone()], &src[k.labels.clone()]);
        if let Some(id) = self.prev.series
            && !k.after_type
            && k.comparable
            && self.prev.name == name
            && self.prev.labels == raw
        {
            return id;
        }
        if let Some(id) = self.prev.series {
            self.sink.leave(id);
        }
        // Keys of a batch are resolved once each (a run of lines).
        let labels = k.parsed.take().unwrap_or_default();
        let id = self.sink.lookup(labels);
        self.prev.name.clear();
        self.prev.name.extend_from_slice(name);
        self.prev.labels.clear();
        self.prev.labels.extend_from_slice(raw);
        self.prev.series = Some(id);
        id
    }

    /// The end-of-input check: the input must have ended with `# EOF`.
    fn end(&mut self) -> Result<(), ImportError> {
        if self.eof_seen {
            return Ok(());
        }
        let line = self.next_line;
        self.bad(BadLine {
            line,
            column: Some(1),
            problem: "found end of input, expected \"# EOF\"".to_owned(),
        })
    }

    fn bad(&mut self, bad: BadLine) -> Result<(), ImportError> {
        if self.strict {
            return Err(ImportError::Strict {
                input: self.input.to_owned(),
                bad,
            });
        }
        self.report.bad_lines += 1;
        self.observer.bad_line(&bad);
        Ok(())
    }
}

/// Finds line numbers in a piece, counting newlines only up to the lines asked
/// for (asked in increasing order), so a clean import never counts them.
struct LineCounter {
    /// Newlines before this byte offset are counted in `line`.
    pos: usize,
    /// The number of the line holding byte `pos`.
    line: usize,
}

impl LineCounter {
    /// The number of the line ending just before byte `end` (the parser's
    /// position after a line: past its newline).
    fn line_before(&mut self, piece: &[u8], end: usize) -> usize {
        let last = end.saturating_sub(1).max(self.pos).min(piece.len());
        self.line += memchr::memchr_iter(b'\n', &piece[self.pos..last]).count();
        self.pos = last;
        self.line
    }
}

/// The label set of a sample: its name as `__name__` and its labels, unescaped
/// (and `le`/`quantile` values normalised).
fn labels_of(s: &Sample<'_>) -> Result<Labels, String> {
    let name = s.name.get();
    let pairs = std::iter::once((METRIC_NAME.to_owned(), name.into_owned())).chain(
        s.labels
            .iter()
            .map(|l| (l.name.get().into_owned(), l.value.get().into_owned())),
    );
    let labels = Labels::new(pairs).map_err(|e| format!("invalid label set: {e}"))?;
    if labels.is_empty() {
        return Err("sample without a metric name or labels".to_owned());
    }
    Ok(labels)
}

/// Why a sample was not stored.
enum SampleError {
    /// Its line is bad (the reason).
    Bad(String),
    /// Writing a block failed: the import stops.
    Block(BlockError),
}

impl From<BlockError> for SampleError {
    fn from(e: BlockError) -> SampleError {
        SampleError::Block(e)
    }
}

/// A series being imported.
struct SeriesState {
    labels: Labels,
    /// The windows the series has samples in, by start time.
    windows: Vec<SeriesWindow>,
}

/// A series' samples in one window.
struct SeriesWindow {
    start: i64,
    /// The series in the window's builder, once its first chunk is written.
    handle: Option<BuilderSeries>,
    /// The samples not yet written (fewer than a chunk).
    partial: Vec<(i64, f64)>,
    /// The last sample stored: timestamp and value bits.
    last: Option<(i64, u64)>,
}

/// Where samples go: series state, and a block builder per window.
struct Sink {
    data_dir: PathBuf,
    duration: i64,
    series: Vec<SeriesState>,
    ids: HashMap<Labels, u32>,
    builders: BTreeMap<i64, BlockBuilder>,
    chunk_buf: Vec<u8>,
    samples: u64,
    duplicates: u64,
}

impl Sink {
    fn new(data_dir: &Path, duration: i64) -> Sink {
        Sink {
            data_dir: data_dir.to_owned(),
            duration,
            series: Vec::new(),
            ids: HashMap::new(),
            builders: BTreeMap::new(),
            chunk_buf: Vec::new(),
            samples: 0,
            duplicates: 0,
        }
    }

    fn lookup(&mut self, labels: Labels) -> u32 {
        if let Some(&id) = self.ids.get(&labels) {
            return id;
        }
        // Fewer than 2^32 series: each needs far more than 1 byte of memory.
        let id = self.series.len() as u32;
        self.ids.insert(labels.clone(), id);
        self.series.push(SeriesState {
            labels,
            windows: Vec::new(),
        });
        id
    }

    /// The file moved on to another series: give back the room its partial
    /// chunks do not use, since it may not come back.
    fn leave(&mut self, id: u32) {
        if let Some(s) = self.series.get_mut(id as usize) {
            for w in &mut s.windows {
                if w.partial.capacity() - w.partial.len() > PARTIAL_STEP {
                    w.partial.shrink_to(w.partial.len());
                }
            }
        }
    }

    fn append(&mut self, id: u32, t: i64, v: f64) -> Result<(), SampleError> {
        let start = t.div_euclid(self.duration) * self.duration;
        if start.checked_add(self.duration).is_none() {
            return Err(SampleError::Bad(format!(
                "timestamp {t} is too large for a block"
            )));
        }
        let Some(series) = self.series.get_mut(id as usize) else {
            return Err(SampleError::Bad(format!("no series {id}")));
        };
        // Usually the last window; else search (windows are kept sorted).
        let idx = match series.windows.last() {
            Some(w) if w.start == start => series.windows.len() - 1,
            _ => match series.windows.binary_search_by_key(&start, |w| w.start) {
                Ok(i) => i,
                Err(i) => {
                    series.windows.insert(
                        i,
                        SeriesWindow {
                            start,
                            handle: None,
                            partial: Vec::new(),
                            last: None,
                        },
                    );
                    if i + 1 == series.windows.len() {
                        // The series moved on in time: write out its partial
                        // chunks of earlier windows now, so that a long file holds
                        // at most one partial chunk per series, not one per window.
                        // (A later sample for such a window starts a new chunk.)
                        for earlier in 0..i {
                            self.flush(id, earlier).map_err(SampleError::Block)?;
                        }
                    }
                    i
                }
            },
        };
        let Some(series) = self.series.get_mut(id as usize) else {
            return Err(SampleError::Bad(format!("no series {id}")));
        };
        let w = &mut series.windows[idx];
        let bits = v.to_bits();
        if let Some((last_t, last_bits)) = w.last
            && t <= last_t
        {
            if t == last_t && bits == last_bits {
                self.duplicates += 1;
                return Ok(());
            }
            return Err(SampleError::Bad(if t == last_t {
                format!(
                    "duplicate sample for timestamp {t} of series {} with a different value",
                    series.labels
                )
            } else {
                format!(
                    "out of order sample: timestamp {t} of series {} is before its last one, {last_t}",
                    series.labels
                )
            }));
        }
        if w.partial.len() == w.partial.capacity() {
            w.partial.reserve_exact(PARTIAL_STEP);
        }
        w.partial.push((t, v));
        w.last = Some((t, bits));
        self.samples += 1;
        if w.partial.len() >= chunk::BLOCK_CHUNK_SAMPLES {
            self.flush(id, idx)?;
        }
        Ok(())
    }

    /// Encodes and writes the partial chunk of series `id` in its window `idx`.
    fn flush(&mut self, id: u32, idx: usize) -> Result<(), BlockError> {
        let series = &mut self.series[id as usize];
        let w = &mut series.windows[idx];
        let (Some(&(min_t, _)), Some(&(max_t, _))) = (w.partial.first(), w.partial.last()) else {
            return Ok(());
        };
        let builder = match self.builders.entry(w.start) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(BlockBuilder::new(
                &crate::tsdb::fs::real(),
                &self.data_dir,
                w.start,
                w.start + self.duration,
            )?),
        };
        let handle = match w.handle {
            Some(h) => h,
            None => *w
                .handle
                .insert(builder.start_series(series.labels.clone())?),
        };
        let encoding = chunk::encode(&w.partial, &mut self.chunk_buf);
        builder.add_chunk(handle, min_t, max_t, encoding.into(), &self.chunk_buf)?;
        w.partial.clear();
        Ok(())
    }

    /// Writes every partial chunk, then finishes the blocks in time order.
    fn finish(
        mut self,
        observer: &mut dyn ImportObserver,
    ) -> Result<(Vec<BlockMeta>, u64, u64), BlockError> {
        for id in 0..self.series.len() {
            for idx in 0..self.series[id].windows.len() {
                // Fewer than 2^32 series (see `lookup`).
                self.flush(id as u32, idx)?;
            }
            // The series' state is no longer needed: free it as we go.
            self.series[id].windows = Vec::new();
        }
        drop(std::mem::take(&mut self.series));
        drop(std::mem::take(&mut self.ids));
        let mut blocks = Vec::with_capacity(self.builders.len());
        while let Some((_, builder)) = self.builders.pop_first() {
            let meta = builder.finish()?;
            observer.block_written(&meta);
            blocks.push(meta);
        }
        Ok((blocks, self.samples, self.duplicates))
    }
}

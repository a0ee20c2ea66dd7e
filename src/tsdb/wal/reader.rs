//! Reading segments back: fragment validation, record reassembly, and [`replay`] of a
//! WAL directory (checkpoint first, then the segments after it) with torn-tail repair.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::error::WalError;
use super::segment::{
    DirListing, FragmentType, HEADER_SIZE, PAGE_SIZE, check_consecutive, fragment_crc,
};
use crate::tsdb::fs::{Fs, OpenMode, read_full};

/// The per-record callback of the reader: the record and the offset of its first
/// fragment in its segment.
pub(crate) type RecordFn<'a> = dyn FnMut(&[u8], u64) -> Result<(), String> + 'a;

/// Bytes read from a segment file per `read` call (whole pages).
const READ_CHUNK: usize = 32 * PAGE_SIZE;

/// What [`replay`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records passed to the callback (checkpoint records included).
    pub records: u64,
    /// WAL segments read (checkpoint segments not counted).
    pub segments: u32,
    /// Index of the checkpoint replayed first, if any.
    pub checkpoint: Option<u32>,
    /// The damaged tail of the last segment that was cut off, if any.
    pub truncated: Option<TornTail>,
}

/// A torn tail found and truncated by [`replay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment that was truncated (always the last one).
    pub segment: u32,
    /// The new length of the segment file: where the damaged record or fragment began.
    pub offset: u64,
    /// What was wrong there.
    pub reason: String,
}

/// Replays the WAL in `dir`: the records of the newest complete checkpoint, then those
/// of every segment after it, in order, each passed whole to `f`.
///
/// Damage in the last segment is a torn tail: the file is truncated where the first
/// bad record began, a warning is logged, it is reported in
/// [`ReplayReport::truncated`], and replay returns `Ok`. Damage in an earlier segment
/// or in the checkpoint is [`WalError::Corruption`]; a gap in segment numbers is
/// [`WalError::Gap`]; an error from `f` stops the replay as [`WalError::Record`].
/// Unfinished checkpoint directories are deleted. A missing `dir` replays nothing.
/// Every file is read, and a torn tail cut off, through `fs`.
pub fn replay(
    fs: &dyn Fs,
    dir: &Path,
    mut f: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<ReplayReport, WalError> {
    let mut report = ReplayReport::default();
    if !fs.exists(dir) {
        return Ok(report);
    }
    let mut listing = DirListing::read(fs, dir)?;
    listing.remove_tmp_checkpoints(fs)?;
    let mut reader = SegmentReader::new();
    let mut segments = listing.segments;
    if let Some((cp, cp_dir)) = listing.checkpoints.last() {
        report.checkpoint = Some(*cp);
        report.records += read_strict(fs, &mut reader, cp_dir, &mut |rec, _| f(rec))?;
        segments.retain(|(idx, _)| idx > cp);
        check_consecutive(dir, &segments, Some(cp.saturating_add(1)))?;
    } else {
        check_consecutive(dir, &segments, None)?;
    }
    let n = segments.len();
    for (i, (idx, path)) in segments.iter().enumerate() {
        let outcome = reader
            .read(fs, path, &mut |rec, _| f(rec))
            .map_err(|e| e.into_wal_error(path, *idx))?;
        report.segments += 1;
        report.records += outcome.records;
        if let Some(damage) = outcome.damage {
            if i + 1 < n {
                return Err(damage.into_corruption(path, *idx));
            }
            tracing::warn!(
                segment = %path.display(),
                offset = damage.offset,
                reason = %damage.reason,
                "WAL torn tail: truncating the last segment where the damage starts"
            );
            truncate_file(fs, path, damage.offset)?;
            report.truncated = Some(TornTail {
                segment: *idx,
                offset: damage.offset,
                reason: damage.reason,
            });
        }
    }
    Ok(report)
}

/// Reads every segment of a directory in which nothing may be damaged (a checkpoint,
/// or the segments a checkpoint folds in). `f` gets each record with its segment
/// index and offset. Returns the number of records.
pub(crate) fn read_strict(
    fs: &dyn Fs,
    reader: &mut SegmentReader,
    dir: &Path,
    f: &mut RecordFn<'_>,
) -> Result<u64, WalError> {
    let listing = DirListing::read(fs, dir)?;
    check_consecutive(dir, &listing.segments, Some(0))?;
    read_segments_strict(fs, reader, &listing.segments, f)
}

/// Reads the given segments; any damage is an error.
pub(crate) fn read_segments_strict(
    fs: &dyn Fs,
    reader: &mut SegmentReader,
    segments: &[(u32, PathBuf)],
    f: &mut RecordFn<'_>,
) -> Result<u64, WalError> {
    let mut records = 0;
    for (idx, path) in segments {
        let outcome = reader
            .read(fs, path, f)
            .map_err(|e| e.into_wal_error(path, *idx))?;
        records += outcome.records;
        if let Some(damage) = outcome.damage {
            return Err(damage.into_corruption(path, *idx));
        }
    }
    Ok(records)
}

fn truncate_file(fs: &dyn Fs, path: &Path, len: u64) -> Result<(), WalError> {
    let file = fs
        .open(path, OpenMode::ReadWrite)
        .map_err(|e| WalError::io("open for truncation", path, e))?;
    file.set_len(len)
        .map_err(|e| WalError::io("truncate", path, e))?;
    file.sync_all().map_err(|e| WalError::io("fsync", path, e))
}

/// The first damage found in a segment.
#[derive(Debug)]
pub(crate) struct Damage {
    /// Where the valid data ends: the start of the damaged record or fragment.
    pub offset: u64,
    pub reason: String,
}

impl Damage {
    fn into_corruption(self, path: &Path, segment: u32) -> WalError {
        WalError::Corruption {
            path: path.to_path_buf(),
            segment,
            offset: self.offset,
            reason: self.reason,
        }
    }
}

/// The result of reading one segment to its end or its first damage.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Whole records passed to the callback.
    pub records: u64,
    pub damage: Option<Damage>,
}

/// A failure that stops reading (as opposed to damage, which ends the valid data).
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    /// The callback refused the record that starts at `offset`.
    Callback {
        offset: u64,
        reason: String,
    },
}

impl ReadError {
    fn into_wal_error(self, path: &Path, segment: u32) -> WalError {
        match self {
            ReadError::Io(e) => WalError::io("read", path, e),
            ReadError::Callback { offset, reason } => WalError::Record {
                path: path.to_path_buf(),
                segment,
                offset,
                reason,
            },
        }
    }
}

/// Reads segment files into whole records, validating every fragment. Its buffers are
/// reused from one segment to the next.
pub(crate) struct SegmentReader {
    chunk: Vec<u8>,
    rec: Vec<u8>,
}

/// Parsing state carried across pages of one segment.
struct State {
    /// Offset of the first fragment of the record being reassembled.
    rec_start: Option<u64>,
    /// Set by zero padding that leaves room for a fragment: nothing was written after
    /// it, so every later byte must be zero. Holds the offset of that padding.
    end_of_data: Option<u64>,
    records: u64,
}

impl SegmentReader {
    pub(crate) fn new() -> SegmentReader {
        SegmentReader {
            chunk: vec![0; READ_CHUNK],
            rec: Vec::new(),
        }
    }

    /// Reads the segment at `path`, calling `f(record, offset_of_record)` for each whole
    /// record, until the end of the file or the first damage.
    pub(crate) fn read(
        &mut self,
        fs: &dyn Fs,
        path: &Path,
        f: &mut RecordFn<'_>,
    ) -> Result<Outcome, ReadError> {
        let mut file = fs.open(path, OpenMode::Read).map_err(ReadError::Io)?;
        self.read_from(&mut file, f)
    }

    fn read_from(
        &mut self,
        src: &mut dyn Read,
        f: &mut RecordFn<'_>,
    ) -> Result<Outcome, ReadError> {
        let mut st = State {
            rec_start: None,
            end_of_data: None,
            records: 0,
        };
        self.rec.clear();
        let mut chunk_off = 0u64;
        loop {
            let n = read_full(src, &mut self.chunk).map_err(ReadError::Io)?;
            if n == 0 {
                break;
            }
            for (i, page) in self.chunk[..n].chunks(PAGE_SIZE).enumerate() {
                let page_off = chunk_off + (i * PAGE_SIZE) as u64;
                if let Err(damage) = read_page(page, page_off, &mut st, &mut self.rec, f)? {
                    return Ok(Outcome {
                        records: st.records,
                        damage: Some(damage),
                    });
                }
            }
            chunk_off += n as u64;
            if n < self.chunk.len() {
                break;
            }
        }
        let damage = st.rec_start.map(|start| Damage {
            offset: start,
            reason: format!("record starting at byte {start} is cut short by the end of the file"),
        });
        Ok(Outcome {
            records: st.records,
            damage,
        })
    }
}

/// Parses one page (`page.len() < PAGE_SIZE` only at the end of the file). The outer
/// `Result` stops reading; the inner one reports damage.
fn read_page(
    page: &[u8],
    page_off: u64,
    st: &mut State,
    rec: &mut Vec<u8>,
    f: &mut RecordFn<'_>,
) -> Result<Result<(), Damage>, ReadError> {
    // Where the valid data ends if the fragment at `pos` is bad: a record being
    // reassembled is lost as a whole.
    let damage = |st: &State, pos: usize, reason: String| Damage {
        offset: st.rec_start.unwrap_or(page_off + pos as u64),
        reason,
    };
    if let Some(eod) = st.end_of_data {
        if let Some(i) = page.iter().position(|&b| b != 0) {
            return Ok(Err(Damage {
                offset: eod,
                reason: format!(
                    "non-zero byte at {} after the zero padding that ends the data at {eod}",
                    page_off + i as u64
                ),
            }));
        }
        return Ok(Ok(()));
    }
    let mut pos = 0;
    while pos < page.len() {
        let room = PAGE_SIZE - pos;
        let at = page_off + pos as u64;
        if room < HEADER_SIZE || page[pos] == 0 {
            // Zero padding to the end of the page.
            if let Some(i) = page[pos..].iter().position(|&b| b != 0) {
                let reason = format!(
                    "non-zero byte at {} in the zero padding that starts at {at}",
                    at + i as u64
                );
                return Ok(Err(damage(st, pos, reason)));
            }
            if let Some(start) = st.rec_start {
                let reason = format!(
                    "record starting at byte {start} is interrupted by zero padding at {at}"
                );
                return Ok(Err(damage(st, pos, reason)));
            }
            if room > HEADER_SIZE {
                // The writer pads a page that could still hold a fragment only where the
                // data ends (segment close, or the unwritten rest after a crash).
                st.end_of_data = Some(at);
            }
            return Ok(Ok(()));
        }
        let Some(typ) = FragmentType::from_byte(page[pos]) else {
            let reason = format!("unknown fragment type {} at byte {at}", page[pos]);
            return Ok(Err(damage(st, pos, reason)));
        };
        if page.len() - pos < HEADER_SIZE {
            let reason =
                format!("fragment header at byte {at} is cut short by the end of the file");
            return Ok(Err(damage(st, pos, reason)));
        }
        let h = &page[pos..pos + HEADER_SIZE];
        let len = u16::from_be_bytes([h[1], h[2]]) as usize;
        let want_crc = u32::from_be_bytes([h[3], h[4], h[5], h[6]]);
        let end = pos + HEADER_SIZE + len;
        if end > PAGE_SIZE {
            let reason = format!(
                "fragment at byte {at} claims {len} data bytes, more than the {} left in its page",
                room - HEADER_SIZE
            );
            return Ok(Err(damage(st, pos, reason)));
        }
        if end > page.len() {
            let reason = format!("fragment at byte {at} is cut short by the end of the file");
            return Ok(Err(damage(st, pos, reason)));
        }
        let data = &page[pos + HEADER_SIZE..end];
        let got_crc = fragment_crc(&[h[0], h[1], h[2]], data);
        if got_crc != want_crc {
            let reason = format!(
                "CRC mismatch in fragment at byte {at}: stored {want_crc:#010x}, computed {got_crc:#010x}"
            );
            return Ok(Err(damage(st, pos, reason)));
        }
        let continues = matches!(typ, FragmentType::First | FragmentType::Middle);
        if continues && end != PAGE_SIZE {
            let reason = format!(
                "{} fragment at byte {at} does not fill the rest of its page",
                typ.name()
            );
            return Ok(Err(damage(st, pos, reason)));
        }
        match (typ, st.rec_start) {
            (FragmentType::Full, None) => {
                f(data, at).map_err(|reason| ReadError::Callback { offset: at, reason })?;
                st.records += 1;
            }
            (FragmentType::First, None) => {
                rec.clear();
                rec.extend_from_slice(data);
                st.rec_start = Some(at);
            }
            (FragmentType::Middle, Some(_)) => rec.extend_from_slice(data),
            (FragmentType::Last, Some(start)) => {
                rec.extend_from_slice(data);
                f(rec, start).map_err(|reason| ReadError::Callback {
                    offset: start,
                    reason,
                })?;
                st.records += 1;
                st.rec_start = None;
            }
            (typ, Some(start)) => {
                let reason = format!(
                    "{} fragment at byte {at} inside the record that starts at byte {start}",
                    typ.name()
                );
                return Ok(Err(damage(st, pos, reason)));
            }
            (typ, None) => {
                let reason = format!("{} fragment at byte {at} outside any record", typ.name());
                return Ok(Err(damage(st, pos, reason)));
            }
        }
        pos = end;
    }
    Ok(Ok(()))
}

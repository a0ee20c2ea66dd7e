//! Full head chunks, moved out of memory into `chunks_head/`.
//!
//! A series keeps only its open chunk in memory; when a chunk is cut, its bytes are
//! appended to the head chunk file and the series keeps a 24-byte reference. This
//! keeps head memory per series flat however many samples the head holds
//! (Prometheus does the same with its memory-mapped head chunks).
//!
//! Each record names its series and time range, so on open the file tells which
//! samples every series already has in chunks: WAL replay then skips them instead
//! of encoding them again. The WAL stays the source of truth: a record is written
//! only after the samples in it were committed to the WAL, so losing any suffix of
//! this file (a torn write, an unflushed buffer, a power loss) only means replaying
//! more of the WAL. A damaged record truncates the file there.
//!
//! The file is not mmap'd: it is still being written, and only immutable files are
//! mapped (DESIGN.md). Reads use `pread`, or the in-memory write buffer for chunks
//! not yet written out. Layout in docs/format/chunks.md, *Head chunk file*.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::tsdb::SeriesRef;
use crate::tsdb::chunk::Encoding;
use crate::tsdb::wal::read_full;

/// Bytes buffered before one write to the file.
const WRITE_BUFFER: usize = 1 << 20;
/// File header: magic and format version, then three zero bytes.
const MAGIC: [u8; 4] = *b"TMHC";
const VERSION: u8 = 1;
const FILE_HEADER: usize = 8;
/// Record header: series ref, min t, max t, encoding, data length.
const RECORD_HEADER: usize = 8 + 8 + 8 + 1 + 4;
const CRC: usize = 4;
/// Larger than any chunk the head writes (at most 4096 samples of at most ~19
/// bytes, see `Options::samples_per_chunk`); a longer length in a record means the
/// record is damaged.
const MAX_CHUNK_LEN: u32 = 1 << 20;

/// Where a chunk's record starts in the head chunk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpillLoc(pub(crate) u64);

/// A chunk found in the file when it was opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpilledChunk {
    pub(crate) series_ref: SeriesRef,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) loc: SpillLoc,
}

/// Errors reading or writing the head chunk file.
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error("head chunk file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("head chunk file {path} at byte offset {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
}

struct Writer {
    /// Bytes not yet written to the file; they start at file offset `flushed`.
    buf: Vec<u8>,
    flushed: u64,
}

/// The head chunk file of one open head.
pub(crate) struct ChunkSpill {
    path: PathBuf,
    /// Written with `pwrite` under the writer lock, read with `pread` without it:
    /// a byte below `flushed` is never written again.
    file: File,
    w: Mutex<Writer>,
}

/// The parsed fixed part of a record.
struct RecordHeader {
    series_ref: SeriesRef,
    min_t: i64,
    max_t: i64,
    encoding: u8,
    len: u32,
}

fn parse_header(h: &[u8; RECORD_HEADER]) -> RecordHeader {
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[i..i + 8]);
        u64::from_be_bytes(b)
    };
    RecordHeader {
        series_ref: SeriesRef(u64_at(0)),
        min_t: u64_at(8) as i64,
        max_t: u64_at(16) as i64,
        encoding: h[24],
        len: u32::from_be_bytes([h[25], h[26], h[27], h[28]]),
    }
}

impl ChunkSpill {
    /// Opens the head chunk file in `dir`, creating it if needed, and returns the
    /// chunks it holds. A file of another format version is started afresh; a
    /// damaged record ends the file there (it is truncated, with a warning).
    pub(crate) fn open(dir: &Path) -> Result<(ChunkSpill, Vec<SpilledChunk>), SpillError> {
        fs::create_dir_all(dir).map_err(|source| SpillError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("000001");
        let io = |source| SpillError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        let (chunks, valid_end) = scan(&path, &file)?;
        let len = file.metadata().map_err(io)?.len();
        if valid_end < FILE_HEADER as u64 {
            // New, or of another version: start afresh.
            file.set_len(0).map_err(io)?;
            let mut header = [0u8; FILE_HEADER];
            header[..4].copy_from_slice(&MAGIC);
            header[4] = VERSION;
            file.write_all_at(&header, 0).map_err(io)?;
        } else if valid_end < len {
            tracing::warn!(
                file = %path.display(),
                offset = valid_end,
                dropped_bytes = len - valid_end,
                "head chunk file damaged or torn after this offset; truncating (the WAL replays those samples)"
            );
            file.set_len(valid_end).map_err(io)?;
        }
        let flushed = valid_end.max(FILE_HEADER as u64);
        Ok((
            ChunkSpill {
                path,
                file,
                w: Mutex::new(Writer {
                    buf: Vec::with_capacity(WRITE_BUFFER),
                    flushed,
                }),
            },
            chunks,
        ))
    }

    fn io(&self, source: std::io::Error) -> SpillError {
        SpillError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, loc: SpillLoc, reason: impl Into<String>) -> SpillError {
        SpillError::Corrupt {
            path: self.path.clone(),
            offset: loc.0,
            reason: reason.into(),
        }
    }

    /// Appends one chunk of `series_ref` spanning `[min_t, max_t]`; returns where
    /// it is.
    pub(crate) fn write(
        &self,
        series_ref: SeriesRef,
        min_t: i64,
        max_t: i64,
        enc: Encoding,
        chunk: &[u8],
    ) -> Result<SpillLoc, SpillError> {
        let mut w = self.w.lock();
        let loc = SpillLoc(w.flushed + w.buf.len() as u64);
        let len = u32::try_from(chunk.len())
            .ok()
            .filter(|&l| l <= MAX_CHUNK_LEN)
            .ok_or_else(|| {
                self.corrupt(loc, format!("chunk of {} bytes is too large", chunk.len()))
            })?;
        let start = w.buf.len();
        w.buf.extend_from_slice(&series_ref.0.to_be_bytes());
        w.buf.extend_from_slice(&min_t.to_be_bytes());
        w.buf.extend_from_slice(&max_t.to_be_bytes());
        w.buf.push(enc as u8);
        w.buf.extend_from_slice(&len.to_be_bytes());
        w.buf.extend_from_slice(chunk);
        let crc = crc32fast::hash(&w.buf[start..]);
        w.buf.extend_from_slice(&crc.to_be_bytes());
        if w.buf.len() >= WRITE_BUFFER {
            self.write_out(&mut w)?;
        }
        Ok(loc)
    }

    /// Reads the chunk at `loc` into `out` (cleared first) and returns its encoding.
    pub(crate) fn read(&self, loc: SpillLoc, out: &mut Vec<u8>) -> Result<Encoding, SpillError> {
        out.clear();
        let mut header = [0u8; RECORD_HEADER];
        let in_buffer = {
            let w = self.w.lock();
            match loc.0.checked_sub(w.flushed) {
                Some(start) => {
                    // Still in the write buffer: copy it out under the lock.
                    let record = usize::try_from(start)
                        .ok()
                        .and_then(|s| w.buf.get(s..))
                        .filter(|r| r.len() >= RECORD_HEADER + CRC)
                        .ok_or_else(|| {
                            self.corrupt(loc, "chunk reference past the end of the file")
                        })?;
                    header.copy_from_slice(&record[..RECORD_HEADER]);
                    let len = parse_header(&header).len as usize;
                    let body = record
                        .get(RECORD_HEADER..RECORD_HEADER + len + CRC)
                        .ok_or_else(|| self.corrupt(loc, "chunk runs past the end of the file"))?;
                    out.extend_from_slice(body);
                    true
                }
                None => false,
            }
        };
        if !in_buffer {
            self.file
                .read_exact_at(&mut header, loc.0)
                .map_err(|e| self.io(e))?;
            let len = parse_header(&header).len;
            if len > MAX_CHUNK_LEN {
                return Err(self.corrupt(loc, format!("impossible chunk length {len}")));
            }
            out.resize(len as usize + CRC, 0);
            self.file
                .read_exact_at(out, loc.0 + RECORD_HEADER as u64)
                .map_err(|e| self.io(e))?;
        }
        if !crc_ok(&header, out) {
            return Err(self.corrupt(loc, "CRC32 mismatch"));
        }
        out.truncate(out.len() - CRC);
        Encoding::try_from(parse_header(&header).encoding)
            .map_err(|e| self.corrupt(loc, e.to_string()))
    }

    /// Writes out buffered chunks. No fsync: the file only saves replay work, and
    /// a lost suffix is replayed from the WAL.
    pub(crate) fn flush(&self) -> Result<(), SpillError> {
        self.write_out(&mut self.w.lock())
    }

    fn write_out(&self, w: &mut Writer) -> Result<(), SpillError> {
        self.file
            .write_all_at(&w.buf, w.flushed)
            .map_err(|e| self.io(e))?;
        w.flushed += w.buf.len() as u64;
        w.buf.clear();
        Ok(())
    }
}

/// Reads the records of an existing file. Returns them and the offset where valid
/// data ends (0 if the file header is missing or of another version).
fn scan(path: &Path, file: &File) -> Result<(Vec<SpilledChunk>, u64), SpillError> {
    let io = |source| SpillError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; FILE_HEADER];
    if !fill(&mut r, &mut header).map_err(io)? || header[..4] != MAGIC || header[4] != VERSION {
        return Ok((Vec::new(), 0));
    }
    let mut chunks = Vec::new();
    let mut at = FILE_HEADER as u64;
    let mut rh = [0u8; RECORD_HEADER];
    let mut body = Vec::new();
    loop {
        if !fill(&mut r, &mut rh).map_err(io)? {
            break;
        }
        let h = parse_header(&rh);
        if h.len > MAX_CHUNK_LEN || Encoding::try_from(h.encoding).is_err() {
            break;
        }
        body.resize(h.len as usize + CRC, 0);
        if !fill(&mut r, &mut body).map_err(io)? {
            break;
        }
        if !crc_ok(&rh, &body) {
            break;
        }
        let len = h.len as usize;
        chunks.push(SpilledChunk {
            series_ref: h.series_ref,
            min_t: h.min_t,
            max_t: h.max_t,
            loc: SpillLoc(at),
        });
        at += (RECORD_HEADER + len + CRC) as u64;
    }
    Ok((chunks, at))
}

/// Whether the CRC at the end of `body` (chunk data, then the CRC) covers
/// `header` and the data. `body` holds at least the CRC's four bytes.
fn crc_ok(header: &[u8; RECORD_HEADER], body: &[u8]) -> bool {
    let Some((data, want)) = body.split_last_chunk::<CRC>() else {
        return false;
    };
    let mut crc = crc32fast::Hasher::new();
    crc.update(header);
    crc.update(data);
    crc.finalize() == u32::from_be_bytes(*want)
}

/// Fills `buf` completely; `Ok(false)` if the input ends first.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    Ok(read_full(r, buf)? == buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_three(dir: &Path) -> Vec<SpillLoc> {
        let (spill, found) = ChunkSpill::open(dir).unwrap();
        assert!(found.is_empty());
        let locs = (0..3u8)
            .map(|i| {
                spill
                    .write(
                        SeriesRef(u64::from(i) + 1),
                        i64::from(i) * 10,
                        i64::from(i) * 10 + 9,
                        Encoding::Xor,
                        &[i; 5],
                    )
                    .unwrap()
            })
            .collect();
        spill.flush().unwrap();
        locs
    }

    #[test]
    fn reopen_finds_written_chunks_and_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let locs = write_three(dir.path());
        let (spill, found) = ChunkSpill::open(dir.path()).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[2].series_ref, SeriesRef(3));
        assert_eq!((found[2].min_t, found[2].max_t), (20, 29));
        assert_eq!(found.iter().map(|c| c.loc).collect::<Vec<_>>(), locs);
        let mut out = Vec::new();
        assert_eq!(spill.read(locs[1], &mut out).unwrap(), Encoding::Xor);
        assert_eq!(out, [1; 5]);
        // Buffered (not yet flushed) chunks read back too.
        let loc = spill
            .write(SeriesRef(9), 0, 1, Encoding::Xor, &[7; 3])
            .unwrap();
        spill.read(loc, &mut out).unwrap();
        assert_eq!(out, [7; 3]);
    }

    #[test]
    fn torn_or_damaged_tail_is_truncated_at_the_last_good_record() {
        let dir = tempfile::tempdir().unwrap();
        let locs = write_three(dir.path());
        let path = dir.path().join("000001");
        let full = fs::metadata(&path).unwrap().len();
        // Torn: the last record loses its last byte.
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(full - 1)
            .unwrap();
        let (_, found) = ChunkSpill::open(dir.path()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(fs::metadata(&path).unwrap().len(), locs[2].0);
        // Damaged: a flipped byte in the second record's data.
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        f.write_all_at(&[0xff], locs[1].0 + RECORD_HEADER as u64)
            .unwrap();
        let (spill, found) = ChunkSpill::open(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        // New chunks go after the last good record.
        let loc = spill
            .write(SeriesRef(5), 0, 0, Encoding::Xor, &[1])
            .unwrap();
        assert_eq!(loc, locs[1]);
    }

    #[test]
    fn another_version_is_started_afresh() {
        let dir = tempfile::tempdir().unwrap();
        write_three(dir.path());
        let path = dir.path().join("000001");
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[VERSION + 1], 4).unwrap();
        let (_, found) = ChunkSpill::open(dir.path()).unwrap();
        assert!(found.is_empty());
        assert_eq!(fs::metadata(&path).unwrap().len(), FILE_HEADER as u64);
    }

    #[test]
    fn garbage_file_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000001");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[VERSION, 0, 0, 0]);
        bytes.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        fs::write(&path, &bytes).unwrap();
        let (spill, found) = ChunkSpill::open(dir.path()).unwrap();
        assert!(found.is_empty());
        let mut out = Vec::new();
        assert!(spill.read(SpillLoc(3), &mut out).is_err());
        assert!(spill.read(SpillLoc(1 << 40), &mut out).is_err());
    }
}

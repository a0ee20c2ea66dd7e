//! Full head chunks, moved out of memory into `chunks_head/`.
//!
//! A series keeps only its open chunk in memory; when a chunk is cut, its bytes are
//! appended to the current head chunk file and the series keeps a 24-byte
//! reference. This keeps head memory per series flat however many samples the head
//! holds (Prometheus does the same with its memory-mapped head chunks).
//!
//! Each record names its series and time range, so on open the files tell which
//! samples every series already has in chunks: WAL replay then skips them instead
//! of encoding them again. The WAL stays the source of truth: a record is written
//! only after the samples in it were committed to the WAL, so losing any suffix of
//! a file (a torn write, an unflushed buffer, a power loss) only means replaying
//! more of the WAL. A damaged record truncates its file there.
//!
//! The files are numbered (`000001`, `000002`, …). Writing goes to the newest; a
//! new one is started when it reaches [`MAX_FILE_SIZE`], when the database is
//! opened, and when the head is truncated, so that files whose chunks all went into
//! a block can be deleted whole ([`ChunkSpill::remove_before`]).
//!
//! The files are not mmap'd: the newest is still being written, and only immutable
//! files are mapped (DESIGN.md). Reads use `pread`, or the in-memory write buffer
//! for chunks not yet written out. A reader holds its file open, so a file deleted
//! under a running query is still read to the end. Layout in docs/format/chunks.md,
//! *Head chunk files*.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::tsdb::chunk::Encoding;
use crate::tsdb::fs::{File, Fs, OpenMode, read_full};
use crate::tsdb::series_ref::SeriesRef;

/// Bytes buffered before one write to the file: a few hundred chunks a write
/// when every series cuts a chunk at once, and little memory when none does.
const WRITE_BUFFER: usize = 256 << 10;
/// A file that reaches this size is closed and the next one started.
const MAX_FILE_SIZE: u64 = 128 << 20;
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
/// A [`SpillLoc`] is the file number above these bits and the byte offset below.
const OFFSET_BITS: u32 = 40;

/// Where a chunk's record starts: file number and byte offset in that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpillLoc(pub(crate) u64);

impl SpillLoc {
    fn new(file: u32, offset: u64) -> SpillLoc {
        SpillLoc(u64::from(file) << OFFSET_BITS | offset)
    }

    fn file(self) -> u32 {
        (self.0 >> OFFSET_BITS) as u32
    }

    fn offset(self) -> u64 {
        self.0 & ((1 << OFFSET_BITS) - 1)
    }
}

/// A chunk found in the files when they were opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpilledChunk {
    pub(crate) series_ref: SeriesRef,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) loc: SpillLoc,
}

/// Errors reading or writing the head chunk files.
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

/// A closed or current file.
struct SpillFile {
    file: Arc<dyn File>,
    /// Newest sample time of any chunk in it (`i64::MIN` if none).
    max_t: i64,
}

struct Writer {
    /// The file being written: its number and handle.
    seq: u32,
    file: Arc<dyn File>,
    /// Bytes not yet written to the file; they start at file offset `flushed`.
    buf: Vec<u8>,
    flushed: u64,
    /// Newest sample time of the chunks written to this file.
    max_t: i64,
}

/// The head chunk files of one open head.
pub(crate) struct ChunkSpill {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    /// Written with `pwrite` under the writer lock, read with `pread` without it:
    /// a byte below `flushed` is never written again.
    w: Mutex<Writer>,
    /// Every file by number, the current one included. Lock order: `w`, then
    /// `files`.
    files: Mutex<BTreeMap<u32, SpillFile>>,
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

fn file_name(seq: u32) -> String {
    format!("{seq:06}")
}

/// Creates file `seq` in `dir` holding only the header.
fn create_file(fs: &dyn Fs, dir: &Path, seq: u32) -> Result<Arc<dyn File>, SpillError> {
    let path = dir.join(file_name(seq));
    let io = |source| SpillError::Io {
        path: path.clone(),
        source,
    };
    let file = fs.open(&path, OpenMode::Truncate).map_err(io)?;
    let mut header = [0u8; FILE_HEADER];
    header[..4].copy_from_slice(&MAGIC);
    header[4] = VERSION;
    file.write_all_at(&header, 0).map_err(io)?;
    Ok(Arc::from(file))
}

impl ChunkSpill {
    /// Opens the head chunk files in `dir`, creating it if needed, and returns the
    /// chunks they hold, oldest file first. A file of another format version, or
    /// without a chunk, is deleted; a damaged record ends its file there (it is
    /// truncated, with a warning). Writing goes to a new file. Every file is
    /// reached through `fs`.
    pub(crate) fn open(
        fs: &Arc<dyn Fs>,
        dir: &Path,
    ) -> Result<(ChunkSpill, Vec<SpilledChunk>), SpillError> {
        let dir_err = |source| SpillError::Io {
            path: dir.to_path_buf(),
            source,
        };
        fs.create_dir_all(dir).map_err(dir_err)?;
        let mut numbered = Vec::new();
        for entry in fs.read_dir(dir).map_err(dir_err)? {
            let seq = entry
                .name
                .to_str()
                .filter(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|&n| n > 0);
            if let Some(seq) = seq {
                numbered.push(seq);
            }
        }
        numbered.sort_unstable();

        let mut chunks = Vec::new();
        let mut files = BTreeMap::new();
        for &seq in &numbered {
            let path = dir.join(file_name(seq));
            let io = |source| SpillError::Io {
                path: path.clone(),
                source,
            };
            let mut file = fs.open(&path, OpenMode::ReadWrite).map_err(io)?;
            let first = chunks.len();
            let valid_end = scan(&path, &mut *file, seq, &mut chunks)?;
            if chunks.len() == first {
                // Empty, or of another version: nothing in it is needed.
                drop(file);
                fs.remove_file(&path).map_err(io)?;
                continue;
            }
            let len = file.size().map_err(io)?;
            if valid_end < len {
                tracing::warn!(
                    file = %path.display(),
                    offset = valid_end,
                    dropped_bytes = len - valid_end,
                    "head chunk file damaged or torn after this offset; truncating (the WAL replays those samples)"
                );
                file.set_len(valid_end).map_err(io)?;
            }
            let max_t = chunks[first..]
                .iter()
                .map(|c| c.max_t)
                .max()
                .unwrap_or(i64::MIN);
            files.insert(
                seq,
                SpillFile {
                    file: Arc::from(file),
                    max_t,
                },
            );
        }
        let seq = numbered.last().map_or(1, |n| n + 1);
        let file = create_file(&**fs, dir, seq)?;
        files.insert(
            seq,
            SpillFile {
                file: Arc::clone(&file),
                max_t: i64::MIN,
            },
        );
        Ok((
            ChunkSpill {
                fs: Arc::clone(fs),
                dir: dir.to_path_buf(),
                w: Mutex::new(Writer {
                    seq,
                    file,
                    buf: Vec::with_capacity(WRITE_BUFFER),
                    flushed: FILE_HEADER as u64,
                    max_t: i64::MIN,
                }),
                files: Mutex::new(files),
            },
            chunks,
        ))
    }

    fn path(&self, seq: u32) -> PathBuf {
        self.dir.join(file_name(seq))
    }

    fn io(&self, seq: u32) -> impl FnOnce(std::io::Error) -> SpillError + '_ {
        move |source| SpillError::Io {
            path: self.path(seq),
            source,
        }
    }

    fn corrupt(&self, loc: SpillLoc, reason: impl Into<String>) -> SpillError {
        SpillError::Corrupt {
            path: self.path(loc.file()),
            offset: loc.offset(),
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
        let len = u32::try_from(chunk.len())
            .ok()
            .filter(|&l| l <= MAX_CHUNK_LEN)
            .ok_or_else(|| {
                let loc = SpillLoc::new(w.seq, w.flushed + w.buf.len() as u64);
                self.corrupt(loc, format!("chunk of {} bytes is too large", chunk.len()))
            })?;
        let record_len = (RECORD_HEADER + chunk.len() + CRC) as u64;
        if w.flushed + w.buf.len() as u64 + record_len > MAX_FILE_SIZE {
            self.rotate(&mut w)?;
        }
        let loc = SpillLoc::new(w.seq, w.flushed + w.buf.len() as u64);
        let start = w.buf.len();
        w.buf.extend_from_slice(&series_ref.0.to_be_bytes());
        w.buf.extend_from_slice(&min_t.to_be_bytes());
        w.buf.extend_from_slice(&max_t.to_be_bytes());
        w.buf.push(enc as u8);
        w.buf.extend_from_slice(&len.to_be_bytes());
        w.buf.extend_from_slice(chunk);
        let crc = crc32fast::hash(&w.buf[start..]);
        w.buf.extend_from_slice(&crc.to_be_bytes());
        w.max_t = w.max_t.max(max_t);
        if w.buf.len() >= WRITE_BUFFER {
            self.write_out(&mut w)?;
        }
        Ok(loc)
    }

    /// Writes out the current file and starts the next one.
    fn rotate(&self, w: &mut Writer) -> Result<(), SpillError> {
        self.write_out(w)?;
        let seq = w.seq + 1;
        let file = create_file(&*self.fs, &self.dir, seq)?;
        let mut files = self.files.lock();
        if let Some(old) = files.get_mut(&w.seq) {
            old.max_t = w.max_t;
        }
        files.insert(
            seq,
            SpillFile {
                file: Arc::clone(&file),
                max_t: i64::MIN,
            },
        );
        *w = Writer {
            seq,
            file,
            buf: std::mem::take(&mut w.buf),
            flushed: FILE_HEADER as u64,
            max_t: i64::MIN,
        };
        Ok(())
    }

    /// Deletes the files whose chunks all end before `t` (the head no longer
    /// refers to them: they went into a block). The current file is closed first if
    /// it holds any chunk, so that it can go too.
    pub(crate) fn remove_before(&self, t: i64) -> Result<u64, SpillError> {
        let mut w = self.w.lock();
        if w.max_t != i64::MIN {
            self.rotate(&mut w)?;
        }
        let mut files = self.files.lock();
        let doomed: Vec<u32> = files
            .iter()
            .filter(|(seq, f)| **seq != w.seq && f.max_t < t)
            .map(|(seq, _)| *seq)
            .collect();
        for &seq in &doomed {
            let path = self.path(seq);
            match self.fs.remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(SpillError::Io { path, source }),
            }
            files.remove(&seq);
        }
        Ok(doomed.len() as u64)
    }

    /// Reads the chunk at `loc` into `out` (cleared first) and returns its encoding.
    pub(crate) fn read(&self, loc: SpillLoc, out: &mut Vec<u8>) -> Result<Encoding, SpillError> {
        out.clear();
        let mut header = [0u8; RECORD_HEADER];
        let file = {
            let w = self.w.lock();
            match loc.offset().checked_sub(w.flushed) {
                Some(start) if loc.file() == w.seq => {
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
                    None
                }
                _ if loc.file() == w.seq => Some(Arc::clone(&w.file)),
                _ => {
                    drop(w);
                    let files = self.files.lock();
                    let f = files
                        .get(&loc.file())
                        .ok_or_else(|| self.corrupt(loc, "no such head chunk file"))?;
                    Some(Arc::clone(&f.file))
                }
            }
        };
        if let Some(file) = file {
            let io = self.io(loc.file());
            file.read_exact_at(&mut header, loc.offset()).map_err(io)?;
            let len = parse_header(&header).len;
            if len > MAX_CHUNK_LEN {
                return Err(self.corrupt(loc, format!("impossible chunk length {len}")));
            }
            out.resize(len as usize + CRC, 0);
            file.read_exact_at(out, loc.offset() + RECORD_HEADER as u64)
                .map_err(self.io(loc.file()))?;
        }
        if !crc_ok(&header, out) {
            return Err(self.corrupt(loc, "CRC32 mismatch"));
        }
        out.truncate(out.len() - CRC);
        Encoding::try_from(parse_header(&header).encoding)
            .map_err(|e| self.corrupt(loc, e.to_string()))
    }

    /// Writes out buffered chunks. No fsync: the files only save replay work, and
    /// a lost suffix is replayed from the WAL.
    pub(crate) fn flush(&self) -> Result<(), SpillError> {
        self.write_out(&mut self.w.lock())
    }

    fn write_out(&self, w: &mut Writer) -> Result<(), SpillError> {
        w.file
            .write_all_at(&w.buf, w.flushed)
            .map_err(self.io(w.seq))?;
        w.flushed += w.buf.len() as u64;
        w.buf.clear();
        Ok(())
    }
}

/// Reads the records of file `seq` into `chunks`. Returns the offset where valid
/// data ends (0 if the file header is missing or of another version).
fn scan(
    path: &Path,
    file: &mut dyn File,
    seq: u32,
    chunks: &mut Vec<SpilledChunk>,
) -> Result<u64, SpillError> {
    let io = |source| SpillError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut header = [0u8; FILE_HEADER];
    if !fill(&mut r, &mut header).map_err(io)? || header[..4] != MAGIC || header[4] != VERSION {
        return Ok(0);
    }
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
            loc: SpillLoc::new(seq, at),
        });
        at += (RECORD_HEADER + len + CRC) as u64;
    }
    Ok(at)
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
    use std::fs::{self, OpenOptions};
    use std::os::unix::fs::FileExt;

    use super::*;
    use crate::tsdb::fs::real;

    fn write_three(dir: &Path) -> Vec<SpillLoc> {
        let (spill, found) = ChunkSpill::open(&real(), dir).unwrap();
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

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn reopen_finds_written_chunks_and_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let locs = write_three(dir.path());
        let (spill, found) = ChunkSpill::open(&real(), dir.path()).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[2].series_ref, SeriesRef(3));
        assert_eq!((found[2].min_t, found[2].max_t), (20, 29));
        assert_eq!(found.iter().map(|c| c.loc).collect::<Vec<_>>(), locs);
        let mut out = Vec::new();
        assert_eq!(spill.read(locs[1], &mut out).unwrap(), Encoding::Xor);
        assert_eq!(out, [1; 5]);
        // Buffered (not yet flushed) chunks read back too; they go to a new file.
        let loc = spill
            .write(SeriesRef(9), 0, 1, Encoding::Xor, &[7; 3])
            .unwrap();
        assert_eq!(loc.file(), 2);
        spill.read(loc, &mut out).unwrap();
        assert_eq!(out, [7; 3]);
        spill.flush().unwrap();
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
        let (_, found) = ChunkSpill::open(&real(), dir.path()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(fs::metadata(&path).unwrap().len(), locs[2].offset());
        // Damaged: a flipped byte in the second record's data.
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        f.write_all_at(&[0xff], locs[1].offset() + RECORD_HEADER as u64)
            .unwrap();
        let (_, found) = ChunkSpill::open(&real(), dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(fs::metadata(&path).unwrap().len(), locs[1].offset());
    }

    #[test]
    fn files_without_chunks_or_of_another_version_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        write_three(dir.path());
        // The first reopen leaves an empty 000002 behind; the next deletes it.
        drop(ChunkSpill::open(&real(), dir.path()).unwrap());
        let path = dir.path().join("000001");
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[VERSION + 1], 4).unwrap();
        let (_, found) = ChunkSpill::open(&real(), dir.path()).unwrap();
        assert!(found.is_empty());
        assert_eq!(names(dir.path()), ["000003"]);
    }

    #[test]
    fn remove_before_deletes_whole_files_that_end_earlier() {
        let dir = tempfile::tempdir().unwrap();
        let locs = write_three(dir.path());
        let (spill, _) = ChunkSpill::open(&real(), dir.path()).unwrap();
        let newer = spill
            .write(SeriesRef(4), 100, 200, Encoding::Xor, &[4; 5])
            .unwrap();
        // 000001 ends at 29, 000002 (current) at 200.
        assert_eq!(spill.remove_before(29).unwrap(), 0);
        assert_eq!(names(dir.path()), ["000001", "000002", "000003"]);
        assert_eq!(spill.remove_before(30).unwrap(), 1);
        assert_eq!(names(dir.path()), ["000002", "000003"]);
        let mut out = Vec::new();
        assert!(matches!(
            spill.read(locs[0], &mut out),
            Err(SpillError::Corrupt { .. })
        ));
        spill.read(newer, &mut out).unwrap();
        assert_eq!(out, [4; 5]);
        assert_eq!(spill.remove_before(201).unwrap(), 1);
        assert_eq!(names(dir.path()), ["000003"]);
    }

    #[test]
    fn garbage_file_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000001");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[VERSION, 0, 0, 0]);
        bytes.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        fs::write(&path, &bytes).unwrap();
        let (spill, found) = ChunkSpill::open(&real(), dir.path()).unwrap();
        assert!(found.is_empty());
        let mut out = Vec::new();
        assert!(spill.read(SpillLoc(3), &mut out).is_err());
        assert!(spill.read(SpillLoc(1 << 40), &mut out).is_err());
        assert!(spill.read(SpillLoc::new(2, 1 << 30), &mut out).is_err());
    }
}

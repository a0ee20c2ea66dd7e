//! A block's chunk segment files, `chunks/000001`, `chunks/000002`, …: every chunk
//! of the block, each framed as a stored chunk record with its CRC. The index
//! points at a chunk with a 64-bit reference, `segment number << 32 | offset`.
//!
//! [`ChunkWriter`] appends records through a buffer and starts a new segment when
//! the next record would not fit; [`ChunkReader`] maps the finished files (or reads
//! them with `pread`) and hands out a chunk's bytes after checking bounds and CRC.
//! Layout in docs/format/chunks.md, *Chunk segment files*.

use std::borrow::Cow;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{ByteSource, MmapFile, PreadFile};
use crate::model::varint;

/// File header: magic and format version, then three zero bytes.
const MAGIC: [u8; 4] = *b"TMBC";
const VERSION: u8 = 1;
const FILE_HEADER: u64 = 8;
/// The largest a segment may grow (and the default size of one).
pub const MAX_SEGMENT_SIZE: u64 = 512 << 20;
/// Bytes buffered before one write to a segment.
const WRITE_BUFFER: usize = 1 << 20;
/// A record's fixed parts beside its data: the encoding byte and the CRC.
const ENCODING: u64 = 1;
const CRC: u64 = 4;
/// Segment numbers are six decimal digits in file names.
const MAX_SEGMENTS: u32 = 999_999;
/// How much the reader asks for at first: the varint and, for the usual chunk of
/// a few hundred bytes, the whole record, so a `pread` reader needs one system
/// call per chunk (a map hands out the bytes without copying either way).
const FIRST_READ: u64 = 1024;

/// The file name of segment `n` (1-based).
pub fn chunk_segment_name(n: u32) -> String {
    format!("{n:06}")
}

fn parse_segment_name(name: &str) -> Option<u32> {
    if name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// A chunk reference: segment number in the high 32 bits, offset of the record in
/// that segment in the low 32.
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

fn split_ref(r: u64) -> (u32, u32) {
    ((r >> 32) as u32, r as u32)
}

/// Errors writing or reading chunk segment files. Each names the file, and where
/// it matters the byte offset in it.
#[derive(Debug, thiserror::Error)]
pub enum ChunkFileError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} offset {offset}: {source}", path.display())]
    IoAt {
        path: PathBuf,
        offset: u64,
        source: io::Error,
    },
    /// The bytes on disk (or the reference into them) are not a valid record.
    #[error("{} offset {offset}: {problem}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        problem: ChunkCorruption,
    },
    /// The writer refused a chunk; nothing was written.
    #[error("{} offset {offset}: {problem}", path.display())]
    Rejected {
        path: PathBuf,
        offset: u64,
        problem: ChunkRejection,
    },
}

/// What is wrong with a segment file or a record in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkCorruption {
    /// The file is shorter than its header.
    ShortHeader {
        len: u64,
    },
    BadMagic([u8; 4]),
    BadVersion(u8),
    /// The three bytes after the version are not zero.
    BadHeaderPadding([u8; 3]),
    /// A segment number is missing from the directory, or a reference names a
    /// segment the block does not have.
    NoSuchSegment {
        segments: u32,
    },
    /// The reference points into the file header.
    InHeader,
    /// The reference is at or past the end of the file.
    PastEnd {
        file_len: u64,
    },
    /// The length varint is cut short by the end of the file, longer than 10
    /// bytes, or overflows.
    BadLength,
    /// The record's length runs past the end of the file.
    RecordPastEnd {
        len: u64,
        file_len: u64,
    },
    CrcMismatch {
        stored: u32,
        computed: u32,
    },
    /// Encoding byte 0, which is never written.
    InvalidEncoding,
}

impl fmt::Display for ChunkCorruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkCorruption::ShortHeader { len } => write!(
                f,
                "file of {len} bytes is shorter than the {FILE_HEADER}-byte segment header"
            ),
            ChunkCorruption::BadMagic(m) => write!(
                f,
                "bad magic {m:02x?}, expected {MAGIC:02x?} (\"TMBC\"): not a chunk segment file"
            ),
            ChunkCorruption::BadVersion(v) => write!(
                f,
                "unsupported chunk segment format version {v} (this build reads {VERSION})"
            ),
            ChunkCorruption::BadHeaderPadding(p) => {
                write!(f, "segment header bytes 5..8 are {p:02x?}, not zero")
            }
            ChunkCorruption::NoSuchSegment { segments } => {
                write!(f, "no such chunk segment (the block has {segments})")
            }
            ChunkCorruption::InHeader => {
                write!(f, "chunk reference points into the segment header")
            }
            ChunkCorruption::PastEnd { file_len } => write!(
                f,
                "chunk reference past the end of the {file_len}-byte segment"
            ),
            ChunkCorruption::BadLength => write!(f, "malformed chunk length varint"),
            ChunkCorruption::RecordPastEnd { len, file_len } => write!(
                f,
                "chunk of {len} bytes runs past the end of the {file_len}-byte segment"
            ),
            ChunkCorruption::CrcMismatch { stored, computed } => write!(
                f,
                "CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            ChunkCorruption::InvalidEncoding => write!(f, "chunk encoding byte 0 is invalid"),
        }
    }
}

/// Why the writer refused a chunk or an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkRejection {
    /// The record would not fit even in an empty segment.
    TooLarge { len: usize, segment_size: u64 },
    /// Encoding byte 0 is never written.
    InvalidEncoding,
    /// Segment numbers have six digits.
    TooManySegments,
    /// The configured segment size is not in `9..=512 MiB`.
    BadSegmentSize(u64),
    /// An earlier write or fsync failed: what is on disk is incomplete.
    Failed,
}

impl fmt::Display for ChunkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkRejection::TooLarge { len, segment_size } => write!(
                f,
                "chunk of {len} bytes does not fit in a segment of {segment_size} bytes"
            ),
            ChunkRejection::InvalidEncoding => write!(f, "chunk encoding byte 0 is invalid"),
            ChunkRejection::TooManySegments => {
                write!(f, "more than {MAX_SEGMENTS} chunk segments in one block")
            }
            ChunkRejection::BadSegmentSize(s) => write!(
                f,
                "segment size {s} is not between {} and {MAX_SEGMENT_SIZE} bytes",
                FILE_HEADER + 1
            ),
            ChunkRejection::Failed => write!(
                f,
                "an earlier write of this chunk writer failed; the segment files are incomplete"
            ),
        }
    }
}

/// Options of a [`ChunkWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkWriterOptions {
    /// The most bytes a segment file holds, header included; at most
    /// [`MAX_SEGMENT_SIZE`] (the default). Smaller sizes are for tests.
    pub segment_size: u64,
}

impl Default for ChunkWriterOptions {
    fn default() -> Self {
        ChunkWriterOptions {
            segment_size: MAX_SEGMENT_SIZE,
        }
    }
}

/// What a finished [`ChunkWriter`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkFileStats {
    pub segments: u32,
    pub chunks: u64,
    /// Bytes of all segment files, headers included.
    pub bytes: u64,
}

/// The segment being written.
struct OpenSegment {
    number: u32,
    path: PathBuf,
    out: BufWriter<File>,
    /// Bytes written to it so far (buffered ones included).
    len: u64,
}

/// Writes the chunk segment files of a block being built. Chunks go through a
/// buffer; [`finish`](ChunkWriter::finish) writes out the rest and fsyncs the
/// files and the directory. A writer dropped without `finish` leaves files that
/// are incomplete: the block writer then deletes its temporary directory.
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    current: Option<OpenSegment>,
    stats: ChunkFileStats,
    /// Set by an I/O error: every later call fails.
    failed: bool,
}

impl ChunkWriter {
    /// Creates the `chunks` directory `dir` (and its parents) for a new block, with
    /// the default options.
    pub fn create(dir: &Path) -> Result<ChunkWriter, ChunkFileError> {
        ChunkWriter::create_with(dir, ChunkWriterOptions::default())
    }

    pub fn create_with(
        dir: &Path,
        options: ChunkWriterOptions,
    ) -> Result<ChunkWriter, ChunkFileError> {
        if !(FILE_HEADER + 1..=MAX_SEGMENT_SIZE).contains(&options.segment_size) {
            return Err(ChunkFileError::Rejected {
                path: dir.to_owned(),
                offset: 0,
                problem: ChunkRejection::BadSegmentSize(options.segment_size),
            });
        }
        fs::create_dir_all(dir).map_err(|source| ChunkFileError::Io {
            path: dir.to_owned(),
            source,
        })?;
        Ok(ChunkWriter {
            dir: dir.to_owned(),
            segment_size: options.segment_size,
            current: None,
            stats: ChunkFileStats::default(),
            failed: false,
        })
    }

    /// Appends one chunk, `data` in encoding `encoding` (never 0), and returns its
    /// reference.
    pub fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64, ChunkFileError> {
        self.check_failed()?;
        let result = self.write_record(encoding, data);
        if matches!(
            result,
            Err(ChunkFileError::Io { .. } | ChunkFileError::IoAt { .. })
        ) {
            self.failed = true;
        }
        result
    }

    fn check_failed(&self) -> Result<(), ChunkFileError> {
        if !self.failed {
            return Ok(());
        }
        Err(ChunkFileError::Rejected {
            path: self.dir.clone(),
            offset: 0,
            problem: ChunkRejection::Failed,
        })
    }

    fn write_record(&mut self, encoding: u8, data: &[u8]) -> Result<u64, ChunkFileError> {
        let mut varint = [0u8; varint::MAX_LEN];
        let varint_len = varint::put_uvarint(&mut varint, data.len() as u64);
        let record_len = varint_len as u64 + ENCODING + data.len() as u64 + CRC;
        if encoding == 0 || FILE_HEADER + record_len > self.segment_size {
            let (path, offset) = match &self.current {
                Some(s) => (s.path.clone(), s.len),
                None => (self.dir.join(chunk_segment_name(1)), FILE_HEADER),
            };
            let problem = if encoding == 0 {
                ChunkRejection::InvalidEncoding
            } else {
                ChunkRejection::TooLarge {
                    len: data.len(),
                    segment_size: self.segment_size,
                }
            };
            return Err(ChunkFileError::Rejected {
                path,
                offset,
                problem,
            });
        }
        let seg = match &mut self.current {
            Some(seg) if seg.len + record_len <= self.segment_size => seg,
            _ => {
                let next = self.cut()?;
                self.current.insert(next)
            }
        };
        let offset = seg.len;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[encoding]);
        crc.update(data);
        let crc = crc.finalize();
        let written = seg
            .out
            .write_all(&varint[..varint_len])
            .and_then(|()| seg.out.write_all(&[encoding]))
            .and_then(|()| seg.out.write_all(data))
            .and_then(|()| seg.out.write_all(&crc.to_be_bytes()));
        if let Err(source) = written {
            return Err(ChunkFileError::IoAt {
                path: seg.path.clone(),
                offset,
                source,
            });
        }
        seg.len += record_len;
        self.stats.chunks += 1;
        self.stats.bytes += record_len;
        // `offset` < segment_size <= 512 MiB: it fits the low 32 bits.
        Ok(chunk_ref(seg.number, offset as u32))
    }

    /// Closes the current segment (written out and fsynced) and opens the next.
    fn cut(&mut self) -> Result<OpenSegment, ChunkFileError> {
        let number = match self.current.take() {
            Some(seg) => {
                let n = seg.number;
                close(seg)?;
                n + 1
            }
            None => 1,
        };
        let path = self.dir.join(chunk_segment_name(number));
        if number > MAX_SEGMENTS {
            return Err(ChunkFileError::Rejected {
                path,
                offset: 0,
                problem: ChunkRejection::TooManySegments,
            });
        }
        let io = |source| ChunkFileError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut header = [0u8; FILE_HEADER as usize];
        header[..4].copy_from_slice(&MAGIC);
        header[4] = VERSION;
        out.write_all(&header).map_err(io)?;
        self.stats.segments += 1;
        self.stats.bytes += FILE_HEADER;
        Ok(OpenSegment {
            number,
            path,
            out,
            len: FILE_HEADER,
        })
    }

    /// Writes out the buffered chunks, fsyncs the last segment (the earlier ones
    /// were fsynced when the next one was started) and the directory.
    pub fn finish(mut self) -> Result<ChunkFileStats, ChunkFileError> {
        self.check_failed()?;
        if let Some(seg) = self.current.take() {
            close(seg)?;
        }
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| ChunkFileError::Io {
                path: self.dir.clone(),
                source,
            })?;
        Ok(self.stats)
    }
}

/// Writes out and fsyncs a segment.
fn close(seg: OpenSegment) -> Result<(), ChunkFileError> {
    let io = |source| ChunkFileError::Io {
        path: seg.path.clone(),
        source,
    };
    let file = seg.out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

/// How a [`ChunkReader`] reaches the bytes of its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Map each file read-only ([`MmapFile`]): chunks are borrowed from the map.
    Mmap,
    /// Read each chunk with a positioned read ([`PreadFile`]) into a new buffer.
    Pread,
}

struct Segment {
    path: PathBuf,
    bytes: Box<dyn ByteSource>,
}

/// Reads chunks from a finished block's segment files.
pub struct ChunkReader {
    dir: PathBuf,
    segments: Vec<Segment>,
}

impl fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkReader")
            .field("dir", &self.dir)
            .field("segments", &self.segments.len())
            .finish()
    }
}

impl ChunkReader {
    /// Opens every segment file of the `chunks` directory `dir`, in order, and
    /// checks their headers. Segments must be numbered from 1 without gaps; other
    /// file names are ignored.
    pub fn open(dir: &Path, how: Access) -> Result<ChunkReader, ChunkFileError> {
        let dir_err = |source| ChunkFileError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut numbers = Vec::new();
        for entry in fs::read_dir(dir).map_err(dir_err)? {
            let entry = entry.map_err(dir_err)?;
            if let Some(n) = entry.file_name().to_str().and_then(parse_segment_name) {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        let mut segments = Vec::with_capacity(numbers.len());
        for (i, &n) in numbers.iter().enumerate() {
            // Numbers are at most 999 999, so `i + 1` fits.
            let want = i as u32 + 1;
            if n != want {
                return Err(ChunkFileError::Corrupt {
                    path: dir.join(chunk_segment_name(want)),
                    offset: 0,
                    problem: ChunkCorruption::NoSuchSegment {
                        segments: numbers.len() as u32,
                    },
                });
            }
            let path = dir.join(chunk_segment_name(n));
            let io = |source| ChunkFileError::Io {
                path: path.clone(),
                source,
            };
            let bytes: Box<dyn ByteSource> = match how {
                Access::Mmap => Box::new(MmapFile::open(&path).map_err(io)?),
                Access::Pread => Box::new(PreadFile::open(&path).map_err(io)?),
            };
            check_header(&path, &*bytes)?;
            segments.push(Segment { path, bytes });
        }
        Ok(ChunkReader {
            dir: dir.to_owned(),
            segments,
        })
    }

    /// How many segment files the block has.
    pub fn segments(&self) -> u32 {
        self.segments.len() as u32
    }

    /// The encoding byte and data of the chunk at reference `r`, after checking
    /// that the record lies inside its segment and that its CRC matches. Any
    /// reference and any file bytes give a chunk or an error, never a panic.
    pub fn chunk(&self, r: u64) -> Result<(u8, Cow<'_, [u8]>), ChunkFileError> {
        let (number, offset) = split_ref(r);
        let offset = u64::from(offset);
        let Some(seg) = (number as usize)
            .checked_sub(1)
            .and_then(|i| self.segments.get(i))
        else {
            return Err(ChunkFileError::Corrupt {
                path: self.dir.join(chunk_segment_name(number)),
                offset,
                problem: ChunkCorruption::NoSuchSegment {
                    segments: self.segments(),
                },
            });
        };
        read_record(seg, offset)
    }
}

fn check_header(path: &Path, bytes: &dyn ByteSource) -> Result<(), ChunkFileError> {
    let corrupt = |offset, problem| ChunkFileError::Corrupt {
        path: path.to_owned(),
        offset,
        problem,
    };
    let len = bytes.len();
    if len < FILE_HEADER {
        return Err(corrupt(0, ChunkCorruption::ShortHeader { len }));
    }
    let h = bytes
        .read(0, FILE_HEADER as usize)
        .map_err(|source| ChunkFileError::IoAt {
            path: path.to_owned(),
            offset: 0,
            source,
        })?;
    let (magic, rest) = h.split_at(4);
    if magic != MAGIC {
        let mut m = [0u8; 4];
        m.copy_from_slice(magic);
        return Err(corrupt(0, ChunkCorruption::BadMagic(m)));
    }
    if rest[0] != VERSION {
        return Err(corrupt(4, ChunkCorruption::BadVersion(rest[0])));
    }
    if rest[1..] != [0, 0, 0] {
        return Err(corrupt(
            5,
            ChunkCorruption::BadHeaderPadding([rest[1], rest[2], rest[3]]),
        ));
    }
    Ok(())
}

/// Reads and checks the record at `offset` of `seg`; returns its encoding and data.
fn read_record(seg: &Segment, offset: u64) -> Result<(u8, Cow<'_, [u8]>), ChunkFileError> {
    let corrupt = |problem| ChunkFileError::Corrupt {
        path: seg.path.clone(),
        offset,
        problem,
    };
    let read = |at: u64, len: u64| {
        // Callers only ask for ranges inside the file; on a 32-bit system a
        // record longer than memory can address is reported as a read error.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        seg.bytes
            .read(at, len)
            .map_err(|source| ChunkFileError::IoAt {
                path: seg.path.clone(),
                offset: at,
                source,
            })
    };
    let file_len = seg.bytes.len();
    if offset < FILE_HEADER {
        return Err(corrupt(ChunkCorruption::InHeader));
    }
    if offset >= file_len {
        return Err(corrupt(ChunkCorruption::PastEnd { file_len }));
    }
    let first = read(offset, (file_len - offset).min(FIRST_READ))?;
    let mut varint_len = 0;
    let len = varint::uvarint(&first, &mut varint_len)
        .map_err(|_| corrupt(ChunkCorruption::BadLength))?;
    // Encoding byte, data and CRC, from `body_start` to `end`.
    let body_start = offset + varint_len as u64;
    let end = len
        .checked_add(ENCODING + CRC)
        .and_then(|n| n.checked_add(body_start))
        .filter(|&end| end <= file_len)
        .ok_or_else(|| corrupt(ChunkCorruption::RecordPastEnd { len, file_len }))?;
    let body = if end - offset <= first.len() as u64 {
        sub(first, varint_len, (end - offset) as usize)
    } else {
        drop(first);
        read(body_start, end - body_start)?
    };
    // The body has at least the CRC's 4 bytes and the encoding byte.
    let Some((record @ [encoding, ..], stored)) = body.split_last_chunk::<4>() else {
        return Err(corrupt(ChunkCorruption::RecordPastEnd { len, file_len }));
    };
    let stored = u32::from_be_bytes(*stored);
    let computed = crc32fast::hash(record);
    if stored != computed {
        return Err(corrupt(ChunkCorruption::CrcMismatch { stored, computed }));
    }
    let encoding = *encoding;
    if encoding == 0 {
        return Err(corrupt(ChunkCorruption::InvalidEncoding));
    }
    // Drop the encoding byte and the CRC.
    let data_end = body.len() - CRC as usize;
    Ok((encoding, sub(body, 1, data_end)))
}

/// `bytes[start..end]`, borrowing what was borrowed.
fn sub(bytes: Cow<'_, [u8]>, start: usize, end: usize) -> Cow<'_, [u8]> {
    match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(&b[start..end]),
        Cow::Owned(mut v) => {
            v.truncate(end);
            v.drain(..start);
            Cow::Owned(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use super::*;
    use crate::tsdb::chunk::{XorAppender, XorIter};

    type Samples = Vec<(i64, f64)>;

    /// `n` XOR chunks of 1 to `max_samples` samples each, and their samples.
    fn xor_chunks(
        rng: &mut fastrand::Rng,
        n: usize,
        max_samples: usize,
    ) -> Vec<(Vec<u8>, Samples)> {
        (0..n)
            .map(|_| {
                let mut app = XorAppender::new();
                let mut samples = Vec::new();
                let mut t = rng.i64(0..1 << 40);
                let mut v = rng.f64() * 1000.0;
                for _ in 0..rng.usize(1..=max_samples) {
                    t += rng.i64(1..30_000);
                    if rng.bool() {
                        v += rng.f64();
                    }
                    app.append(t, v);
                    samples.push((t, v));
                }
                (app.into_bytes(), samples)
            })
            .collect()
    }

    fn decode(data: &[u8]) -> Samples {
        let mut it = XorIter::new(data);
        let samples: Samples = it.by_ref().collect();
        assert_eq!(it.err(), None);
        samples
    }

    fn write_all(dir: &Path, segment_size: u64, chunks: &[Vec<u8>]) -> (Vec<u64>, ChunkFileStats) {
        let mut w = ChunkWriter::create_with(dir, ChunkWriterOptions { segment_size }).unwrap();
        let refs = chunks.iter().map(|c| w.write(1, c).unwrap()).collect();
        (refs, w.finish().unwrap())
    }

    fn segment_len(dir: &Path, n: u32) -> u64 {
        fs::metadata(dir.join(chunk_segment_name(n))).unwrap().len()
    }

    const BOTH: [Access; 2] = [Access::Mmap, Access::Pread];

    #[test]
    fn many_xor_chunks_round_trip_across_segments() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let mut rng = fastrand::Rng::with_seed(7);
        let chunks = xor_chunks(&mut rng, 500, 150);
        let data: Vec<Vec<u8>> = chunks.iter().map(|(c, _)| c.clone()).collect();
        let (refs, stats) = write_all(&dir, 4096, &data);

        assert_eq!(stats.chunks, 500);
        assert!(stats.segments >= 5, "{stats:?}");
        let on_disk: u64 = (1..=stats.segments).map(|n| segment_len(&dir, n)).sum();
        assert_eq!(stats.bytes, on_disk);
        for n in 1..=stats.segments {
            assert!(segment_len(&dir, n) <= 4096);
        }
        assert!(!dir.join(chunk_segment_name(stats.segments + 1)).exists());
        // References grow: segment by segment, offset by offset, from 000001 at 8.
        assert_eq!(refs[0], chunk_ref(1, 8));
        assert!(refs.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(split_ref(refs[refs.len() - 1]).0, stats.segments);

        for how in BOTH {
            let reader = ChunkReader::open(&dir, how).unwrap();
            assert_eq!(reader.segments(), stats.segments);
            for (r, (chunk, samples)) in refs.iter().zip(&chunks) {
                let (encoding, got) = reader.chunk(*r).unwrap();
                assert_eq!(encoding, 1);
                assert_eq!(&*got, chunk.as_slice());
                assert_eq!(matches!(got, Cow::Borrowed(_)), how == Access::Mmap);
                assert_eq!(&decode(&got), samples);
            }
        }
    }

    #[test]
    fn default_segment_size_holds_everything_in_one_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let mut rng = fastrand::Rng::with_seed(1);
        let chunks = xor_chunks(&mut rng, 50, 120);
        let mut w = ChunkWriter::create(&dir).unwrap();
        let refs: Vec<u64> = chunks.iter().map(|(c, _)| w.write(1, c).unwrap()).collect();
        let stats = w.finish().unwrap();
        assert_eq!((stats.segments, stats.chunks), (1, 50));
        let reader = ChunkReader::open(&dir, Access::Pread).unwrap();
        for (r, (c, _)) in refs.iter().zip(&chunks) {
            assert_eq!(reader.chunk(*r).unwrap(), (1, Cow::Borrowed(c.as_slice())));
        }
    }

    #[test]
    fn a_record_that_does_not_fit_starts_a_new_segment() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        // Records of 50 data bytes take 1 + 1 + 50 + 4 = 56 bytes.
        let mut w =
            ChunkWriter::create_with(&dir, ChunkWriterOptions { segment_size: 100 }).unwrap();
        assert_eq!(w.write(1, &[1; 50]).unwrap(), chunk_ref(1, 8));
        assert_eq!(w.write(2, &[2; 50]).unwrap(), chunk_ref(2, 8));
        // Exactly the room of an empty segment: 8 + 1 + 1 + 86 + 4 = 100.
        assert_eq!(w.write(3, &[3; 86]).unwrap(), chunk_ref(3, 8));
        let err = w.write(4, &[4; 87]).unwrap_err();
        assert!(
            matches!(
                err,
                ChunkFileError::Rejected {
                    problem: ChunkRejection::TooLarge {
                        len: 87,
                        segment_size: 100
                    },
                    ..
                }
            ),
            "{err}"
        );
        let err = w.write(0, &[0; 3]).unwrap_err();
        assert!(
            matches!(
                err,
                ChunkFileError::Rejected {
                    problem: ChunkRejection::InvalidEncoding,
                    ..
                }
            ),
            "{err}"
        );
        // An empty chunk is a valid record; refused writes left nothing behind.
        assert_eq!(w.write(5, &[]).unwrap(), chunk_ref(4, 8));
        let stats = w.finish().unwrap();
        assert_eq!(stats.segments, 4);
        assert_eq!(stats.chunks, 4);
        assert_eq!(segment_len(&dir, 3), 100);
        assert_eq!(segment_len(&dir, 4), 8 + 1 + 1 + 4);
        let reader = ChunkReader::open(&dir, Access::Mmap).unwrap();
        assert_eq!(
            reader.chunk(chunk_ref(2, 8)).unwrap(),
            (2, Cow::Borrowed(&[2u8; 50][..]))
        );
        assert_eq!(
            reader.chunk(chunk_ref(3, 8)).unwrap(),
            (3, Cow::Borrowed(&[3u8; 86][..]))
        );
        assert_eq!(
            reader.chunk(chunk_ref(4, 8)).unwrap(),
            (5, Cow::Borrowed(&[][..]))
        );

        for bad in [0, 8, MAX_SEGMENT_SIZE + 1] {
            let err = ChunkWriter::create_with(&dir, ChunkWriterOptions { segment_size: bad })
                .err()
                .unwrap();
            assert!(matches!(
                err,
                ChunkFileError::Rejected {
                    problem: ChunkRejection::BadSegmentSize(_),
                    ..
                }
            ));
        }
        // A writer never overwrites existing segments.
        let mut w = ChunkWriter::create(&dir).unwrap();
        let err = w.write(1, &[1]).unwrap_err();
        assert!(matches!(err, ChunkFileError::Io { .. }), "{err}");
        assert!(err.to_string().contains("000001"), "{err}");
        // After an I/O error the writer refuses everything.
        let err = w.write(1, &[1]).unwrap_err();
        assert!(
            matches!(
                err,
                ChunkFileError::Rejected {
                    problem: ChunkRejection::Failed,
                    ..
                }
            ),
            "{err}"
        );
        assert!(w.finish().is_err());
    }

    #[test]
    fn no_chunks_no_segments() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("block").join("chunks");
        let stats = ChunkWriter::create(&dir).unwrap().finish().unwrap();
        assert_eq!(stats, ChunkFileStats::default());
        assert!(dir.is_dir());
        for how in BOTH {
            let reader = ChunkReader::open(&dir, how).unwrap();
            assert_eq!(reader.segments(), 0);
            let err = reader.chunk(chunk_ref(1, 8)).unwrap_err();
            assert!(matches!(
                err,
                ChunkFileError::Corrupt {
                    problem: ChunkCorruption::NoSuchSegment { segments: 0 },
                    ..
                }
            ));
        }
        let err = ChunkReader::open(&tmp.path().join("nope"), Access::Mmap).unwrap_err();
        assert!(matches!(err, ChunkFileError::Io { .. }));
        assert!(err.to_string().contains("nope"), "{err}");
    }

    fn problem(err: &ChunkFileError) -> &ChunkCorruption {
        match err {
            ChunkFileError::Corrupt { problem, .. } => problem,
            other => panic!("not a corruption: {other}"),
        }
    }

    #[test]
    fn bad_references_are_errors_naming_segment_and_offset() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let mut rng = fastrand::Rng::with_seed(3);
        let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 30, 40)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let (refs, stats) = write_all(&dir, 512, &chunks);
        assert!(stats.segments >= 3);
        for how in BOTH {
            let reader = ChunkReader::open(&dir, how).unwrap();
            // Segments the block does not have.
            for r in [
                chunk_ref(0, 8),
                chunk_ref(stats.segments + 1, 8),
                chunk_ref(u32::MAX, u32::MAX),
            ] {
                let err = reader.chunk(r).unwrap_err();
                assert_eq!(
                    problem(&err),
                    &ChunkCorruption::NoSuchSegment {
                        segments: stats.segments
                    }
                );
                let (seg, off) = split_ref(r);
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("chunks/{} offset {off}:", chunk_segment_name(seg))),
                    "{msg}"
                );
            }
            for n in 1..=stats.segments {
                let len = segment_len(&dir, n);
                // Into the header.
                for off in 0..8 {
                    let err = reader.chunk(chunk_ref(n, off)).unwrap_err();
                    assert_eq!(problem(&err), &ChunkCorruption::InHeader);
                }
                // At or past the end.
                for off in [len, len + 1, u64::from(u32::MAX)] {
                    let err = reader.chunk(chunk_ref(n, off as u32)).unwrap_err();
                    assert_eq!(problem(&err), &ChunkCorruption::PastEnd { file_len: len });
                    let msg = err.to_string();
                    let want = format!(
                        "chunks/{} offset {off}: chunk reference past the end",
                        chunk_segment_name(n)
                    );
                    assert!(msg.contains(&want), "{msg}");
                }
            }
            // Into the middle of a record: every byte after its start.
            for (i, &r) in refs.iter().enumerate() {
                let (seg, start) = split_ref(r);
                let end = match refs.get(i + 1) {
                    Some(&next) if split_ref(next).0 == seg => split_ref(next).1,
                    _ => segment_len(&dir, seg) as u32,
                };
                for off in start + 1..end {
                    let err = reader.chunk(chunk_ref(seg, off)).unwrap_err();
                    let msg = err.to_string();
                    assert!(
                        msg.contains(&format!(
                            "chunks/{} offset {off}: ",
                            chunk_segment_name(seg)
                        )),
                        "{msg}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_gives_an_error_or_the_exact_chunk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let mut rng = fastrand::Rng::with_seed(11);
        let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 12, 12)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let (refs, stats) = write_all(&dir, 200, &chunks);
        assert!(stats.segments >= 3, "{stats:?}");
        let mut failures = 0;
        for n in 1..=stats.segments {
            let path = dir.join(chunk_segment_name(n));
            let original = fs::read(&path).unwrap();
            let file = OpenOptions::new().write(true).open(&path).unwrap();
            for pos in 0..original.len() {
                for mask in [0x01u8, 0x80, 0xff] {
                    file.write_all_at(&[original[pos] ^ mask], pos as u64)
                        .unwrap();
                    for how in BOTH {
                        let reader = match ChunkReader::open(&dir, how) {
                            Ok(reader) => reader,
                            Err(err) => {
                                // Only a damaged header stops the whole block.
                                assert!(pos < 8, "{pos}: {err}");
                                assert!(
                                    err.to_string()
                                        .contains(&format!("chunks/{}", chunk_segment_name(n)))
                                );
                                continue;
                            }
                        };
                        assert!(pos >= 8, "a damaged header at {pos} went unnoticed");
                        for (r, chunk) in refs.iter().zip(&chunks) {
                            let (seg, start) = split_ref(*r);
                            match reader.chunk(*r) {
                                Ok((encoding, data)) => {
                                    assert_eq!(
                                        (encoding, &*data),
                                        (1, chunk.as_slice()),
                                        "{pos} {mask}"
                                    );
                                    // The damaged record is the one holding `pos`.
                                    let hit = seg == n
                                        && pos as u64 >= u64::from(start)
                                        && pos as u64 - u64::from(start) < (chunk.len() + 6) as u64;
                                    assert!(!hit, "flip at {pos} of record at {start} unnoticed");
                                }
                                Err(err) => {
                                    failures += 1;
                                    assert_eq!(seg, n, "{err}");
                                    let msg = err.to_string();
                                    assert!(
                                        msg.contains(&format!(
                                            "chunks/{} offset {start}: ",
                                            chunk_segment_name(n)
                                        )),
                                        "{msg}"
                                    );
                                }
                            }
                        }
                    }
                    file.write_all_at(&original[pos..pos + 1], pos as u64)
                        .unwrap();
                }
            }
        }
        assert!(failures > 0);
    }

    #[test]
    fn truncated_segment_fails_only_its_cut_record() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let mut rng = fastrand::Rng::with_seed(5);
        let chunks: Vec<Vec<u8>> = xor_chunks(&mut rng, 20, 30)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let (refs, stats) = write_all(&dir, 400, &chunks);
        let last = stats.segments;
        let path = dir.join(chunk_segment_name(last));
        let len = segment_len(&dir, last);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        for how in BOTH {
            let reader = ChunkReader::open(&dir, how).unwrap();
            let (last_ref, others) = refs.split_last().unwrap();
            for (r, c) in others.iter().zip(&chunks) {
                assert_eq!(&*reader.chunk(*r).unwrap().1, c.as_slice());
            }
            let err = reader.chunk(*last_ref).unwrap_err();
            assert!(
                matches!(problem(&err), ChunkCorruption::RecordPastEnd { .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_headers_and_missing_segments_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        let chunks = vec![vec![0u8, 0]; 6];
        let (_, stats) = write_all(&dir, 30, &chunks);
        assert_eq!(stats.segments, 3);
        let second = dir.join(chunk_segment_name(2));
        let good = fs::read(&second).unwrap();
        let cases: [(&[u8], ChunkCorruption, &str); 6] = [
            (
                b"XXXX\x01\0\0\0",
                ChunkCorruption::BadMagic(*b"XXXX"),
                "offset 0: bad magic",
            ),
            (
                b"TMBC\x02\0\0\0",
                ChunkCorruption::BadVersion(2),
                "offset 4: unsupported chunk segment format version 2",
            ),
            (
                b"TMBC\x01\0\x07\0",
                ChunkCorruption::BadHeaderPadding([0, 7, 0]),
                "offset 5: segment header bytes",
            ),
            (
                b"TMBC\x01",
                ChunkCorruption::ShortHeader { len: 5 },
                "offset 0: file of 5 bytes",
            ),
            (
                b"",
                ChunkCorruption::ShortHeader { len: 0 },
                "offset 0: file of 0 bytes",
            ),
            (
                b"TMHC\x01\0\0\0",
                ChunkCorruption::BadMagic(*b"TMHC"),
                "not a chunk segment file",
            ),
        ];
        for (bytes, want, text) in cases {
            fs::write(&second, bytes).unwrap();
            for how in BOTH {
                let err = ChunkReader::open(&dir, how).unwrap_err();
                assert_eq!(problem(&err), &want);
                let msg = err.to_string();
                assert!(
                    msg.contains("chunks/000002 ") && msg.contains(text),
                    "{msg}"
                );
            }
        }
        fs::write(&second, &good).unwrap();
        ChunkReader::open(&dir, Access::Mmap).unwrap();

        // Names that are not segments are ignored; a gap is an error.
        fs::write(dir.join("000004.tmp"), b"junk").unwrap();
        fs::write(dir.join("notes"), b"junk").unwrap();
        assert_eq!(
            ChunkReader::open(&dir, Access::Pread).unwrap().segments(),
            3
        );
        fs::remove_file(&second).unwrap();
        let err = ChunkReader::open(&dir, Access::Mmap).unwrap_err();
        assert_eq!(
            problem(&err),
            &ChunkCorruption::NoSuchSegment { segments: 2 }
        );
        assert!(
            err.to_string()
                .contains("chunks/000002 offset 0: no such chunk segment"),
            "{err}"
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("chunks");
        fs::create_dir(&dir).unwrap();
        let mut rng = fastrand::Rng::with_seed(42);
        for round in 0..40 {
            let mut bytes = b"TMBC\x01\0\0\0".to_vec();
            let len = rng.usize(0..300);
            // Mostly continuation bits in some rounds: long or overflowing varints.
            let high = round % 4 == 0;
            bytes.extend((0..len).map(|_| if high { rng.u8(0x80..) } else { rng.u8(..) }));
            if round % 5 == 0 {
                // A record whose length claims far more than the file holds.
                bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
            }
            fs::write(dir.join(chunk_segment_name(1)), &bytes).unwrap();
            for how in BOTH {
                let reader = ChunkReader::open(&dir, how).unwrap();
                for off in 0..bytes.len() as u32 + 2 {
                    let _ = reader.chunk(chunk_ref(1, off));
                }
                for _ in 0..50 {
                    let _ = reader.chunk(rng.u64(..));
                }
            }
        }
    }
}

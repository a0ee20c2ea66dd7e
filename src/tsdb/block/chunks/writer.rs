//! [`ChunkWriter`]: appends records to a block's segment files through a
//! buffer, starting a new segment when the next record would not fit.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ChunkFileError, ChunkRejection};
use super::segment::{
    CRC, ENCODING, FILE_HEADER, MAGIC, MAX_SEGMENT_SIZE, MAX_SEGMENTS, VERSION, chunk_ref,
    chunk_segment_name,
};
use crate::model::varint;
use crate::tsdb::fs::{File, Fs, OpenMode};

/// Bytes buffered before one write to a segment.
const WRITE_BUFFER: usize = 1 << 20;

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
    out: BufWriter<Box<dyn File>>,
    /// Bytes written to it so far (buffered ones included).
    len: u64,
}

/// Writes the chunk segment files of a block being built. Chunks go through a
/// buffer; [`finish`](ChunkWriter::finish) writes out the rest and fsyncs the
/// files and the directory. A writer dropped without `finish` leaves files that
/// are incomplete: the block writer then deletes its temporary directory.
pub struct ChunkWriter {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    segment_size: u64,
    current: Option<OpenSegment>,
    stats: ChunkFileStats,
    /// Set by an I/O error: every later call fails.
    failed: bool,
}

impl ChunkWriter {
    /// Creates the `chunks` directory `dir` (and its parents) for a new block
    /// through `fs`, with the default options.
    pub fn create(fs: &Arc<dyn Fs>, dir: &Path) -> Result<ChunkWriter, ChunkFileError> {
        ChunkWriter::create_with(fs, dir, ChunkWriterOptions::default())
    }

    pub fn create_with(
        fs: &Arc<dyn Fs>,
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
        fs.create_dir_all(dir)
            .map_err(|source| ChunkFileError::Io {
                path: dir.to_owned(),
                source,
            })?;
        Ok(ChunkWriter {
            fs: Arc::clone(fs),
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
        let file = self.fs.open(&path, OpenMode::CreateNew).map_err(io)?;
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
        self.fs
            .sync_dir(&self.dir)
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

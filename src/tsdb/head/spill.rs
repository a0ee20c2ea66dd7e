//! Full head chunks, moved out of memory into `chunks_head/`.
//!
//! A series keeps only its open chunk in memory; when a chunk is cut, its bytes are
//! appended to the spill file and the series keeps a 24-byte reference. This is
//! what keeps head memory per series flat however many samples the head holds
//! (Prometheus does the same with its memory-mapped head chunks).
//!
//! The file is not mmap'd: it is still being written, and only immutable files are
//! mapped (DESIGN.md). Reads use `pread`, or the in-memory write buffer for chunks
//! not yet written out. The spill file is scratch space: the WAL is the source of
//! truth, so it is recreated empty on every open and rebuilt by WAL replay. Record
//! layout (see docs/format/chunks.md): `len u32 BE | encoding u8 | chunk bytes |
//! CRC32 u32 BE` over encoding and bytes.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::tsdb::chunk::Encoding;

/// Bytes buffered before one write to the file.
const WRITE_BUFFER: usize = 1 << 20;
/// Bytes of framing around each chunk: length, encoding, CRC.
const FRAME: usize = 4 + 1 + 4;

/// Where a spilled chunk starts in the spill file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpillLoc(pub(crate) u64);

/// Errors reading or writing the spill file.
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

/// The spill file of one open head.
pub(crate) struct ChunkSpill {
    path: PathBuf,
    /// Written with `pwrite` under the writer lock, read with `pread` without it:
    /// a byte below `flushed` is never written again.
    file: File,
    w: Mutex<Writer>,
}

impl ChunkSpill {
    /// Creates `dir` and an empty spill file in it, discarding earlier contents.
    pub(crate) fn create(dir: &Path) -> Result<ChunkSpill, SpillError> {
        let io = |source| SpillError::Io {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("000001");
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| SpillError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(ChunkSpill {
            path,
            file,
            w: Mutex::new(Writer {
                buf: Vec::with_capacity(WRITE_BUFFER),
                flushed: 0,
            }),
        })
    }

    fn io(&self, source: std::io::Error) -> SpillError {
        SpillError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one chunk and returns where it is.
    pub(crate) fn write(&self, enc: Encoding, chunk: &[u8]) -> Result<SpillLoc, SpillError> {
        let mut w = self.w.lock();
        let loc = SpillLoc(w.flushed + w.buf.len() as u64);
        let len = u32::try_from(chunk.len()).map_err(|_| SpillError::Corrupt {
            path: self.path.clone(),
            offset: loc.0,
            reason: format!("chunk of {} bytes is too large", chunk.len()),
        })?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[enc as u8]);
        crc.update(chunk);
        w.buf.extend_from_slice(&len.to_be_bytes());
        w.buf.push(enc as u8);
        w.buf.extend_from_slice(chunk);
        w.buf.extend_from_slice(&crc.finalize().to_be_bytes());
        if w.buf.len() >= WRITE_BUFFER {
            self.write_out(&mut w)?;
        }
        Ok(loc)
    }

    /// Reads the chunk at `loc` into `out` (cleared first) and returns its encoding.
    pub(crate) fn read(&self, loc: SpillLoc, out: &mut Vec<u8>) -> Result<Encoding, SpillError> {
        out.clear();
        let corrupt = |reason: String| SpillError::Corrupt {
            path: self.path.clone(),
            offset: loc.0,
            reason,
        };
        let mut header = [0u8; 5];
        {
            let w = self.w.lock();
            if loc.0 >= w.flushed {
                // Still in the write buffer: copy it out under the lock.
                let start =
                    usize::try_from(loc.0 - w.flushed).map_err(|_| corrupt("offset".into()))?;
                let frame = w
                    .buf
                    .get(start..)
                    .filter(|b| b.len() >= FRAME)
                    .ok_or_else(|| corrupt("chunk reference past the end of the file".into()))?;
                header.copy_from_slice(&frame[..5]);
                let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
                let body = frame
                    .get(5..5 + len + 4)
                    .ok_or_else(|| corrupt("chunk runs past the end of the file".into()))?;
                out.extend_from_slice(body);
            }
        }
        if out.is_empty() {
            let file = &self.file;
            file.read_exact_at(&mut header, loc.0)
                .map_err(|e| self.io(e))?;
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            out.resize(len + 4, 0);
            file.read_exact_at(out, loc.0 + 5).map_err(|e| self.io(e))?;
        }
        let len = out.len() - 4;
        let want = u32::from_be_bytes([out[len], out[len + 1], out[len + 2], out[len + 3]]);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header[4..5]);
        crc.update(&out[..len]);
        if crc.finalize() != want {
            return Err(corrupt("CRC32 mismatch".into()));
        }
        out.truncate(len);
        Encoding::try_from(header[4]).map_err(|e| corrupt(e.to_string()))
    }

    /// Writes out buffered chunks (the file is scratch space: no fsync).
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

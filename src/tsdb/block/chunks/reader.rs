//! [`ChunkReader`]: the chunks of a finished block's segment files, bounds- and
//! CRC-checked.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{ChunkCorruption, ChunkFileError};
use super::segment::{
    CRC, ENCODING, FILE_HEADER, MAGIC, VERSION, chunk_segment_name, parse_segment_name, split_ref,
};
use crate::model::varint;
use crate::tsdb::fs::{Access, ByteSource, FileSource, Fs};

/// How much the reader asks for at first: the varint and, for the usual chunk of
/// a few hundred bytes, the whole record, so a `pread` reader needs one system
/// call per chunk (a map hands out the bytes without copying either way).
const FIRST_READ: u64 = 1024;

struct Segment {
    path: PathBuf,
    bytes: FileSource,
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
    /// file names are ignored. The files are reached through `fs` as `how` says
    /// (mapped, chunks borrowed from the map; or read with `pread`).
    pub fn open(fs: &dyn Fs, dir: &Path, how: Access) -> Result<ChunkReader, ChunkFileError> {
        let dir_err = |source| ChunkFileError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut numbers = Vec::new();
        for entry in fs.read_dir(dir).map_err(dir_err)? {
            if let Some(n) = entry.name.to_str().and_then(parse_segment_name) {
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
            let bytes = FileSource::open(fs, &path, how).map_err(io)?;
            check_header(&path, &bytes)?;
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

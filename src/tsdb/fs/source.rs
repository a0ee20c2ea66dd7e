//! Read access to the immutable files of a block. Readers of the index and chunk
//! files see a [`ByteSource`]: a file mapped into memory
//! ([`MmapFile`](super::MmapFile)), a file read with `pread`
//! ([`PreadFile`](super::PreadFile)), or bytes already in memory (tests,
//! fuzzing), all the same to them.

use std::borrow::Cow;
use std::io;

/// Random read access to an immutable byte string.
pub trait ByteSource: Send + Sync {
    /// Its length in bytes.
    fn len(&self) -> u64;

    /// True when it holds no byte.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `len` bytes at `offset`: borrowed where the bytes are in memory, read
    /// into a buffer otherwise. A range past the end is an `UnexpectedEof` error.
    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>>;
}

pub(super) fn out_of_range(offset: u64, len: usize, size: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("read of {len} bytes at offset {offset} past the end ({size} bytes)"),
    )
}

impl ByteSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        usize::try_from(offset)
            .ok()
            .and_then(|start| self.get(start..start.checked_add(len)?))
            .map(Cow::Borrowed)
            .ok_or_else(|| out_of_range(offset, len, <[u8]>::len(self) as u64))
    }
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        self.as_slice().read(offset, len)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::tsdb::fs::{Access, FileSource, PreadFile, RealFs};

    /// `source` holds `bytes`: the same answers as the bytes in memory for every
    /// offset and length, and `UnexpectedEof` past the end.
    pub(in crate::tsdb::fs) fn check<S: ByteSource + ?Sized>(source: &S, bytes: &[u8]) {
        assert_eq!(source.len(), bytes.len() as u64);
        assert_eq!(source.is_empty(), bytes.is_empty());
        for (offset, len) in [
            (0, bytes.len() + 1),
            (bytes.len() as u64, 1),
            (u64::MAX, 1),
            (1, usize::MAX),
        ] {
            let err = source.read(offset, len).expect_err("past the end");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{offset} {len}");
        }
        for offset in 0..=bytes.len() as u64 + 1 {
            for len in 0..=bytes.len() + 1 - offset.min(bytes.len() as u64) as usize {
                let start = usize::try_from(offset).expect("small");
                let want = bytes.get(start..start + len);
                match (want, source.read(offset, len)) {
                    (Some(w), Ok(g)) => assert_eq!(w, &*g, "{offset} {len}"),
                    (None, Err(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
                    (w, g) => panic!("{offset} {len}: want {w:?}, got {g:?}"),
                }
            }
        }
    }

    #[test]
    fn memory_and_pread_agree() {
        let bytes: Vec<u8> = (0..=63).collect();
        check(bytes.as_slice(), &bytes);
        check(&bytes, &bytes);
        check(&[][..], b"");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, &bytes).expect("write");
        let file = PreadFile::open(&RealFs, &path).expect("open");
        assert_eq!(file.path(), path);
        check(&file, &bytes);
        for access in [Access::Mmap, Access::Pread] {
            check(
                &FileSource::open(&RealFs, &path, access).expect("open"),
                &bytes,
            );
            let err =
                FileSource::open(&RealFs, &dir.path().join("nope"), access).expect_err("missing");
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
        }
    }
}

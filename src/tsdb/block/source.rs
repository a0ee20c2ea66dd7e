//! Read access to the immutable files of a block. Readers of the index and chunk
//! files see a [`ByteSource`]: a file mapped into memory, a file read with
//! `pread` ([`PreadFile`]), or bytes already in memory (tests, fuzzing), all the
//! same to them.

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

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

fn out_of_range(offset: u64, len: usize, size: u64) -> io::Error {
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

/// A file read with positioned reads: no mapping, one system call a read.
#[derive(Debug)]
pub struct PreadFile {
    file: File,
    len: u64,
    path: PathBuf,
}

impl PreadFile {
    pub fn open(path: &Path) -> io::Result<PreadFile> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(PreadFile {
            file,
            len,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ByteSource for PreadFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        if offset
            .checked_add(len as u64)
            .is_none_or(|end| end > self.len)
        {
            return Err(out_of_range(offset, len, self.len));
        }
        let mut buf = vec![0u8; len];
        read_exact_at(&self.file, &mut buf, offset)?;
        Ok(Cow::Owned(buf))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `source` holds `bytes`: the same answers as the bytes in memory for every
    /// offset and length, and `UnexpectedEof` past the end.
    pub(in crate::tsdb::block) fn check<S: ByteSource + ?Sized>(source: &S, bytes: &[u8]) {
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
        check(&PreadFile::open(&path).expect("open"), &bytes);
    }
}

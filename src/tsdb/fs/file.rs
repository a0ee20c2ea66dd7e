//! [`File`]: an open file, and how [`Fs::open`](super::Fs::open) opens one
//! ([`OpenMode`]).

use std::fmt;
use std::io::{self, Read};

/// An open file. Sequential reads and writes move the file's cursor; the
/// positioned ones (`pread`, `pwrite`) neither use nor move it and may be
/// called from several threads at once.
pub trait File: io::Read + io::Write + Send + Sync + fmt::Debug {
    /// Its size in bytes.
    fn size(&self) -> io::Result<u64>;

    /// Fills `buf` from `offset`; `UnexpectedEof` if the file ends first.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;

    /// Writes all of `buf` at `offset`.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// Cuts the file to `len` bytes (or extends it with zeros).
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// Fsyncs the file's bytes and metadata.
    fn sync_all(&self) -> io::Result<()>;

    /// Fsyncs the file's bytes (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;

    /// Takes an exclusive advisory lock on the file, without waiting; it is
    /// held until the file is closed.
    fn try_lock(&self) -> Result<(), std::fs::TryLockError>;
}

/// How [`Fs::open`](super::Fs::open) opens a file. Every mode but `Read` opens
/// it for reading and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// An existing file, read only.
    Read,
    /// An existing file.
    ReadWrite,
    /// A new file: an error if one is at the path.
    CreateNew,
    /// A new file, or an existing one emptied.
    Truncate,
    /// A new file, or an existing one as it is.
    Create,
}

/// Reads from `src` until `buf` is full or the input ends; returns the bytes
/// read.
pub(crate) fn read_full(src: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

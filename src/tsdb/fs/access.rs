//! [`Access`]: how the readers of a finished file reach its bytes, and
//! [`FileSource`], the file opened that way.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use super::mmap::MmapFile;
use super::pread::PreadFile;
use super::source::ByteSource;
use super::system::Fs;

/// How the readers of a finished block reach the bytes of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Map each file read-only ([`MmapFile`]): reads borrow from the map.
    Mmap,
    /// Read with a positioned read ([`PreadFile`]) into a new buffer each time.
    Pread,
}

/// A finished file opened as an [`Access`] says.
#[derive(Debug)]
pub enum FileSource {
    Mmap(MmapFile),
    Pread(PreadFile),
}

impl FileSource {
    /// Opens the file at `path` through `fs`: maps it, or opens it for `pread`.
    pub fn open(fs: &dyn Fs, path: &Path, access: Access) -> io::Result<FileSource> {
        match access {
            Access::Mmap => fs.map(path).map(FileSource::Mmap),
            Access::Pread => PreadFile::open(fs, path).map(FileSource::Pread),
        }
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        match self {
            FileSource::Mmap(f) => f.len(),
            FileSource::Pread(f) => f.len(),
        }
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        match self {
            FileSource::Mmap(f) => f.read(offset, len),
            FileSource::Pread(f) => f.read(offset, len),
        }
    }
}

//! [`PreadFile`]: a finished file read with positioned reads.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

use super::file::{File, OpenMode};
use super::source::{ByteSource, out_of_range};
use super::system::Fs;

/// A file read with positioned reads: no mapping, one system call a read.
#[derive(Debug)]
pub struct PreadFile {
    file: Box<dyn File>,
    len: u64,
    path: PathBuf,
}

impl PreadFile {
    /// Opens the file at `path` through `fs`.
    pub fn open(fs: &dyn Fs, path: &Path) -> io::Result<PreadFile> {
        let file = fs.open(path, OpenMode::Read)?;
        let len = file.size()?;
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
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(Cow::Owned(buf))
    }
}

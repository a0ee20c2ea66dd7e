//! [`Fs`]: the operations of a file system on names, and what they report
//! ([`DirEntry`], [`Metadata`]).

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use super::file::{File, OpenMode};
use super::mmap::MmapFile;

/// The operations on names of a file system: what the database asks of one.
/// Paths are those the database was given (its data directory and what it
/// joins to it).
pub trait Fs: Send + Sync + fmt::Debug {
    /// Opens the file at `path` as `mode` says.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn File>>;

    /// Maps the file at `path` read-only. Only files that are immutable,
    /// fsynced and renamed into place are mapped (see [`MmapFile`]).
    fn map(&self, path: &Path) -> io::Result<MmapFile>;

    /// What is at `path`, following a symbolic link.
    fn metadata(&self, path: &Path) -> io::Result<Metadata>;

    /// The entries of the directory at `path`, in no particular order.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>>;

    /// Creates the directory `path`; its parent must exist, it must not.
    fn create_dir(&self, path: &Path) -> io::Result<()>;

    /// Creates the directory `path` and any missing parent.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;

    /// Fsyncs the directory `path`: the entries created, renamed or removed in
    /// it become durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;

    /// Renames `from` to `to` (atomically, replacing a file at `to`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Makes `link` a second name of the file `original`.
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()>;

    /// Removes the file `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Removes the directory `path` and everything in it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;

    /// Whether something is at `path`.
    fn exists(&self, path: &Path) -> bool {
        self.metadata(path).is_ok()
    }

    /// The whole content of the file at `path`.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let mut file = self.open(path, OpenMode::Read)?;
        let mut out = Vec::new();
        file.read_to_end(&mut out)?;
        Ok(out)
    }
}

/// What a directory entry or a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    /// A symbolic link (in a listing), a socket, a device, …
    Other,
}

/// An entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name in the directory.
    pub name: OsString,
    /// What it is, not following a symbolic link.
    pub kind: FileKind,
}

/// What [`Fs::metadata`] tells about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub kind: FileKind,
    /// Length in bytes (of a file).
    pub len: u64,
}

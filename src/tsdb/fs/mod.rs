//! Storage file I/O: every file the database creates, writes, syncs, renames,
//! maps, reads, lists or removes is reached through an [`Fs`], so that a test can
//! put a file system in its place that fails a chosen write or fsync.
//!
//! - [`Fs`] acts on names: opens a [`File`] ([`OpenMode`]), maps a finished file
//!   ([`MmapFile`]), lists a directory ([`DirEntry`]), creates, renames, links
//!   and removes, and fsyncs a directory. [`RealFs`] is the operating system's;
//!   [`real`] hands one out.
//! - [`File`] is an open file: sequential and positioned reads and writes, its
//!   size, fsync, and the lock of a data directory.
//! - Finished, immutable files are read as a [`ByteSource`]: mapped
//!   ([`MmapFile`]) or with `pread` ([`PreadFile`]), as [`Access`] says
//!   ([`FileSource`] is either).
//! - [`replace_file`] replaces a small file so that a crash leaves the old bytes
//!   or the new ones.
//!
//! The database holds its `Fs` as an `Arc<dyn Fs>` (`tsdb::Options::fs`, the
//! real one by default) and hands it to the WAL, the head chunk files and the
//! blocks, which keep a clone; functions that only act once borrow a `&dyn Fs`.
//! A trait object rather than a type parameter: every call through it is a
//! system call, beside which an indirect call costs nothing, while a parameter
//! would run through every storage type and signature (`Db<F>`, `Block<F>`,
//! `Wal<F>`, …). No call through it sits in a per-sample loop: the WAL and chunk
//! writers buffer and hand over whole pages, a block file is opened or mapped
//! through it once, and reading a mapped slice is plain memory.
//!
//! The one `unsafe` block of tidemark, the map, is in `mmap.rs`.

mod access;
mod file;
mod mmap;
mod pread;
mod real;
mod replace;
mod source;
mod system;

pub use access::{Access, FileSource};
pub(crate) use file::read_full;
pub use file::{File, OpenMode};
pub use mmap::MmapFile;
pub use pread::PreadFile;
pub use real::{RealFs, real};
pub use replace::{ReplaceError, replace_file};
pub use source::ByteSource;
pub use system::{DirEntry, FileKind, Fs, Metadata};

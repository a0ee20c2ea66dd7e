//! A block file mapped read-only into memory: reads borrow straight from the page
//! cache, with no system call and no copy.
//!
//! The only module of tidemark with `unsafe` code: mapping a file is unsafe in Rust
//! because the bytes behind the map can change (or vanish) under it. DESIGN.md's
//! rule keeps that from happening here: only immutable, fsynced, renamed block
//! files are mapped.
#![allow(unsafe_code)]

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::source::ByteSource;

/// An immutable file mapped read-only. An empty file has no map (a map of length
/// 0 is an error on most systems) and reads as the empty byte string.
#[derive(Debug)]
pub struct MmapFile {
    map: Option<Mmap>,
    path: PathBuf,
}

impl MmapFile {
    /// Maps the file at `path`. It must be a finished block file: see the safety
    /// note inside. Reached through [`Fs::map`](super::Fs::map).
    pub(super) fn open(path: &Path) -> io::Result<MmapFile> {
        let file = File::open(path)?;
        let map = if file.metadata()?.len() == 0 {
            None
        } else {
            // SAFETY: a map is sound only while nobody changes the mapped bytes or
            // shortens the file. tidemark maps nothing but block files, which are
            // written in a temporary directory, fsynced, and renamed into place
            // before any reader opens them; nothing in tidemark writes to a block
            // file after that (compaction writes new blocks, deletion unlinks whole
            // directories, and an unlinked file stays mapped until the map drops).
            // The map is read-only, so no `&[u8]` handed out can alias a `&mut`.
            // What tidemark cannot rule out is another process truncating or
            // rewriting the file in place: a read past the new end then raises
            // SIGBUS and the process dies, and rewritten bytes show through. The
            // block readers check every chunk's and index section's CRC, so
            // changed bytes give an error, not wrong data or a panic; truncation
            // by someone else remains fatal, as it is for Prometheus.
            Some(unsafe { Mmap::map(&file)? })
        };
        Ok(MmapFile {
            map,
            path: path.to_owned(),
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ByteSource for MmapFile {
    fn len(&self) -> u64 {
        self.bytes().len() as u64
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Cow<'_, [u8]>> {
        self.bytes().read(offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks of source.rs's tests, and that a map's reads borrow.
    fn check(source: &MmapFile, bytes: &[u8]) {
        crate::tsdb::fs::source::tests::check(source, bytes);
        assert_eq!(source.bytes(), bytes);
        if bytes.len() >= 5 {
            let middle = source.read(2, 3).expect("middle");
            assert!(matches!(middle, Cow::Borrowed(_)), "a map read borrows");
        }
    }

    #[test]
    fn memory_and_mmap_agree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bytes: Vec<u8> = (0..=255).collect();
        let path = dir.path().join("f");
        std::fs::write(&path, &bytes).expect("write");
        let map = MmapFile::open(&path).expect("open");
        assert_eq!(map.path(), path);
        check(&map, &bytes);
    }

    #[test]
    fn empty_file_maps_to_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").expect("write");
        check(&MmapFile::open(&path).expect("open"), b"");
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = MmapFile::open(&dir.path().join("nope")).expect_err("missing");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}

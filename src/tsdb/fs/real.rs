//! [`RealFs`]: the [`Fs`] of the operating system, over `std::fs`.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::path::Path;

use std::sync::Arc;

use super::file::{File, OpenMode};
use super::mmap::MmapFile;
use super::system::{DirEntry, FileKind, Fs, Metadata};

/// The operating system's file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

/// The operating system's file system, as an `Arc<dyn Fs>`.
pub fn real() -> Arc<dyn Fs> {
    Arc::new(RealFs)
}

fn kind(t: std::fs::FileType) -> FileKind {
    if t.is_file() {
        FileKind::File
    } else if t.is_dir() {
        FileKind::Dir
    } else {
        FileKind::Other
    }
}

impl Fs for RealFs {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn File>> {
        let mut o = std::fs::OpenOptions::new();
        match mode {
            OpenMode::Read => o.read(true),
            OpenMode::ReadWrite => o.read(true).write(true),
            OpenMode::CreateNew => o.read(true).write(true).create_new(true),
            OpenMode::Truncate => o.read(true).write(true).create(true).truncate(true),
            OpenMode::Create => o.read(true).write(true).create(true).truncate(false),
        };
        Ok(Box::new(RealFile(o.open(path)?)))
    }

    fn map(&self, path: &Path) -> io::Result<MmapFile> {
        MmapFile::open(path)
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let m = std::fs::metadata(path)?;
        Ok(Metadata {
            kind: kind(m.file_type()),
            len: m.len(),
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        std::fs::read_dir(path)?
            .map(|entry| {
                let entry = entry?;
                Ok(DirEntry {
                    kind: kind(entry.file_type()?),
                    name: entry.file_name(),
                })
            })
            .collect()
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::File::open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        std::fs::hard_link(original, link)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(path)
    }
}

/// A file of the operating system.
#[derive(Debug)]
struct RealFile(std::fs::File);

impl Read for RealFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.0.read_vectored(bufs)
    }

    // The file's own: it sizes the buffer from the file's length.
    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.0.read_to_end(buf)
    }
}

impl Write for RealFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl File for RealFile {
    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        read_exact_at(&self.0, buf, offset)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        write_all_at(&self.0, buf, offset)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn sync_all(&self) -> io::Result<()> {
        self.0.sync_all()
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn try_lock(&self) -> Result<(), std::fs::TryLockError> {
        self.0.try_lock()
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(unix)]
fn write_all_at(file: &std::fs::File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
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

#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_reaches_the_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = RealFs;
        let dir = tmp.path().join("a").join("b");
        fs.create_dir_all(&dir).unwrap();
        fs.create_dir(&dir.join("c")).unwrap();
        assert_eq!(
            fs.create_dir(&dir.join("c")).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );

        let path = dir.join("f");
        let mut f = fs.open(&path, OpenMode::CreateNew).unwrap();
        f.write_all(b"hello world").unwrap();
        f.write_all_at(b"W", 6).unwrap();
        f.sync_data().unwrap();
        f.sync_all().unwrap();
        assert_eq!(f.size().unwrap(), 11);
        let mut buf = [0u8; 5];
        f.read_exact_at(&mut buf, 6).unwrap();
        assert_eq!(&buf, b"World");
        let err = f.read_exact_at(&mut buf, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        f.set_len(5).unwrap();
        drop(f);
        assert_eq!(fs.read(&path).unwrap(), b"hello");
        assert_eq!(
            fs.open(&path, OpenMode::CreateNew).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        // Create keeps the bytes, Truncate empties the file.
        drop(fs.open(&path, OpenMode::Create).unwrap());
        assert_eq!(fs.read(&path).unwrap(), b"hello");
        let mut f = fs.open(&path, OpenMode::ReadWrite).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        drop(fs.open(&path, OpenMode::Truncate).unwrap());
        assert_eq!(
            fs.metadata(&path).unwrap(),
            Metadata {
                kind: FileKind::File,
                len: 0
            }
        );
        let mut r = fs.open(&path, OpenMode::Read).unwrap();
        assert!(r.write_all(b"x").is_err(), "read only");

        let mut listed = fs.read_dir(&dir).unwrap();
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(
            listed,
            [
                DirEntry {
                    name: "c".into(),
                    kind: FileKind::Dir
                },
                DirEntry {
                    name: "f".into(),
                    kind: FileKind::File
                },
            ]
        );
        assert_eq!(fs.metadata(&dir).unwrap().kind, FileKind::Dir);

        let link = dir.join("g");
        fs.hard_link(&path, &link).unwrap();
        fs.rename(&link, &dir.join("c").join("h")).unwrap();
        assert!(!fs.exists(&link));
        assert!(fs.exists(&dir.join("c").join("h")));
        fs.sync_dir(&dir).unwrap();
        fs.remove_file(&path).unwrap();
        assert_eq!(
            fs.open(&path, OpenMode::Read).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        fs.remove_dir_all(&tmp.path().join("a")).unwrap();
        assert!(!fs.exists(&dir));
        assert_eq!(
            fs.read_dir(&dir).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn a_lock_is_held_until_the_file_closes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        let a = RealFs.open(&path, OpenMode::Create).unwrap();
        a.try_lock().unwrap();
        let b = RealFs.open(&path, OpenMode::Create).unwrap();
        assert!(matches!(
            b.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(a);
        b.try_lock().unwrap();
    }
}

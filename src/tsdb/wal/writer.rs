//! The WAL writer: splits records into page-bounded fragments, buffers whole pages and
//! writes them with one `write(2)` per run of pages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::WalError;
use super::segment::{
    DEFAULT_SEGMENT_SIZE, DirListing, FragmentType, HEADER_SIZE, PAGE_SIZE, fragment_crc,
    segment_name, sync_dir,
};
use crate::tsdb::fs::{File, Fs, OpenMode};

/// Bytes buffered before a write is issued in the middle of a `log` call.
const FLUSH_AT: usize = 32 * PAGE_SIZE;

/// How much [`Wal::log`] syncs. Durability as a type, not a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// `log` hands the bytes to the OS (they survive a process crash); they are fsynced
    /// when the segment is cut or closed, in a checkpoint, or at [`Wal::sync`].
    #[default]
    OnSegmentClose,
    /// Every `log` call also `fdatasync`s the segment before returning (survives a power
    /// loss, at the cost of one disk flush per commit).
    EveryCommit,
}

/// Settings for [`Wal::open`].
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// Size of a segment file in bytes: a non-zero multiple of [`PAGE_SIZE`].
    pub segment_size: usize,
    /// When `log` syncs.
    pub sync: SyncPolicy,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            sync: SyncPolicy::default(),
        }
    }
}

/// An open write-ahead log: appends records to the current segment.
///
/// The current page is kept in memory and written out (the filled part) at the end of
/// every [`log`](Wal::log); later records continue the same page in the file, so the
/// file only ever grows by appending. After an I/O error the `Wal` is poisoned and
/// every fallible call returns [`WalError::Poisoned`].
pub struct Wal {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    opts: WalOptions,
    segment: u32,
    seg_path: PathBuf,
    file: Box<dyn File>,
    /// Bytes of the segment from file offset `buf_base` (page-aligned) on.
    buf: Vec<u8>,
    buf_base: u64,
    /// How much of `buf` has been written to the file.
    flushed: usize,
    poisoned: Option<String>,
    #[cfg(test)]
    fail_writes: bool,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("segment", &self.segment)
            .field("offset", &self.offset())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens the WAL in `dir` (created if missing) and starts a fresh segment after the
    /// last existing segment or checkpoint; an existing file is never appended to.
    ///
    /// The previous last segment is fsynced first, so a power loss later cannot tear a
    /// segment that is no longer the last one. Unfinished checkpoint directories are
    /// deleted. Call [`replay`](super::replay) before `open` to repair a torn tail.
    /// Every file of the WAL is written through `fs`.
    pub fn open(fs: &Arc<dyn Fs>, dir: &Path, opts: WalOptions) -> Result<Wal, WalError> {
        if opts.segment_size == 0 || !opts.segment_size.is_multiple_of(PAGE_SIZE) {
            return Err(WalError::InvalidOptions(format!(
                "segment_size {} is not a non-zero multiple of the page size {PAGE_SIZE}",
                opts.segment_size
            )));
        }
        fs.create_dir_all(dir)
            .map_err(|e| WalError::io("create directory", dir, e))?;
        let mut listing = DirListing::read(&**fs, dir)?;
        listing.remove_tmp_checkpoints(&**fs)?;
        let mut next = 0u32;
        if let Some((idx, path)) = listing.segments.last() {
            fs.open(path, OpenMode::Read)
                .and_then(|f| f.sync_all())
                .map_err(|e| WalError::io("fsync", path, e))?;
            next = next.max(idx.saturating_add(1));
        }
        if let Some((idx, _)) = listing.last_checkpoint() {
            next = next.max(idx.saturating_add(1));
        }
        let (file, seg_path) = create_segment(&**fs, dir, next)?;
        Ok(Wal {
            fs: Arc::clone(fs),
            dir: dir.to_path_buf(),
            opts,
            segment: next,
            seg_path,
            file,
            buf: Vec::with_capacity(FLUSH_AT + 2 * PAGE_SIZE),
            buf_base: 0,
            flushed: 0,
            poisoned: None,
            #[cfg(test)]
            fail_writes: false,
        })
    }

    /// Appends `records`. When it returns `Ok`, every byte of them has been written to
    /// the OS (and, with [`SyncPolicy::EveryCommit`], fdatasynced). A record that does
    /// not fit in the rest of the current segment starts a new one; a record larger
    /// than a whole segment gets a segment of its own that grows past the nominal size.
    pub fn log(&mut self, records: &[&[u8]]) -> Result<(), WalError> {
        self.check_poisoned()?;
        let res = self.log_inner(records);
        self.poison_on_err(res)
    }

    fn log_inner(&mut self, records: &[&[u8]]) -> Result<(), WalError> {
        for rec in records {
            if !self.fits(rec.len()) && self.offset() > 0 {
                self.cut_inner()?;
            }
            self.write_record(rec)?;
        }
        self.flush()?;
        if self.opts.sync == SyncPolicy::EveryCommit {
            self.file
                .sync_data()
                .map_err(|e| WalError::io("fdatasync", &self.seg_path, e))?;
        }
        Ok(())
    }

    /// Fdatasyncs the current segment: everything logged so far survives a power loss.
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.check_poisoned()?;
        let res = self
            .file
            .sync_data()
            .map_err(|e| WalError::io("fdatasync", &self.seg_path, e));
        self.poison_on_err(res)
    }

    /// Pads and fsyncs the current segment, then starts the next one. Returns the index
    /// of the new segment.
    pub fn cut_segment(&mut self) -> Result<u32, WalError> {
        self.check_poisoned()?;
        let res = self.cut_inner();
        self.poison_on_err(res)?;
        Ok(self.segment)
    }

    /// The index of the segment being written.
    pub fn current_segment(&self) -> u32 {
        self.segment
    }

    /// Deletes the segments with an index below `segment`; the current segment is never
    /// deleted, whatever `segment` says.
    pub fn truncate_before(&mut self, segment: u32) -> Result<(), WalError> {
        self.check_poisoned()?;
        let limit = segment.min(self.segment);
        let listing = DirListing::read(&*self.fs, &self.dir)?;
        let mut removed = false;
        for (idx, path) in &listing.segments {
            if *idx >= limit {
                break;
            }
            self.fs
                .remove_file(path)
                .map_err(|e| WalError::io("remove", path, e))?;
            removed = true;
        }
        if removed {
            sync_dir(&*self.fs, &self.dir)?;
        }
        Ok(())
    }

    /// Pads the last page, fsyncs the current segment and the directory.
    pub fn close(mut self) -> Result<(), WalError> {
        self.check_poisoned()?;
        self.finish_segment()?;
        sync_dir(&*self.fs, &self.dir)
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes written (or buffered) in the current segment.
    fn offset(&self) -> usize {
        self.buf_base as usize + self.buf.len()
    }

    /// Whether a record of `len` bytes fits in the rest of the current segment.
    fn fits(&self, len: usize) -> bool {
        let cur = self.offset();
        let size = self.opts.segment_size;
        if cur >= size {
            return false;
        }
        let mut room = PAGE_SIZE - cur % PAGE_SIZE;
        // Whole pages after the current one.
        let mut pages_after = (size - cur - room) / PAGE_SIZE;
        if needs_padding(room, len) {
            if pages_after == 0 {
                return false;
            }
            room = PAGE_SIZE;
            pages_after -= 1;
        }
        len <= (room - HEADER_SIZE) + pages_after * (PAGE_SIZE - HEADER_SIZE)
    }

    /// Appends the fragments of `rec` to the page buffer, flushing runs of full pages
    /// as the buffer fills.
    fn write_record(&mut self, rec: &[u8]) -> Result<(), WalError> {
        self.buf
            .reserve(rec.len().min(FLUSH_AT) + HEADER_SIZE + PAGE_SIZE);
        let mut left = rec;
        let mut first = true;
        loop {
            // `buf_base` is page-aligned, so the position in the page is `buf.len() % PAGE_SIZE`.
            let room = PAGE_SIZE - self.buf.len() % PAGE_SIZE;
            if needs_padding(room, left.len()) {
                self.buf.resize(self.buf.len() + room, 0);
                continue;
            }
            let n = left.len().min(room - HEADER_SIZE);
            let last = n == left.len();
            let typ = match (first, last) {
                (true, true) => FragmentType::Full,
                (true, false) => FragmentType::First,
                (false, false) => FragmentType::Middle,
                (false, true) => FragmentType::Last,
            };
            let (data, rest) = left.split_at(n);
            // n <= PAGE_SIZE - HEADER_SIZE < 2^16.
            let len = (n as u16).to_be_bytes();
            let typ_len = [typ as u8, len[0], len[1]];
            let crc = fragment_crc(&typ_len, data);
            self.buf.extend_from_slice(&typ_len);
            self.buf.extend_from_slice(&crc.to_be_bytes());
            self.buf.extend_from_slice(data);
            left = rest;
            first = false;
            if self.buf.len() >= FLUSH_AT {
                self.flush()?;
            }
            if last {
                return Ok(());
            }
        }
    }

    /// Writes every buffered byte not yet written, with one `write_all`, then drops the
    /// complete pages from the buffer (the partial last page stays to be continued).
    fn flush(&mut self) -> Result<(), WalError> {
        if self.flushed < self.buf.len() {
            #[cfg(test)]
            if self.fail_writes {
                return Err(WalError::io(
                    "write",
                    &self.seg_path,
                    std::io::Error::other("injected write failure"),
                ));
            }
            self.file
                .write_all(&self.buf[self.flushed..])
                .map_err(|e| WalError::io("write", &self.seg_path, e))?;
            self.flushed = self.buf.len();
        }
        let full = self.buf.len() / PAGE_SIZE * PAGE_SIZE;
        if full > 0 {
            self.buf.copy_within(full.., 0);
            self.buf.truncate(self.buf.len() - full);
            self.buf_base += full as u64;
            self.flushed = self.buf.len();
        }
        Ok(())
    }

    /// Zero-pads the last page, writes it and fsyncs the segment file.
    fn finish_segment(&mut self) -> Result<(), WalError> {
        let partial = self.buf.len() % PAGE_SIZE;
        if partial > 0 {
            self.buf.resize(self.buf.len() + PAGE_SIZE - partial, 0);
        }
        self.flush()?;
        self.file
            .sync_all()
            .map_err(|e| WalError::io("fsync", &self.seg_path, e))
    }

    fn cut_inner(&mut self) -> Result<(), WalError> {
        self.finish_segment()?;
        let next = self
            .segment
            .checked_add(1)
            .ok_or_else(|| WalError::InvalidOptions("segment index space exhausted".to_string()))?;
        let (file, path) = create_segment(&*self.fs, &self.dir, next)?;
        self.file = file;
        self.seg_path = path;
        self.segment = next;
        self.buf.clear();
        self.buf_base = 0;
        self.flushed = 0;
        Ok(())
    }

    /// The file system the WAL is written through.
    pub(crate) fn fs(&self) -> &Arc<dyn Fs> {
        &self.fs
    }

    /// The options the WAL was opened with.
    pub(crate) fn options(&self) -> &WalOptions {
        &self.opts
    }

    pub(crate) fn check_poisoned(&self) -> Result<(), WalError> {
        match &self.poisoned {
            Some(reason) => Err(WalError::Poisoned {
                dir: self.dir.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison_on_err<T>(&mut self, res: Result<T, WalError>) -> Result<T, WalError> {
        if let Err(e) = &res {
            tracing::error!(dir = %self.dir.display(), error = %e, "WAL poisoned");
            self.poisoned = Some(e.to_string());
        }
        res
    }

    #[cfg(test)]
    pub(crate) fn inject_write_failures(&mut self, on: bool) {
        self.fail_writes = on;
    }
}

/// Whether the rest of a page (`room` bytes) must be padded before a record with
/// `left` bytes still to write: there is no room for a header, or only for the header
/// of an empty fragment while there is data to write.
fn needs_padding(room: usize, left: usize) -> bool {
    room < HEADER_SIZE || (room == HEADER_SIZE && left > 0)
}

/// Creates segment `index` (it must not exist) and makes its name durable.
fn create_segment(
    fs: &dyn Fs,
    dir: &Path,
    index: u32,
) -> Result<(Box<dyn File>, PathBuf), WalError> {
    let path = dir.join(segment_name(index));
    let file = fs
        .open(&path, OpenMode::CreateNew)
        .map_err(|e| WalError::io("create", &path, e))?;
    sync_dir(fs, dir)?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::fs::{RealFs, real};
    use crate::tsdb::wal::replay;

    fn opts(pages: usize) -> WalOptions {
        WalOptions {
            segment_size: pages * PAGE_SIZE,
            sync: SyncPolicy::OnSegmentClose,
        }
    }

    fn replay_all(dir: &Path) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        replay(&RealFs, dir, |r| {
            out.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        out
    }

    fn len_of(dir: &Path, seg: u32) -> u64 {
        std::fs::metadata(dir.join(segment_name(seg)))
            .unwrap()
            .len()
    }

    #[test]
    fn rejects_segment_size_not_whole_pages() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0, 1000, PAGE_SIZE + 1] {
            let o = WalOptions {
                segment_size: size,
                ..WalOptions::default()
            };
            assert!(matches!(
                Wal::open(&real(), dir.path(), o),
                Err(WalError::InvalidOptions(_))
            ));
        }
    }

    #[test]
    fn segment_bytes_match_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(1)).unwrap();
        wal.log(&[b"abc"]).unwrap();
        wal.close().unwrap();
        let bytes = std::fs::read(dir.path().join("00000000")).unwrap();
        assert_eq!(bytes.len(), PAGE_SIZE);
        // type full, length 3 (BE), CRC32 (IEEE) of type + length + data (BE), data.
        let crc = crc32fast::hash(&[1, 0, 3, b'a', b'b', b'c']);
        let mut want = vec![1, 0, 3];
        want.extend_from_slice(&crc.to_be_bytes());
        want.extend_from_slice(b"abc");
        assert_eq!(&bytes[..10], &want[..]);
        assert!(bytes[10..].iter().all(|&b| b == 0), "zero-padded page");
    }

    #[test]
    fn log_hands_partial_page_to_os_before_returning() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        wal.log(&[b"hello"]).unwrap();
        assert_eq!(len_of(dir.path(), 0), (HEADER_SIZE + 5) as u64);
        wal.log(&[b"world", b""]).unwrap();
        assert_eq!(len_of(dir.path(), 0), (3 * HEADER_SIZE + 10) as u64);
        // Readable while the writer is still open (as after a SIGKILL).
        assert_eq!(
            replay_all(dir.path()),
            vec![b"hello".to_vec(), b"world".to_vec(), vec![]]
        );
    }

    #[test]
    fn fragments_never_cross_a_page_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(16)).unwrap();
        let big = vec![0xabu8; 3 * PAGE_SIZE + 100];
        wal.log(&[b"x", &big, b"y"]).unwrap();
        wal.close().unwrap();
        let bytes = std::fs::read(dir.path().join(segment_name(0))).unwrap();
        assert_eq!(bytes.len() % PAGE_SIZE, 0, "closed segment is whole pages");
        // Walk the fragments by hand.
        let mut pos = 0;
        let mut types = Vec::new();
        while pos < bytes.len() {
            let room = PAGE_SIZE - pos % PAGE_SIZE;
            if room < HEADER_SIZE || bytes[pos] == 0 {
                pos += room;
                continue;
            }
            let len = u16::from_be_bytes([bytes[pos + 1], bytes[pos + 2]]) as usize;
            assert!(
                HEADER_SIZE + len <= room,
                "fragment at {pos} crosses a page"
            );
            types.push(bytes[pos]);
            pos += HEADER_SIZE + len;
        }
        assert_eq!(types, vec![1, 2, 3, 3, 4, 1]);
    }

    #[test]
    fn record_that_does_not_fit_goes_to_next_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(2)).unwrap();
        let a = vec![1u8; PAGE_SIZE]; // fills page 0 and part of page 1
        let b = vec![2u8; PAGE_SIZE]; // does not fit in the rest of page 1
        wal.log(&[&a]).unwrap();
        assert_eq!(wal.current_segment(), 0);
        wal.log(&[&b]).unwrap();
        assert_eq!(wal.current_segment(), 1);
        assert_eq!(
            len_of(dir.path(), 0),
            2 * PAGE_SIZE as u64,
            "old segment padded"
        );
        // Exactly the capacity of a fresh 2-page segment fits; one byte more does not.
        let cap = 2 * (PAGE_SIZE - HEADER_SIZE);
        wal.cut_segment().unwrap();
        wal.log(&[&vec![3u8; cap]]).unwrap();
        assert_eq!(wal.current_segment(), 2);
        assert_eq!(len_of(dir.path(), 2), 2 * PAGE_SIZE as u64);
        wal.log(&[b"z"]).unwrap();
        assert_eq!(wal.current_segment(), 3);
        wal.close().unwrap();
        assert_eq!(
            replay_all(dir.path()),
            vec![a, b, vec![3u8; cap], b"z".to_vec()]
        );
    }

    #[test]
    fn record_larger_than_a_segment_gets_a_segment_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(1)).unwrap();
        let big = vec![9u8; 3 * PAGE_SIZE];
        wal.log(&[b"a", &big, b"b"]).unwrap();
        assert_eq!(wal.current_segment(), 2);
        wal.close().unwrap();
        assert_eq!(len_of(dir.path(), 1), 4 * PAGE_SIZE as u64);
        assert_eq!(
            replay_all(dir.path()),
            vec![b"a".to_vec(), big, b"b".to_vec()]
        );
    }

    #[test]
    fn reopen_after_close_starts_a_new_segment() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        wal.log(&[b"one"]).unwrap();
        wal.close().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        assert_eq!(wal.current_segment(), 1);
        wal.log(&[b"two"]).unwrap();
        drop(wal); // no close: as after a crash
        let wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        assert_eq!(wal.current_segment(), 2);
        assert_eq!(wal.dir(), dir.path());
        wal.close().unwrap();
        assert_eq!(
            replay_all(dir.path()),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
    }

    #[test]
    fn open_starts_after_a_checkpoint_even_without_segments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("checkpoint.00000007")).unwrap();
        std::fs::create_dir(dir.path().join("checkpoint.00000009.tmp")).unwrap();
        let wal = Wal::open(&real(), dir.path(), opts(1)).unwrap();
        assert_eq!(wal.current_segment(), 8);
        assert!(!dir.path().join("checkpoint.00000009.tmp").exists());
    }

    #[test]
    fn truncate_before_deletes_older_segments_but_never_the_current() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(1)).unwrap();
        for _ in 0..4 {
            wal.cut_segment().unwrap();
        }
        assert_eq!(wal.current_segment(), 4);
        wal.truncate_before(2).unwrap();
        let segs: Vec<u32> = DirListing::read(&RealFs, dir.path())
            .unwrap()
            .segments
            .iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(segs, vec![2, 3, 4]);
        wal.truncate_before(100).unwrap();
        assert!(dir.path().join(segment_name(4)).exists());
        assert!(!dir.path().join(segment_name(3)).exists());
        wal.log(&[b"still writable"]).unwrap();
        wal.close().unwrap();
        assert_eq!(replay_all(dir.path()), vec![b"still writable".to_vec()]);
    }

    #[test]
    fn every_commit_policy_logs_and_replays() {
        let dir = tempfile::tempdir().unwrap();
        let o = WalOptions {
            segment_size: PAGE_SIZE,
            sync: SyncPolicy::EveryCommit,
        };
        let mut wal = Wal::open(&real(), dir.path(), o).unwrap();
        wal.log(&[b"a"]).unwrap();
        wal.sync().unwrap();
        wal.log(&[b"b"]).unwrap();
        assert_eq!(replay_all(dir.path()), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn poisoned_after_injected_write_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts(4)).unwrap();
        wal.log(&[b"before"]).unwrap();
        wal.inject_write_failures(true);
        let err = wal.log(&[b"lost"]).unwrap_err();
        assert!(matches!(err, WalError::Io { op: "write", .. }), "{err}");
        wal.inject_write_failures(false);
        for res in [
            wal.log(&[b"after"]),
            wal.sync(),
            wal.cut_segment().map(|_| ()),
            wal.truncate_before(0),
        ] {
            let err = res.unwrap_err();
            assert!(matches!(err, WalError::Poisoned { .. }), "{err}");
            assert!(err.to_string().contains("injected write failure"), "{err}");
        }
        assert!(matches!(wal.close(), Err(WalError::Poisoned { .. })));
        assert_eq!(replay_all(dir.path()), vec![b"before".to_vec()]);
    }
}

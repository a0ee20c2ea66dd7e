//! Segment framing shared by the writer and the reader: page and header sizes,
//! fragment types, the fragment CRC, and the names of segment files and checkpoint
//! directories.

use std::path::{Path, PathBuf};

use super::error::WalError;
use crate::tsdb::fs::{FileKind, Fs};

/// Size of a page. Fragments never cross a page boundary.
pub const PAGE_SIZE: usize = 32 * 1024;

/// Default size of a segment file (a whole number of pages).
pub const DEFAULT_SEGMENT_SIZE: usize = 128 * 1024 * 1024;

/// Fragment header: type (1 byte), data length (2 bytes BE), CRC32 (4 bytes BE).
pub(crate) const HEADER_SIZE: usize = 7;

const CHECKPOINT_PREFIX: &str = "checkpoint.";
const TMP_SUFFIX: &str = ".tmp";

/// Where a fragment sits in its record. Byte value 0 is not a fragment: it starts the
/// zero padding at the end of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum FragmentType {
    /// The whole record.
    Full = 1,
    /// The first fragment of a record that continues in the next page.
    First = 2,
    /// A fragment in the middle of a record.
    Middle = 3,
    /// The last fragment of a record.
    Last = 4,
}

impl FragmentType {
    pub(crate) fn from_byte(b: u8) -> Option<FragmentType> {
        match b {
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            FragmentType::Full => "full",
            FragmentType::First => "first",
            FragmentType::Middle => "middle",
            FragmentType::Last => "last",
        }
    }
}

/// The CRC32 (IEEE) stored in a fragment header. It covers the type and length bytes
/// of the header as well as the data, so a damaged type byte (say `first` read as
/// `full`) cannot turn part of a record into a record of its own.
pub(crate) fn fragment_crc(typ_and_len: &[u8; 3], data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(typ_and_len);
    h.update(data);
    h.finalize()
}

/// The file name of segment `index`: 8 decimal digits, zero-padded.
pub(crate) fn segment_name(index: u32) -> String {
    format!("{index:08}")
}

/// The directory name of the checkpoint that covers segments up to `index`.
pub(crate) fn checkpoint_name(index: u32) -> String {
    format!("{CHECKPOINT_PREFIX}{index:08}")
}

/// The temporary directory a checkpoint is written to before it is renamed.
pub(crate) fn checkpoint_tmp_name(index: u32) -> String {
    format!("{CHECKPOINT_PREFIX}{index:08}{TMP_SUFFIX}")
}

/// Parses a run of at least 8 decimal digits into an index.
fn parse_index(s: &str) -> Option<u32> {
    if s.len() < 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// What a directory holds, by name.
#[derive(Debug, Default)]
pub(crate) struct DirListing {
    /// Segment files, sorted by index.
    pub segments: Vec<(u32, PathBuf)>,
    /// Complete checkpoint directories, sorted by index.
    pub checkpoints: Vec<(u32, PathBuf)>,
    /// Unfinished checkpoint directories (`checkpoint.NNNNNNNN.tmp`).
    pub tmp_checkpoints: Vec<PathBuf>,
}

impl DirListing {
    /// Lists `dir`; names that are neither segments nor checkpoints are ignored.
    pub(crate) fn read(fs: &dyn Fs, dir: &Path) -> Result<DirListing, WalError> {
        let mut out = DirListing::default();
        let entries = fs.read_dir(dir).map_err(|e| WalError::io("list", dir, e))?;
        for entry in entries {
            let Some(name) = entry.name.to_str() else {
                continue;
            };
            let path = dir.join(name);
            if let Some(rest) = name.strip_prefix(CHECKPOINT_PREFIX) {
                if let Some(idx) = rest.strip_suffix(TMP_SUFFIX) {
                    if parse_index(idx).is_some() {
                        out.tmp_checkpoints.push(path);
                    }
                } else if let Some(idx) = parse_index(rest) {
                    out.checkpoints.push((idx, path));
                }
            } else if let Some(idx) = parse_index(name)
                && entry.kind == FileKind::File
            {
                out.segments.push((idx, path));
            }
        }
        out.segments.sort_unstable();
        out.checkpoints.sort_unstable();
        Ok(out)
    }

    /// The newest complete checkpoint.
    pub(crate) fn last_checkpoint(&self) -> Option<&(u32, PathBuf)> {
        self.checkpoints.last()
    }

    /// Deletes unfinished checkpoint directories left by a crash.
    pub(crate) fn remove_tmp_checkpoints(&mut self, fs: &dyn Fs) -> Result<(), WalError> {
        for path in self.tmp_checkpoints.drain(..) {
            tracing::info!(dir = %path.display(), "removing unfinished WAL checkpoint");
            fs.remove_dir_all(&path)
                .map_err(|e| WalError::io("remove", &path, e))?;
        }
        Ok(())
    }
}

/// Checks that `segments` (sorted) are consecutive, starting at `first` if given.
pub(crate) fn check_consecutive(
    dir: &Path,
    segments: &[(u32, PathBuf)],
    first: Option<u32>,
) -> Result<(), WalError> {
    let mut expected = match (first, segments.first()) {
        (Some(f), _) => f,
        (None, Some((f, _))) => *f,
        (None, None) => return Ok(()),
    };
    for (idx, _) in segments {
        if *idx != expected {
            return Err(WalError::Gap {
                dir: dir.to_path_buf(),
                expected,
                found: *idx,
            });
        }
        expected = expected.wrapping_add(1);
    }
    Ok(())
}

/// Fsyncs a directory so that entries created, renamed or deleted in it are durable.
pub(crate) fn sync_dir(fs: &dyn Fs, dir: &Path) -> Result<(), WalError> {
    fs.sync_dir(dir)
        .map_err(|e| WalError::io("fsync directory", dir, e))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::tsdb::fs::RealFs;

    #[test]
    fn names_parse_back() {
        assert_eq!(segment_name(7), "00000007");
        assert_eq!(parse_index(&segment_name(12345678)), Some(12345678));
        assert_eq!(parse_index(&segment_name(u32::MAX)), Some(u32::MAX));
        assert_eq!(parse_index("0000001"), None);
        assert_eq!(parse_index("0000000a"), None);
        assert_eq!(parse_index("99999999999"), None);
        assert_eq!(checkpoint_name(3), "checkpoint.00000003");
        assert_eq!(checkpoint_tmp_name(3), "checkpoint.00000003.tmp");
    }

    #[test]
    fn listing_sorts_and_ignores_foreign_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["00000002", "00000000", "00000001", "notes.txt", "0001"] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        fs::create_dir(dir.path().join("checkpoint.00000001")).unwrap();
        fs::create_dir(dir.path().join("checkpoint.00000000")).unwrap();
        fs::create_dir(dir.path().join("checkpoint.00000002.tmp")).unwrap();
        fs::create_dir(dir.path().join("00000009")).unwrap(); // a directory, not a segment
        let mut l = DirListing::read(&RealFs, dir.path()).unwrap();
        let segs: Vec<u32> = l.segments.iter().map(|s| s.0).collect();
        assert_eq!(segs, vec![0, 1, 2]);
        assert_eq!(l.last_checkpoint().map(|c| c.0), Some(1));
        assert_eq!(l.tmp_checkpoints.len(), 1);
        l.remove_tmp_checkpoints(&RealFs).unwrap();
        assert!(!dir.path().join("checkpoint.00000002.tmp").exists());
    }

    #[test]
    fn consecutive_check_names_the_gap() {
        let p = PathBuf::new;
        let segs = vec![(3, p()), (4, p()), (6, p())];
        match check_consecutive(Path::new("w"), &segs, None) {
            Err(WalError::Gap {
                expected, found, ..
            }) => assert_eq!((expected, found), (5, 6)),
            other => panic!("unexpected {other:?}"),
        }
        assert!(check_consecutive(Path::new("w"), &segs[..2], Some(3)).is_ok());
        assert!(check_consecutive(Path::new("w"), &segs[..2], Some(2)).is_err());
    }
}

//! Tombstones: time ranges of series marked deleted, not yet removed from disk.
//!
//! A deletion (`Db::delete_series`) does not rewrite data. It records, per series
//! and per source (the head, each block), the closed intervals `[mint, maxt]` whose
//! samples are gone; reads skip those samples, and compaction (or
//! `Db::clean_tombstones`) writes blocks without them.
//!
//! - In the head, tombstones are keyed by the series ref and logged in the WAL as
//!   a tombstones record (docs/format/wal.md) before they take effect, so replay
//!   restores them.
//! - In a block, they are keyed by the series' [`SeriesId`](crate::tsdb::index::SeriesId)
//!   and kept in the block's `tombstones` file (docs/format/tombstones.md), written
//!   to a temporary file, fsynced and renamed over the old one. A block without the
//!   file has none.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::varint::{append_uvarint, append_varint, uvarint, varint};
use crate::tsdb::fs::{Fs, ReplaceError, replace_file};

/// The name of a block's tombstones file.
pub const TOMBSTONES_FILE: &str = "tombstones";
/// First four bytes of a tombstones file (Prometheus's).
pub const TOMBSTONES_MAGIC: u32 = 0x0130_BA30;
/// The format version this code writes and reads.
pub const TOMBSTONES_VERSION: u8 = 1;

/// A closed time range `[mint, maxt]` (milliseconds, both included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub mint: i64,
    pub maxt: i64,
}

impl Interval {
    pub fn new(mint: i64, maxt: i64) -> Interval {
        Interval { mint, maxt }
    }

    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }
}

/// Adds `iv` to `list` (sorted, disjoint, not adjacent), merging where they
/// overlap or touch. Returns whether anything changed.
pub fn add_interval(list: &mut Vec<Interval>, iv: Interval) -> bool {
    if iv.mint > iv.maxt {
        return false;
    }
    if list.iter().any(|l| l.mint <= iv.mint && iv.maxt <= l.maxt) {
        return false;
    }
    let mut merged = iv;
    list.retain(|l| {
        // Overlapping or adjacent (touching integers) intervals are merged.
        let touches =
            l.mint <= merged.maxt.saturating_add(1) && merged.mint <= l.maxt.saturating_add(1);
        if touches {
            merged.mint = merged.mint.min(l.mint);
            merged.maxt = merged.maxt.max(l.maxt);
        }
        !touches
    });
    let at = list.partition_point(|l| l.mint < merged.mint);
    list.insert(at, merged);
    true
}

/// Whether `t` lies in one of `list`'s intervals.
pub fn is_deleted(list: &[Interval], t: i64) -> bool {
    // Sorted and disjoint: the last interval starting at or before t decides.
    let i = list.partition_point(|l| l.mint <= t);
    i > 0 && list[i - 1].maxt >= t
}

/// Whether one interval of `list` covers all of `[lo, hi]`.
pub fn covers(list: &[Interval], lo: i64, hi: i64) -> bool {
    let i = list.partition_point(|l| l.mint <= lo);
    i > 0 && list[i - 1].maxt >= hi
}

/// Errors reading or writing a tombstones file. Each names the file; a damaged
/// file names the byte offset where the damage was found.
#[derive(Debug, thiserror::Error)]
pub enum TombstoneError {
    #[error("{}: {op}: {source}", path.display())]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}: corrupt tombstones file at byte offset {offset}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
}

/// The tombstones of one source: series key (head series ref, or block series id)
/// → sorted, disjoint intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tombstones {
    map: BTreeMap<u64, Vec<Interval>>,
}

impl Tombstones {
    pub fn new() -> Tombstones {
        Tombstones::default()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of series with tombstones.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Marks `iv` deleted for series `key`; returns whether that changed anything.
    pub fn add(&mut self, key: u64, iv: Interval) -> bool {
        let list = self.map.entry(key).or_default();
        let changed = add_interval(list, iv);
        if list.is_empty() {
            self.map.remove(&key);
        }
        changed
    }

    /// The deleted intervals of series `key`, sorted (empty if none).
    pub fn get(&self, key: u64) -> &[Interval] {
        self.map.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Every series key with its intervals, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[Interval])> {
        self.map.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Keeps only the series for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(u64, &mut Vec<Interval>) -> bool) {
        self.map.retain(|k, v| keep(*k, v) && !v.is_empty());
    }

    /// The file's bytes (docs/format/tombstones.md).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.map.len() * 12);
        out.extend_from_slice(&TOMBSTONES_MAGIC.to_be_bytes());
        out.push(TOMBSTONES_VERSION);
        let body_start = out.len();
        for (key, list) in &self.map {
            for iv in list {
                append_uvarint(&mut out, *key);
                append_varint(&mut out, iv.mint);
                append_varint(&mut out, iv.maxt);
            }
        }
        let crc = crc32fast::hash(&out[body_start..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Reads a file's bytes; `path` is only for errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Tombstones, TombstoneError> {
        let corrupt = |offset: usize, reason: String| TombstoneError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        };
        if bytes.len() < 9 {
            return Err(corrupt(
                0,
                format!(
                    "{} bytes, shorter than header and checksum (9 bytes)",
                    bytes.len()
                ),
            ));
        }
        let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if magic != TOMBSTONES_MAGIC {
            return Err(corrupt(
                0,
                format!("bad magic {magic:#010x} (want {TOMBSTONES_MAGIC:#010x})"),
            ));
        }
        if bytes[4] != TOMBSTONES_VERSION {
            return Err(corrupt(
                4,
                format!(
                    "unknown version {} (this version reads {TOMBSTONES_VERSION})",
                    bytes[4]
                ),
            ));
        }
        let end = bytes.len() - 4;
        let body = &bytes[5..end];
        let want = u32::from_be_bytes([bytes[end], bytes[end + 1], bytes[end + 2], bytes[end + 3]]);
        let got = crc32fast::hash(body);
        if want != got {
            return Err(corrupt(
                end,
                format!("checksum mismatch: stored {want:#010x}, computed {got:#010x}"),
            ));
        }
        let mut t = Tombstones::new();
        let mut pos = 0;
        while pos < body.len() {
            let at = 5 + pos;
            let key =
                uvarint(body, &mut pos).map_err(|_| corrupt(at, "bad series ref varint".into()))?;
            let at_mint = 5 + pos;
            let mint =
                varint(body, &mut pos).map_err(|_| corrupt(at_mint, "bad mint varint".into()))?;
            let at_maxt = 5 + pos;
            let maxt =
                varint(body, &mut pos).map_err(|_| corrupt(at_maxt, "bad maxt varint".into()))?;
            if mint > maxt {
                return Err(corrupt(
                    at,
                    format!("interval [{mint}, {maxt}] of series {key} ends before it starts"),
                ));
            }
            t.add(key, Interval::new(mint, maxt));
        }
        Ok(t)
    }

    /// Reads `<dir>/tombstones` through `fs`; a missing file means no
    /// tombstones.
    pub fn read_dir(fs: &dyn Fs, dir: &Path) -> Result<Tombstones, TombstoneError> {
        let path = dir.join(TOMBSTONES_FILE);
        match fs.read(&path) {
            Ok(bytes) => Tombstones::decode(&bytes, &path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Tombstones::new()),
            Err(source) => Err(TombstoneError::Io {
                path,
                op: "read",
                source,
            }),
        }
    }

    /// Writes `<dir>/tombstones` atomically ([`replace_file`]): a temporary file,
    /// fsynced, renamed over the old one, then the directory fsynced. A crash
    /// leaves the old file or the new one, and at worst a `tombstones.tmp` that
    /// the next write replaces.
    pub fn write_dir(&self, fs: &dyn Fs, dir: &Path) -> Result<(), TombstoneError> {
        replace_file(fs, dir, TOMBSTONES_FILE, &self.encode())
            .map_err(|ReplaceError { op, path, source }| TombstoneError::Io { path, op, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::fs::RealFs;

    #[test]
    fn intervals_merge_and_answer() {
        let mut l = Vec::new();
        assert!(add_interval(&mut l, Interval::new(10, 20)));
        assert!(add_interval(&mut l, Interval::new(30, 40)));
        assert!(!add_interval(&mut l, Interval::new(12, 18)));
        assert_eq!(l, vec![Interval::new(10, 20), Interval::new(30, 40)]);
        assert!(add_interval(&mut l, Interval::new(21, 29)));
        assert_eq!(l, vec![Interval::new(10, 40)]);
        assert!(add_interval(&mut l, Interval::new(i64::MIN, 0)));
        assert!(add_interval(&mut l, Interval::new(100, i64::MAX)));
        assert_eq!(l.len(), 3);
        for (t, want) in [
            (i64::MIN, true),
            (0, true),
            (5, false),
            (10, true),
            (40, true),
            (41, false),
            (i64::MAX, true),
        ] {
            assert_eq!(is_deleted(&l, t), want, "{t}");
        }
        assert!(covers(&l, 10, 40));
        assert!(!covers(&l, 9, 40));
        assert!(!covers(&l, 10, 41));
        assert!(!covers(&[], 0, 0));
    }

    #[test]
    fn file_round_trips_and_layout_matches_the_spec() {
        let mut t = Tombstones::new();
        t.add(3, Interval::new(-5, 7));
        t.add(1, Interval::new(100, 200));
        t.add(1, Interval::new(0, 10));
        let bytes = t.encode();
        assert_eq!(&bytes[..5], &[0x01, 0x30, 0xBA, 0x30, 1]);
        // Series 1: [0,10] then [100,200]; series 3: [-5,7].
        let body = [1, 0, 20, 1, 200, 1, 144, 3, 3, 9, 14];
        assert_eq!(&bytes[5..bytes.len() - 4], &body);
        assert_eq!(
            &bytes[bytes.len() - 4..],
            &crc32fast::hash(&body).to_be_bytes()
        );
        let back = Tombstones::decode(&bytes, Path::new("x")).unwrap();
        assert_eq!(back, t);
        let empty = Tombstones::new().encode();
        assert_eq!(empty.len(), 9);
        assert!(
            Tombstones::decode(&empty, Path::new("x"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn corrupt_file_names_path_and_offset_never_panics() {
        let mut t = Tombstones::new();
        t.add(7, Interval::new(1, 2));
        let good = t.encode();
        let path = Path::new("/data/01ABC/tombstones");
        let msg = |b: &[u8]| Tombstones::decode(b, path).unwrap_err().to_string();
        assert!(
            msg(&good[..3])
                .contains("/data/01ABC/tombstones: corrupt tombstones file at byte offset 0")
        );
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(msg(&bad).contains("offset 0: bad magic"), "{}", msg(&bad));
        let mut bad = good.clone();
        bad[4] = 9;
        assert!(msg(&bad).contains("offset 4: unknown version 9"));
        let mut bad = good.clone();
        bad[6] ^= 0x40;
        let m = msg(&bad);
        assert!(
            m.contains(&format!("offset {}: checksum mismatch", good.len() - 4)),
            "{m}"
        );
        // A well-checksummed body that is cut inside a varint.
        let mut body = vec![0x80u8];
        let mut bytes = good[..5].to_vec();
        bytes.append(&mut body);
        bytes.extend_from_slice(&crc32fast::hash(&[0x80]).to_be_bytes());
        assert!(msg(&bytes).contains("offset 5: bad series ref varint"));
        // Every prefix and every single-byte flip: an error or a value, never a panic.
        for n in 0..good.len() {
            let _ = Tombstones::decode(&good[..n], path);
            for bit in 0..8 {
                let mut b = good.clone();
                b[n] ^= 1 << bit;
                let _ = Tombstones::decode(&b, path);
            }
        }
    }

    #[test]
    fn file_write_is_read_back_and_missing_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Tombstones::read_dir(&RealFs, dir.path())
                .unwrap()
                .is_empty()
        );
        let mut t = Tombstones::new();
        t.add(0, Interval::new(i64::MIN, i64::MAX));
        t.write_dir(&RealFs, dir.path()).unwrap();
        assert_eq!(Tombstones::read_dir(&RealFs, dir.path()).unwrap(), t);
        assert!(!dir.path().join("tombstones.tmp").exists());
    }
}

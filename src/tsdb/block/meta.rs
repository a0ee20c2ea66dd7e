//! `meta.json`: what a block holds and where it came from (docs/format/meta.md).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::id::BlockId;
use crate::tsdb::fs::{Fs, ReplaceError, replace_file};

/// The file name, inside the block directory.
pub const META_FILE: &str = "meta.json";
/// The format version this code writes and reads.
pub const META_VERSION: u32 = 1;

/// A block's metadata. Times are milliseconds; the block holds samples with
/// `min_time <= t < max_time` (`max_time` is exclusive, as in Prometheus).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockMeta {
    pub ulid: BlockId,
    pub min_time: i64,
    pub max_time: i64,
    pub stats: BlockStats,
    pub compaction: Compaction,
    pub version: u32,
}

/// What a block holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockStats {
    pub num_samples: u64,
    pub num_series: u64,
    pub num_chunks: u64,
}

/// Where a block came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Compaction {
    /// 1 for a block cut from the head or imported, one more than the highest of
    /// its parents for a compacted block.
    pub level: u32,
    /// The level-1 blocks whose data this block holds, sorted (itself, at level 1).
    pub sources: Vec<BlockId>,
    /// The blocks merged into this one (none at level 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockId>,
    /// A compaction of this block failed once: the planner leaves it alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a block meta file: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: meta version {found}, this build reads version {META_VERSION}", path.display())]
    Version { path: PathBuf, found: u32 },
    #[error("{}: minTime {min_time} is not before maxTime {max_time}", path.display())]
    TimeRange {
        path: PathBuf,
        min_time: i64,
        max_time: i64,
    },
}

impl BlockMeta {
    /// The metadata of a level-1 block (cut from the head, or imported).
    pub fn new(ulid: BlockId, min_time: i64, max_time: i64, stats: BlockStats) -> BlockMeta {
        BlockMeta {
            ulid,
            min_time,
            max_time,
            stats,
            compaction: Compaction {
                level: 1,
                sources: vec![ulid],
                parents: Vec::new(),
                failed: false,
            },
            version: META_VERSION,
        }
    }

    /// Whether the block's time range `[min_time, max_time)` meets `other`'s.
    pub fn overlaps(&self, other: &BlockMeta) -> bool {
        self.min_time < other.max_time && other.min_time < self.max_time
    }

    /// Reads `dir/meta.json` through `fs`.
    pub fn read(fs: &dyn Fs, dir: &Path) -> Result<BlockMeta, MetaError> {
        let path = dir.join(META_FILE);
        let bytes = fs.read(&path).map_err(|source| MetaError::Io {
            op: "read",
            path: path.clone(),
            source,
        })?;
        // The version first, so that a newer format is reported as such rather
        // than as whatever field it no longer has.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let parse = |e: serde_json::Error| MetaError::Parse {
            path: path.clone(),
            message: e.to_string(),
        };
        let Version { version } = serde_json::from_slice(&bytes).map_err(parse)?;
        if version != META_VERSION {
            return Err(MetaError::Version {
                path,
                found: version,
            });
        }
        let meta: BlockMeta = serde_json::from_slice(&bytes).map_err(parse)?;
        if meta.min_time >= meta.max_time {
            return Err(MetaError::TimeRange {
                path,
                min_time: meta.min_time,
                max_time: meta.max_time,
            });
        }
        Ok(meta)
    }

    /// Writes `dir/meta.json` so that a crash leaves the old file or the new one,
    /// never a mix: written to `meta.json.tmp`, fsynced, renamed over, and the
    /// directory fsynced ([`replace_file`]).
    pub fn write(&self, fs: &dyn Fs, dir: &Path) -> Result<(), MetaError> {
        let path = dir.join(META_FILE);
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| MetaError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        json.push(b'\n');
        replace_file(fs, dir, META_FILE, &json)
            .map_err(|ReplaceError { op, path, source }| MetaError::Io { op, path, source })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::tsdb::fs::RealFs;

    fn meta() -> BlockMeta {
        let mut rng = fastrand::Rng::with_seed(1);
        let id = BlockId::new(1_700_000_000_000, &mut rng);
        BlockMeta::new(
            id,
            0,
            7_200_000,
            BlockStats {
                num_samples: 120,
                num_series: 1,
                num_chunks: 1,
            },
        )
    }

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = meta();
        m.write(&RealFs, dir.path()).expect("write");
        assert_eq!(BlockMeta::read(&RealFs, dir.path()).expect("read"), m);
        assert!(!dir.path().join("meta.json.tmp").exists());
        let text = fs::read_to_string(dir.path().join(META_FILE)).expect("text");
        // Prometheus's field names, so that tools reading meta.json find theirs.
        for field in [
            "\"ulid\"",
            "\"minTime\"",
            "\"maxTime\"",
            "\"numSamples\"",
            "\"level\": 1",
            "\"version\": 1",
        ] {
            assert!(text.contains(field), "{field} in {text}");
        }
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = BlockMeta::read(&RealFs, dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("read ") && err.contains("meta.json"),
            "{err}"
        );

        let path = dir.path().join(META_FILE);
        fs::write(&path, b"{\"version\": 2}").expect("write");
        let err = BlockMeta::read(&RealFs, dir.path()).unwrap_err();
        assert!(matches!(err, MetaError::Version { found: 2, .. }), "{err}");

        fs::write(&path, b"{\"version\": 1, \"ulid\": \"nope\"}").expect("write");
        let err = BlockMeta::read(&RealFs, dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a block meta file") && err.contains("invalid block id"),
            "{err}"
        );

        let mut m = meta();
        m.max_time = m.min_time;
        m.write(&RealFs, dir.path()).expect("write");
        assert!(matches!(
            BlockMeta::read(&RealFs, dir.path()),
            Err(MetaError::TimeRange { .. })
        ));

        fs::write(&path, b"\xff\x00").expect("write");
        assert!(matches!(
            BlockMeta::read(&RealFs, dir.path()),
            Err(MetaError::Parse { .. })
        ));
    }

    #[test]
    fn overlap_is_half_open() {
        let a = meta();
        let mut b = meta();
        b.min_time = a.max_time;
        b.max_time = a.max_time + 10;
        assert!(!a.overlaps(&b) && !b.overlaps(&a));
        b.min_time -= 1;
        assert!(a.overlaps(&b) && b.overlaps(&a));
    }
}

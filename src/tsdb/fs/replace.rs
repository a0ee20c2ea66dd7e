//! [`replace_file`]: the crash-safe replacement of a small file (a block's
//! `meta.json` and `tombstones`, the head's cut point).

use std::io;
use std::path::{Path, PathBuf};

use super::file::OpenMode;
use super::system::Fs;

/// The step of [`replace_file`] that failed: what was done, to which path.
#[derive(Debug, thiserror::Error)]
#[error("{op} {}: {source}", path.display())]
pub struct ReplaceError {
    /// "create", "write", "fsync" or "rename".
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old file or the
/// new one, never a mix: written to `dir/name.tmp`, fsynced, renamed over
/// `dir/name`, then `dir` fsynced. A crash may leave the `.tmp` file behind; the
/// next replacement overwrites it.
pub fn replace_file(fs: &dyn Fs, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ReplaceError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let err = |op, path: &Path| {
        let path = path.to_owned();
        move |source| ReplaceError { op, path, source }
    };
    let mut file = fs
        .open(&tmp, OpenMode::Truncate)
        .map_err(err("create", &tmp))?;
    file.write_all(bytes).map_err(err("write", &tmp))?;
    file.sync_all().map_err(err("fsync", &tmp))?;
    drop(file);
    fs.rename(&tmp, &dir.join(name))
        .map_err(err("rename", &tmp))?;
    fs.sync_dir(dir).map_err(err("fsync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsdb::fs::RealFs;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        replace_file(&RealFs, dir.path(), "f", b"one").unwrap();
        replace_file(&RealFs, dir.path(), "f", b"two!").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"two!");
        assert!(!dir.path().join("f.tmp").exists());
        // A leftover temporary file is overwritten.
        std::fs::write(dir.path().join("f.tmp"), b"junk, longer than three").unwrap();
        replace_file(&RealFs, dir.path(), "f", b"3").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"3");

        let err = replace_file(&RealFs, &dir.path().join("nope"), "f", b"").unwrap_err();
        assert_eq!(
            (err.op, err.source.kind()),
            ("create", io::ErrorKind::NotFound)
        );
        assert_eq!(err.path, dir.path().join("nope").join("f.tmp"));
    }
}

//! `Options::fs`: every file and directory of a data directory is created through
//! the file system the options name, so that a test can put one in its place.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tidemark::model::{Labels, Matcher};
use tidemark::tsdb::fs::{DirEntry, File, Fs, Metadata, MmapFile, OpenMode, RealFs};
use tidemark::tsdb::{Db, Options};

/// The real file system, noting every operation, every path it creates and
/// every rename.
#[derive(Debug, Default)]
struct Recording {
    created: Mutex<BTreeSet<PathBuf>>,
    renames: Mutex<Vec<(PathBuf, PathBuf)>>,
    ops: Mutex<BTreeSet<&'static str>>,
}

impl Recording {
    fn note(&self, op: &'static str, created: &[&Path]) {
        self.ops.lock().unwrap().insert(op);
        let mut seen = self.created.lock().unwrap();
        seen.extend(created.iter().map(|p| p.to_path_buf()));
    }

    /// Whether `path` was created through this file system: by name, or as an
    /// entry of a directory renamed from one in which it was.
    fn created(&self, path: &Path) -> bool {
        if self.created.lock().unwrap().contains(path) {
            return true;
        }
        let renames = self.renames.lock().unwrap().clone();
        renames.iter().any(|(from, to)| {
            path.strip_prefix(to)
                .is_ok_and(|rest| !rest.as_os_str().is_empty() && self.created(&from.join(rest)))
        })
    }
}

impl Fs for Recording {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn File>> {
        match mode {
            OpenMode::Read | OpenMode::ReadWrite => self.note("open", &[]),
            OpenMode::CreateNew | OpenMode::Truncate | OpenMode::Create => {
                self.note("open", &[path])
            }
        }
        RealFs.open(path, mode)
    }

    fn map(&self, path: &Path) -> io::Result<MmapFile> {
        self.note("map", &[]);
        RealFs.map(path)
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.note("metadata", &[]);
        RealFs.metadata(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        self.note("read_dir", &[]);
        RealFs.read_dir(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.note("create_dir", &[path]);
        RealFs.create_dir(path)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        // The parents it creates too.
        self.note("create_dir_all", &path.ancestors().collect::<Vec<_>>());
        RealFs.create_dir_all(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.note("sync_dir", &[]);
        RealFs.sync_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.note("rename", &[to]);
        self.renames
            .lock()
            .unwrap()
            .push((from.to_path_buf(), to.to_path_buf()));
        RealFs.rename(from, to)
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        self.note("hard_link", &[link]);
        RealFs.hard_link(original, link)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.note("remove_file", &[]);
        RealFs.remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.note("remove_dir_all", &[]);
        RealFs.remove_dir_all(path)
    }
}

/// Every path under `dir`, directories included.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        out.push(path.clone());
        if path.is_dir() {
            walk(&path, out);
        }
    }
}

#[test]
fn every_file_of_a_data_directory_goes_through_the_options_fs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let snapshot = tmp.path().join("snapshot");
    let rec = Arc::new(Recording::default());
    let options = || Options {
        maintenance_interval: None,
        // Small WAL segments and chunks: segments are cut and checkpointed, chunks
        // go to the head chunk files.
        wal_segment_size: 32 * 1024,
        samples_per_chunk: 30,
        fs: Arc::clone(&rec) as Arc<dyn Fs>,
        ..Options::default()
    };

    let db = Db::open(&dir, options()).unwrap();
    let labels =
        |i: u32| Labels::new([("__name__", "m".to_owned()), ("i", i.to_string())]).unwrap();
    // Five hours of samples: the head is cut into blocks.
    for t in (0..5 * 3600 * 1000).step_by(10_000) {
        let mut app = db.appender();
        for i in 0..40 {
            app.append(&labels(i), t, f64::from(i)).unwrap();
        }
        app.commit().unwrap();
    }
    let report = db.maintain().unwrap();
    assert!(report.head_blocks > 0, "{report:?}");
    assert!(report.wal_checkpoints > 0, "{report:?}");
    db.delete_series(&[Matcher::equal("i", "3")], 0, 3_600_000)
        .unwrap();
    assert!(db.clean_tombstones().unwrap() > 0);
    db.delete_series(&[Matcher::equal("i", "4")], 0, 3_600_000)
        .unwrap();
    assert!(db.snapshot(&snapshot, true).unwrap() > 0);
    db.close().unwrap();
    let db = Db::open(&dir, options()).unwrap();
    assert!(db.open_report().samples > 0);
    db.close().unwrap();

    let mut paths = Vec::new();
    walk(&dir, &mut paths);
    walk(&snapshot, &mut paths);
    assert!(paths.len() > 10, "{paths:?}");
    for p in &paths {
        assert!(
            rec.created(p),
            "{} was not created through the Fs",
            p.display()
        );
    }
    let ops = rec.ops.lock().unwrap().clone();
    for op in [
        "open",
        "map",
        "read_dir",
        "create_dir",
        "create_dir_all",
        "sync_dir",
        "rename",
        "hard_link",
        "remove_file",
        "remove_dir_all",
    ] {
        assert!(ops.contains(op), "{op} not used: {ops:?}");
    }
}

//! The persisted blocks of a data directory, as the database sees them.
//!
//! On open, every `<ulid>` directory is opened as a block. Directories a crash
//! left behind are cleared first: `<ulid>.tmp` (a block being written: it never
//! became visible) and `<ulid>.tmp-for-deletion` (a block being deleted: it was
//! no longer visible). A block listed as a parent of another block was merged into
//! it by a compaction that finished writing: it is deleted, so that after any crash
//! the directory holds each sample in exactly one view (either the sources or
//! their merge, never both). A block that does not open is reported, naming its
//! directory and file, and left alone; the others are used.
//!
//! Deleting a block renames it to `<ulid>.tmp-for-deletion` (atomic) before
//! removing its files, so a crash half-way never leaves a half-deleted block that
//! looks like a damaged one. Queries already running keep reading a deleted block
//! through the open files they hold.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::tsdb::block::{Block, BlockError, BlockId, BlockMeta};
use crate::tsdb::error::DbError;
use crate::tsdb::fs::{Access, FileKind, Fs};

const TMP_SUFFIX: &str = ".tmp";
const DELETION_SUFFIX: &str = ".tmp-for-deletion";

/// A block with its size on disk.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) block: Arc<Block>,
    pub(crate) bytes: u64,
}

/// The open blocks, oldest (by min time) first.
pub(crate) struct BlockSet {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    blocks: RwLock<Vec<Loaded>>,
    /// Block directories that did not open: not tried again by
    /// [`load_new`](Self::load_new).
    damaged: parking_lot::Mutex<std::collections::HashSet<BlockId>>,
    /// Blocks a compaction failed to read since open (their `meta.json` says so
    /// too, when it could be rewritten): the planner leaves them alone.
    failed: parking_lot::Mutex<std::collections::HashSet<BlockId>>,
}

/// What opening the blocks found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// Blocks that did not open, with why.
    pub(crate) damaged: Vec<BlockError>,
    /// Blocks deleted because a compacted block holds their data.
    pub(crate) merged_away: Vec<BlockId>,
}

fn io_err(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> DbError {
    let path = path.to_path_buf();
    move |source| DbError::Io {
        path,
        source: io::Error::new(source.kind(), format!("{op}: {source}")),
    }
}

/// Bytes of every file under `dir`.
pub(crate) fn dir_size(fs: &dyn Fs, dir: &Path) -> u64 {
    let Ok(entries) = fs.read_dir(dir) else {
        return 0;
    };
    entries
        .iter()
        .map(|e| {
            let path = dir.join(&e.name);
            match e.kind {
                FileKind::Dir => dir_size(fs, &path),
                _ => fs.metadata(&path).map_or(0, |m| m.len),
            }
        })
        .sum()
}

impl BlockSet {
    /// Opens the blocks in `dir`, clearing what a crash left behind (see the
    /// module docs). The blocks' files are reached through `fs`.
    pub(crate) fn open(fs: &Arc<dyn Fs>, dir: &Path) -> Result<(BlockSet, Found), DbError> {
        let mut found = Found::default();
        let mut loaded = Vec::new();
        let mut damaged_ids = Vec::new();
        for entry in fs.read_dir(dir).map_err(io_err(dir, "list"))? {
            let Some(name) = entry.name.to_str().map(str::to_owned) else {
                continue;
            };
            let path = dir.join(&name);
            if entry.kind != FileKind::Dir {
                continue;
            }
            let stem = name
                .strip_suffix(DELETION_SUFFIX)
                .or_else(|| name.strip_suffix(TMP_SUFFIX));
            if let Some(stem) = stem {
                if stem.parse::<BlockId>().is_ok() {
                    tracing::info!(dir = %path.display(), "removing an unfinished block write or deletion");
                    fs.remove_dir_all(&path).map_err(io_err(&path, "remove"))?;
                }
                continue;
            }
            if name.parse::<BlockId>().is_err() {
                continue;
            }
            match Block::open(fs, &path, Access::Mmap) {
                Ok(block) => loaded.push(Loaded {
                    block: Arc::new(block),
                    bytes: dir_size(&**fs, &path),
                }),
                Err(e) => {
                    tracing::error!(error = %e, "block does not open; it is left on disk and not read");
                    if let Ok(id) = name.parse::<BlockId>() {
                        damaged_ids.push(id);
                    }
                    found.damaged.push(e);
                }
            }
        }
        let parents: std::collections::HashSet<BlockId> = loaded
            .iter()
            .flat_map(|l| l.block.meta().compaction.parents.iter().copied())
            .collect();
        let set = BlockSet {
            fs: Arc::clone(fs),
            dir: dir.to_path_buf(),
            blocks: RwLock::new(Vec::new()),
            failed: parking_lot::Mutex::new(Default::default()),
            damaged: parking_lot::Mutex::new(Default::default()),
        };
        let (gone, kept): (Vec<Loaded>, Vec<Loaded>) = loaded
            .into_iter()
            .partition(|l| parents.contains(&l.block.meta().ulid));
        for l in gone {
            tracing::info!(block = %l.block.meta().ulid, "deleting a block a finished compaction merged");
            found.merged_away.push(l.block.meta().ulid);
            set.remove_dir(l.block.meta().ulid)?;
        }
        let mut kept = kept;
        sort(&mut kept);
        *set.blocks.write() = kept;
        set.damaged.lock().extend(damaged_ids);
        Ok((set, found))
    }

    /// The open blocks, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .iter()
            .map(|l| Arc::clone(&l.block))
            .collect()
    }

    /// The open blocks with their sizes, oldest first.
    pub(crate) fn loaded(&self) -> Vec<Loaded> {
        self.blocks.read().clone()
    }

    /// Opens the blocks that appeared in the directory since it was read (an import
    /// written there while the database runs, as Prometheus picks up blocks moved
    /// into its directory). Returns their ids.
    pub(crate) fn load_new(&self) -> Result<Vec<BlockId>, DbError> {
        let known: std::collections::HashSet<BlockId> = self
            .blocks
            .read()
            .iter()
            .map(|l| l.block.meta().ulid)
            .collect();
        let mut added = Vec::new();
        for entry in self
            .fs
            .read_dir(&self.dir)
            .map_err(io_err(&self.dir, "list"))?
        {
            let Some(id) = entry.name.to_str().and_then(|n| n.parse::<BlockId>().ok()) else {
                continue;
            };
            if known.contains(&id) || self.damaged.lock().contains(&id) {
                continue;
            }
            let is_dir = self
                .fs
                .metadata(&self.dir.join(&entry.name))
                .is_ok_and(|m| m.kind == FileKind::Dir);
            if !is_dir {
                continue;
            }
            match self.add(id, &[]) {
                Ok(()) => {
                    tracing::info!(block = %id, "new block found in the data directory");
                    added.push(id);
                }
                Err(e) => {
                    tracing::error!(error = %e, "block does not open; it is left on disk and not read");
                    self.damaged.lock().insert(id);
                }
            }
        }
        Ok(added)
    }

    /// The metas of the open blocks, oldest first, with `compaction.failed` set for
    /// the blocks [`mark_failed`](Self::mark_failed) named.
    pub(crate) fn metas(&self) -> Vec<BlockMeta> {
        let failed = self.failed.lock();
        self.blocks
            .read()
            .iter()
            .map(|l| {
                let mut m = l.block.meta().clone();
                m.compaction.failed |= failed.contains(&m.ulid);
                m
            })
            .collect()
    }

    /// Records that compacting block `id` failed on its own data, so that it is
    /// not tried again (Prometheus does the same): in memory, and in its
    /// `meta.json` so that a restart remembers.
    pub(crate) fn mark_failed(&self, id: BlockId) {
        self.failed.lock().insert(id);
        let Some(l) = self
            .blocks
            .read()
            .iter()
            .find(|l| l.block.meta().ulid == id)
            .cloned()
        else {
            return;
        };
        let mut meta = l.block.meta().clone();
        meta.compaction.failed = true;
        if let Err(e) = meta.write(&*self.fs, l.block.dir()) {
            tracing::warn!(block = %id, error = %e, "could not record the failed compaction in meta.json");
        }
    }

    /// Opens the block `id` just written in the directory and makes it visible,
    /// hiding the blocks `replaces` in the same step (a compaction's sources).
    pub(crate) fn add(&self, id: BlockId, replaces: &[BlockId]) -> Result<(), BlockError> {
        let path = self.dir.join(id.to_string());
        let block = Block::open(&self.fs, &path, Access::Mmap)?;
        let loaded = Loaded {
            block: Arc::new(block),
            bytes: dir_size(&*self.fs, &path),
        };
        let mut blocks = self.blocks.write();
        blocks.retain(|l| !replaces.contains(&l.block.meta().ulid));
        blocks.push(loaded);
        sort(&mut blocks);
        Ok(())
    }

    /// Hides the blocks `ids` and deletes their directories.
    pub(crate) fn delete(&self, ids: &[BlockId]) -> Result<(), DbError> {
        self.blocks
            .write()
            .retain(|l| !ids.contains(&l.block.meta().ulid));
        for &id in ids {
            self.remove_dir(id)?;
        }
        Ok(())
    }

    /// Renames the block's directory out of the way, then removes it.
    fn remove_dir(&self, id: BlockId) -> Result<(), DbError> {
        let path = self.dir.join(id.to_string());
        let doomed = self.dir.join(format!("{id}{DELETION_SUFFIX}"));
        match self.fs.rename(&path, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&path, "rename for deletion")(e)),
        }
        self.fs
            .sync_dir(&self.dir)
            .map_err(io_err(&self.dir, "fsync"))?;
        self.fs
            .remove_dir_all(&doomed)
            .map_err(io_err(&doomed, "remove"))
    }
}

fn sort(blocks: &mut [Loaded]) {
    blocks.sort_by_key(|l| (l.block.meta().min_time, l.block.meta().max_time));
}

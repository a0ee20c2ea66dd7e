//! Checkpoints: the records of old segments that are still needed, rewritten into a
//! `checkpoint.NNNNNNNN` directory so that the segments up to `NNNNNNNN` can go.
//!
//! Crash safety rests on one atomic step, the rename of the finished, fsynced
//! `checkpoint.NNNNNNNN.tmp` to `checkpoint.NNNNNNNN`:
//!
//! - before it, replay ignores the `.tmp` directory (and deletes it) and reads the
//!   previous checkpoint and every segment after it, all still present;
//! - after it, replay reads the new checkpoint and only the segments after `NNNNNNNN`,
//!   so older checkpoints and segments `<= NNNNNNNN` that a crash left behind are
//!   ignored; they are deleted by this or the next checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::WalError;
use super::reader::{SegmentReader, read_segments_strict, read_strict};
use super::record::{
    RecordType, RefSample, RefSeries, RefTombstone, decode_samples, decode_series,
    decode_tombstones, encode_samples, encode_series, encode_tombstones, record_type,
};
use super::segment::{
    DirListing, check_consecutive, checkpoint_name, checkpoint_tmp_name, sync_dir,
};
use super::writer::{SyncPolicy, Wal, WalOptions};
use crate::model::Labels;
use crate::tsdb::fs::Fs;
use crate::tsdb::series_ref::SeriesRef;

/// Output records are gathered up to this many bytes before being logged.
const BATCH_BYTES: usize = 1 << 20;

/// What a checkpoint kept and dropped (counted per series and per sample).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    pub dropped_series: u64,
    pub dropped_samples: u64,
    pub kept_series: u64,
    pub kept_samples: u64,
}

/// Folds the previous checkpoint (if any) and segments up to `upto` into
/// `checkpoint.{upto:08}`, keeping the series for which `keep_series` is true and the
/// samples of those series with `t >= mint`; then deletes older checkpoints and the
/// segments `<= upto`.
///
/// `upto` must be below the current segment and above the previous checkpoint. Damage
/// in any segment read is an error (those segments were closed and fsynced). Record
/// types this version does not know are an error rather than silently dropped.
pub fn checkpoint(
    wal: &mut Wal,
    upto: u32,
    keep_series: &dyn Fn(SeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats, WalError> {
    wal.check_poisoned()?;
    let stats = write_checkpoint(
        wal.fs(),
        wal.dir(),
        wal.options().segment_size,
        wal.current_segment(),
        upto,
        keep_series,
        mint,
    )?;
    wal.truncate_before(upto.saturating_add(1))?;
    Ok(stats)
}

/// The part of [`checkpoint`] that reads only closed segments, so that the live
/// WAL can go on taking writes meanwhile: everything but deleting the segments
/// `<= upto` (then [`Wal::truncate_before`]). `current` is the segment being
/// written; `upto` must be below it. The files are read and written through
/// `fs`.
pub(crate) fn write_checkpoint(
    fs: &Arc<dyn Fs>,
    dir: &Path,
    segment_size: usize,
    current: u32,
    upto: u32,
    keep_series: &dyn Fn(SeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats, WalError> {
    let fail = |reason: String| WalError::Checkpoint {
        dir: dir.to_path_buf(),
        reason,
    };
    if upto >= current {
        return Err(fail(format!(
            "segment {upto:08} is not closed (the current segment is {current:08})"
        )));
    }
    let mut listing = DirListing::read(&**fs, dir)?;
    listing.remove_tmp_checkpoints(&**fs)?;
    let prev = listing.last_checkpoint().cloned();
    if let Some((p, _)) = &prev
        && *p >= upto
    {
        return Err(fail(format!(
            "checkpoint {p:08} already covers segment {upto:08}"
        )));
    }
    let from = prev.as_ref().map(|(p, _)| p + 1);
    let segments: Vec<(u32, PathBuf)> = listing
        .segments
        .into_iter()
        .filter(|(i, _)| *i <= upto && from.is_none_or(|f| *i >= f))
        .collect();
    check_consecutive(dir, &segments, from)?;
    if segments.last().map(|s| s.0) != Some(upto) {
        return Err(fail(format!("segment {upto:08} does not exist")));
    }

    let tmp = dir.join(checkpoint_tmp_name(upto));
    let res = write_tmp(
        fs,
        &tmp,
        segment_size,
        prev.as_ref().map(|(_, p)| p.as_path()),
        &segments,
        keep_series,
        mint,
    );
    let stats = match res {
        Ok(stats) => stats,
        Err(e) => {
            // Best effort: replay and open also delete it.
            let _ = fs.remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let fin = dir.join(checkpoint_name(upto));
    fs.rename(&tmp, &fin)
        .map_err(|e| WalError::io("rename", &tmp, e))?;
    sync_dir(&**fs, dir)?;

    for (idx, path) in DirListing::read(&**fs, dir)?.checkpoints {
        if idx < upto {
            fs.remove_dir_all(&path)
                .map_err(|e| WalError::io("remove", &path, e))?;
        }
    }
    Ok(stats)
}

/// The segments after the last checkpoint, oldest first (what a checkpoint may
/// fold).
pub(crate) fn uncheckpointed_segments(fs: &dyn Fs, dir: &Path) -> Result<Vec<u32>, WalError> {
    let listing = DirListing::read(fs, dir)?;
    let after = listing.last_checkpoint().map(|(p, _)| *p);
    Ok(listing
        .segments
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| after.is_none_or(|p| *i > p))
        .collect())
}

/// Writes the filtered records into `tmp` (a fresh WAL directory) and fsyncs it.
fn write_tmp(
    fs: &Arc<dyn Fs>,
    tmp: &Path,
    segment_size: usize,
    prev: Option<&Path>,
    segments: &[(u32, PathBuf)],
    keep_series: &dyn Fn(SeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats, WalError> {
    if fs.exists(tmp) {
        fs.remove_dir_all(tmp)
            .map_err(|e| WalError::io("remove", tmp, e))?;
    }
    let out = Wal::open(
        fs,
        tmp,
        WalOptions {
            segment_size,
            sync: SyncPolicy::OnSegmentClose,
        },
    )?;
    let mut filter = Filter {
        keep_series,
        mint,
        stats: CheckpointStats::default(),
        series: Vec::new(),
        samples: Vec::new(),
        stones: Vec::new(),
        batch: Vec::with_capacity(BATCH_BYTES + 64 * 1024),
        ends: Vec::new(),
        out,
        write_error: None,
    };
    let mut reader = SegmentReader::new();
    let mut read = |f: &mut Filter| -> Result<(), WalError> {
        let mut cb = |rec: &[u8], _offset: u64| f.add(rec);
        match prev {
            Some(p) => read_strict(&**fs, &mut reader, p, &mut cb)?,
            None => 0,
        };
        read_segments_strict(&**fs, &mut reader, segments, &mut cb)?;
        Ok(())
    };
    let res = read(&mut filter);
    // A failed write of the output shows up as a callback error; report the write.
    if let Some(e) = filter.write_error.take() {
        return Err(e);
    }
    res?;
    filter.flush()?;
    let stats = filter.stats;
    filter.out.close()?;
    Ok(stats)
}

/// Filters records into the checkpoint being written.
struct Filter<'a> {
    keep_series: &'a dyn Fn(SeriesRef) -> bool,
    mint: i64,
    stats: CheckpointStats,
    series: Vec<RefSeries>,
    samples: Vec<RefSample>,
    stones: Vec<RefTombstone>,
    /// Encoded output records, back to back; `ends` marks where each one ends.
    batch: Vec<u8>,
    ends: Vec<usize>,
    out: Wal,
    write_error: Option<WalError>,
}

impl Filter<'_> {
    fn add(&mut self, rec: &[u8]) -> Result<(), String> {
        match record_type(rec).map_err(|e| e.to_string())? {
            RecordType::Series => {
                self.series.clear();
                decode_series(rec, &mut self.series).map_err(|e| e.to_string())?;
                let keep = self.keep_series;
                let kept: Vec<(SeriesRef, &Labels)> = self
                    .series
                    .iter()
                    .filter(|s| keep(s.series_ref))
                    .map(|s| (s.series_ref, &s.labels))
                    .collect();
                self.stats.kept_series += kept.len() as u64;
                self.stats.dropped_series += (self.series.len() - kept.len()) as u64;
                if !kept.is_empty() {
                    encode_series(&kept, &mut self.batch);
                    self.ends.push(self.batch.len());
                }
            }
            RecordType::Samples => {
                self.samples.clear();
                decode_samples(rec, &mut self.samples).map_err(|e| e.to_string())?;
                let total = self.samples.len();
                let (keep, mint) = (self.keep_series, self.mint);
                self.samples.retain(|s| s.t >= mint && keep(s.series_ref));
                self.stats.kept_samples += self.samples.len() as u64;
                self.stats.dropped_samples += (total - self.samples.len()) as u64;
                if !self.samples.is_empty() {
                    encode_samples(&self.samples, &mut self.batch);
                    self.ends.push(self.batch.len());
                }
            }
            RecordType::Tombstones => {
                // Deletions of kept series that still reach the kept samples.
                self.stones.clear();
                decode_tombstones(rec, &mut self.stones).map_err(|e| e.to_string())?;
                let (keep, mint) = (self.keep_series, self.mint);
                self.stones.retain(|s| s.maxt >= mint && keep(s.series_ref));
                if !self.stones.is_empty() {
                    encode_tombstones(&self.stones, &mut self.batch);
                    self.ends.push(self.batch.len());
                }
            }
        }
        if self.batch.len() >= BATCH_BYTES
            && let Err(e) = self.flush()
        {
            let msg = format!("writing the checkpoint failed: {e}");
            self.write_error = Some(e);
            return Err(msg);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WalError> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let recs: Vec<&[u8]> = self
            .ends
            .iter()
            .map(|&end| {
                let r = &self.batch[start..end];
                start = end;
                r
            })
            .collect();
        self.out.log(&recs)?;
        self.batch.clear();
        self.ends.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::tsdb::fs::{RealFs, real};
    use crate::tsdb::wal::{PAGE_SIZE, replay};

    fn opts() -> WalOptions {
        WalOptions {
            segment_size: 2 * PAGE_SIZE,
            sync: SyncPolicy::OnSegmentClose,
        }
    }

    fn series_rec(r: u64) -> Vec<u8> {
        let l = Labels::new([("__name__", "m"), ("id", &*r.to_string())]).unwrap();
        let mut buf = Vec::new();
        encode_series(&[(SeriesRef(r), &l)], &mut buf);
        buf
    }

    fn samples_rec(samples: &[(u64, i64)]) -> Vec<u8> {
        let s: Vec<RefSample> = samples
            .iter()
            .map(|&(r, t)| RefSample {
                series_ref: SeriesRef(r),
                t,
                v: t as f64,
            })
            .collect();
        let mut buf = Vec::new();
        encode_samples(&s, &mut buf);
        buf
    }

    /// Replays into (series refs, (ref, t) samples) in order.
    fn replay_content(dir: &Path) -> (Vec<u64>, Vec<(u64, i64)>, Option<u32>) {
        let (mut series, mut samples) = (Vec::new(), Vec::new());
        let report = replay(&RealFs, dir, |rec| {
            match record_type(rec).map_err(|e| e.to_string())? {
                RecordType::Series => {
                    let mut out = Vec::new();
                    decode_series(rec, &mut out).map_err(|e| e.to_string())?;
                    series.extend(out.iter().map(|s| s.series_ref.0));
                }
                RecordType::Samples => {
                    let mut out = Vec::new();
                    decode_samples(rec, &mut out).map_err(|e| e.to_string())?;
                    samples.extend(out.iter().map(|s| (s.series_ref.0, s.t)));
                }
                RecordType::Tombstones => {}
            }
            Ok(())
        })
        .unwrap();
        (series, samples, report.checkpoint)
    }

    fn segment_indexes(dir: &Path) -> Vec<u32> {
        DirListing::read(&RealFs, dir)
            .unwrap()
            .segments
            .iter()
            .map(|s| s.0)
            .collect()
    }

    /// Segment 0: series 1..=3 and samples at t=10,20; segment 1: series 4, samples at
    /// t=30; current segment 2: samples at t=40.
    fn setup(dir: &Path) -> Wal {
        let mut wal = Wal::open(&real(), dir, opts()).unwrap();
        let (s1, s2, s3) = (series_rec(1), series_rec(2), series_rec(3));
        let a = samples_rec(&[(1, 10), (2, 10), (3, 10), (1, 20), (2, 20), (3, 20)]);
        wal.log(&[&s1, &s2, &s3, &a]).unwrap();
        wal.cut_segment().unwrap();
        let b = samples_rec(&[(1, 30), (2, 30), (3, 30), (4, 30)]);
        wal.log(&[&series_rec(4), &b]).unwrap();
        wal.cut_segment().unwrap();
        wal.log(&[&samples_rec(&[(2, 40), (4, 40)])]).unwrap();
        wal
    }

    #[test]
    fn checkpoint_keeps_and_drops_then_replay_reads_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = setup(dir.path());
        let keep = |r: SeriesRef| r.0 != 3;
        let stats = checkpoint(&mut wal, 1, &keep, 20).unwrap();
        assert_eq!(
            stats,
            CheckpointStats {
                kept_series: 3,
                dropped_series: 1,
                // t=20 and t=30 of series 1, 2, 4 (4 has no t=20).
                kept_samples: 5,
                // t=10 × 3, series 3 at 20 and 30.
                dropped_samples: 5,
            }
        );
        assert!(dir.path().join("checkpoint.00000001").is_dir());
        assert_eq!(segment_indexes(dir.path()), vec![2]);
        let (series, samples, cp) = replay_content(dir.path());
        assert_eq!(cp, Some(1));
        assert_eq!(series, vec![1, 2, 4]);
        assert_eq!(
            samples,
            vec![
                (1, 20),
                (2, 20),
                (1, 30),
                (2, 30),
                (4, 30),
                (2, 40),
                (4, 40)
            ]
        );
        // The WAL goes on after it.
        wal.log(&[&samples_rec(&[(1, 50)])]).unwrap();
        wal.close().unwrap();
        assert_eq!(replay_content(dir.path()).1.last(), Some(&(1, 50)));
    }

    #[test]
    fn second_checkpoint_folds_in_the_first_and_deletes_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = setup(dir.path());
        checkpoint(&mut wal, 0, &|_| true, 0).unwrap();
        wal.cut_segment().unwrap(); // current 3
        let stats = checkpoint(&mut wal, 2, &|r| r.0 == 2, 15).unwrap();
        assert_eq!(stats.kept_series, 1);
        assert_eq!(stats.kept_samples, 3); // series 2 at 20, 30, 40
        assert!(!dir.path().join("checkpoint.00000000").exists());
        assert_eq!(segment_indexes(dir.path()), vec![3]);
        let (series, samples, cp) = replay_content(dir.path());
        assert_eq!(
            (series, samples, cp),
            (vec![2], vec![(2, 20), (2, 30), (2, 40)], Some(2))
        );
        // Reopening starts after the current segment.
        drop(wal);
        assert_eq!(
            Wal::open(&real(), dir.path(), opts())
                .unwrap()
                .current_segment(),
            4
        );
    }

    #[test]
    fn checkpoint_refuses_open_or_already_covered_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = setup(dir.path());
        let err = checkpoint(&mut wal, 2, &|_| true, 0).unwrap_err();
        assert!(err.to_string().contains("not closed"), "{err}");
        checkpoint(&mut wal, 1, &|_| true, 0).unwrap();
        let err = checkpoint(&mut wal, 1, &|_| true, 0).unwrap_err();
        assert!(err.to_string().contains("already covers"), "{err}");
        assert!(!dir.path().join("checkpoint.00000001.tmp").exists());
    }

    #[test]
    fn unknown_record_type_fails_the_checkpoint_and_leaves_no_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(&real(), dir.path(), opts()).unwrap();
        wal.log(&[&series_rec(1), &[9u8, 1, 2][..]]).unwrap();
        wal.cut_segment().unwrap();
        let err = checkpoint(&mut wal, 0, &|_| true, 0).unwrap_err();
        assert!(
            matches!(&err, WalError::Record { segment: 0, reason, .. } if reason.contains("unknown record type 9")),
            "{err}"
        );
        assert!(!dir.path().join("checkpoint.00000000.tmp").exists());
        assert!(!dir.path().join("checkpoint.00000000").exists());
        assert_eq!(segment_indexes(dir.path()), vec![0, 1]);
    }

    /// Every intermediate state a crash can leave replays to the same content.
    #[test]
    fn crash_states_during_checkpoint_replay_correctly() {
        let keep = |r: SeriesRef| r.0 != 3;
        // The reference: a completed checkpoint.
        let done = tempfile::tempdir().unwrap();
        let mut wal = setup(done.path());
        checkpoint(&mut wal, 0, &|_| true, 0).unwrap();
        checkpoint(&mut wal, 1, &keep, 20).unwrap();
        let want = replay_content(done.path());
        let before = {
            let d = tempfile::tempdir().unwrap();
            let mut w = setup(d.path());
            checkpoint(&mut w, 0, &|_| true, 0).unwrap();
            replay_content(d.path())
        };

        let copy_dir = |from: &Path, to: &Path| {
            for e in fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        };
        // 1. Crash while the .tmp directory is being written: the old state.
        let d = tempfile::tempdir().unwrap();
        let mut w = setup(d.path());
        checkpoint(&mut w, 0, &|_| true, 0).unwrap();
        let tmp = d.path().join("checkpoint.00000001.tmp");
        fs::create_dir(&tmp).unwrap();
        copy_dir(&done.path().join("checkpoint.00000001"), &tmp);
        fs::write(tmp.join("00000000"), b"\x02\x00\x05garbage").unwrap();
        assert_eq!(replay_content(d.path()), before);
        assert!(!tmp.exists(), "replay removes the unfinished checkpoint");

        // 2. Crash after the rename, before old checkpoints and segments are deleted.
        let d = tempfile::tempdir().unwrap();
        let mut w = setup(d.path());
        checkpoint(&mut w, 0, &|_| true, 0).unwrap();
        let fin = d.path().join("checkpoint.00000001");
        fs::create_dir(&fin).unwrap();
        copy_dir(&done.path().join("checkpoint.00000001"), &fin);
        assert!(d.path().join("checkpoint.00000000").exists());
        assert_eq!(segment_indexes(d.path()), vec![1, 2]);
        assert_eq!(replay_content(d.path()), want);
        // And the next checkpoint cleans up after it.
        w.cut_segment().unwrap();
        checkpoint(&mut w, 2, &|_| true, 0).unwrap();
        assert!(!d.path().join("checkpoint.00000000").exists());
        assert!(!fin.exists());
        assert_eq!(segment_indexes(d.path()), vec![3]);
    }
}

//! Appenders: the write path into the head and the WAL.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::batch::{BatchBuffers, Pending};
use super::series::{
    Appended, CommitOrder, GroupWriter, MemSeries, Refusal, SeriesGroup, Verdict, WARM_AHEAD, check,
};
use super::state::{Head, RefBlock, WalSlot};
use super::stripe::U64Map;
use crate::model::Labels;
use crate::tsdb::series_ref::SeriesRef;
use crate::tsdb::wal::{self, RefSample, WalError};

/// Why an append or a commit failed. Refused samples leave the appender and the
/// head as they were: earlier appends of the same appender can still be committed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A series needs at least one label.
    #[error("empty label set: a series needs at least one label")]
    EmptyLabels,
    /// Older than the newest sample of the series.
    #[error(
        "out of order sample for series {labels}: timestamp {t} is older than the newest sample at {last_t}"
    )]
    OutOfOrder { labels: Labels, t: i64, last_t: i64 },
    /// Older than the head accepts: before the newest block's end, or more than
    /// half a block range before the newest sample of any series.
    #[error(
        "out of bounds sample for series {labels}: timestamp {t} is older than {min_t}, the oldest the head accepts"
    )]
    OutOfBounds { labels: Labels, t: i64, min_t: i64 },
    /// Same timestamp as the newest sample of the series, different value.
    #[error(
        "duplicate sample for timestamp {t} in series {labels}: new value {new} differs from stored value {existing}"
    )]
    DuplicateTimestamp {
        labels: Labels,
        t: i64,
        existing: f64,
        new: f64,
    },
    /// `append_ref` with a reference the head does not know.
    #[error("unknown series reference {}", .0.0)]
    UnknownRef(SeriesRef),
    /// The WAL write failed: nothing of this commit is stored.
    #[error("commit failed writing the WAL: {0}")]
    Wal(#[from] WalError),
    /// The database was closed.
    #[error("the database is closed")]
    Closed,
    /// An earlier commit reached the WAL but could not be applied to the head; the
    /// head refuses writes until reopened (replay restores the data).
    #[error("the head refuses writes after an earlier failure: {0}")]
    Poisoned(String),
}

/// A series this appender has written to, with what it has buffered for it.
///
/// 40 bytes: an appender holds one per series it writes (a scrape target's
/// every series), for as long as it lives.
struct Session {
    series: Arc<MemSeries>,
    series_ref: SeriesRef,
    /// Index in the batch's samples of the newest one buffered for this series,
    /// so that the appender's own samples are checked against each other; valid
    /// while `pending_batch` is the appender's current batch.
    pending: usize,
    pending_batch: u32,
    /// The batch in which this appender last found the series not removed with
    /// its group pinned (see `SeriesGroup::pin`).
    pinned_batch: u32,
    /// Set to the current batch once the session is listed in `unlogged`.
    unlogged_batch: u32,
    /// The series record is known to be in the WAL (it never stops being).
    logged: bool,
}

/// Sessions kept across commits before the cache is dropped and rebuilt, so one
/// long-lived appender over ever-new series cannot grow without bound.
const MAX_SESSIONS: usize = 1 << 20;

/// Buffers samples and commits them atomically to the WAL and then the head.
///
/// One appender serves one writer (one scrape target, one batch of an import);
/// many appenders may commit at once. After `commit` or `rollback` the appender is
/// empty and can be used again, and reusing it is cheaper than a new one: it keeps
/// the series it wrote to, so later appends by ref take no shared lock at all.
/// Dropping it discards what it holds.
pub struct Appender {
    head: Arc<Head>,
    sessions: Vec<Session>,
    /// Index of `sessions` by series ref (and by the old ref of a series that
    /// was created again), only while needed: see [`Appender::session_index`].
    by_ref: Option<U64Map<usize>>,
    /// Whether this batch used `by_ref`.
    looked_up: bool,
    /// The session after the last one appended to. A writer that appends the
    /// same series in the same order every time (a scrape) finds each next
    /// series here, in sequence, instead of by a hash lookup in `by_ref`: that
    /// lookup is a cache miss per sample once the sessions outgrow the cache.
    next_session: usize,
    ref_block: RefBlock,
    /// Numbers the batches between commits, so that ending one forgets every
    /// session's pending sample at once. Never 0, the sessions' "no batch".
    batch: u32,
    /// The batch being built, borrowed from the head's pool at its first
    /// sample and given back when it ends.
    buf: BatchBuffers,
    /// Sessions whose series record may not be in the WAL yet.
    unlogged: Vec<usize>,
    /// Groups this batch pinned, the last one last (a group is pinned again when
    /// a batch comes back to it: pins count).
    pinned: Vec<Arc<SeriesGroup>>,
}

impl Head {
    pub(crate) fn appender(self: &Arc<Self>) -> Appender {
        Appender::new(Arc::clone(self))
    }
}

impl Appender {
    fn new(head: Arc<Head>) -> Appender {
        Appender {
            head,
            sessions: Vec::new(),
            by_ref: None,
            looked_up: false,
            next_session: 0,
            ref_block: RefBlock::default(),
            batch: 1,
            buf: BatchBuffers::default(),
            unlogged: Vec::new(),
            pinned: Vec::new(),
        }
    }

    /// Adds a sample to the series with these labels, creating the series if it is
    /// new, and returns its reference for [`Appender::append_ref`].
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        let series = self.head.get_or_create(labels, &mut self.ref_block);
        let session = self.session_for(series.series_ref(), || Some(series))?;
        self.next_session = session + 1;
        self.admit(session, t, v)
    }

    /// Adds a sample to a series by the reference an earlier `append` returned:
    /// no label hashing or comparison.
    pub fn append_ref(
        &mut self,
        series_ref: SeriesRef,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        let session = match self.sessions.get(self.next_session) {
            Some(s) if s.series_ref == series_ref => self.next_session,
            _ => match self.session_index().get(&series_ref.0) {
                Some(&i) => i,
                None => {
                    let series = self.head.series.get_by_ref(series_ref);
                    self.session_for(series_ref, || series)?
                }
            },
        };
        self.next_session = session + 1;
        // Writers that append in the same order every time (scrapes) come to
        // the sessions in order: the series a few ahead is the one appended to
        // a few samples later, and its first touch was a cache miss per sample.
        if let Some(ahead) = self.sessions.get(session + WARM_AHEAD) {
            ahead.series.warm();
        }
        self.admit(session, t, v)
    }

    /// The session of `series_ref`, opened with the series `lookup` finds if new.
    fn session_for(
        &mut self,
        series_ref: SeriesRef,
        lookup: impl FnOnce() -> Option<Arc<MemSeries>>,
    ) -> Result<usize, AppendError> {
        if let Some(&i) = self.session_index().get(&series_ref.0) {
            return Ok(i);
        }
        let series = lookup().ok_or(AppendError::UnknownRef(series_ref))?;
        Ok(self.new_session(series))
    }

    fn new_session(&mut self, series: Arc<MemSeries>) -> usize {
        let i = self.sessions.len();
        let series_ref = series.series_ref();
        self.sessions.push(Session {
            logged: series.wal_logged(),
            series,
            series_ref,
            pending: 0,
            pending_batch: 0,
            unlogged_batch: 0,
            pinned_batch: 0,
        });
        self.session_index().insert(series_ref.0, i);
        i
    }

    /// The index of the sessions by ref, built if dropped. A writer that
    /// appends the same series in the same order every time (a scrape) finds
    /// them through `next_session` and never needs it, so it is dropped after
    /// a batch that did not use it (it takes some 30 bytes a series) and built
    /// again from the sessions when one does. Rebuilt, it leads the old ref of
    /// a series created again to the old session, whose removed series `pin`
    /// replaces by the new one again.
    fn session_index(&mut self) -> &mut U64Map<usize> {
        self.looked_up = true;
        let sessions = &self.sessions;
        self.by_ref.get_or_insert_with(|| {
            sessions
                .iter()
                .enumerate()
                .map(|(i, s)| (s.series_ref.0, i))
                .collect()
        })
    }

    fn admit(&mut self, session: usize, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        let session = self.pin(session);
        let min_t = self.head.appendable_min();
        let s = &mut self.sessions[session];
        if t < min_t {
            return Err(AppendError::OutOfBounds {
                labels: s.series.labels(),
                t,
                min_t,
            });
        }
        let committed = s.series.newest();
        let pending = (s.pending_batch == self.batch).then(|| {
            let p = &self.buf.samples[s.pending];
            (p.t, p.v)
        });
        let newest = match (pending, committed) {
            (Some(p), Some(c)) if p.0 > c.0 => Some(p),
            (Some(p), None) => Some(p),
            _ => committed,
        };
        match check(newest, t, v) {
            Ok(Verdict::Append) => {
                if self.buf.pending.capacity() == 0 {
                    self.buf = self.head.batch_pool.take();
                }
                s.pending = self.buf.samples.len();
                s.pending_batch = self.batch;
                if !s.logged && s.unlogged_batch != self.batch {
                    s.unlogged_batch = self.batch;
                    self.unlogged.push(session);
                }
                self.buf.samples.push(RefSample {
                    series_ref: s.series_ref,
                    t,
                    v,
                });
                self.buf.pending.push(Pending { session, prev: 0 });
            }
            Ok(Verdict::Repeat) => {}
            Err(Refusal::OutOfOrder { last_t }) => {
                return Err(AppendError::OutOfOrder {
                    labels: s.series.labels(),
                    t,
                    last_t,
                });
            }
            Err(Refusal::Duplicate { existing }) => {
                return Err(AppendError::DuplicateTimestamp {
                    labels: s.series.labels(),
                    t,
                    existing,
                    new: v,
                });
            }
        }
        Ok(s.series_ref)
    }

    /// Pins the session's series for this batch, so that head truncation leaves it
    /// in the head until the batch ends. If truncation removed it already, the
    /// series is looked up (or created again) by its labels, and the session of
    /// that series is returned; the old ref leads to it from then on.
    fn pin(&mut self, mut session: usize) -> usize {
        loop {
            let s = &mut self.sessions[session];
            if s.pinned_batch == self.batch {
                return session;
            }
            let group = s.series.group();
            if !self.pinned.last().is_some_and(|g| Arc::ptr_eq(g, group)) {
                group.pin();
                self.pinned.push(Arc::clone(group));
            }
            if !s.series.is_removed() {
                s.pinned_batch = self.batch;
                return session;
            }
            let old_ref = s.series_ref;
            let series = self
                .head
                .get_or_create(&s.series.labels(), &mut self.ref_block);
            let new_ref = series.series_ref();
            // Until truncation takes it out of the maps, the lookup may return
            // the removed series itself.
            if new_ref == old_ref {
                std::thread::yield_now();
                continue;
            }
            session = match self.session_index().get(&new_ref.0) {
                Some(&i) => i,
                None => self.new_session(series),
            };
            self.session_index().insert(old_ref.0, session);
        }
    }

    /// Number of samples waiting for `commit`.
    pub fn pending(&self) -> usize {
        self.buf.pending.len()
    }

    /// Writes the buffered samples to the WAL (see docs/format/wal.md for what that
    /// guarantees), then makes them visible to queries.
    pub fn commit(&mut self) -> Result<(), AppendError> {
        let result = self.commit_inner();
        self.clear_pending();
        result
    }

    fn commit_inner(&mut self) -> Result<(), AppendError> {
        if self.buf.pending.is_empty() {
            return Ok(());
        }
        if let Some(why) = self.head.poisoned.lock().as_ref() {
            return Err(AppendError::Poisoned(why.clone()));
        }
        // Series records for series whose record may not be in the WAL yet (new
        // ones, or new ones of another appender that has not committed yet), so
        // that replay always meets a series record before its samples.
        let sessions = &mut self.sessions;
        self.unlogged.retain(|&i| {
            let s = &mut sessions[i];
            s.logged = s.series.wal_logged();
            !s.logged
        });
        let buf = &mut self.buf;
        buf.series_rec.clear();
        if !self.unlogged.is_empty() {
            let labels: Vec<(SeriesRef, Labels)> = self
                .unlogged
                .iter()
                .map(|&i| {
                    let s = &self.sessions[i];
                    (s.series_ref, s.series.labels())
                })
                .collect();
            let refs: Vec<(SeriesRef, &Labels)> = labels.iter().map(|(r, l)| (*r, l)).collect();
            wal::encode_series(&refs, &mut buf.series_rec);
        }
        buf.samples_rec.clear();
        wal::encode_samples(&buf.samples, &mut buf.samples_rec);
        let seq = {
            let mut slot = self.head.wal.lock();
            let WalSlot { wal, commits } = &mut *slot;
            let wal = wal.as_mut().ok_or(AppendError::Closed)?;
            if buf.series_rec.is_empty() {
                wal.log(&[&buf.samples_rec])?;
            } else {
                wal.log(&[&buf.series_rec, &buf.samples_rec])?;
            }
            // Stamped under the WAL lock, so commit order is WAL order.
            *commits += 1;
            for p in &mut buf.pending {
                p.prev = self.sessions[p.session]
                    .series
                    .stamp_logged(*commits as u32);
            }
            *commits as u32
        };
        for &i in &self.unlogged {
            let s = &mut self.sessions[i];
            s.series.set_wal_logged();
            s.logged = true;
        }
        #[cfg(test)]
        tests::after_log_hook();
        self.apply(seq)
    }

    /// Stores the committed samples in the head, each only after the commit before
    /// it for the same series (in WAL order) has stored its own.
    fn apply(&mut self, seq: u32) -> Result<(), AppendError> {
        let head = &*self.head;
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        let mut stored = 0u64;
        let mut writer = GroupWriter::default();
        for (p, sample) in self.buf.pending.iter().zip(&self.buf.samples) {
            let (t, v) = (sample.t, sample.v);
            let series = &self.sessions[p.session].series;
            let order = Some(CommitOrder { seq, prev: p.prev });
            let appended = loop {
                match writer.append(series, t, v, order, &head.limits, &head.spill) {
                    Ok(Some(appended)) => break appended,
                    Ok(None) => {
                        // An earlier commit has yet to store its sample of this
                        // series (only with two writers on one series).
                        writer.release();
                        if let Some(why) = head.poisoned.lock().as_ref() {
                            return Err(AppendError::Poisoned(why.clone()));
                        }
                        std::thread::yield_now();
                    }
                    Err(e) => {
                        let why = format!("applying committed samples to the head: {e}");
                        *head.poisoned.lock() = Some(why.clone());
                        return Err(AppendError::Poisoned(why));
                    }
                }
            };
            head.count_appended(appended);
            if appended != Appended::Dropped {
                stored += 1;
                min_t = min_t.min(t);
                max_t = max_t.max(t);
            }
        }
        head.counters
            .samples_appended
            .fetch_add(stored, Ordering::Relaxed);
        if min_t <= max_t {
            head.note_time_range(min_t, max_t);
        }
        Ok(())
    }

    /// Discards the buffered samples. Series created by this appender stay in the
    /// head (without samples), as in Prometheus.
    pub fn rollback(&mut self) {
        self.clear_pending();
    }

    fn clear_pending(&mut self) {
        for group in self.pinned.drain(..) {
            group.unpin();
        }
        self.head.batch_pool.give(std::mem::take(&mut self.buf));
        self.unlogged.clear();
        self.batch = self.batch.wrapping_add(1);
        if self.batch == 0 {
            // Wrapped: no session may look stamped with a batch still to come.
            for s in &mut self.sessions {
                (s.pending_batch, s.pinned_batch, s.unlogged_batch) = (0, 0, 0);
            }
            self.batch = 1;
        }
        // A writer that repeats itself starts each batch with the series it
        // started the last one with.
        self.next_session = 0;
        if !std::mem::take(&mut self.looked_up) {
            self.by_ref = None;
        }
        if self.sessions.len() > MAX_SESSIONS {
            self.sessions.clear();
            self.by_ref = None;
            self.next_session = 0;
        }
    }
}

/// Dropped with a batch in it: the batch is discarded, its groups unpinned
/// (so truncation can remove their series again) and its buffers pooled.
impl Drop for Appender {
    fn drop(&mut self) {
        self.clear_pending();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Duration;

    use crate::model::{Labels, Matcher};
    use crate::tsdb::{Db, Options};

    thread_local! {
        /// Runs once, on this thread, between a commit's WAL write and its apply.
        static AFTER_LOG: RefCell<Option<Box<dyn FnOnce()>>> = RefCell::new(None);
    }

    pub(super) fn after_log_hook() {
        if let Some(f) = AFTER_LOG.with(|h| h.borrow_mut().take()) {
            f();
        }
    }

    fn all_samples(db: &Db) -> Vec<(i64, u64)> {
        db.querier(i64::MIN, i64::MAX)
            .select(&[])
            .expect("select")
            .flat_map(|s| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>())
            .collect()
    }

    /// The ref index is dropped after batches that meet the sessions in order
    /// and built again for one that does not.
    #[test]
    fn refs_are_found_in_any_order_after_batches_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let mut app = db.appender();
        let refs: Vec<_> = (0..4)
            .map(|i| {
                let labels = Labels::new([("__name__", format!("s{i}"))]).unwrap();
                app.append(&labels, 1, 1.0).unwrap()
            })
            .collect();
        app.commit().unwrap();
        for t in 2..4 {
            for &r in &refs {
                app.append_ref(r, t, t as f64).unwrap();
            }
            app.commit().unwrap();
        }
        assert!(app.by_ref.is_none());
        for &r in refs.iter().rev() {
            app.append_ref(r, 4, 4.0).unwrap();
        }
        assert!(app.by_ref.is_some());
        app.commit().unwrap();
        let samples = all_samples(&db);
        assert_eq!(samples.len(), 16);
        assert_eq!(samples.iter().filter(|s| s.0 == 4).count(), 4);
    }

    /// Regression: a commit logged after another used to be able to reach the
    /// head first. Then the live head dropped the older sample (out of order by
    /// then) while replay, in WAL order, kept it: a restart changed the data.
    #[test]
    fn commits_reach_the_head_in_wal_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        let s = Labels::new([("__name__", "contended")]).unwrap();
        let mut x = db.appender();
        let mut y = db.appender();
        x.append(&s, 10, 1.0).unwrap();
        y.append(&s, 20, 2.0).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        AFTER_LOG.with(|h| {
            *h.borrow_mut() = Some(Box::new(move || {
                // X is in the WAL and not yet applied: Y commits now, and gets a
                // head start on applying.
                std::thread::spawn(move || tx.send(y.commit()));
                std::thread::sleep(Duration::from_millis(100));
            }))
        });
        x.commit().unwrap();
        rx.recv().unwrap().unwrap();
        let live = all_samples(&db);
        assert_eq!(live, [(10, 1f64.to_bits()), (20, 2f64.to_bits())]);
        db.close().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        assert_eq!(all_samples(&db), live);
        assert!(
            db.querier(0, 100)
                .select(&[Matcher::equal("__name__", "contended")])
                .expect("select")
                .count()
                == 1
        );
    }
}

//! One target's scrape loop: on a fixed schedule, fetch the target, store what it
//! exposed through its [`ScrapeCache`], and record how it went.
//!
//! The schedule is Prometheus's: a target is scraped at a fixed phase of its
//! interval, chosen by a hash of the target, so that a job's targets spread
//! evenly over the interval and a restarted loop keeps its phase. Timestamps are
//! aligned: when a scrape starts within [`timestamp_tolerance`] of its tick
//! (measured on the monotonic clock, so the millisecond rounding of wall time
//! does not eat into it) and the tick is the one right after the previous
//! scrape's, it gets exactly the previous timestamp plus the interval. The
//! timestamp delta-of-delta of the series then stays 0 and each sample costs one
//! bit of time in the chunk.
//!
//! A loop ends in two ways. Stopped (its target went away or its job changed),
//! it finishes the scrape in progress and hands back its [`LoopState`]: the next
//! loop of the same target carries on with it (no stale markers, no lost
//! series), or, when there is none, [`end_of_run`] writes stale markers a little
//! over two intervals later unless the target came back. At shutdown the loop
//! ends at once, in-flight scrape dropped, and writes nothing more: like
//! Prometheus, the server presumes it will restart where it was.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::append::{AppendOptions, ScrapeAppendError, ScrapeBody, ScrapeCache, ScrapeCounts};
use super::client::HttpClient;
use super::metadata::TargetMetadata;
use super::target::Target;
use crate::model::Labels;
use crate::tsdb::{Appender, Db};

/// Bodies larger than this are parsed and stored on a blocking thread, so that one
/// huge target does not hold up the loops of the others.
const INLINE_BODY_LIMIT: usize = 1 << 20;

/// How far from the exact interval a scrape's start may be and still be stamped
/// with the exact interval: 1% of the interval, between 2 ms (Prometheus's fixed
/// tolerance) and 25 ms.
pub(crate) fn timestamp_tolerance(interval: Duration) -> i64 {
    (interval.as_millis() / 100).clamp(2, 25) as i64
}

/// A target's health, as `/api/v1/targets` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not scraped yet.
    #[default]
    Unknown,
    Up,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// How a target's last scrape went.
#[derive(Debug, Clone, Default)]
pub struct TargetStatus {
    pub health: Health,
    /// Why the last scrape failed; empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started.
    pub last_scrape: Option<SystemTime>,
    pub last_scrape_duration: Duration,
    /// Samples the last scrape exposed.
    pub last_samples: u64,
    /// The metric metadata of the target's scrapes so far (shared with its
    /// scrape cache, copied only when it changes).
    pub metadata: TargetMetadata,
}

/// Counts over every loop of a manager, for its own `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct ScrapeCounters {
    pub scrapes: AtomicU64,
    pub failed: AtomicU64,
    pub exceeded_sample_limit: AtomicU64,
    pub samples: AtomicU64,
}

/// Response body buffers shared by all loops. A target's body is needed only
/// from its fetch to its commit, and the phases spread the scrapes over the
/// interval, so a few buffers serve every target instead of one each.
#[derive(Debug, Default)]
pub(crate) struct BodyBuffers {
    idle: Mutex<Vec<Vec<u8>>>,
}

/// Idle buffers kept, and the largest kept (bigger ones are freed).
const IDLE_BUFFERS: usize = 4;
const KEPT_BUFFER_BYTES: usize = 8 << 20;

impl BodyBuffers {
    fn take(&self) -> Vec<u8> {
        self.idle.lock().pop().unwrap_or_default()
    }

    fn give(&self, buf: Vec<u8>) {
        let mut idle = self.idle.lock();
        if idle.len() < IDLE_BUFFERS && buf.capacity() <= KEPT_BUFFER_BYTES {
            idle.push(buf);
        }
    }
}

/// What a loop needs to know about its target; fixed for the loop's life.
pub(crate) struct LoopSpec {
    pub target: Target,
    /// The labels of every stored series (the target's without `__` labels).
    pub series_labels: Labels,
    pub url: String,
    pub opts: Arc<AppendOptions>,
    pub client: Arc<HttpClient>,
    pub counters: Arc<ScrapeCounters>,
    pub buffers: Arc<BodyBuffers>,
}

/// What outlives a loop: the scrape cache (series refs, staleness), the appender
/// (its series sessions) and the time of the last scrape.
pub(crate) struct LoopState {
    pub cache: ScrapeCache,
    pub appender: Appender,
    /// Timestamp (ms) of the last scrape, if there was one.
    pub last: Option<i64>,
}

impl LoopState {
    pub fn new(db: &Db) -> LoopState {
        LoopState {
            cache: ScrapeCache::new(),
            appender: db.appender(),
            last: None,
        }
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The target's phase within its interval: a hash of its identity.
fn phase(spec: &LoopSpec, interval_ms: i64) -> i64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    spec.target.labels.to_string().hash(&mut h);
    spec.url.hash(&mut h);
    (h.finish() % interval_ms as u64) as i64
}

/// How long from `now` (ms) until the next time `≡ phase (mod interval)`.
fn until_phase(now: i64, phase: i64, interval: i64) -> Duration {
    let wait = (phase - now.rem_euclid(interval)).rem_euclid(interval);
    Duration::from_millis(wait as u64)
}

/// Resolves when `stop` says so (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&s| s).await;
}

/// Scrapes until `stop` turns true (then after the scrape in progress) or
/// `shutdown` does (then at once; the state is still returned, but holds
/// nothing the caller should write).
pub(crate) async fn run(
    spec: LoopSpec,
    db: Arc<Db>,
    mut state: LoopState,
    status: Arc<Mutex<TargetStatus>>,
    mut stop: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) -> LoopState {
    let interval = spec.target.interval;
    let interval_ms = (interval.as_millis() as i64).max(1);
    let tolerance = timestamp_tolerance(interval);
    let first =
        tokio::time::Instant::now() + until_phase(now_ms(), phase(&spec, interval_ms), interval_ms);
    let mut ticker = tokio::time::interval_at(first, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The previous tick, when this loop made it: alignment needs no tick skipped.
    let mut previous_tick: Option<tokio::time::Instant> = None;
    loop {
        let tick = tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => return state,
            _ = stopped(&mut stop) => return state,
            tick = ticker.tick() => tick,
        };
        let late = tick.elapsed().as_millis() as i64;
        let now = now_ms();
        let consecutive = previous_tick.is_none_or(|p| tick - p == interval);
        previous_tick = Some(tick);
        let t = match state.last {
            // On time, no tick skipped, and the wall clock agrees (it may have
            // been set meanwhile): exactly one interval after the last scrape.
            Some(last)
                if late <= tolerance
                    && consecutive
                    && (now - (last + interval_ms)).abs() <= tolerance + 1 =>
            {
                last + interval_ms
            }
            // Never back in time, even when the clock is.
            Some(last) if now <= last => last + 1,
            _ => now,
        };
        let started = Instant::now();
        let wall = SystemTime::now();
        let mut body = spec.buffers.take();
        let fetched = tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => return state,
            r = spec.client.scrape(&spec.url, spec.target.timeout, &mut body) => r,
        };
        let (body_back, state_back, outcome) = match fetched {
            Ok(format) if body.len() > INLINE_BODY_LIMIT => {
                let spec_opts = Arc::clone(&spec.opts);
                let labels = spec.series_labels.clone();
                let joined = tokio::task::spawn_blocking(move || {
                    let outcome = store(&mut state, &body, format, t, &labels, &spec_opts);
                    (body, state, outcome)
                })
                .await;
                match joined {
                    Ok(done) => done,
                    // The blocking task panicked: a bug; the loop cannot go on
                    // without its state.
                    Err(err) => {
                        warn!(url = %spec.url, %err, "Scrape append task failed; target's loop stops");
                        return LoopState::new(&db);
                    }
                }
            }
            Ok(format) => {
                let outcome = store(
                    &mut state,
                    &body,
                    format,
                    t,
                    &spec.series_labels,
                    &spec.opts,
                );
                (body, state, outcome)
            }
            Err(err) => {
                state.cache.append_failure(&mut state.appender, t);
                (body, state, Outcome::failed(err.to_string()))
            }
        };
        spec.buffers.give(body_back);
        state = state_back;
        let Outcome {
            up,
            counts,
            error,
            over_sample_limit,
        } = outcome;
        let counters = &spec.counters;
        counters.scrapes.fetch_add(1, Ordering::Relaxed);
        counters
            .samples
            .fetch_add(counts.scraped, Ordering::Relaxed);
        if !up {
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        if over_sample_limit {
            counters
                .exceeded_sample_limit
                .fetch_add(1, Ordering::Relaxed);
        }
        let duration = started.elapsed();
        if let Err(err) = state.cache.append_report(
            &mut state.appender,
            &spec.series_labels,
            t,
            duration.as_secs_f64(),
            up,
            counts,
        ) {
            warn!(url = %spec.url, %err, "Appending the scrape report failed");
        }
        if let Err(err) = state.appender.commit() {
            warn!(url = %spec.url, %err, "Scrape commit failed");
        }
        state.last = Some(t);
        if !error.is_empty() {
            debug!(url = %spec.url, %error, "Scrape failed");
        }
        *status.lock() = TargetStatus {
            health: if up { Health::Up } else { Health::Down },
            last_error: error,
            last_scrape: Some(wall),
            last_scrape_duration: duration,
            last_samples: counts.scraped,
            metadata: state.cache.metadata(),
        };
    }
}

/// How one scrape went.
struct Outcome {
    up: bool,
    counts: ScrapeCounts,
    /// Why it failed; empty when it did not.
    error: String,
    over_sample_limit: bool,
}

impl Outcome {
    fn failed(error: String) -> Outcome {
        Outcome {
            up: false,
            counts: ScrapeCounts::default(),
            error,
            over_sample_limit: false,
        }
    }
}

/// Stores a fetched body. A failed append is rolled back and turned into stale
/// markers, as a failed scrape is.
fn store(
    state: &mut LoopState,
    body: &[u8],
    format: crate::exposition::Format,
    t: i64,
    labels: &Labels,
    opts: &AppendOptions,
) -> Outcome {
    let body = ScrapeBody {
        bytes: body,
        format,
        t,
    };
    match state
        .cache
        .append_scrape(&mut state.appender, body, labels, opts)
    {
        Ok(counts) => Outcome {
            up: true,
            counts,
            error: String::new(),
            over_sample_limit: false,
        },
        Err(failure) => {
            state.appender.rollback();
            state.cache.append_failure(&mut state.appender, t);
            Outcome {
                up: false,
                counts: failure.counts,
                over_sample_limit: matches!(failure.error, ScrapeAppendError::SampleLimit { .. }),
                error: failure.error.to_string(),
            }
        }
    }
}

/// After a loop stopped for good: a little over two intervals later (time for a
/// loop of the same target to take over, if it was only moved), stale markers
/// at the time its next scrape would have been, for every series of its last
/// scrape and its report series. Nothing at shutdown.
pub(crate) async fn end_of_run(
    mut state: LoopState,
    interval: Duration,
    series_labels: Labels,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(last) = state.last else {
        return;
    };
    let interval_ms = interval.as_millis() as i64;
    let stale_at = (last + interval_ms).max(now_ms());
    let wait_until = last + 2 * interval_ms + interval_ms / 10;
    let wait = Duration::from_millis((wait_until - now_ms()).max(0) as u64);
    tokio::select! {
        biased;
        _ = stopped(&mut shutdown) => return,
        _ = tokio::time::sleep(wait) => {}
    }
    state.cache.append_failure(&mut state.appender, stale_at);
    state
        .cache
        .append_report_stale(&mut state.appender, &series_labels, stale_at);
    if let Err(err) = state.appender.commit() {
        warn!(%err, "Writing stale markers of a removed target failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_wait_lands_on_the_phase() {
        assert_eq!(until_phase(10_000, 300, 1000), Duration::from_millis(300));
        assert_eq!(until_phase(10_400, 300, 1000), Duration::from_millis(900));
        assert_eq!(until_phase(10_300, 300, 1000), Duration::ZERO);
    }

    #[test]
    fn tolerance_scales_with_the_interval_within_bounds() {
        assert_eq!(timestamp_tolerance(Duration::from_millis(100)), 2);
        assert_eq!(timestamp_tolerance(Duration::from_secs(1)), 10);
        assert_eq!(timestamp_tolerance(Duration::from_secs(60)), 25);
    }
}

//! [`FileSd`]: follows the files of `file_sd_configs` entries and publishes
//! their target groups whenever they change.
//!
//! Prometheus watches the files' directories with inotify and re-reads
//! everything on any event. We poll instead: every poll interval (a second by
//! default) the patterns are expanded and each matched file's metadata (mtime,
//! size, device and inode) is compared with what it was when the file was last
//! read. That costs a directory listing and a `stat` per file, catches the
//! atomic-rename updates that configuration tools and Kubernetes volumes make
//! (the inode changes), needs no platform-specific dependency, and works on
//! file systems where inotify does not (NFS, some container mounts). Every
//! `refresh_interval` all files are re-read regardless, which covers a change
//! that leaves the metadata as it was (a same-size rewrite within the file
//! system's timestamp granularity).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::Instant;

use super::glob::Pattern;
use super::group_file::{FileSdError, read_target_groups};
use crate::config::FileSdConfig;
use crate::discovery::discoverer::{Discoverer, Run};
use crate::discovery::target_group::TargetGroup;

/// How often [`FileSd`] looks at the files' metadata unless told otherwise.
pub const DEFAULT_FILE_SD_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest poll or refresh interval used, so a zero in a configuration
/// does not turn the watcher into a busy loop.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// How many times a target group file could not be read or parsed: what
/// Prometheus exports as `prometheus_sd_file_read_errors_total`.
///
/// A cheap handle: clones count into the same total, so one counter can be
/// shared by the [`FileSd`]s of every scrape job (see
/// [`FileSd::with_read_errors`]) and read by the `/metrics` handler.
#[derive(Debug, Clone, Default)]
pub struct ReadErrors(Arc<AtomicU64>);

impl ReadErrors {
    /// The number of failed reads so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// File-based service discovery over one or more `file_sd_configs` entries.
///
/// Build it with [`FileSd::new`], then drive it with [`FileSd::run`] (or as a
/// [`Discoverer`]), which publishes the union of the target groups of every
/// matched file on a `tokio::sync::watch` channel: files in path order, each
/// file's groups in file order. A file matched by several patterns counts once.
/// One `FileSd` follows all the `file_sd_configs` entries of a job.
///
/// As in Prometheus, a file that cannot be read or parsed keeps the groups it
/// gave last time (a half-written or mistyped file must not take its targets
/// out of scraping); a file that no longer matches, because it was removed or
/// renamed, loses them.
#[derive(Debug)]
pub struct FileSd {
    configs: Vec<ConfigPatterns>,
    poll_interval: Duration,
    read_errors: ReadErrors,
    /// Completed scans that re-read files because a refresh was due; lets
    /// tests wait for a refresh without guessing how long one takes.
    refreshes: Arc<AtomicU64>,
}

/// The patterns of one `file_sd_configs` entry and how often to re-read them.
#[derive(Debug)]
struct ConfigPatterns {
    patterns: Vec<Pattern>,
    refresh_interval: Duration,
}

impl FileSd {
    /// Discovery over `configs`. Fails if a pattern is not valid (see
    /// [`validate_pattern`](super::validate_pattern)); the configuration
    /// loader normally rejects those first.
    pub fn new(configs: &[FileSdConfig]) -> Result<FileSd, FileSdError> {
        let configs = configs
            .iter()
            .map(|c| {
                let patterns = c
                    .files
                    .iter()
                    .map(|f| {
                        Pattern::parse(f).map_err(|message| FileSdError::Pattern {
                            path: f.clone(),
                            message,
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ConfigPatterns {
                    patterns,
                    refresh_interval: c.refresh_interval.max(MIN_INTERVAL),
                })
            })
            .collect::<Result<_, FileSdError>>()?;
        Ok(FileSd {
            configs,
            poll_interval: DEFAULT_FILE_SD_POLL_INTERVAL,
            read_errors: ReadErrors::default(),
            refreshes: Arc::default(),
        })
    }

    /// Sets how often file metadata is checked for changes (default
    /// [`DEFAULT_FILE_SD_POLL_INTERVAL`]): shorter notices changes sooner at
    /// the cost of more `stat` calls; tests use a few milliseconds.
    pub fn poll_interval(mut self, interval: Duration) -> FileSd {
        self.poll_interval = interval.max(MIN_INTERVAL);
        self
    }

    /// Counts read failures into `counter` instead of a counter of its own,
    /// so the server can export one total over all jobs.
    pub fn with_read_errors(mut self, counter: ReadErrors) -> FileSd {
        self.read_errors = counter;
        self
    }

    /// The read failure counter; take it before [`run`](FileSd::run)
    /// consumes the discovery.
    pub fn read_errors(&self) -> ReadErrors {
        self.read_errors.clone()
    }

    /// Reads all files at once and sends the result, then keeps watching and
    /// sends again each time the groups differ from those sent last.
    ///
    /// The first result is always sent, even when equal to the channel's
    /// value, so a receiver awaiting `changed()` learns that discovery has
    /// looked. Returns when every receiver is dropped; to stop it sooner,
    /// drop the receivers or abort the task it runs in. File system work runs
    /// on tokio's blocking pool so it never stalls the runtime's workers.
    pub async fn run(self, tx: watch::Sender<Vec<TargetGroup>>) {
        let FileSd {
            configs,
            poll_interval,
            read_errors,
            refreshes,
        } = self;
        let intervals: Vec<Duration> = configs.iter().map(|c| c.refresh_interval).collect();
        let mut scanner = Some(Scanner {
            configs,
            files: BTreeMap::new(),
            read_errors,
        });
        let start = Instant::now();
        let mut next_refresh: Vec<Instant> = intervals.iter().map(|i| start + *i).collect();
        // The first scan reads every file, whatever is due.
        let mut due = vec![true; intervals.len()];
        let mut first = true;
        loop {
            let Some(mut s) = scanner.take() else { return };
            let forced = due.contains(&true);
            let scanned = tokio::task::spawn_blocking(move || {
                s.scan(&due);
                s
            })
            .await;
            let s = match scanned {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "file_sd: scanning the files failed; discovery stops");
                    return;
                }
            };
            let groups = s.groups();
            scanner = Some(s);
            let differs = first || *tx.borrow() != groups;
            if differs && tx.send(groups).is_err() {
                return;
            }
            first = false;
            if forced {
                refreshes.fetch_add(1, Ordering::Relaxed);
            }

            let next_poll = Instant::now() + poll_interval;
            let wake = next_refresh.iter().copied().fold(next_poll, Instant::min);
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep_until(wake) => {}
            }
            let now = Instant::now();
            due = next_refresh.iter().map(|t| *t <= now).collect();
            for (next, interval) in next_refresh.iter_mut().zip(&intervals) {
                if *next <= now {
                    *next = now + *interval;
                }
            }
        }
    }

    /// How many refresh scans have completed (for tests).
    #[cfg(test)]
    fn refresh_count(&self) -> Arc<AtomicU64> {
        self.refreshes.clone()
    }
}

impl Discoverer for FileSd {
    fn run(self: Box<Self>, tx: watch::Sender<Vec<TargetGroup>>) -> Run {
        Box::pin(FileSd::run(*self, tx))
    }
}

/// What a file looked like when it was last read. Any difference means it
/// must be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    modified: Option<SystemTime>,
    len: u64,
    dev: u64,
    ino: u64,
}

impl Fingerprint {
    /// `None` when the file cannot be `stat`ed (a dangling symlink, a race
    /// with removal); two such failures in a row count as "unchanged", so a
    /// broken file is not re-read and re-logged every poll.
    fn of(path: &Path) -> Option<Fingerprint> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Some(Fingerprint {
            modified: meta.modified().ok(),
            len: meta.len(),
            dev,
            ino,
        })
    }
}

/// A matched file: its metadata at the last read attempt and the groups of
/// the last successful read.
#[derive(Debug)]
struct FileState {
    fingerprint: Option<Fingerprint>,
    groups: Vec<TargetGroup>,
}

/// The synchronous part of [`FileSd`]: expands patterns and reads files.
#[derive(Debug)]
struct Scanner {
    configs: Vec<ConfigPatterns>,
    files: BTreeMap<PathBuf, FileState>,
    read_errors: ReadErrors,
}

impl Scanner {
    /// Brings `files` up to date: forgets files no pattern matches any more,
    /// reads new and changed ones, and re-reads every file of the configs
    /// marked in `due`.
    fn scan(&mut self, due: &[bool]) {
        let mut matched: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for (config, &forced) in self.configs.iter().zip(due) {
            for pattern in &config.patterns {
                for path in pattern.expand() {
                    *matched.entry(path).or_default() |= forced;
                }
            }
        }
        self.files.retain(|path, _| matched.contains_key(path));
        for (path, forced) in matched {
            // Taken before reading, so a write that lands after the read
            // changes the metadata and is picked up by the next poll.
            let fingerprint = Fingerprint::of(&path);
            let known = self.files.get_mut(&path);
            if !forced && known.as_ref().is_some_and(|s| s.fingerprint == fingerprint) {
                continue;
            }
            match read_target_groups(&path) {
                Ok(groups) => {
                    self.files.insert(
                        path,
                        FileState {
                            fingerprint,
                            groups,
                        },
                    );
                }
                Err(error) => {
                    self.read_errors.inc();
                    tracing::warn!(
                        file = %path.display(),
                        %error,
                        "file_sd: cannot use target group file; keeping the groups it gave before"
                    );
                    match known {
                        Some(state) => state.fingerprint = fingerprint,
                        None => {
                            self.files.insert(
                                path,
                                FileState {
                                    fingerprint,
                                    groups: Vec::new(),
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// The union of all files' groups, in path order.
    fn groups(&self) -> Vec<TargetGroup> {
        self.files
            .values()
            .flat_map(|s| s.groups.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long enough for a slow CI machine; tests only wait this long on failure.
    const WAIT: Duration = Duration::from_secs(20);
    const POLL: Duration = Duration::from_millis(5);
    const NEVER: Duration = Duration::from_secs(24 * 3600);

    /// Writes `text` to `dir/name` by renaming a temporary file into place,
    /// as configuration tools do, so the watcher never sees a partial file.
    fn put(dir: &Path, name: &str, text: &str) {
        let tmp = dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }

    fn group_json(targets: &[&str]) -> String {
        serde_json::json!([{ "targets": targets }]).to_string()
    }

    fn config(dir: &Path, pattern: &str, refresh: Duration) -> FileSdConfig {
        FileSdConfig {
            files: vec![dir.join(pattern)],
            refresh_interval: refresh,
        }
    }

    /// Starts `sd` and returns the receiver and the task.
    fn start(
        sd: FileSd,
    ) -> (
        watch::Receiver<Vec<TargetGroup>>,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = watch::channel(Vec::new());
        (rx, tokio::spawn(sd.run(tx)))
    }

    /// Waits for the next value and returns its targets, flattened.
    async fn next(rx: &mut watch::Receiver<Vec<TargetGroup>>) -> Vec<String> {
        tokio::time::timeout(WAIT, rx.changed())
            .await
            .expect("no update in time")
            .expect("discovery stopped");
        rx.borrow_and_update()
            .iter()
            .flat_map(|g| g.target_labels())
            .map(|t| t[crate::discovery::ADDRESS_LABEL].clone())
            .collect()
    }

    /// Waits until `done` holds, checking every few milliseconds.
    async fn wait_for(mut done: impl FnMut() -> bool) {
        tokio::time::timeout(WAIT, async {
            while !done() {
                tokio::time::sleep(POLL).await;
            }
        })
        .await
        .expect("condition not reached in time");
    }

    #[tokio::test]
    async fn first_result_is_sent_at_once_and_new_files_are_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "b.json", &group_json(&["b:1"]));
        let sd = FileSd::new(&[config(dir.path(), "*.json", NEVER)])
            .unwrap()
            .poll_interval(POLL);
        let (mut rx, task) = start(sd);
        assert_eq!(next(&mut rx).await, ["b:1"]);

        put(dir.path(), "a.json", &group_json(&["a:1", "a:2"]));
        put(dir.path(), "a.txt", &group_json(&["ignored:1"]));
        assert_eq!(next(&mut rx).await, ["a:1", "a:2", "b:1"], "path order");
        let groups = rx.borrow().clone();
        assert_eq!(
            groups[0].labels[super::super::FILEPATH_LABEL],
            dir.path().join("a.json").display().to_string()
        );
        drop(rx);
        tokio::time::timeout(WAIT, task)
            .await
            .expect("stops when the receiver is dropped")
            .unwrap();
    }

    #[tokio::test]
    async fn an_empty_first_result_is_still_sent() {
        let dir = tempfile::tempdir().unwrap();
        let sd = FileSd::new(&[config(dir.path(), "*.yml", NEVER)])
            .unwrap()
            .poll_interval(POLL);
        let (mut rx, task) = start(sd);
        assert!(next(&mut rx).await.is_empty());
        task.abort();
    }

    #[tokio::test]
    async fn changed_and_removed_files_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "a.json", &group_json(&["a:1"]));
        put(dir.path(), "b.yml", "- targets: ['b:1']\n");
        let sd = FileSd::new(&[
            config(dir.path(), "*.json", NEVER),
            config(dir.path(), "b.yml", NEVER),
        ])
        .unwrap()
        .poll_interval(POLL);
        let (mut rx, task) = start(sd);
        assert_eq!(next(&mut rx).await, ["a:1", "b:1"]);

        put(dir.path(), "a.json", &group_json(&["a:2"]));
        assert_eq!(next(&mut rx).await, ["a:2", "b:1"]);

        std::fs::remove_file(dir.path().join("b.yml")).unwrap();
        assert_eq!(next(&mut rx).await, ["a:2"]);

        // In-place rewrite (same inode): caught by size or mtime.
        std::fs::write(dir.path().join("a.json"), group_json(&["a:3", "a:4"])).unwrap();
        assert_eq!(next(&mut rx).await, ["a:3", "a:4"]);
        task.abort();
    }

    #[tokio::test]
    async fn a_broken_file_keeps_its_groups_and_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "a.json", &group_json(&["a:1"]));
        let sd = FileSd::new(&[config(dir.path(), "*.json", NEVER)])
            .unwrap()
            .poll_interval(POLL);
        let errors = sd.read_errors();
        let (mut rx, task) = start(sd);
        assert_eq!(next(&mut rx).await, ["a:1"]);

        put(dir.path(), "a.json", "[{\"targets\": [");
        wait_for(|| errors.get() >= 1).await;
        // A second file forces a send; had the broken file lost its groups,
        // only b's would be left.
        put(dir.path(), "b.json", &group_json(&["b:1"]));
        assert_eq!(next(&mut rx).await, ["a:1", "b:1"]);
        assert_eq!(
            errors.get(),
            1,
            "the broken file is not re-read until it changes"
        );

        put(dir.path(), "a.json", &group_json(&["a:2"]));
        assert_eq!(next(&mut rx).await, ["a:2", "b:1"]);
        task.abort();
    }

    #[tokio::test]
    async fn refreshes_without_change_send_nothing() {
        let dir = tempfile::tempdir().unwrap();
        put(dir.path(), "a.json", &group_json(&["a:1"]));
        let sd = FileSd::new(&[config(dir.path(), "*.json", POLL)])
            .unwrap()
            .poll_interval(POLL);
        let refreshes = sd.refresh_count();
        let (mut rx, task) = start(sd);
        assert_eq!(next(&mut rx).await, ["a:1"]);
        let seen = refreshes.load(Ordering::Relaxed);
        wait_for(|| refreshes.load(Ordering::Relaxed) >= seen + 3).await;
        assert!(!rx.has_changed().unwrap(), "nothing new was sent");
        task.abort();
    }

    #[tokio::test]
    async fn a_refresh_rereads_files_whose_metadata_did_not_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        put(dir.path(), "a.json", &group_json(&["a:1"]));
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        // Polling never fires; only the refresh can see the change below.
        let sd = FileSd::new(&[config(dir.path(), "*.json", POLL)])
            .unwrap()
            .poll_interval(NEVER);
        let (mut rx, task) = start(sd);
        assert_eq!(next(&mut rx).await, ["a:1"]);

        // Same inode, same size, same mtime: invisible to the poll.
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut &file, group_json(&["a:2"]).as_bytes()).unwrap();
        file.set_modified(modified).unwrap();
        drop(file);
        assert_eq!(next(&mut rx).await, ["a:2"]);
        task.abort();
    }

    #[test]
    fn invalid_patterns_are_rejected_up_front() {
        let err = FileSd::new(&[FileSdConfig {
            files: vec![PathBuf::from("/sd/*.txt")],
            refresh_interval: NEVER,
        }])
        .unwrap_err();
        assert!(err.to_string().contains("not valid for file discovery"));
    }
}

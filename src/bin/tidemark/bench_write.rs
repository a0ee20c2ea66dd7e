//! `tidemark bench write`: the procedure of `promtool tsdb bench write`, on our
//! storage, so the two `samples/sec` lines compare directly.
//!
//! Label sets come from a file of JSON objects, one a line. The first `--metrics`
//! distinct sets are used. Every round of 100 scrapes, the series are split in
//! shards of 1000; each shard appends one sample per series per scrape and commits
//! after each scrape. Values start at 123456789 every round and grow by 1000 per
//! scrape; timestamps advance 30 s per scrape. Only ingestion is timed, as in
//! promtool; closing the database is reported apart.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use tidemark::model::Labels;
use tidemark::tsdb::{Db, Options, SeriesRef};

const SHARD: usize = 1000;
const SCRAPES_PER_ROUND: usize = 100;
const TIME_DELTA_MS: i64 = 30_000;
const START_VALUE: i64 = 123_456_789;

/// Flags of `tidemark bench write` (named as promtool's).
#[derive(Debug, clap::Args)]
pub struct BenchWriteArgs {
    /// Directory for the database (removed and recreated).
    #[arg(long, default_value = "benchout")]
    pub out: PathBuf,
    /// Number of series to use.
    #[arg(long, default_value_t = 10_000)]
    pub metrics: usize,
    /// Number of scrapes to simulate.
    #[arg(long, default_value_t = 3000)]
    pub scrapes: usize,
    /// Writer threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// File of label sets, one JSON object a line.
    #[arg(default_value = "../shared/bench/series-20k.jsonl")]
    pub file: PathBuf,
}

pub fn run(args: &BenchWriteArgs) -> anyhow::Result<()> {
    let series = read_label_sets(&args.file, args.metrics)?;
    println!(
        ">> loaded {} series from {}",
        series.len(),
        args.file.display()
    );
    if args.out.exists() {
        fs::remove_dir_all(&args.out)
            .with_context(|| format!("removing {}", args.out.display()))?;
    }
    let db = Db::open(&args.out, Options::default())
        .with_context(|| format!("opening {}", args.out.display()))?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);

    println!(">> start writing ({threads} threads)");
    let started = Instant::now();
    let shards: Vec<&[Labels]> = series.chunks(SHARD).collect();
    let mut total = 0u64;
    let mut round_start = 0;
    while round_start < args.scrapes {
        let scrapes = SCRAPES_PER_ROUND.min(args.scrapes - round_start);
        let base_t = TIME_DELTA_MS * round_start as i64;
        let next = AtomicUsize::new(0);
        total += std::thread::scope(|s| -> anyhow::Result<u64> {
            let workers: Vec<_> = (0..threads.min(shards.len()))
                .map(|_| {
                    s.spawn(|| -> anyhow::Result<u64> {
                        let mut n = 0;
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(shard) = shards.get(i) else {
                                return Ok(n);
                            };
                            n += ingest_shard(&db, shard, scrapes, base_t)?;
                        }
                    })
                })
                .collect();
            let mut n = 0;
            for w in workers {
                n += w
                    .join()
                    .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
            }
            Ok(n)
        })?;
        round_start += scrapes;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(">> completed ingestion in {secs:.3}s");
    println!(" > total samples: {total}");
    println!(" > samples/sec: {:.0}", total as f64 / secs);

    let stats = db.stats();
    let closing = Instant::now();
    db.close().context("closing the database")?;
    println!(
        ">> closed storage in {:.3}s; head: {} series, {} chunks, {:.1} MB estimated heap ({} bytes/series)",
        closing.elapsed().as_secs_f64(),
        stats.head_series,
        stats.head_chunks,
        stats.head_memory_bytes as f64 / 1e6,
        stats.head_memory_bytes / stats.head_series.max(1),
    );
    if let Some(kb) = peak_rss_kb() {
        println!(" > peak RSS: {:.1} MB", kb as f64 / 1024.0);
    }
    Ok(())
}

/// One shard for one round: `scrapes` commits of one sample per series.
fn ingest_shard(db: &Db, shard: &[Labels], scrapes: usize, base_t: i64) -> anyhow::Result<u64> {
    let mut app = db.appender();
    let mut refs: Vec<Option<SeriesRef>> = vec![None; shard.len()];
    let mut value = START_VALUE;
    let mut t = base_t;
    let mut n = 0;
    for _ in 0..scrapes {
        t += TIME_DELTA_MS;
        value += 1000;
        for (labels, r) in shard.iter().zip(refs.iter_mut()) {
            let got = match *r {
                Some(known) => app.append_ref(known, t, value as f64),
                None => app.append(labels, t, value as f64),
            }
            .with_context(|| format!("appending to {labels}"))?;
            *r = Some(got);
            n += 1;
        }
        app.commit().context("commit")?;
    }
    Ok(n)
}

/// The first `limit` distinct label sets of a JSON-lines file.
fn read_label_sets(path: &PathBuf, limit: usize) -> anyhow::Result<Vec<Labels>> {
    let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        if out.len() >= limit {
            break;
        }
        let line = line.with_context(|| format!("{}:{}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a JSON object", path.display(), i + 1))?;
        let mut pairs = Vec::with_capacity(map.len());
        for (k, v) in map {
            let Some(v) = v.as_str() else {
                bail!(
                    "{}:{}: value of label {k:?} is not a string",
                    path.display(),
                    i + 1
                );
            };
            pairs.push((k, v.to_owned()));
        }
        let labels = Labels::new(pairs).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        if seen.insert(labels.clone()) {
            out.push(labels);
        }
    }
    if out.len() < limit {
        eprintln!(
            "note: {} has only {} distinct label sets ({} requested); using them all",
            path.display(),
            out.len(),
            limit
        );
    }
    Ok(out)
}

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

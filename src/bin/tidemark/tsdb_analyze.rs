//! `tidemark tsdb analyze DATA_DIR`: what a block holds, like `promtool tsdb
//! analyze`: its range and counts, bytes per sample by chunk encoding, index and
//! chunk sizes, and the label statistics promtool prints (highest-cardinality
//! metric names and labels, most common label pairs), each cut to `--limit`.
//!
//! As promtool, it analyzes the newest block (highest minimum time) unless
//! `--block` names one; `--all` analyzes every block. A block that cannot be read
//! is reported with its directory and file, and the others are still analyzed;
//! the exit status is then 1.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tidemark::model::format_duration;
use tidemark::tsdb::block::{Block, BlockError, BlockId, BlockMeta, CHUNKS_DIR, INDEX_FILE};
use tidemark::tsdb::chunk::{Encoding, num_samples};
use tidemark::tsdb::fs::{Access, RealFs};

use crate::import::{print_table, time};

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The data directory holding the blocks.
    data_dir: PathBuf,
    /// The block to analyze (its ULID); the newest by default.
    #[arg(long, value_name = "ULID", conflicts_with = "all")]
    block: Option<String>,
    /// Analyze every block, oldest first.
    #[arg(long)]
    all: bool,
    /// How many lines each list shows.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let mut damaged = 0usize;
    let mut blocks: Vec<(PathBuf, BlockMeta)> = Vec::new();
    let entries = fs::read_dir(&args.data_dir)
        .with_context(|| format!("read the data directory {}", args.data_dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("read {}", args.data_dir.display()))?;
        let dir = entry.path();
        let is_block = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.parse::<BlockId>().is_ok());
        if !is_block || !dir.is_dir() {
            continue;
        }
        match BlockMeta::read(&RealFs, &dir) {
            Ok(meta) => blocks.push((dir, meta)),
            Err(e) => {
                tracing::error!("block {}: {e}", dir.display());
                damaged += 1;
            }
        }
    }
    blocks.sort_by_key(|b| (b.1.min_time, b.1.ulid));
    let chosen: Vec<&(PathBuf, BlockMeta)> = match (&args.block, args.all) {
        (Some(id), _) => match blocks
            .iter()
            .find(|b| b.1.ulid.to_string() == id.to_uppercase())
        {
            Some(b) => vec![b],
            None => bail!("no block {id} in {}", args.data_dir.display()),
        },
        (None, true) => blocks.iter().collect(),
        (None, false) => blocks.last().into_iter().collect(),
    };
    if chosen.is_empty() && damaged == 0 {
        bail!("no blocks in {}", args.data_dir.display());
    }
    let mut out = io::stdout().lock();
    for (i, (dir, _)) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        if let Err(e) = analyze(&mut out, dir, args.limit) {
            match e.downcast_ref::<BlockError>() {
                Some(b) => tracing::error!("{b}"),
                None => tracing::error!("block {}: {e:#}", dir.display()),
            }
            damaged += 1;
        }
    }
    if damaged > 0 {
        bail!("{damaged} blocks could not be read");
    }
    Ok(())
}

/// Counts of one chunk encoding.
#[derive(Default)]
struct EncodingStats {
    chunks: u64,
    samples: u64,
    bytes: u64,
}

fn analyze(out: &mut impl Write, dir: &Path, limit: usize) -> anyhow::Result<()> {
    let block = Block::open(&tidemark::tsdb::fs::real(), dir, Access::Mmap)?;
    let meta = block.meta();
    let series = block.select(&[])?;

    let mut encodings: HashMap<u8, EncodingStats> = HashMap::new();
    let mut metric_series: HashMap<&str, u64> = HashMap::new();
    let mut name_series: HashMap<&str, u64> = HashMap::new();
    let mut name_values: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut pairs: HashMap<(&str, &str), u64> = HashMap::new();
    for (labels, chunks) in &series {
        for c in chunks {
            let (enc, bytes) = block.chunk(c.chunk_ref)?;
            let samples = Encoding::try_from(enc)
                .and_then(|e| num_samples(e, &bytes))
                .map_err(|e| {
                    anyhow::anyhow!(
                        "block {}: {CHUNKS_DIR}: chunk {:#x} of series {labels}: {e}",
                        dir.display(),
                        c.chunk_ref
                    )
                })?;
            let s = encodings.entry(enc).or_default();
            s.chunks += 1;
            s.samples += u64::from(samples);
            s.bytes += bytes.len() as u64;
        }
        for l in labels {
            *name_series.entry(l.name).or_default() += 1;
            name_values.entry(l.name).or_default().insert(l.value);
            *pairs.entry((l.name, l.value)).or_default() += 1;
        }
        if let Some(name) = labels.metric_name() {
            *metric_series.entry(name).or_default() += 1;
        }
    }

    let size = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let index_bytes = size(&dir.join(INDEX_FILE));
    let chunk_bytes: u64 = fs::read_dir(dir.join(CHUNKS_DIR))
        .map(|d| d.flatten().map(|e| size(&e.path())).sum())
        .unwrap_or(0);
    let span = meta.max_time - meta.min_time;
    writeln!(out, "Block ID: {}", meta.ulid)?;
    writeln!(out, "Directory: {}", dir.display())?;
    writeln!(
        out,
        "Time range: {} to {} ({} to {})",
        time(meta.min_time, true),
        time(meta.max_time, true),
        meta.min_time,
        meta.max_time
    )?;
    writeln!(
        out,
        "Duration: {}",
        format_duration(Duration::from_millis(span.max(0) as u64))
    )?;
    writeln!(out, "Compaction level: {}", meta.compaction.level)?;
    writeln!(out, "Total Series: {}", meta.stats.num_series)?;
    writeln!(out, "Total Samples: {}", meta.stats.num_samples)?;
    writeln!(out, "Total Chunks: {}", meta.stats.num_chunks)?;
    writeln!(out, "Index size: {index_bytes} bytes")?;
    writeln!(out, "Chunk files size: {chunk_bytes} bytes")?;
    writeln!(out, "Label names: {}", name_values.len())?;
    writeln!(out, "Postings (unique label pairs): {}", pairs.len())?;
    writeln!(
        out,
        "Postings entries (total label pairs): {}",
        pairs.values().sum::<u64>()
    )?;

    writeln!(
        out,
        "\nChunk encodings (chunk data bytes, framing not included):"
    )?;
    let mut rows = vec![
        [
            "ENCODING",
            "CHUNKS",
            "SAMPLES",
            "BYTES",
            "BYTES/SAMPLE",
            "SAMPLES/CHUNK",
        ]
        .map(str::to_owned),
    ];
    let mut encs: Vec<_> = encodings.iter().collect();
    encs.sort_by_key(|(e, _)| **e);
    for (enc, s) in encs {
        let name = match Encoding::try_from(*enc) {
            Ok(e) => e.name().to_owned(),
            Err(_) => format!("unknown ({enc})"),
        };
        rows.push([
            name,
            s.chunks.to_string(),
            s.samples.to_string(),
            s.bytes.to_string(),
            format!("{:.3}", s.bytes as f64 / s.samples.max(1) as f64),
            format!("{:.1}", s.samples as f64 / s.chunks.max(1) as f64),
        ]);
    }
    print_table(out, &rows)?;

    top(
        out,
        "Label names with highest cumulative label value length",
        name_values
            .iter()
            .map(|(n, vs)| (vs.iter().map(|v| v.len() as u64).sum(), n.to_string())),
        limit,
    )?;
    top(
        out,
        "Highest cardinality labels",
        name_values
            .iter()
            .map(|(n, vs)| (vs.len() as u64, n.to_string())),
        limit,
    )?;
    top(
        out,
        "Label names by series count",
        name_series.iter().map(|(n, c)| (*c, n.to_string())),
        limit,
    )?;
    top(
        out,
        "Highest cardinality metric names",
        metric_series.iter().map(|(n, c)| (*c, n.to_string())),
        limit,
    )?;
    top(
        out,
        "Most common label pairs",
        pairs.iter().map(|((n, v), c)| (*c, format!("{n}={v}"))),
        limit,
    )?;
    Ok(())
}

/// Prints a heading and the `limit` largest counts, as promtool does
/// (`count name`), ties by name.
fn top(
    out: &mut impl Write,
    heading: &str,
    items: impl Iterator<Item = (u64, String)>,
    limit: usize,
) -> io::Result<()> {
    let mut items: Vec<(u64, String)> = items.collect();
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    writeln!(out, "\n{heading}:")?;
    for (count, name) in items.into_iter().take(limit) {
        writeln!(out, "{count} {name}")?;
    }
    Ok(())
}

//! `tidemark import openmetrics FILE DATA_DIR`: backfill blocks from an OpenMetrics
//! file, like `promtool tsdb create-blocks-from openmetrics`. The work is
//! [`tidemark::import`]; this shows progress (a bar on a terminal, log
//! lines otherwise), the bad lines, and the blocks written.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tidemark::import::{
    BadLine, DEFAULT_BLOCK_DURATION, ImportObserver, ImportOptions, block_duration,
    import_openmetrics,
};
use tidemark::model::{format_duration, parse_duration};
use tidemark::tsdb::block::BlockMeta;

#[derive(Debug, clap::Args)]
pub struct OpenMetricsArgs {
    /// The OpenMetrics file: samples with timestamps, ending with `# EOF`.
    file: PathBuf,
    /// The data directory to write blocks into (created if missing).
    data_dir: PathBuf,
    /// Maximum duration created blocks may span; blocks are 2h × 3^k, the largest
    /// not above this (anything less than 2h is 2h).
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = parse_max_duration)]
    max_block_duration: i64,
    /// Do not print the blocks created.
    #[arg(long, short)]
    quiet: bool,
    /// Print times as UTC dates and durations as `2h`, not milliseconds.
    #[arg(long, short = 'r')]
    human_readable: bool,
    /// Stop at the first bad line (exit status 1, no block written) instead of
    /// reporting it and going on.
    #[arg(long)]
    strict: bool,
}

fn parse_max_duration(s: &str) -> Result<i64, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    Ok(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Bad lines printed before the rest are only counted.
const MAX_BAD_LINES_SHOWN: u64 = 100;

pub fn run_openmetrics(args: &OpenMetricsArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("read {}", args.file.display()))?
        .len();
    let window = block_duration(args.max_block_duration.max(DEFAULT_BLOCK_DURATION));
    tracing::info!(
        file = %args.file.display(),
        bytes = size,
        data_dir = %args.data_dir.display(),
        block_duration = %format_duration(Duration::from_millis(window as u64)),
        "importing"
    );
    let options = ImportOptions {
        max_block_duration: args.max_block_duration,
        strict: args.strict,
        ..ImportOptions::default()
    };
    let mut progress = Progress::new(size);
    let result = import_openmetrics(&args.file, &args.data_dir, &options, &mut progress);
    progress.done();
    let report = result?;
    let elapsed = started.elapsed();

    let mut out = io::stdout().lock();
    if !args.quiet && !report.blocks.is_empty() {
        print_blocks(&mut out, &report.blocks, args.human_readable)?;
    }
    let rate = report.samples as f64 / elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "imported {} samples ({} exact duplicates dropped) from {} lines into {} blocks in {:.2} s ({:.1} M samples/s); {} bad lines skipped",
        report.samples,
        report.duplicates,
        report.lines,
        report.blocks.len(),
        elapsed.as_secs_f64(),
        rate / 1e6,
        report.bad_lines
    )?;
    Ok(())
}

/// Prints the blocks as promtool does (aligned columns).
fn print_blocks(out: &mut impl Write, blocks: &[BlockMeta], human: bool) -> io::Result<()> {
    let mut rows = vec![
        [
            "BLOCK ULID",
            "MIN TIME",
            "MAX TIME",
            "DURATION",
            "NUM SAMPLES",
            "NUM CHUNKS",
            "NUM SERIES",
        ]
        .map(str::to_owned),
    ];
    for b in blocks {
        let span = b.max_time - b.min_time;
        rows.push([
            b.ulid.to_string(),
            time(b.min_time, human),
            time(b.max_time, human),
            if human {
                format_duration(Duration::from_millis(span as u64))
            } else {
                span.to_string()
            },
            b.stats.num_samples.to_string(),
            b.stats.num_chunks.to_string(),
            b.stats.num_series.to_string(),
        ]);
    }
    print_table(out, &rows)
}

/// Prints rows with columns padded to their widest cell.
pub fn print_table<const N: usize>(out: &mut impl Write, rows: &[[String; N]]) -> io::Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A millisecond timestamp as a number, or as a UTC date and time.
pub fn time(ms: i64, human: bool) -> String {
    if !human {
        return ms.to_string();
    }
    tidemark::model::rfc3339_millis(ms)
}

/// Progress and bad lines: a bar on a terminal, log lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    size: u64,
    /// The next tenth of the input to log at, without a bar.
    next_tenth: u64,
    bad_lines: u64,
}

impl Progress {
    fn new(size: u64) -> Progress {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(size);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            size,
            next_tenth: 1,
            bad_lines: 0,
        }
    }

    fn done(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.bad_lines > MAX_BAD_LINES_SHOWN {
            tracing::warn!(
                "{} more bad lines not shown",
                self.bad_lines - MAX_BAD_LINES_SHOWN
            );
        }
    }
}

impl ImportObserver for Progress {
    fn progress(&mut self, bytes: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(bytes),
            None => {
                while self.next_tenth <= 10 && bytes * 10 >= self.size * self.next_tenth {
                    tracing::info!(bytes, "{}% of the input read", self.next_tenth * 10);
                    self.next_tenth += 1;
                }
            }
        }
    }

    fn bad_line(&mut self, bad: &BadLine) {
        self.bad_lines += 1;
        if self.bad_lines > MAX_BAD_LINES_SHOWN {
            return;
        }
        match &self.bar {
            Some(bar) => bar.suspend(|| tracing::warn!("bad line skipped: {bad}")),
            None => tracing::warn!("bad line skipped: {bad}"),
        }
    }

    fn block_written(&mut self, meta: &BlockMeta) {
        tracing::debug!(ulid = %meta.ulid, samples = meta.stats.num_samples, "block written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(time(0, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(time(1_767_225_600_000, true), "2026-01-01T00:00:00.000Z");
        assert_eq!(time(951_782_400_123, true), "2000-02-29T00:00:00.123Z");
        assert_eq!(time(-1, true), "1969-12-31T23:59:59.999Z");
    }
}

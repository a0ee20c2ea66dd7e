//! `tidemark query EXPR`: evaluate PromQL against a data directory directly, and
//! print a table or the JSON the Prometheus HTTP API would answer with.
//!
//! Times are Unix seconds (fractions allowed), RFC 3339 (`2024-01-02T03:04:05Z`)
//! or `now`; the step is a Prometheus duration (`15s`, `1m`) or seconds.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde_json::json;
use tidemark::model::float;
use tidemark::promql::{Engine, EngineOptions, Value, json};
use tidemark::tsdb::{Db, Options};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The data directory to read.
    #[arg(
        long = "storage.tsdb.path",
        value_name = "PATH",
        default_value = "data/"
    )]
    path: PathBuf,
    /// Evaluation time of an instant query (default: now).
    #[arg(long, conflicts_with_all = ["start", "end", "step"])]
    time: Option<String>,
    /// Start of a range query.
    #[arg(long, requires_all = ["end", "step"])]
    start: Option<String>,
    /// End of a range query.
    #[arg(long, requires_all = ["start", "step"])]
    end: Option<String>,
    /// Step of a range query.
    #[arg(long, requires_all = ["start", "end"])]
    step: Option<String>,
    /// Output format.
    #[arg(long = "format", id = "output_format", value_enum, default_value_t = Format::Table)]
    output: Format,
    /// The PromQL expression.
    expr: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_time(s: &str) -> anyhow::Result<i64> {
    if s == "now" {
        return Ok(now_ms());
    }
    tidemark::api::parse_time(s).map_err(|e| {
        anyhow::anyhow!(
            "invalid time: {e}: give Unix seconds, RFC 3339 (2024-01-02T03:04:05Z) or now"
        )
    })
}

fn parse_step(s: &str) -> anyhow::Result<i64> {
    let ns = tidemark::api::parse_duration(s).map_err(|e| anyhow::anyhow!("invalid step: {e}"))?;
    if ns < 1_000_000 {
        bail!("invalid step {s:?}: it must be at least 1ms");
    }
    Ok(ns / 1_000_000)
}

fn fmt_value(v: f64) -> String {
    let mut s = String::new();
    float::write_json(v, &mut s);
    s
}

pub fn run(args: &QueryArgs) -> anyhow::Result<()> {
    let db = Db::open(&args.path, Options::default())
        .with_context(|| format!("open the data directory {}", args.path.display()))?;
    let db = Arc::new(db);
    let engine = Engine::new(Arc::clone(&db), EngineOptions::default());
    let res = match (&args.start, &args.end, &args.step) {
        (Some(s), Some(e), Some(st)) => {
            engine.range(&args.expr, parse_time(s)?, parse_time(e)?, parse_step(st)?)
        }
        (None, None, None) => {
            let t = match &args.time {
                Some(t) => parse_time(t)?,
                None => now_ms(),
            };
            engine.instant(&args.expr, t)
        }
        _ => bail!("a range query needs --start, --end and --step"),
    };
    let mut out = io::stdout().lock();
    match res {
        Err(e) => {
            if args.output == Format::Json {
                let body =
                    json!({"status": "error", "errorType": e.kind.as_str(), "error": e.message});
                writeln!(out, "{body}")?;
            }
            bail!("{}", e.message);
        }
        Ok(r) => match args.output {
            Format::Json => {
                writeln!(out, "{}", json::response(&r))?;
            }
            Format::Table => {
                match &r.value {
                    Value::Scalar { v, .. } => writeln!(out, "{}", fmt_value(*v))?,
                    Value::String { v, .. } => writeln!(out, "{v}")?,
                    Value::Vector(v) => {
                        for s in v {
                            writeln!(out, "{} => {}", s.labels, fmt_value(s.v))?;
                        }
                    }
                    Value::Matrix(m) => {
                        for s in m {
                            let pts: Vec<String> = s
                                .points
                                .iter()
                                .map(|p| format!("{} @{}", fmt_value(p.v), p.t as f64 / 1000.0))
                                .collect();
                            writeln!(out, "{} =>\n  {}", s.labels, pts.join("\n  "))?;
                        }
                    }
                }
                for w in r.warnings.iter().chain(&r.infos) {
                    eprintln!("{w}");
                }
            }
        },
    }
    drop(engine);
    if let Ok(db) = Arc::try_unwrap(db) {
        db.close().context("close the data directory")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1.5").unwrap(), 1500);
        assert_eq!(parse_time("1970-01-02T00:00:01.25Z").unwrap(), 86_401_250);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(parse_step("1m").unwrap(), 60_000);
        assert_eq!(parse_step("15").unwrap(), 15_000);
    }
}

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
use tidemark::promql::{Engine, EngineOptions, Value};
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

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix('z'))?;
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    let ms = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").get(..3)?.parse::<i64>().ok()?
    };
    Some(((days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se) * 1000) + ms)
}

fn parse_time(s: &str) -> anyhow::Result<i64> {
    if s == "now" {
        return Ok(now_ms());
    }
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    parse_rfc3339(s).with_context(|| {
        format!("invalid time {s:?}: give Unix seconds, RFC 3339 (2024-01-02T03:04:05Z) or now")
    })
}

fn parse_step(s: &str) -> anyhow::Result<i64> {
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    let d = tidemark::model::parse_duration(s).with_context(|| format!("invalid step {s:?}"))?;
    Ok(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Seconds as the API prints them: an integer when whole, else with millis.
fn fmt_ts(t: i64) -> serde_json::Value {
    if t % 1000 == 0 {
        json!(t / 1000)
    } else {
        json!(t as f64 / 1000.0)
    }
}

fn metric_json(l: &tidemark::model::Labels) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = l
        .iter()
        .map(|x| (x.name.to_string(), json!(x.value)))
        .collect();
    serde_json::Value::Object(m)
}

fn to_json(v: &Value) -> serde_json::Value {
    let (kind, result) = match v {
        Value::Scalar { t, v } => ("scalar", json!([fmt_ts(*t), fmt_value(*v)])),
        Value::String { t, v } => ("string", json!([fmt_ts(*t), v])),
        Value::Vector(s) => (
            "vector",
            s.iter()
                .map(|s| json!({"metric": metric_json(&s.labels), "value": [fmt_ts(s.t), fmt_value(s.v)]}))
                .collect(),
        ),
        Value::Matrix(m) => (
            "matrix",
            m.iter()
                .map(|s| {
                    json!({
                        "metric": metric_json(&s.labels),
                        "values": s.points.iter().map(|p| json!([fmt_ts(p.t), fmt_value(p.v)])).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ),
    };
    json!({"resultType": kind, "result": result})
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
                let mut body = json!({"status": "success", "data": to_json(&r.value)});
                if !r.warnings.is_empty() {
                    body["warnings"] = json!(r.warnings);
                }
                if !r.infos.is_empty() {
                    body["infos"] = json!(r.infos);
                }
                writeln!(out, "{body}")?;
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

//! tidemark: a Prometheus-class monitoring engine, as a library.
//!
//! The same engine runs behind the `tidemark` server and inside any program that
//! embeds it. The main types, in the order data flows through them:
//!
//! - [`model::Labels`]: the identity of a series, a validated, sorted label set;
//!   [`model::Matcher`] selects series by label (`=`, `!=`, `=~`, `!~`, regexes
//!   anchored as in Prometheus).
//! - [`tsdb::Db`]: a data directory opened for reading and writing. It holds the
//!   *head* (recent samples, in memory as XOR-compressed chunks), the
//!   *write-ahead log* that makes them survive a crash, and the *blocks* the head
//!   is cut into every two hours (compacted and deleted by retention in the
//!   background).
//! - [`tsdb::Appender`]: the write path. Samples are checked (out-of-order and
//!   duplicate timestamps are refused), buffered, and on
//!   [`commit`](tsdb::Appender::commit) written to the WAL and then made visible.
//! - [`tsdb::Querier`]: the read path over a time range, head and blocks as one:
//!   series selected by matchers, each with a lazy sample iterator.
//! - [`tsdb::chunk`] and [`tsdb::wal`]: the on-disk formats (specified in
//!   `docs/format/`), usable on their own.
//!
//! ```
//! use tidemark::model::{Labels, Matcher};
//! use tidemark::tsdb::{Db, Options};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path(), Options::default())?;
//!
//! // Write: append by labels once, then by the returned reference.
//! let up = Labels::new([("__name__", "up"), ("job", "node")])?;
//! let mut app = db.appender();
//! let r = app.append(&up, 1_000, 1.0)?;
//! app.append_ref(r, 16_000, 1.0)?;
//! app.commit()?; // in the WAL: survives a crash of the process from here on
//!
//! // Read: select by matchers over [mint, maxt] (milliseconds, both included).
//! let q = db.querier(0, 60_000);
//! for series in q.select(&[Matcher::equal("job", "node")]).expect("select") {
//!     let samples: Vec<(i64, f64)> = series.iter().map(|s| (s.t, s.v)).collect();
//!     assert_eq!(series.labels().to_string(), r#"up{job="node"}"#);
//!     assert_eq!(samples, [(1_000, 1.0), (16_000, 1.0)]);
//! }
//! assert_eq!(q.label_values("job", &[]).unwrap(), ["node"]);
//!
//! // Bad input is an error naming what was wrong, never a panic.
//! let err = app.append(&up, 500, 2.0).unwrap_err();
//! assert!(err.to_string().contains("out of order"));
//!
//! db.close()?; // WAL flushed and fsynced, directory lock released
//! # Ok(())
//! # }
//! ```
//!
//! [`exposition::Parser`] reads what exporters send (the Prometheus text format and
//! OpenMetrics), without copying, in Prometheus's lenient way or as a strict
//! validator.
//! [`import`] backfills an OpenMetrics file of timestamped samples into blocks, on
//! top of both.
//!
//! The server side lives in [`config`] (the configuration file), [`relabel`],
//! [`discovery`] (where targets come from), [`scrape`], [`api`] (the HTTP
//! endpoints) and [`server`] (all of it assembled, started and stopped without
//! signals); the storage core (`model`, `tsdb`) is synchronous and knows
//! nothing of HTTP or async runtimes.

pub mod api;
pub mod config;
pub mod discovery;
pub mod exposition;
pub mod import;
pub mod model;
pub mod promql;
pub mod relabel;
pub mod scrape;
pub mod server;
pub mod tsdb;

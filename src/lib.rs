//! tidemark: a Prometheus-class monitoring engine, as a library.
//!
//! The same engine runs behind the `tidemark` server and inside any program that
//! embeds it. The main types, in the order data flows through them (each is
//! also re-exported at the crate root):
//!
//! - [`Labels`]: the identity of a series, a validated, sorted label set;
//!   [`Matcher`] selects series by label (`=`, `!=`, `=~`, `!~`, regexes
//!   anchored as in Prometheus).
//! - [`Db`]: a data directory opened for reading and writing ([`Options`]:
//!   retention, WAL sync, the file system). It holds the *head* (recent samples,
//!   in memory as XOR-compressed chunks), the *write-ahead log* that makes them
//!   survive a crash, and the *blocks* the head is cut into every two hours
//!   (compacted and deleted by retention in the background).
//! - [`Appender`]: the write path. Samples are checked (out-of-order and
//!   duplicate timestamps are refused), buffered, and on
//!   [`commit`](Appender::commit) written to the WAL and then made visible.
//! - [`Querier`]: the read path over a time range, head and blocks as one:
//!   series selected by matchers, each with a lazy sample iterator.
//! - [`Engine`]: PromQL over a [`Db`], instant and range queries with
//!   Prometheus 3.x semantics ([`EngineOptions`]: lookback, sample limit,
//!   timeout), answering a [`QueryResult`].
//! - [`Server`]: the whole server (storage, scraping, the HTTP API) started from a
//!   [`Config`] and [`Settings`], reloaded and stopped without signals.
//!
//! ```
//! use tidemark::{Db, Labels, Matcher, Options};
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
//! The modules are layers; each imports only from those below it
//! (`docs/architecture.md`, checked by `tests/architecture.rs`):
//!
//! 0. [`model`]: labels, matchers, samples and the stale marker, durations,
//!    byte sizes, times, Go's float formatting and parsing, varints.
//! 1. [`tsdb`]: the storage core — chunks, WAL, head, blocks, compaction and
//!    retention, one querier over one block-reader interface, all file I/O
//!    behind [`tsdb::fs::Fs`]; its formats are specified in `docs/format/`.
//!    [`exposition`]: what exporters send (the Prometheus text format and
//!    OpenMetrics), parsed without copying, leniently as Prometheus's scraper
//!    or strictly. [`relabel`]: `relabel_configs` rules.
//! 2. [`promql`]: parsing and evaluation. [`import`]: OpenMetrics backfill into
//!    blocks. [`config`]: the configuration file, read into validated types.
//! 3. [`discovery`]: where targets come from (static and file providers).
//! 4. [`scrape`]: the scrape manager and its loops.
//! 5. [`api`]: the Prometheus HTTP API.
//! 6. [`server`]: all of it assembled from a configuration and settings.
//!
//! Floors 0–2 are synchronous and know nothing of HTTP or async runtimes;
//! `discovery`, `scrape`, `api` and `server` run on tokio.

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

pub use config::Config;
pub use model::{Labels, Matcher};
pub use promql::{Engine, EngineOptions, QueryResult};
pub use server::{Server, Settings};
pub use tsdb::{Appender, Db, Options, Querier};

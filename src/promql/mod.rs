//! PromQL: parse and evaluate queries over a [`Db`](crate::tsdb::Db), with
//! Prometheus 3.x semantics.
//!
//! The main types:
//!
//! - [`Engine`]: holds the database and the limits ([`EngineOptions`]: lookback
//!   delta, max samples, timeout). It is `Send + Sync`; share one behind an `Arc`.
//!   [`Engine::instant`] evaluates at one time, [`Engine::range`] at every step of a
//!   range; the `_with` forms take [`QueryOptions`] (a per-query lookback delta and
//!   timeout, and a cancellation flag the caller may set from another thread).
//! - [`QueryResult`]: the [`Value`] (a scalar, a string, an instant vector of
//!   [`Sample`]s or a matrix of [`Series`] of [`Point`]s) plus the warnings and infos
//!   Prometheus would annotate it with.
//! - [`json`]: a [`Value`] written as Prometheus's HTTP API writes it.
//! - [`PromqlError`]: a failure with its [`ErrorKind`] (`bad_data`, `execution`,
//!   `timeout`, `canceled` in Prometheus's API).
//!
//! Queries are parsed by `promql-parser` behind guards (length and nesting caps,
//! anchored regexes), after Prometheus's experimental duration expressions
//! (`[5m * 2]`, `offset (step() * 3)`) are evaluated and written back as plain
//! durations; evaluation is ours: each selector's series are read once for
//! the whole query into buffers and every step is evaluated from them. A range
//! query's selectors, range functions, aggregations and arithmetic are evaluated
//! a series at a time over all steps at once (`columnar.rs`), the rest step by
//! step on top of their results (`engine.rs`).

mod aggregate;
mod binary;
mod columnar;
mod durations;
mod engine;
mod error;
mod functions;
mod go_strings;
mod histogram;
mod in_order;
mod info;
pub mod json;
mod parse;
pub(crate) mod position;
mod range_fns;
mod value;
mod xxhash;

pub use engine::{Engine, EngineOptions, QueryOptions};
pub use error::{ErrorKind, PromqlError};
pub use value::{Point, QueryResult, Sample, Series, Value};

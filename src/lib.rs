//! tidemark: a Prometheus-class monitoring engine.
pub mod api;
pub mod model;
pub mod scrape;
pub mod tsdb;

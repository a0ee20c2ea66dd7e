//! tidemark: a Prometheus-class monitoring engine.
pub mod model;
pub mod tsdb;

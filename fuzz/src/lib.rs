//! Fuzz targets for tidemark. The checks live in [`checks`], which the stable test
//! `tests/fuzz_corpus.rs` of the main crate includes too, so the corpus is replayed
//! through the same code on every `cargo test`. See docs/fuzzing.md.

pub mod checks;

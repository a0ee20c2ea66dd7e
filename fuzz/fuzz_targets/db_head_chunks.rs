//! cargo-fuzz target `db_head_chunks`: see `tidemark_fuzz::checks::db_head_chunks` and docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tidemark_fuzz::checks::db_head_chunks(data));

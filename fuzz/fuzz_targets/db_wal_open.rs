//! cargo-fuzz target `db_wal_open`: see `tidemark_fuzz::checks::db_wal_open` and docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tidemark_fuzz::checks::db_wal_open(data));

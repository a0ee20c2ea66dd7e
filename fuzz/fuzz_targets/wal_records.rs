//! cargo-fuzz target `wal_records`: see `tidemark_fuzz::checks::wal_records` and docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tidemark_fuzz::checks::wal_records(data));

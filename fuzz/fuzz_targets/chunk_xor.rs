//! cargo-fuzz target `chunk_xor`: see `tidemark_fuzz::checks::chunk_xor` and docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tidemark_fuzz::checks::chunk_xor(data));

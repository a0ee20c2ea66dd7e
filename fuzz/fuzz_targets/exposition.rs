//! cargo-fuzz target `exposition`: see `tidemark_fuzz::checks::exposition` and docs/fuzzing.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tidemark_fuzz::checks::exposition(data));

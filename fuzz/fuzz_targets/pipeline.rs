//! Fuzz target `pipeline`: `palisade_fuzz::pipeline` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::pipeline(data));

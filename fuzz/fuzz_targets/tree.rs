//! Fuzz target `tree`: `palisade_fuzz::tree` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::tree(data));

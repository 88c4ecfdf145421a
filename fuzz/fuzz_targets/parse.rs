//! Fuzz target `parse`: `palisade_fuzz::parse` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::parse(data));

//! Fuzz target `resolve`: `palisade_fuzz::resolve` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::resolve(data));

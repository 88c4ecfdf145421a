//! Fuzz target `modeldir`: `palisade_fuzz::modeldir` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::modeldir(data));

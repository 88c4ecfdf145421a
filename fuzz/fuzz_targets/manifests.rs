//! Fuzz target `manifests`: `palisade_fuzz::manifests` (fuzz/src/lib.rs):
//! the manifest reader and `palisade audit` on one YAML or JSON file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| palisade_fuzz::manifests(data));

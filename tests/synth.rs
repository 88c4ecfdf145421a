//! The synthetic models the benchmarks use must be valid models: checked by
//! the real front end, at several sizes and seeds.

use palisade::synth::{generate, SynthOptions};

#[test]
fn synthetic_models_check_cleanly() {
    for (groups, seed) in [(0, 1), (1, 1), (60, 7), (500, 3), (2_000, 1)] {
        let text = generate(&SynthOptions {
            pod_groups: groups,
            seed,
        });
        let c = palisade::compile_str("synthetic.sec", &text);
        let first = c.diagnostics.iter().next().map(|d| d.message.clone());
        assert!(
            !c.has_errors(),
            "{groups} pod groups, seed {seed}: {first:?}"
        );
    }
}

/// The small synthetic models among the fuzz seeds (`fuzz/seeds/*/synth-*.sec`,
/// docs/fuzzing.md) must be valid models, or the pipeline target would stop
/// at the front end. `PALISADE_WRITE_FUZZ_SEEDS=1` rewrites them from
/// `generate` first.
#[test]
fn fuzz_seeds_are_valid_models() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    if std::env::var_os("PALISADE_WRITE_FUZZ_SEEDS").is_some() {
        for (groups, seed) in [(1, 1), (3, 2), (6, 3), (11, 4)] {
            let text = generate(&SynthOptions {
                pod_groups: groups,
                seed,
            });
            assert!(text.len() <= 16_384, "fuzz inputs are at most 16 KiB");
            for target in ["parse", "resolve", "pipeline"] {
                let path = root.join(target).join(format!("synth-{groups}-{seed}.sec"));
                std::fs::write(&path, &text).expect("writable seed");
            }
        }
    }
    let mut seen = 0;
    for target in ["parse", "resolve", "pipeline"] {
        for entry in std::fs::read_dir(root.join(target)).expect("fuzz/seeds") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("synth-") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("seed");
            let c = palisade::compile_str(&name, &text);
            assert!(!c.has_errors(), "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 12, "synthetic seeds missing: {seen}");
}

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

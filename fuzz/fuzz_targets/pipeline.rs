//! The whole pipeline on models that compile: generate, write the deploy
//! tree with the real transactional writer into a temp dir, build again
//! (must be a no-op), read every written manifest back, then check
//! (effective network + RBAC, lints) and build the access view.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade::output::{self, tree};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut comp = palisade::compile_str("fuzz.sec", text);
    if comp.has_errors() {
        return;
    }
    let model = &comp.model;
    let opts = palisade::generate::Options {
        workloads: model.platform.workloads,
    };
    let files = output::build(model, &opts, None, &["fuzz.sec".to_owned()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let first = tree::sync(&out, &files).unwrap_or_else(|e| panic!("first build: {e}"));
    assert!(
        first.changed.is_empty() && first.removed.is_empty(),
        "{first:?}"
    );
    let second = tree::sync(&out, &files).unwrap_or_else(|e| panic!("second build: {e}"));
    assert!(
        second.is_empty(),
        "a second build is not a no-op: {second:?}"
    );
    for (rel, bytes) in &files {
        let on_disk = std::fs::read(out.join(rel)).expect("written file");
        assert_eq!(&on_disk, bytes, "{rel}");
        if rel.ends_with(".yaml") && !rel.ends_with("kustomization.yaml") {
            let yaml = std::str::from_utf8(bytes).expect("YAML is UTF-8");
            if let Err((doc, e)) = palisade::k8s::parse_manifests(yaml) {
                panic!("{rel}: document {doc} does not read back: {e}\n{yaml}");
            }
        }
    }
    let envs = palisade::check(&mut comp);
    let view = palisade::review::access::access_view(&comp, &envs);
    assert_eq!(view.envs.len(), envs.len());
});

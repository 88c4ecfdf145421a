//! What the fuzz targets run, one function per target, shared with the
//! regression test that replays `tests/corpus/fuzz-regressions/` through
//! all three (tests/robustness.rs includes this file). Each function
//! panics on a bug: a panic in palisade, or a broken promise checked here.

use palisade::diagnostics::Diagnostics;
use palisade::output::{self, tree};
use palisade::source::{SourceFile, SourceMap};

/// Syntax only: the pre-scan, pest and the error recovery of `syntax/`.
pub fn parse(data: &[u8]) {
    // Models are UTF-8 text; the loader rejects anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new(
        "fuzz.sec",
        "fuzz.sec".into(),
        text.to_owned(),
    ));
    let mut diags = Diagnostics::new();
    let _ = palisade::syntax::parse_file(file, text, &mut diags);
}

/// The front end: syntax, resolution, and rendering every diagnostic (text,
/// JSON and SARIF), which computes lines, columns and snippets from spans.
pub fn resolve(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("fuzz.sec", text);
    let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, false);
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, true);
    let _ = palisade::diagnostics::json::to_json(&diags, &comp.sources).to_string();
    let sarif =
        palisade::diagnostics::sarif::to_sarif(&diags, &comp.sources, palisade::lints::LINTS);
    let _ = serde_json::to_string(&sarif).expect("SARIF serializes");
}

/// The whole pipeline on models that compile: generate, write the deploy
/// tree with the real transactional writer into a temp dir, build again
/// (must be a no-op), read every written manifest back, then check
/// (effective network + RBAC, lints) and build the access view.
pub fn pipeline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("fuzz.sec", text);
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
    let checked = palisade::check(comp);
    let view = palisade::view::access_view(&checked);
    assert_eq!(view.envs.len(), checked.graphs.len());
}

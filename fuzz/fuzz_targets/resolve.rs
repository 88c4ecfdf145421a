//! The front end: syntax, resolution, and rendering every diagnostic (text,
//! JSON and SARIF), which computes lines, columns and snippets from spans.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let comp = palisade::compile_str("fuzz.sec", text);
    let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, false);
    let _ = palisade::diagnostics::render::render(&diags, &comp.sources, true);
    let _ = palisade::diagnostics::json::to_json(&diags, &comp.sources).to_string();
    let sarif = palisade::diagnostics::sarif::to_sarif(&diags, &comp.sources);
    let _ = serde_json::to_string(&sarif).expect("SARIF serializes");
});

//! Syntax only: the pre-scan, pest and the error recovery of `syntax/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade::diagnostics::Diagnostics;
use palisade::source::{SourceFile, SourceMap};

fuzz_target!(|data: &[u8]| {
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
});

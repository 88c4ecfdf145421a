//! Helpers the renderers' unit tests share: in-memory sources and spans.

use crate::source::{SourceFile, SourceMap};
use crate::span::{FileId, Span};
use std::path::PathBuf;

/// A source map of `(name, text)` files, in order.
pub fn sources(files: &[(&str, &str)]) -> SourceMap {
    let mut map = SourceMap::new();
    for (name, text) in files {
        map.add(SourceFile::new(
            *name,
            PathBuf::from(name),
            text.to_string(),
        ));
    }
    map
}

/// The span of the first `needle` in file `file`.
pub fn span(map: &SourceMap, file: u32, needle: &str) -> Span {
    let start = map.get(FileId(file)).text.find(needle).expect("needle");
    Span::new(FileId(file), start, start + needle.len())
}

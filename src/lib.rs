#![doc = include_str!("../ARCHITECTURE.md")]

pub mod cli;
pub mod diagnostics;
pub mod effective;
pub mod generate;
pub mod k8s;
pub mod lints;
pub mod model;
pub mod output;
pub mod resolve;
pub mod source;
pub mod span;
pub mod suggest;
pub mod syntax;
pub mod synth;

use diagnostics::Diagnostics;
use model::Model;
use source::SourceMap;

/// The result of running the front end on a model.
pub struct Compilation {
    pub sources: SourceMap,
    /// The resolved model; only trustworthy when `diagnostics` has no errors.
    pub model: Model,
    pub diagnostics: Diagnostics,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Syntax → resolution, collecting every diagnostic.
pub fn compile(sources: SourceMap) -> Compilation {
    let mut diagnostics = Diagnostics::new();
    let files = syntax::parse_all(&sources, &mut diagnostics);
    let model = resolve::resolve(&files, &sources, &mut diagnostics);
    diagnostics.sort();
    diagnostics.dedup();
    Compilation {
        sources,
        model,
        diagnostics,
    }
}

/// Load a model from a file or directory and compile it.
pub fn compile_path(path: &std::path::Path) -> Result<Compilation, source::LoadError> {
    Ok(compile(source::load(path)?))
}

/// Compile one in-memory source text (tests, fuzzing, benchmarks).
///
/// ```
/// let c = palisade::compile_str("shop.sec", r#"
///     system shop
///     namespace web
///     app front in web { image = "ghcr.io/acme/front:1.0" ports = { http = 8080 } }
///     app api in web { image = "ghcr.io/acme/api:1.0" ports = { http = 9000 } }
///     allow front -> api: http
/// "#);
/// assert!(!c.has_errors());
/// assert_eq!(c.model.grants.len(), 1);
///
/// let bad = palisade::compile_str("bad.sec", "system shop\nallow front -> api: http\n");
/// assert_eq!(bad.diagnostics.error_count(), 2); // neither name is declared
/// ```
pub fn compile_str(name: &str, text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    sources.add(source::SourceFile::new(name, name.into(), text.to_string()));
    compile(sources)
}

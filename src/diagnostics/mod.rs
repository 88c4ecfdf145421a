//! Our own diagnostic type, shared by every stage.
//!
//! A [`Diagnostic`] has a stable code, a severity, a message, a primary span,
//! secondary spans (possibly in other files), help and notes. Stages push
//! diagnostics into a [`Diagnostics`] collector so that one run reports every
//! problem. `render.rs` is the only file that knows the rendering crate;
//! `json.rs` gives the documented JSON form of the same type.

pub mod codes;
pub mod json;
pub mod render;
pub mod sarif;
#[cfg(test)]
mod test_support;

use crate::span::Span;
pub use codes::Code;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A label on a span: the primary one says what is wrong, secondary ones
/// give context ("first declared here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A fix the help proposes, as data: the text of `span` becomes
/// `replacement` ("did you mean `web`?"). Editors offer it as a quick fix
/// (`palisade lsp`); the JSON form has it as `suggestion`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// The replacement the help proposes, if it proposes exactly one.
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    /// An error with the code's default message category.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, span, message)
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, span, message)
    }

    pub fn new(code: Code, severity: Severity, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            suggestion: None,
        }
    }

    /// The label under the primary caret line.
    pub fn label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The help "did you mean `REPLACEMENT`?", with the replacement of the
    /// primary span as a [`Suggestion`]: every did-you-mean goes through
    /// here, so that an editor can apply it.
    pub fn did_you_mean(mut self, replacement: impl Into<String>) -> Self {
        let replacement = replacement.into();
        self.help = Some(format!("did you mean `{replacement}`?"));
        self.suggestion = Some(Suggestion {
            span: self.primary.span,
            replacement,
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// Collects diagnostics across stages.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Moves every diagnostic of `other` into this one.
    pub fn append(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == s).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sort into source order (file, offset), keeping the order of
    /// diagnostics at the same place; output is then deterministic.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| {
            (
                d.primary.span.file,
                d.primary.span.start,
                d.primary.span.end,
            )
        });
    }

    /// Drop exact repeats (same code, message and place), keeping the first.
    pub fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.items
            .retain(|d| seen.insert((d.code, d.primary.span, d.message.clone())));
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    /// Turn every warning into an error (`--deny warnings`).
    pub fn deny_warnings(&mut self) {
        for d in &mut self.items {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
        }
    }
}

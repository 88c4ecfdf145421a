//! The documented JSON form of diagnostics (schema version 1), for tools.
//!
//! The shape is given by the serde-derived types below; their doc comments
//! are the field documentation. A document looks like:
//!
//! ```json
//! {
//!   "version": 1,
//!   "diagnostics": [
//!     {
//!       "code": "E0101", "severity": "error", "message": "cannot find app `wbe`",
//!       "file": "examples/x.sec", "line": 12, "column": 18,
//!       "end_line": 12, "end_column": 21, "start_byte": 200, "end_byte": 203,
//!       "label": "not declared",
//!       "secondary": [
//!         { "file": "examples/apps.sec", "line": 3, "column": 5,
//!           "end_line": 3, "end_column": 8, "start_byte": 14, "end_byte": 17,
//!           "message": "first declared here" }
//!       ],
//!       "help": "did you mean `web`?",
//!       "notes": [],
//!       "suggestion": { "file": "examples/x.sec", "line": 12, "column": 18,
//!         "end_line": 12, "end_column": 21, "start_byte": 200, "end_byte": 203,
//!         "replacement": "web" }
//!     }
//!   ],
//!   "summary": { "errors": 1, "warnings": 0 }
//! }
//! ```
//!
//! Positions are computed the same way as in the rendered form: byte offsets
//! are clamped to the file and to character boundaries first (see
//! [`super::render`]).

use super::render::clamp;
use super::{Diagnostic, Severity};
use crate::source::SourceMap;
use crate::span::Span;
use serde::Serialize;

/// The schema version written in [`JsonReport::version`]: to be bumped when
/// a field is removed or changes meaning (adding a field keeps it).
pub const SCHEMA_VERSION: u32 = 1;

/// The documented JSON form (schema version 1) of a set of diagnostics.
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> serde_json::Value {
    serde_json::to_value(JsonReport::new(diags, sources))
        .expect("the JSON report types always serialize")
}

/// The whole JSON document.
///
/// Serialize this directly (rather than going through [`to_json`]'s
/// `serde_json::Value`) to keep the fields in the documented order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonReport<'a> {
    /// Schema version of this document: always [`SCHEMA_VERSION`] (1).
    pub version: u32,
    /// Every diagnostic, in the order they were reported.
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
    /// How many diagnostics of each severity the document holds.
    pub summary: JsonSummary,
}

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// The stable code (`"E0101"`), or for a lint finding the lint's name
    /// (`"namespace-wide-grant"`).
    pub code: &'static str,
    /// `"error"`, `"warning"` or `"note"`.
    pub severity: Severity,
    /// The one-line message, e.g. ``"cannot find app `wbe`"``.
    pub message: &'a str,
    /// Where the problem is: the primary span.
    #[serde(flatten)]
    pub location: JsonLocation<'a>,
    /// The text under the primary span (`"not declared"`), or `null` when
    /// there is none.
    pub label: Option<&'a str>,
    /// Other places that explain the problem ("first declared here"),
    /// possibly in other files. Empty when there are none.
    pub secondary: Vec<JsonSecondary<'a>>,
    /// A hint on how to fix the problem, or `null`.
    pub help: Option<&'a str>,
    /// Further explanations, e.g. a cause chain
    /// (`"sre --exec--> api (pod api) --mounts--> main-db-write"`). Empty when
    /// there are none.
    pub notes: &'a [String],
    /// The fix the help proposes as data, or `null`: the text of a span
    /// and its `replacement` (every "did you mean …?" has one).
    pub suggestion: Option<JsonSuggestion<'a>>,
}

/// A proposed replacement of a span's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonSuggestion<'a> {
    /// The text to replace.
    #[serde(flatten)]
    pub location: JsonLocation<'a>,
    /// What to write instead, e.g. `"web"`.
    pub replacement: &'a str,
}

/// A span of source text. Lines and columns are 1-based; columns count
/// characters (Unicode scalar values), not bytes. The end is exclusive: the
/// position just after the last character of the span. An empty span has
/// `start_byte == end_byte` and the same start and end position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonLocation<'a> {
    /// The file as the user should see it (the path the user gave, or a
    /// path relative to the directory the user gave).
    pub file: &'a str,
    /// Line of the first character of the span.
    pub line: usize,
    /// Column of the first character of the span.
    pub column: usize,
    /// Line of the position just after the span.
    pub end_line: usize,
    /// Column of the position just after the span.
    pub end_column: usize,
    /// Byte offset of the start of the span in the file (0-based).
    pub start_byte: usize,
    /// Byte offset just after the span in the file (0-based, exclusive).
    pub end_byte: usize,
}

/// A secondary label: a place and what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonSecondary<'a> {
    /// Where the label points.
    #[serde(flatten)]
    pub location: JsonLocation<'a>,
    /// The label's text, e.g. `"first declared here"` (may be empty).
    pub message: &'a str,
}

/// Counts of the diagnostics in the document, by severity (notes are not
/// counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct JsonSummary {
    /// Number of diagnostics with severity `"error"`.
    pub errors: usize,
    /// Number of diagnostics with severity `"warning"`.
    pub warnings: usize,
}

impl<'a> JsonReport<'a> {
    /// The JSON form of `diags`, with positions computed from `sources`.
    pub fn new(diags: &'a [Diagnostic], sources: &'a SourceMap) -> Self {
        let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
        JsonReport {
            version: SCHEMA_VERSION,
            diagnostics: diags
                .iter()
                .map(|d| JsonDiagnostic::new(d, sources))
                .collect(),
            summary: JsonSummary {
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
            },
        }
    }
}

impl<'a> JsonDiagnostic<'a> {
    /// The JSON form of one diagnostic.
    pub fn new(d: &'a Diagnostic, sources: &'a SourceMap) -> Self {
        JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: &d.message,
            location: JsonLocation::new(d.primary.span, sources),
            label: Some(d.primary.message.as_str()).filter(|m| !m.is_empty()),
            secondary: d
                .secondary
                .iter()
                .map(|l| JsonSecondary {
                    location: JsonLocation::new(l.span, sources),
                    message: &l.message,
                })
                .collect(),
            help: d.help.as_deref(),
            notes: &d.notes,
            suggestion: d.suggestion.as_ref().map(|s| JsonSuggestion {
                location: JsonLocation::new(s.span, sources),
                replacement: &s.replacement,
            }),
        }
    }
}

impl<'a> JsonLocation<'a> {
    /// The location of `span`. A span in a file `sources` does not hold (a
    /// compiler bug) gets an empty file name and line and column 0 rather
    /// than a panic.
    pub fn new(span: Span, sources: &'a SourceMap) -> Self {
        if span.file.0 as usize >= sources.len() {
            return JsonLocation {
                file: "",
                line: 0,
                column: 0,
                end_line: 0,
                end_column: 0,
                start_byte: span.start as usize,
                end_byte: span.end as usize,
            };
        }
        let file = sources.get(span.file);
        let range = clamp(&file.text, span);
        // Offsets are at most the file's length, so they fit in a `u32`
        // whenever the span's own offsets did.
        let pos = |offset: usize| file.line_col(u32::try_from(offset).unwrap_or(u32::MAX));
        let (line, column) = pos(range.start);
        let (end_line, end_column) = pos(range.end);
        JsonLocation {
            file: &file.name,
            line,
            column,
            end_line,
            end_column,
            start_byte: range.start,
            end_byte: range.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::test_support::{sources, span};
    use crate::diagnostics::Code;
    use crate::span::FileId;
    use serde_json::json;

    const SHOP: &str = "system shop {\n  app web {\n    calls wbe\n  }\n}\n";
    const APPS: &str = "// apps\n\napp api {\n}\n";

    #[test]
    fn full_document() {
        let map = sources(&[("shop.sec", SHOP), ("apps.sec", APPS)]);
        let diags = [
            Diagnostic::error(
                Code::Undeclared,
                span(&map, 0, "wbe"),
                "cannot find app `wbe`",
            )
            .label("not declared")
            .secondary(span(&map, 1, "api"), "first declared here")
            .did_you_mean("web")
            .note("sre --exec--> api (pod api) --mounts--> main-db-write"),
            Diagnostic::warning(
                Code::Lint("namespace-wide-grant"),
                span(&map, 0, "web"),
                "grant",
            ),
        ];
        assert_eq!(
            to_json(&diags, &map),
            json!({
                "version": 1,
                "diagnostics": [
                    {
                        "code": "E0101",
                        "severity": "error",
                        "message": "cannot find app `wbe`",
                        "file": "shop.sec",
                        "line": 3,
                        "column": 11,
                        "end_line": 3,
                        "end_column": 14,
                        "start_byte": 36,
                        "end_byte": 39,
                        "label": "not declared",
                        "secondary": [{
                            "file": "apps.sec",
                            "line": 3,
                            "column": 5,
                            "end_line": 3,
                            "end_column": 8,
                            "start_byte": 13,
                            "end_byte": 16,
                            "message": "first declared here",
                        }],
                        "help": "did you mean `web`?",
                        "notes": ["sre --exec--> api (pod api) --mounts--> main-db-write"],
                        "suggestion": {
                            "file": "shop.sec",
                            "line": 3,
                            "column": 11,
                            "end_line": 3,
                            "end_column": 14,
                            "start_byte": 36,
                            "end_byte": 39,
                            "replacement": "web",
                        },
                    },
                    {
                        "code": "namespace-wide-grant",
                        "severity": "warning",
                        "message": "grant",
                        "file": "shop.sec",
                        "line": 2,
                        "column": 7,
                        "end_line": 2,
                        "end_column": 10,
                        "start_byte": 20,
                        "end_byte": 23,
                        "label": null,
                        "secondary": [],
                        "help": null,
                        "notes": [],
                        "suggestion": null,
                    },
                ],
                "summary": {"errors": 1, "warnings": 1},
            })
        );
    }

    #[test]
    fn fields_keep_the_documented_order() {
        let map = sources(&[("shop.sec", SHOP)]);
        let diags = [Diagnostic::error(Code::Syntax, span(&map, 0, "web"), "m")];
        let text = serde_json::to_string(&JsonReport::new(&diags, &map)).unwrap();
        let keys = [
            "\"version\"",
            "\"diagnostics\"",
            "\"code\"",
            "\"severity\"",
            "\"message\"",
            "\"file\"",
            "\"line\"",
            "\"column\"",
            "\"end_line\"",
            "\"end_column\"",
            "\"start_byte\"",
            "\"end_byte\"",
            "\"label\"",
            "\"secondary\"",
            "\"help\"",
            "\"notes\"",
            "\"suggestion\"",
            "\"summary\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    fn location(text: &str, start: usize, end: usize) -> serde_json::Value {
        let map = sources(&[("a.sec", text)]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), start, end), "m");
        let v = to_json(&[d], &map);
        let d = &v["diagnostics"][0];
        json!([
            d["line"],
            d["column"],
            d["end_line"],
            d["end_column"],
            d["start_byte"],
            d["end_byte"]
        ])
    }

    #[test]
    fn lines_and_columns() {
        // First character of the file.
        assert_eq!(location(SHOP, 0, 6), json!([1, 1, 1, 7, 0, 6]));
        // A multi-line span.
        assert_eq!(location(SHOP, 16, 43), json!([2, 3, 4, 4, 16, 43]));
        // A span ending after a line break ends at column 1 of the next line.
        assert_eq!(location(SHOP, 14, 26), json!([2, 1, 3, 1, 14, 26]));
    }

    #[test]
    fn non_ascii_columns_count_characters() {
        let text = "app café {\n  nom \"é→x\" wbe\n}\n";
        let start = text.find("wbe").unwrap();
        assert_eq!(start - text.find("  nom").unwrap(), 15); // bytes, not characters
        assert_eq!(
            location(text, start, start + 3),
            json!([2, 13, 2, 16, start, start + 3])
        );
        // An offset inside `→` is moved to its start (and an end to its end).
        let arrow = text.find('→').unwrap();
        assert_eq!(
            location(text, arrow + 1, arrow + 2),
            json!([2, 9, 2, 10, arrow, arrow + 3])
        );
    }

    #[test]
    fn empty_span_at_end_of_file() {
        let len = SHOP.len();
        assert_eq!(location(SHOP, len, len), json!([6, 1, 6, 1, len, len]));
        assert_eq!(location("app a {", 7, 7), json!([1, 8, 1, 8, 7, 7]));
        assert_eq!(location("", 0, 0), json!([1, 1, 1, 1, 0, 0]));
    }

    #[test]
    fn span_past_end_of_file_is_clamped() {
        let len = SHOP.len();
        assert_eq!(
            location(SHOP, len - 2, len + 50),
            json!([5, 1, 6, 1, len - 2, len])
        );
        assert_eq!(
            location(SHOP, len + 7, len + 9),
            json!([6, 1, 6, 1, len, len])
        );
        // Reversed: empty at the start.
        assert_eq!(location(SHOP, 7, 2), json!([1, 8, 1, 8, 7, 7]));
    }

    #[test]
    fn unknown_file_does_not_panic() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(3), 1, 2), "m");
        let v = to_json(&[d], &map);
        assert_eq!(v["diagnostics"][0]["file"], "");
        assert_eq!(v["diagnostics"][0]["line"], 0);
    }

    #[test]
    fn notes_severity_is_not_counted() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::new(Code::Syntax, Severity::Note, span(&map, 0, "web"), "fyi");
        let v = to_json(&[d], &map);
        assert_eq!(v["diagnostics"][0]["severity"], "note");
        assert_eq!(v["summary"], json!({"errors": 0, "warnings": 0}));
        assert_eq!(to_json(&[], &map)["diagnostics"], json!([]));
    }
}

//! Rendering diagnostics for humans, rustc-style, with `annotate-snippets`.
//!
//! This is the only file that knows the rendering crate. Each diagnostic
//! becomes one `annotate-snippets` report: a title (`error[E0101]: ...`,
//! `warning[lint-name]: ...`), one snippet for the primary span's file holding
//! the primary label (`^^^`) and the secondary labels in that file (`---`),
//! one more snippet (` ::: other.sec:3:5`) per other file a secondary label
//! points into, then `= help: ...` and `= note: ...` lines.
//!
//! Spans are byte offsets coming from every stage of the compiler, so they are
//! sanitised here before they reach the rendering crate (which panics on
//! out-of-range or mid-character offsets): see `clamp`. Only the lines
//! around the labels are handed to the rendering crate, so the cost of a
//! diagnostic does not depend on the size of its file. `annotate-snippets`
//! trims long lines to the terminal width (140 columns) around the labels;
//! labels far apart on a very long line go into separate snippets (see
//! `MAX_LABEL_SPREAD`) so that the trimming still works.
//!
//! An empty span (`start == end`, e.g. "expected `}` at end of file") is drawn
//! as one `^` at that position; at the end of a file that ends with a line
//! break, that is column 1 of the (empty) line after the last one, the same
//! place the JSON form reports. A span ending just after a line break is
//! drawn up to the end of that line, not into the next one.

use super::{Diagnostic, Label, Severity};
use crate::source::{SourceFile, SourceMap};
use crate::span::{FileId, Span};
use annotate_snippets::renderer::{
    DEFAULT_EMPHASIS_STYLE, DEFAULT_ERROR_STYLE, DEFAULT_WARNING_STYLE,
};
use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Renderer, Snippet};
use std::ops::Range;

/// Render diagnostics rustc-style. `color`: ANSI styling (the caller decides:
/// terminal and no `NO_COLOR`).
///
/// Every diagnostic is followed by a blank line, as rustc does, so the result
/// can be printed as is (`eprint!`, not `eprintln!`) and directly followed by
/// the [`summary_line`]. No diagnostics give an empty string.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Each diagnostic on its own, on every core (a large model's check
    // reports thousands of warnings), joined in order.
    use rayon::prelude::*;
    let parts: Vec<String> = diags
        .par_iter()
        .map(|diag| render_one(&renderer, diag, sources))
        .collect();
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 2).sum());
    for part in parts {
        out.push_str(&part);
        out.push_str("\n\n");
    }
    out
}

/// The closing line, e.g.
/// ``error: could not check `marketing.sec`: 2 errors, 1 warning emitted``
/// or ``warning: `marketing.sec`: 1 warning emitted``. `what` is the model's
/// name as the user gave it (without backticks). `None` when both counts are 0.
pub fn summary_line(errors: usize, warnings: usize, what: &str, color: bool) -> Option<String> {
    let (level, style, text) = match (errors, warnings) {
        (0, 0) => return None,
        (0, w) => (
            "warning",
            DEFAULT_WARNING_STYLE,
            format!("`{what}`: {} emitted", count(w, "warning")),
        ),
        (e, 0) => (
            "error",
            DEFAULT_ERROR_STYLE,
            format!("could not check `{what}`: {} emitted", count(e, "error")),
        ),
        (e, w) => (
            "error",
            DEFAULT_ERROR_STYLE,
            format!(
                "could not check `{what}`: {}, {} emitted",
                count(e, "error"),
                count(w, "warning")
            ),
        ),
    };
    Some(if color {
        // The styles `annotate-snippets` gives a title line: the level in
        // its colour, the rest in bold.
        let emphasis = DEFAULT_EMPHASIS_STYLE;
        format!(
            "{}{level}{}{}: {text}{}",
            style.render(),
            style.render_reset(),
            emphasis.render(),
            emphasis.render_reset()
        )
    } else {
        format!("{level}: {text}")
    })
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn render_one(renderer: &Renderer, diag: &Diagnostic, sources: &SourceMap) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let mut group = Group::with_title(level.primary_title(&diag.message).id(diag.code.as_str()));

    // Snippets in display order: the primary span's file first, then the
    // files of secondary labels in order of first appearance. Unknown file
    // ids (a bug in the caller) are skipped rather than panicking.
    let labels = std::iter::once((AnnotationKind::Primary, &diag.primary))
        .chain(diag.secondary.iter().map(|l| (AnnotationKind::Context, l)));
    let mut snippets: Vec<SnippetLabels<'_>> = Vec::new();
    for (kind, label) in labels {
        let Some(f) = file(sources, label.span.file) else {
            continue;
        };
        let placed = PlacedLabel::new(f, kind, label);
        match snippets
            .iter_mut()
            .find(|s| std::ptr::eq(s.file, f) && s.fits(&placed))
        {
            Some(s) => s.labels.push(placed),
            None => snippets.push(SnippetLabels {
                file: f,
                labels: vec![placed],
            }),
        }
    }
    // Keep the snippets of one file together, in order of first appearance.
    let mut ordered: Vec<SnippetLabels<'_>> = Vec::with_capacity(snippets.len());
    for s in snippets {
        let at = ordered
            .iter()
            .rposition(|o| std::ptr::eq(o.file, s.file))
            .map_or(ordered.len(), |i| i + 1);
        ordered.insert(at, s);
    }
    for s in &ordered {
        group = group.element(s.snippet());
    }

    if let Some(help) = &diag.help {
        group =
            group.element(Level::HELP.message(annotate_snippets::normalize_untrusted_str(help)));
    }
    for note in &diag.notes {
        group =
            group.element(Level::NOTE.message(annotate_snippets::normalize_untrusted_str(note)));
    }
    renderer.render(&[group])
}

fn file(sources: &SourceMap, id: FileId) -> Option<&SourceFile> {
    ((id.0 as usize) < sources.len()).then(|| sources.get(id))
}

/// How far apart (in characters) the labels of one snippet may be when a
/// line they are on is longer than [`LONG_LINE`]. `annotate-snippets` trims
/// long lines to a window around the labels, but shows everything between
/// the left-most and the right-most label of a snippet; labels farther apart
/// than this are shown in separate snippets (` ::: file:line:col`), so a
/// 10,000-character line never gives a 10,000-character output line.
const MAX_LABEL_SPREAD: usize = 100;

/// How many lines apart the labels of one snippet may be. The rendering
/// crate reads every line of a snippet (and folds the middle ones), so a
/// label near the top of a long file and one near its bottom in one snippet
/// made each diagnostic cost the whole file: 100,000 duplicate declarations,
/// each pointing back at the first, took 100 s. Labels farther apart go in
/// separate snippets (` ::: file:line:col`).
const MAX_LINE_SPREAD: usize = 100;

/// Lines up to this many characters are never trimmed, so labels on them
/// may be any distance apart.
const LONG_LINE: usize = 120;

/// A label with its clamped byte range and its 1-based (line, column)
/// positions in characters.
struct PlacedLabel<'a> {
    kind: AnnotationKind,
    label: &'a Label,
    range: Range<usize>,
    start: (usize, usize),
    end: (usize, usize),
    /// Length in characters of the longer of the start and end lines.
    line_len: usize,
}

impl<'a> PlacedLabel<'a> {
    fn new(f: &SourceFile, kind: AnnotationKind, label: &'a Label) -> Self {
        let text = f.text.as_str();
        let mut range = clamp(text, label.span);
        // A span ending just after a line break would be drawn as reaching
        // into the next line; draw it up to the end of its last line instead
        // (a span of just a line break becomes an empty span at that line's
        // end).
        for eol in ["\n", "\r"] {
            if range.end > range.start && text[..range.end].ends_with(eol) {
                range.end -= 1;
            }
        }
        let line_len = |i: usize| {
            text[line_start(text, i)..line_end(text, i)]
                .trim_end_matches(['\n', '\r'])
                .chars()
                .count()
        };
        PlacedLabel {
            kind,
            label,
            start: f.line_col(offset(range.start)),
            end: f.line_col(offset(range.end)),
            line_len: line_len(range.start).max(line_len(range.end)),
            range,
        }
    }
}

/// The labels shown in one snippet of one file.
struct SnippetLabels<'a> {
    file: &'a SourceFile,
    labels: Vec<PlacedLabel<'a>>,
}

impl<'a> SnippetLabels<'a> {
    /// Whether `new` can join this snippet without making it too wide: see
    /// [`MAX_LABEL_SPREAD`].
    fn fits(&self, new: &PlacedLabel<'_>) -> bool {
        let all = || self.labels.iter().chain(std::iter::once(new));
        let longest = all().map(|l| l.line_len).max().unwrap_or(0);
        let left = all().map(|l| l.start.1.min(l.end.1)).min().unwrap_or(0);
        let right = all().map(|l| l.start.1.max(l.end.1)).max().unwrap_or(0);
        let near = all().all(|a| all().all(|b| a.end.0.abs_diff(b.start.0) <= MAX_LINE_SPREAD));
        near && (longest <= LONG_LINE || right - left <= MAX_LABEL_SPREAD)
    }

    /// One snippet covering whole lines from the first to the last label,
    /// so that rendering cost does not grow with the file's size.
    fn snippet(&self) -> Snippet<'a, Annotation<'a>> {
        let text = self.file.text.as_str();
        let lo = self.labels.iter().map(|l| l.range.start).min().unwrap_or(0);
        let hi = self.labels.iter().map(|l| l.range.end).max().unwrap_or(0);
        let base = line_start(text, lo);
        let end = line_end(text, hi);
        let (first_line, _) = self.file.line_col(offset(base));
        let mut snippet = Snippet::source(&text[base..end])
            .path(self.file.name.as_str())
            .line_start(first_line);
        for l in &self.labels {
            let mut annotation = l.kind.span(l.range.start - base..l.range.end - base);
            if !l.label.message.is_empty() {
                annotation = annotation.label(l.label.message.as_str());
            }
            snippet = snippet.annotation(annotation);
        }
        snippet
    }
}

/// A span's byte range, made safe to slice `text` with: clamped to the
/// text's length, `start` moved back and `end` forward to a character
/// boundary, and `end >= start` (a reversed span becomes empty at `start`). `json.rs` uses the same range so that both
/// forms report the same positions.
pub(crate) fn clamp(text: &str, span: Span) -> Range<usize> {
    let start = floor_char_boundary(text, span.start as usize);
    let end = ceil_char_boundary(text, (span.end as usize).max(start));
    start..end
}

/// A byte offset as [`SourceFile::line_col`] takes it.
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn floor_char_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Byte offset of the start of the line holding `i`.
fn line_start(text: &str, i: usize) -> usize {
    text[..i].rfind('\n').map_or(0, |n| n + 1)
}

/// Byte offset just after the line holding `i` (after its `\n`, if any).
fn line_end(text: &str, i: usize) -> usize {
    text[i..].find('\n').map_or(text.len(), |n| i + n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::test_support::{sources, span};
    use crate::diagnostics::Code;

    const SHOP: &str =
        "system shop {\n  app web {\n    calls wbe\n  }\n  persona sre {\n    exec api\n  }\n}\n";
    const APPS: &str = "// apps\n\napp api {\n  image \"x\"\n}\n";

    #[test]
    fn primary_label_help_and_notes() {
        let map = sources(&[("examples/shop.sec", SHOP)]);
        let d = Diagnostic::error(
            Code::Undeclared,
            span(&map, 0, "wbe"),
            "cannot find app `wbe`",
        )
        .label("not declared")
        .help("did you mean `web`?")
        .note("sre --exec--> api (pod api) --mounts--> main-db-write")
        .note("a second note");
        assert_eq!(
            render(&[d], &map, false),
            "\
error[E0101]: cannot find app `wbe`
 --> examples/shop.sec:3:11
  |
3 |     calls wbe
  |           ^^^ not declared
  |
  = help: did you mean `web`?
  = note: sre --exec--> api (pod api) --mounts--> main-db-write
  = note: a second note

"
        );
    }

    #[test]
    fn secondary_label_in_another_file() {
        let map = sources(&[("examples/shop.sec", SHOP), ("examples/apps.sec", APPS)]);
        let d = Diagnostic::error(
            Code::Duplicate,
            span(&map, 0, "api"),
            "app `api` is declared twice",
        )
        .label("declared again here")
        .secondary(span(&map, 1, "api"), "first declared here")
        .note("app names are global to the model");
        assert_eq!(
            render(&[d], &map, false),
            "\
error[E0102]: app `api` is declared twice
 --> examples/shop.sec:6:10
  |
6 |     exec api
  |          ^^^ declared again here
  |
 ::: examples/apps.sec:3:5
  |
3 | app api {
  |     --- first declared here
  |
  = note: app names are global to the model

"
        );
    }

    #[test]
    fn secondary_label_in_the_same_file() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::error(Code::Duplicate, span(&map, 0, "sre"), "twice")
            .label("again")
            .secondary(span(&map, 0, "web"), "first");
        let out = render(&[d], &map, false);
        assert!(
            out.contains("2 |   app web {\n  |       --- first\n"),
            "{out}"
        );
        assert!(
            out.contains("5 |   persona sre {\n  |           ^^^ again\n"),
            "{out}"
        );
        assert!(!out.contains(":::"), "{out}");
    }

    #[test]
    fn lint_code_and_warning_level() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::warning(
            Code::Lint("namespace-wide-grant"),
            span(&map, 0, "exec api"),
            "grant covers a whole namespace",
        );
        let out = render(&[d], &map, false);
        assert!(
            out.starts_with("warning[namespace-wide-grant]: grant covers a whole namespace\n"),
            "{out}"
        );
        assert!(out.contains("  |     ^^^^^^^^\n"), "{out}");
    }

    #[test]
    fn diagnostics_are_separated_by_a_blank_line() {
        let map = sources(&[("shop.sec", SHOP)]);
        let a = Diagnostic::error(Code::Syntax, span(&map, 0, "web"), "one");
        let b = Diagnostic::error(Code::Syntax, span(&map, 0, "sre"), "two");
        let out = render(&[a, b], &map, false);
        assert!(out.contains("^^^\n\nerror[E0001]: two\n"), "{out}");
        assert!(out.ends_with("^^^\n\n"), "{out}");
        assert_eq!(render(&[], &map, false), "");
    }

    #[test]
    fn empty_span_at_end_of_file() {
        let text = "system shop {\n  app web {}\n";
        let map = sources(&[("eof.sec", text)]);
        let eof = Span::new(FileId(0), text.len(), text.len());
        let d = Diagnostic::error(Code::Syntax, eof, "expected `}` at end of file")
            .label("expected `}`");
        let out = render(&[d], &map, false);
        assert!(out.contains(" --> eof.sec:3:1\n"), "{out}");
        assert!(out.contains("3 |\n  | ^ expected `}`\n"), "{out}");

        // No final line break: the caret goes after the last character.
        let map = sources(&[("eof.sec", "app web {")]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), 9, 9), "eof").label("here");
        let out = render(&[d], &map, false);
        assert!(out.contains(" --> eof.sec:1:10\n"), "{out}");
        assert!(
            out.contains("1 | app web {\n  |          ^ here\n"),
            "{out}"
        );
    }

    #[test]
    fn empty_file() {
        let map = sources(&[("empty.sec", "")]);
        let d = Diagnostic::error(Code::MissingSystem, Span::new(FileId(0), 0, 0), "no system");
        let out = render(&[d], &map, false);
        assert!(out.contains(" --> empty.sec:1:1\n"), "{out}");
    }

    #[test]
    fn multi_line_span() {
        let map = sources(&[("shop.sec", SHOP)]);
        let start = SHOP.find("app web").unwrap();
        let end = SHOP.find("  }\n").unwrap() + 3;
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), start, end), "block")
            .label("this app");
        let out = render(&[d], &map, false);
        assert!(
            out.contains(
                " --> shop.sec:2:3
  |
2 | /   app web {
3 | |     calls wbe
4 | |   }
  | |___^ this app
"
            ),
            "{out}"
        );
    }

    #[test]
    fn span_ending_after_a_line_break_stays_on_its_line() {
        let map = sources(&[("shop.sec", SHOP)]);
        let start = SHOP.find("    calls").unwrap();
        let end = SHOP.find("  }\n").unwrap();
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), start, end), "line");
        let out = render(&[d], &map, false);
        assert!(
            out.contains("3 |     calls wbe\n  | ^^^^^^^^^^^^^\n"),
            "{out}"
        );
        assert!(!out.contains("4 |"), "{out}");
    }

    #[test]
    fn span_past_end_of_file_is_clamped() {
        let map = sources(&[("shop.sec", SHOP)]);
        let len = SHOP.len();
        for (start, end) in [
            (len - 2, len + 100),
            (len + 5, len + 9),
            (u32::MAX as usize, 0),
        ] {
            let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), start, end), "past")
                .label("here");
            let out = render(&[d], &map, false);
            assert!(out.contains("^ here"), "{out}");
        }
    }

    #[test]
    fn reversed_span_is_empty_at_its_start() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), 7, 2), "reversed");
        let out = render(&[d], &map, false);
        assert!(out.contains(" --> shop.sec:1:8\n"), "{out}");
        assert!(out.contains("1 | system shop {\n  |        ^\n"), "{out}");
    }

    #[test]
    fn non_ascii_columns_count_characters() {
        let text = "app café {\n  nom \"é→x\" wbe\n}\n";
        let map = sources(&[("ü.sec", text)]);
        let d = Diagnostic::error(Code::Undeclared, span(&map, 0, "wbe"), "cannot find `wbe`")
            .label("here");
        let out = render(&[d], &map, false);
        assert!(out.contains(" --> ü.sec:2:13\n"), "{out}");
        assert!(
            out.contains("2 |   nom \"é→x\" wbe\n  |             ^^^ here\n"),
            "{out}"
        );
    }

    #[test]
    fn every_span_of_a_non_ascii_file_renders() {
        // Byte offsets inside `é`, `→` and `\r\n`, reversed and past the end:
        // none may panic.
        let text = "app café {\r\n\tnom \"é→x\"\r\n}";
        let map = sources(&[("a.sec", text), ("b.sec", "x\n")]);
        for start in 0..=text.len() + 2 {
            for end in 0..=text.len() + 2 {
                let d = Diagnostic::error(Code::Syntax, Span::new(FileId(0), start, end), "m")
                    .label("l")
                    .secondary(Span::new(FileId(0), end, start), "s")
                    .secondary(Span::new(FileId(1), start, end), "t");
                let out = render(&[d], &map, false);
                assert!(out.starts_with("error[E0001]: m\n --> a.sec:"), "{out}");
            }
        }
    }

    #[test]
    fn unknown_file_does_not_panic() {
        let map = sources(&[("shop.sec", SHOP)]);
        let d = Diagnostic::error(Code::Syntax, Span::new(FileId(9), 0, 3), "lost").help("h");
        let out = render(&[d], &map, false);
        assert!(out.starts_with("error[E0001]: lost\n"), "{out}");
        assert!(out.contains("= help: h"), "{out}");
    }

    #[test]
    fn very_long_lines_are_trimmed() {
        let mut text = "x".repeat(5000);
        text.push_str(" target ");
        text.push_str(&"y".repeat(5000));
        text.push('\n');
        let map = sources(&[("long.sec", &text)]);
        let far = Span::new(FileId(0), 9990, 9995);
        let d = Diagnostic::error(Code::Syntax, span(&map, 0, "target"), "long")
            .label("here")
            .secondary(Span::new(FileId(0), 3, 4), "start")
            .secondary(far, "end");
        let out = render(&[d], &map, false);
        let widest = out.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= 150, "{widest} columns:\n{out}");
        assert!(out.contains(" --> long.sec:1:5002\n"), "{out}");
        // The labels far from the primary one get snippets of their own.
        assert!(out.contains(" ::: long.sec:1:4\n"), "{out}");
        assert!(out.contains(" ::: long.sec:1:9991\n"), "{out}");
        assert!(out.contains("^^^^^^ here"), "{out}");
    }

    #[test]
    fn plain_output_has_no_ansi_escapes_and_styled_output_has() {
        let map = sources(&[("shop.sec", SHOP), ("apps.sec", APPS)]);
        // An escape character in the source or in a note must not get through either.
        let map2 = sources(&[("esc.sec", "app \u{1b}[31mred {}\n")]);
        let d = Diagnostic::error(Code::Duplicate, span(&map, 0, "api"), "twice")
            .label("again")
            .secondary(span(&map, 1, "api"), "first")
            .help("help \u{1b}[1m")
            .note("note");
        let plain = render(std::slice::from_ref(&d), &map, false);
        assert!(!plain.contains('\x1b'), "{plain}");
        let e = Diagnostic::error(Code::InvalidName, Span::new(FileId(0), 4, 12), "bad name");
        assert!(!render(&[e], &map2, false).contains('\x1b'));
        assert!(!summary_line(1, 1, "shop.sec", false)
            .unwrap()
            .contains('\x1b'));

        let styled = render(&[d], &map, true);
        assert!(styled.contains('\x1b'), "{styled}");
        assert!(summary_line(1, 1, "shop.sec", true)
            .unwrap()
            .contains('\x1b'));
    }

    #[test]
    fn summary_lines() {
        assert_eq!(summary_line(0, 0, "m.sec", false), None);
        assert_eq!(summary_line(0, 0, "m.sec", true), None);
        assert_eq!(
            summary_line(2, 1, "marketing.sec", false).unwrap(),
            "error: could not check `marketing.sec`: 2 errors, 1 warning emitted"
        );
        assert_eq!(
            summary_line(1, 0, "models/", false).unwrap(),
            "error: could not check `models/`: 1 error emitted"
        );
        assert_eq!(
            summary_line(0, 3, "m.sec", false).unwrap(),
            "warning: `m.sec`: 3 warnings emitted"
        );
    }
}

//! Code actions: quick fixes for the compiler's diagnostics in a range.
//!
//! - A diagnostic whose help proposes one replacement ("did you mean
//!   `web`?") carries it as data ([`crate::diagnostics::Suggestion`]); the
//!   fix writes it over the flagged text.
//! - A lint warning whose finding names (subject, target) pairs can be
//!   accepted: the fix adds `accept LINT on SUBJECTS -> TARGETS "…"` after
//!   the statement or declaration it is about, covering exactly the pairs
//!   an `accept` must cover (docs/checks.md), with a reason to write.

use super::{location, to_lsp_diagnostic, Analysis};
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::model::{Entity, INVARIANT_VIOLATED};
use crate::span::{FileId, Span};
use lsp_types as lsp;
use std::collections::HashMap;

/// The reason the added `accept` starts with: the reviewer replaces it
/// (the title of the action says so).
pub const REASON: &str = "TODO: why this is acceptable";

/// The quick fixes for the diagnostics of `file` that touch `range`
/// (byte offsets).
pub fn actions(a: &Analysis, file: FileId, range: (u32, u32)) -> Vec<lsp::CodeAction> {
    let mut out = Vec::new();
    for d in a.checked.comp.diagnostics.iter() {
        let span = d.primary.span;
        if span.file != file || span.end < range.0 || span.start > range.1 {
            continue;
        }
        if let Some(fix) = replacement(a, d) {
            out.push(fix);
        }
        if let Some(fix) = accept(a, d) {
            out.push(fix);
        }
    }
    out
}

#[expect(
    clippy::mutable_key_type,
    reason = "lsp-types keys a WorkspaceEdit's changes by Uri; the keys are never mutated"
)]
fn edit(a: &Analysis, span: Span, new_text: String) -> Option<lsp::WorkspaceEdit> {
    let loc = location(a.sources(), span)?;
    let mut changes = HashMap::new();
    changes.insert(
        loc.uri,
        vec![lsp::TextEdit {
            range: loc.range,
            new_text,
        }],
    );
    Some(lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    })
}

fn action(
    a: &Analysis,
    title: String,
    d: &Diagnostic,
    edit: lsp::WorkspaceEdit,
    preferred: bool,
) -> lsp::CodeAction {
    lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![to_lsp_diagnostic(a.sources(), d)]),
        edit: Some(edit),
        is_preferred: Some(preferred),
        ..Default::default()
    }
}

/// "did you mean `x`?": write `x`.
fn replacement(a: &Analysis, d: &Diagnostic) -> Option<lsp::CodeAction> {
    let s = d.suggestion.as_ref()?;
    let old = a.sources().snippet(s.span);
    let e = edit(a, s.span, s.replacement.clone())?;
    Some(action(
        a,
        format!("Change `{old}` to `{}`", s.replacement),
        d,
        e,
        true,
    ))
}

/// A lint warning: accept it, for exactly its finding's pairs.
fn accept(a: &Analysis, d: &Diagnostic) -> Option<lsp::CodeAction> {
    let Code::Lint(lint) = d.code else {
        return None;
    };
    if d.severity != Severity::Warning || lint == INVARIANT_VIOLATED {
        return None;
    }
    let model = a.checked.model();
    let finding = (a.checked.comp.findings.iter())
        .map(|o| &o.finding)
        .find(|f| f.lint == lint && f.span == d.primary.span && f.message == d.message)?;
    if finding.pairs.is_empty() {
        return None;
    }
    // One `accept` covers subjects × targets, and silences a finding when
    // it holds every pair of it.
    let mut subjects: Vec<Entity> = Vec::new();
    let mut targets: Vec<Entity> = Vec::new();
    for &(s, t) in &finding.pairs {
        crate::lints::push_unique(&mut subjects, s);
        crate::lints::push_unique(&mut targets, t);
    }
    let names = |es: &[Entity]| {
        let names: Vec<&str> = es.iter().map(|&e| model.name_of(e)).collect();
        match names.as_slice() {
            [one] => one.to_string(),
            _ => format!("[{}]", names.join(", ")),
        }
    };
    let line = format!(
        "accept {lint} on {} -> {} \"{REASON}\"",
        names(&subjects),
        names(&targets)
    );
    // After the item the finding is about (the statement or declaration
    // that holds its span), on a line of its own.
    let file = a.sources().get(d.primary.span.file);
    let item_end = (a.trees.iter())
        .find(|(id, _)| *id == d.primary.span.file)
        .and_then(|(_, tree)| {
            (tree.items.iter())
                .map(|i| i.span())
                .find(|s| s.start <= d.primary.span.start && d.primary.span.end <= s.end)
        })
        .map_or(d.primary.span.end as usize, |s| s.end as usize);
    let text = &file.text;
    // An item's span may take the line break after it.
    let item_end = text[..item_end.min(text.len())].trim_end().len();
    let (at, new_text) = match text[item_end..].find('\n') {
        Some(i) => (item_end + i + 1, format!("{line}\n")),
        None => (text.len(), format!("\n{line}\n")),
    };
    let span = Span::new(d.primary.span.file, at, at);
    let e = edit(a, span, new_text)?;
    Some(action(
        a,
        format!("Accept `{lint}` here (then write the reason)"),
        d,
        e,
        false,
    ))
}

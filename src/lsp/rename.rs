//! Rename: every declaration and use of a name, in every file of the
//! model ([`super::index`]). A new name is checked by the compiler itself:
//! the model is compiled with the rename applied, and a rename that would
//! make the name invalid (E0103: not a DNS-1035 label, too long for the
//! objects generated from it), reserved (E0105) or declared twice (E0102)
//! is refused with the compiler's message.

use super::index::{Occurrence, Space};
use super::{location, Analysis};
use crate::diagnostics::Code;
use crate::source::{SourceFile, SourceMap};
use crate::span::FileId;
use lsp_types as lsp;
use std::collections::HashMap;

/// Whether the name `occ` can be renamed, and if not why.
pub fn check_renamable(a: &Analysis, occ: &Occurrence) -> Result<(), String> {
    match occ.space {
        Space::Lint => {
            return Err(format!(
                "`{}` is a lint of palisade's catalogue; lint names cannot be renamed",
                occ.name
            ))
        }
        Space::Entity if matches!(occ.name.as_str(), "internet" | "kube") => {
            return Err(format!("`{}` is built in and cannot be renamed", occ.name))
        }
        _ => {}
    }
    if a.index.declarations(occ.space, &occ.name).is_empty() {
        return Err(format!(
            "`{}` is not declared: declare it, or rename the use by hand",
            occ.name
        ));
    }
    Ok(())
}

/// The edits that rename `occ` to `new`, per file, or why not.
#[expect(
    clippy::mutable_key_type,
    reason = "lsp-types keys a WorkspaceEdit's changes by Uri; the keys are never mutated"
)]
pub fn rename(
    a: &Analysis,
    occ: &Occurrence,
    new: &str,
) -> Result<HashMap<lsp::Uri, Vec<lsp::TextEdit>>, String> {
    check_renamable(a, occ)?;
    let mut out: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
    if new == occ.name {
        return Ok(out);
    }
    if !is_name(new) {
        return Err(format!(
            "`{new}` is not a name: a name is letters, digits, `_` and `-`, not starting with `-`"
        ));
    }
    if let Some(taken) = taken(a, occ.space, new) {
        return Err(taken);
    }
    let occurrences = a.index.all(occ.space, &occ.name);
    // The model with the rename applied, compiled: the new name must not
    // bring a naming error the model did not have.
    let mut sources = SourceMap::new();
    for (id, file) in a.sources().files() {
        let mut text = file.text.clone();
        let mut spans: Vec<_> = (occurrences.iter())
            .filter(|o| o.span.file == id)
            .map(|o| o.span)
            .collect();
        spans.sort_by_key(|s| std::cmp::Reverse(s.start));
        for s in spans {
            text.replace_range(s.start as usize..s.end as usize, new);
        }
        sources.add(SourceFile::new(file.name.clone(), file.path.clone(), text));
    }
    let renamed = crate::compile(sources);
    let naming = |c: &Code| matches!(c, Code::InvalidName | Code::Reserved | Code::Duplicate);
    let before: Vec<&str> = (a.checked.comp.diagnostics.iter())
        .filter(|d| naming(&d.code))
        .map(|d| d.message.as_str())
        .collect();
    if let Some(d) = (renamed.diagnostics.iter())
        .find(|d| naming(&d.code) && !before.contains(&d.message.as_str()))
    {
        let help = d
            .help
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(format!("cannot rename to `{new}`: {}{help}", d.message));
    }
    for o in occurrences {
        if let Some(loc) = location(a.sources(), o.span) {
            out.entry(loc.uri).or_default().push(lsp::TextEdit {
                range: loc.range,
                new_text: new.to_string(),
            });
        }
    }
    Ok(out)
}

/// What the parser reads as one name.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.contains("->")
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Why `name` is taken in `space`, if it is.
fn taken(a: &Analysis, space: Space, name: &str) -> Option<String> {
    if space == Space::Entity && matches!(name, "internet" | "kube") {
        return Some(format!("cannot rename to `{name}`: it is built in"));
    }
    let decl = a.index.declarations(space, name).into_iter().next()?;
    let (keyword, _) = decl.decl?;
    let file = a.sources().get(decl.span.file);
    let (line, _) = file.line_col(decl.span.start);
    Some(format!(
        "cannot rename to `{name}`: {keyword} `{name}` is already declared ({}:{line})",
        file.name
    ))
}

/// The occurrence's own range, for `prepareRename`.
pub fn range(a: &Analysis, file: FileId, occ: &Occurrence) -> lsp::Range {
    super::span_range(a.sources().get(file), occ.span)
}

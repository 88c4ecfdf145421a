//! Syntax: source text → [`ast::File`] per file, with every syntax error
//! collected. pest stays inside this module.
//!
//! The driver parses one top-level item at a time. After a syntax error it
//! reports it and resumes at the next line that starts with a keyword, so
//! one run shows every broken declaration. Before pest sees a file, a cheap
//! scan rejects nesting deeper than [`MAX_DEPTH`] (pest's parser is
//! recursive) and locates unterminated strings for a clearer message.

pub mod ast;
mod convert;
mod errors;
mod scan;

use crate::diagnostics::Diagnostics;
use crate::source::SourceMap;
use crate::span::FileId;
use pest::Parser as _;

/// The deepest `{`/`[` nesting accepted.
pub const MAX_DEPTH: usize = 64;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/sec.pest"]
struct SecParser;

/// Parse every file of the model.
pub fn parse_all(sources: &SourceMap, diags: &mut Diagnostics) -> Vec<(FileId, ast::File)> {
    sources
        .files()
        .map(|(id, f)| (id, parse_file(id, &f.text, diags)))
        .collect()
}

/// Parse one file; syntax errors go to `diags`, the items that parsed are returned.
pub fn parse_file(file: FileId, text: &str, diags: &mut Diagnostics) -> ast::File {
    let scan = scan::scan(file, text);
    if let Some(d) = scan.too_deep {
        diags.push(d);
        return ast::File::default();
    }
    // Fast path: the whole file in one parse. Only a file with syntax errors
    // takes the item-by-item loop, which recovers after each error.
    if let Ok(mut pairs) = SecParser::parse(Rule::file, text) {
        let cx = convert::Cx { file, base: 0 };
        let file_pair = pairs.next().expect("file");
        let items = file_pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::item)
            .map(|p| cx.item(p, diags))
            .collect();
        return ast::File { items };
    }
    let mut items = Vec::new();
    let mut pos = scan::skip_trivia(text, 0);
    while pos < text.len() {
        match SecParser::parse(Rule::item, &text[pos..]) {
            Ok(mut pairs) => {
                let pair = pairs.next().expect("an item");
                let len = pair.as_span().end();
                let cx = convert::Cx { file, base: pos };
                items.push(cx.item(pair, diags));
                pos = scan::skip_trivia(text, pos + len);
            }
            Err(err) => {
                if let Some(end) = complete_item_before(text, pos, &err) {
                    // The item itself is fine; the error is what follows it,
                    // reported on the next turn with that position as its start.
                    let pair = SecParser::parse(Rule::loose_item, &text[pos..])
                        .expect("parsed just now")
                        .next()
                        .expect("an item");
                    let cx = convert::Cx { file, base: pos };
                    items.push(cx.item(pair, diags));
                    pos = end;
                    continue;
                }
                diags.push(errors::syntax_error(file, text, pos, &err, &scan));
                pos = scan::next_item_start(text, pos);
            }
        }
    }
    ast::File { items }
}

/// If the item at `pos` parses on its own and the strict parse failed only
/// at the token after it, the position of that token.
fn complete_item_before(text: &str, pos: usize, err: &pest::error::Error<Rule>) -> Option<usize> {
    let pair = SecParser::parse(Rule::loose_item, &text[pos..])
        .ok()?
        .next()?;
    let next = scan::skip_trivia(text, pos + pair.as_span().end());
    let failed_at = match err.location {
        pest::error::InputLocation::Pos(p) => pos + p,
        pest::error::InputLocation::Span((s, _)) => pos + s,
    };
    (failed_at <= next && next > pos).then_some(next)
}

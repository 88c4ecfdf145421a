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
pub mod format;
mod scan;
pub use scan::ITEM_KEYWORDS;

use crate::diagnostics::Diagnostics;
use crate::source::SourceMap;
use crate::span::FileId;
use pest::Parser as _;
use rayon::prelude::*;

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
    // Fast path: the whole file in one parse (in parallel chunks when it is
    // large). Only a file with syntax errors takes the item-by-item loop,
    // which recovers after each error.
    if let Some(items) = parse_chunks(file, text, diags) {
        return ast::File { items };
    }
    let mut items = Vec::new();
    let mut pos = scan::skip_trivia(text, 0);
    while pos < text.len() {
        match parse_windowed(Rule::item, text, pos) {
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

/// `rule` at `pos`, given only the text up to the next line that starts
/// with an item keyword (where the loop resumes after an error anyway). If
/// the parse fails at the end of that window (an unclosed block, say), the
/// window is doubled, up to the rest of the file. pest's error for a failed
/// parse finds its line by scanning back from the end of its input, so
/// giving it the whole rest of the file made every syntax error cost the
/// size of the file (100,000 errors: 82 s); a parse that fails before the
/// end of its window never looked past it, so it fails the same way on the
/// whole rest.
pub(crate) fn parse_windowed(
    rule: Rule,
    text: &str,
    pos: usize,
) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    let mut window = scan::next_item_start(text, pos);
    loop {
        let result = SecParser::parse(rule, &text[pos..window]);
        let Err(err) = &result else {
            return result;
        };
        if window >= text.len() {
            return result;
        }
        let failed_at = match err.location {
            pest::error::InputLocation::Pos(p) => pos + p,
            pest::error::InputLocation::Span((s, _)) => pos + s,
        };
        if scan::skip_trivia(text, failed_at) < window {
            return result;
        }
        let twice = (pos + 2 * (window - pos)).min(text.len());
        window = scan::next_item_start(text, twice.max(window));
    }
}

/// From this size on, a file is parsed in parallel chunks.
const CHUNKED_MIN: usize = 256 * 1024;

/// About how large a chunk is. pest keeps two tokens per matched rule until
/// a parse's pairs are dropped (≈ 40 times the text's size); small chunks,
/// converted to AST items at once, keep that memory small and reused
/// instead of a third of a gigabyte of fresh pages for a 7 MB model.
const CHUNK: usize = 64 * 1024;

/// The items of a file that parses without error, or `None`. A large file
/// is cut, at lines starting with an item keyword, into chunks of about
/// [`CHUNK`] bytes, parsed in parallel (rayon). A cut inside a block makes
/// its chunk fail to parse; then the whole file is parsed in one piece,
/// which decides.
fn parse_chunks(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Vec<ast::Item>> {
    let parts = rayon::current_num_threads().max(1);
    let mut cuts = vec![0];
    if text.len() >= CHUNKED_MIN && parts > 1 {
        let count = parts.max(text.len() / CHUNK);
        for i in 1..count {
            // Each search starts past the last cut, so that the text is
            // scanned once: a 64 MB file of comments has no cut after its
            // first line, and searching to its end from each of 1,000
            // starts took 20 s.
            let from = text.len() * i / count;
            if from < *cuts.last().expect("non-empty") {
                continue;
            }
            let at = scan::next_item_start(text, from);
            if at >= text.len() {
                break;
            }
            if at > *cuts.last().expect("non-empty") {
                cuts.push(at);
            }
        }
    }
    cuts.push(text.len());
    let chunks: Vec<(usize, &str)> = cuts.windows(2).map(|w| (w[0], &text[w[0]..w[1]])).collect();
    let parsed: Option<Vec<(Vec<ast::Item>, Diagnostics)>> = chunks
        .into_par_iter()
        .map(|(base, chunk)| {
            let mut pairs = SecParser::parse(Rule::file, chunk).ok()?;
            let cx = convert::Cx { file, base };
            let mut d = Diagnostics::new();
            let items = (pairs.next()?.into_inner())
                .filter(|p| p.as_rule() == Rule::item)
                .map(|p| cx.item(p, &mut d))
                .collect();
            Some((items, d))
        })
        .collect();
    let parsed = match parsed {
        Some(parsed) => parsed,
        None if cuts.len() > 2 => return parse_chunks_whole(file, text, diags),
        None => return None,
    };
    let mut items = Vec::with_capacity(parsed.iter().map(|(i, _)| i.len()).sum());
    for (chunk_items, d) in parsed {
        items.extend(chunk_items);
        diags.append(d);
    }
    Some(items)
}

/// [`parse_chunks`] without cutting.
fn parse_chunks_whole(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Vec<ast::Item>> {
    let mut pairs = SecParser::parse(Rule::file, text).ok()?;
    let cx = convert::Cx { file, base: 0 };
    let items = (pairs.next()?.into_inner())
        .filter(|p| p.as_rule() == Rule::item)
        .map(|p| cx.item(p, diags))
        .collect();
    Some(items)
}

/// If the item at `pos` parses on its own and the strict parse failed only
/// at the token after it, the position of that token.
fn complete_item_before(text: &str, pos: usize, err: &pest::error::Error<Rule>) -> Option<usize> {
    let pair = parse_windowed(Rule::loose_item, text, pos).ok()?.next()?;
    let next = scan::skip_trivia(text, pos + pair.as_span().end());
    let failed_at = match err.location {
        pest::error::InputLocation::Pos(p) => pos + p,
        pest::error::InputLocation::Span((s, _)) => pos + s,
    };
    (failed_at <= next && next > pos).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parallel chunks give exactly the items (and spans) of one whole parse.
    #[test]
    fn chunked_parse_equals_whole_parse() {
        let text = crate::synth::generate(&crate::synth::SynthOptions::new(2_000));
        assert!(
            text.len() >= CHUNKED_MIN,
            "the model must be large enough to be cut"
        );
        let file = FileId(0);
        let (mut d1, mut d2) = (Diagnostics::new(), Diagnostics::new());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let chunked = pool.install(|| parse_chunks(file, &text, &mut d1)).unwrap();
        let whole = parse_chunks_whole(file, &text, &mut d2).unwrap();
        assert_eq!(format!("{chunked:?}"), format!("{whole:?}"));
        assert_eq!(d1.len(), d2.len());
    }

    /// A cut inside a block makes a chunk fail; the whole parse decides.
    #[test]
    fn a_cut_inside_a_block_falls_back_to_the_whole_file() {
        // Every item holds a line that starts with a keyword (`namespace`),
        // where the cutter may cut.
        let item = "platform {\n  ingress = {\n    namespace = \"ingress\"\n    pods = { \"a\" = \"b\" }\n  }\n}\n";
        let text = item.repeat(CHUNKED_MIN / item.len() + 1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let mut d = Diagnostics::new();
        let chunked = pool.install(|| parse_chunks(FileId(0), &text, &mut d));
        let whole = parse_chunks_whole(FileId(0), &text, &mut Diagnostics::new());
        assert!(whole.is_some(), "the file is valid");
        assert_eq!(format!("{chunked:?}"), format!("{whole:?}"));
    }
}

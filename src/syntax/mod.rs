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
    let (cuts, mut chunks) = parse_chunks(file, text);
    if chunks.iter().all(Option::is_some) {
        let mut items = Vec::with_capacity(chunks.iter().flatten().map(|(i, _)| i.len()).sum());
        for (chunk_items, d) in chunks.into_iter().flatten() {
            items.extend(chunk_items);
            diags.append(d);
        }
        return ast::File { items };
    }
    // A cut inside a block makes its chunk fail: the whole file in one
    // piece decides.
    if cuts.len() > 2 {
        if let Some(items) = parse_chunks_whole(file, text, diags) {
            return ast::File { items };
        }
    }
    let mut items = Vec::new();
    let mut pos = scan::skip_trivia(text, 0);
    let mut chunk = 0;
    while pos < text.len() {
        // The loop reaches the start of a chunk that parsed on its own (in
        // a large file, all but the chunks with errors): its items are
        // those the loop would find, item after item, up to the next cut.
        while chunk + 1 < cuts.len() && scan::skip_trivia(text, cuts[chunk]) < pos {
            chunk += 1;
        }
        if chunk + 1 < cuts.len() && scan::skip_trivia(text, cuts[chunk]) == pos {
            if let Some((chunk_items, d)) = chunks[chunk].take() {
                items.extend(chunk_items);
                diags.append(d);
                pos = scan::skip_trivia(text, cuts[chunk + 1]);
                continue;
            }
        }
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

/// A file cut, at lines starting with an item keyword, into chunks of
/// about [`CHUNK`] bytes (a small file is one chunk), each parsed on its
/// own in parallel (rayon): the cuts (the chunks' starts, then the file's
/// end) and each chunk's items and diagnostics, `None` where it does not
/// parse. A cut inside a block makes its chunk fail to parse.
type Chunks = (Vec<usize>, Vec<Option<(Vec<ast::Item>, Diagnostics)>>);

fn parse_chunks(file: FileId, text: &str) -> Chunks {
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
    let parsed: Vec<Option<(Vec<ast::Item>, Diagnostics)>> = chunks
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
    (cuts, parsed)
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
    use crate::diagnostics::Diagnostic;

    fn parse_with_threads(threads: usize, text: &str) -> (String, Vec<Diagnostic>) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut d = Diagnostics::new();
        let file = pool.install(|| parse_file(FileId(0), text, &mut d));
        d.sort();
        (format!("{:?}", file.items), d.into_vec())
    }

    /// Parallel chunks give exactly the items (and spans) of one whole parse.
    #[test]
    fn chunked_parse_equals_whole_parse() {
        let text = crate::synth::generate(&crate::synth::SynthOptions::new(2_000));
        assert!(
            text.len() >= CHUNKED_MIN,
            "the model must be large enough to be cut"
        );
        let whole = parse_chunks_whole(FileId(0), &text, &mut Diagnostics::new()).unwrap();
        let (chunked, d) = parse_with_threads(3, &text);
        assert_eq!(chunked, format!("{whole:?}"));
        assert!(d.is_empty());
    }

    /// A cut inside a block makes a chunk fail; the whole parse decides.
    #[test]
    fn a_cut_inside_a_block_falls_back_to_the_whole_file() {
        // Every item holds a line that starts with a keyword (`namespace`),
        // where the cutter may cut.
        let item = "platform {\n  ingress = {\n    namespace = \"ingress\"\n    pods = { \"a\" = \"b\" }\n  }\n}\n";
        let text = item.repeat(CHUNKED_MIN / item.len() + 1);
        let whole = parse_chunks_whole(FileId(0), &text, &mut Diagnostics::new());
        assert!(whole.is_some(), "the file is valid");
        let (chunked, d) = parse_with_threads(4, &text);
        assert_eq!(chunked, format!("{:?}", whole.unwrap()));
        assert!(d.is_empty());
    }

    /// A large file with syntax errors: the chunks that parse are taken
    /// whole, the others item by item, and the result is that of the
    /// item-by-item loop over the whole file (one thread: one chunk).
    #[test]
    fn chunks_with_errors_recover_as_the_whole_file_does() {
        let mut text = crate::synth::generate(&crate::synth::SynthOptions::new(2_000));
        // Errors near the start, in the middle (an unclosed block over a
        // cut), and at the end (an unterminated string).
        let first = text.find("\nallow ").unwrap() + 1;
        let colon = first + text[first..].find(':').unwrap();
        text.replace_range(colon..colon + 1, " ");
        let middle = text.len() / 2;
        let at = middle + text[middle..].find("\napp ").unwrap() + 1;
        text.insert_str(at, "app broken in web {\n  image = \"x\"\n");
        text.push_str("allow a -> b: http \"unterminated\n");
        let (one, d1) = parse_with_threads(1, &text);
        let (many, d3) = parse_with_threads(3, &text);
        assert!(d1.len() >= 3, "{d1:?}");
        assert_eq!(d3, d1);
        assert!(one == many, "the items differ");
    }
}

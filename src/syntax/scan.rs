//! A linear pre-scan of a file: nesting depth, unterminated strings, and the
//! trivia/recovery helpers the item loop uses.

use super::MAX_DEPTH;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};

pub struct Scan {
    /// Set when brackets nest deeper than [`MAX_DEPTH`]; the file is not parsed.
    pub too_deep: Option<Diagnostic>,
    /// Byte offsets of `"` that open a string never closed on its line.
    pub unterminated: Vec<usize>,
    /// Byte offsets of `{`/`[` still open at the end of the file.
    pub unclosed: Vec<usize>,
}

pub fn scan(file: FileId, text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut unterminated = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i = line_end(bytes, i),
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => {
                            unterminated.push(start);
                            break;
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                open.push(i);
                if open.len() > MAX_DEPTH {
                    let d = Diagnostic::error(
                        Code::TooDeep,
                        Span::new(file, i, i + 1),
                        format!("brackets nest more than {MAX_DEPTH} levels deep"),
                    )
                    .label("too deep")
                    .help("a model never needs this much nesting: check for unbalanced brackets");
                    return Scan {
                        too_deep: Some(d),
                        unterminated,
                        unclosed: Vec::new(),
                    };
                }
                i += 1;
            }
            b'}' | b']' => {
                open.pop();
                i += 1;
            }
            _ => i += 1,
        }
    }
    Scan {
        too_deep: None,
        unterminated,
        unclosed: open,
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// Skip whitespace and comments from `pos`.
pub fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
            pos += 1;
        }
        if text[pos..].starts_with('\u{FEFF}') {
            pos += 3;
            continue;
        }
        if pos < bytes.len() && bytes[pos] == b'#' {
            pos = line_end(bytes, pos);
            continue;
        }
        return pos;
    }
}

/// Words that start a top-level item; recovery resumes at a line starting with one.
pub const ITEM_KEYWORDS: &[&str] = &[
    "system",
    "platform",
    "environment",
    "namespace",
    "persona",
    "app",
    "pod",
    "store",
    "external",
    "allow",
    "forbid",
    "accept",
    "lint",
];

/// After a syntax error in the item at `pos`: the start of the next line
/// (after `pos`'s line) whose first word is an item keyword, or the end.
pub fn next_item_start(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let mut line = line_end(bytes, pos);
    while line < bytes.len() {
        let start = line + 1;
        let first = skip_blanks(bytes, start);
        if starts_with_keyword(&text[first..]) {
            return first;
        }
        line = line_end(bytes, start);
    }
    text.len()
}

fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    i
}

fn starts_with_keyword(rest: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|k| {
        rest.starts_with(k)
            && !rest[k.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
    })
}

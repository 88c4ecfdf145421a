//! Positions and URIs: the compiler's byte offsets as the protocol's
//! UTF-16 line and column positions (through the file's line index), and
//! `file:` URIs as paths.

use crate::source::SourceFile;
use crate::span::Span;
use lsp_types as lsp;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A byte span as an LSP range (UTF-16 columns).
pub fn span_range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(
        offset_to_position(file, span.start as usize),
        offset_to_position(file, span.end as usize),
    )
}

/// A byte offset as an LSP position: 0-based line, UTF-16 code units.
/// Reads the file's line index, so it costs the length of one line.
pub fn offset_to_position(file: &SourceFile, offset: usize) -> lsp::Position {
    let text = &file.text;
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (line, start) = file.line_start(offset);
    let col: usize = text[start..offset].chars().map(char::len_utf16).sum();
    lsp::Position::new(line as u32, col as u32)
}

/// An LSP position as a byte offset (clamped to its line).
pub fn position_to_offset(file: &SourceFile, pos: lsp::Position) -> usize {
    let text = &file.text;
    let Some(start) = file.offset_of_line(pos.line as usize) else {
        return text.len();
    };
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0;
    for (i, c) in text[start..line_end].char_indices() {
        if units >= pos.character as usize {
            return start + i;
        }
        units += c.len_utf16();
    }
    line_end
}

// ------------------------------------------------------------ URIs

/// The path of a `file:` URI.
pub fn uri_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///p` (empty authority) or `file://localhost/p`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let path = PathBuf::from(String::from_utf8(out).ok()?);
    path.is_absolute().then_some(path)
}

/// The `file:` URI of a path (made absolute), percent-encoded.
pub fn path_uri(path: &Path) -> lsp::Uri {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut s = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&s).expect("a percent-encoded file URI parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "a\n\u{1F680}é x\r\nlast";
        let file = SourceFile::new("t.sec", "t.sec".into(), text.to_string());
        let text = file.text.as_str();
        // `x` is after a rocket (2 units), `é` (1) and a space.
        let x = text.find('x').unwrap();
        assert_eq!(offset_to_position(&file, x), lsp::Position::new(1, 4));
        assert_eq!(position_to_offset(&file, lsp::Position::new(1, 4)), x);
        for (i, _) in text.char_indices() {
            assert_eq!(position_to_offset(&file, offset_to_position(&file, i)), i);
        }
        // Past the end of a line: its end; past the last line: the text's end.
        assert_eq!(position_to_offset(&file, lsp::Position::new(0, 99)), 1);
        assert_eq!(
            position_to_offset(&file, lsp::Position::new(9, 0)),
            text.len()
        );
        assert_eq!(
            offset_to_position(&file, text.len()),
            lsp::Position::new(2, 4)
        );
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/my models/modèle #1.sec");
        let uri = path_uri(p);
        assert_eq!(
            uri.as_str(),
            "file:///tmp/my%20models/mod%C3%A8le%20%231.sec"
        );
        assert_eq!(uri_path(&uri).as_deref(), Some(p));
        let other = lsp::Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_path(&other), None);
    }
}

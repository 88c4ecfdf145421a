//! The canonical layout of a `.sec` file (`palisade fmt`), documented in
//! docs/language.md, section 7.
//!
//! The formatter walks pest's concrete parse of the file and writes every
//! token as it was written (names, strings with their escapes, numbers,
//! quantities, access items), changing only the whitespace between tokens
//! and the optional commas between map entries. Comments are not in the
//! parse (the grammar's `COMMENT` is silent): they are found in the text by
//! [`comments`] and put back by position — each before the first token that
//! followed it, at the end of the line when it ended a line of code, on a
//! line of its own otherwise.
//!
//! Layout decisions that depend on the source are made only from what the
//! output keeps (a newline inside brackets, a blank line, a comment), so
//! formatting is idempotent. [`format`] proves each result before returning
//! it: the output parses to the same syntax tree (spans aside) and holds the
//! same comments in the same order; otherwise the file is left alone.

use super::{Rule, SecParser};
use crate::diagnostics::Diagnostics;
use crate::span::FileId;
use pest::iterators::Pair;
use pest::Parser as _;
use std::collections::HashMap;

/// Indentation of a block's entries, relative to the line that opens it.
const INDENT: usize = 2;
/// Indentation of a line that continues an item after a comment inside it.
const CONTINUATION: usize = 4;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file has syntax errors (they are in the diagnostics).
    Syntax,
    /// The formatter's own check failed: a bug; the file must be left as it is.
    Internal(String),
}

/// The file in canonical layout. Syntax errors (and the errors the syntax
/// stage reports: bad escapes, numbers too large, nesting too deep) go to
/// `diags` and give [`FormatError::Syntax`].
pub fn format(file: FileId, text: &str, diags: &mut Diagnostics) -> Result<String, FormatError> {
    let mut own = Diagnostics::new();
    let before = super::parse_file(file, text, &mut own);
    let failed = own.has_errors();
    diags.append(own);
    if failed {
        return Err(FormatError::Syntax);
    }
    let out = layout(text)?;
    // The proof: same tree, same comments.
    let mut again = Diagnostics::new();
    let after = super::parse_file(file, &out, &mut again);
    if again.has_errors() {
        return Err(FormatError::Internal(
            "the formatted text does not parse".into(),
        ));
    }
    let same = before.items.len() == after.items.len()
        && (before.items.iter().zip(&after.items))
            .all(|(a, b)| without_spans(&format!("{a:?}")) == without_spans(&format!("{b:?}")));
    if !same {
        return Err(FormatError::Internal(
            "the formatted text parses to a different model".into(),
        ));
    }
    if comments(text) != comments(&out) {
        return Err(FormatError::Internal(
            "the formatted text does not keep every comment".into(),
        ));
    }
    Ok(out)
}

/// Every comment of a file that parses, in order, from `#` to the end of
/// its line (trailing whitespace and `\r` excluded).
pub fn comments(text: &str) -> Vec<&str> {
    comment_ranges(text)
        .into_iter()
        .map(|(s, e)| &text[s..e])
        .collect()
}

fn comment_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => {
                let start = i;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                let end = start + text[start..i].trim_end().len();
                out.push((start, end));
            }
            _ => i += 1,
        }
    }
    out
}

/// `Debug` text of a syntax tree with every `Span { .. }` reduced to `Span`.
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { file: FileId(";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i..];
        let close = rest.find(" }").map_or(rest.len(), |c| c + 2);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{FEFF}')
}

/// Whether a blank line separates `pos` from the code or comment before it.
fn blank_before(text: &str, pos: usize) -> bool {
    let gap = &text[..pos];
    let trivia = gap.len() - gap.trim_end_matches(is_space).len();
    gap[pos - trivia..].matches('\n').count() >= 2
}

/// Whether the comment at `pos` follows code on its line.
fn follows_code(text: &str, pos: usize) -> bool {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    !text[line_start..pos].chars().all(is_space)
}

/// Whether a bracketed group is laid out over several lines: its source
/// has a newline between the brackets, and something to put on them.
fn breaks(text: &str, open: usize, close: usize, empty: bool) -> bool {
    let inside = &text[open..close];
    inside.contains('\n') && (!empty || inside.contains('#'))
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// A line of the output.
#[derive(Debug)]
enum Row {
    Blank,
    Comment {
        indent: usize,
        text: String,
    },
    Code {
        indent: usize,
        /// Columns, aligned with the other rows of its run.
        cells: Vec<String>,
        comment: Option<String>,
        run: Option<usize>,
    },
}

/// The line being written.
struct Line {
    indent: usize,
    cells: Vec<String>,
    comment: Option<String>,
    run: Option<usize>,
}

/// A level of the output holding items one per line: the file, or a block.
struct Scope {
    indent: usize,
    /// The file (a multi-line item ends an alignment run there).
    top: bool,
    /// A row was written at this level.
    any: bool,
    /// A blank or comment line since the last item.
    separated: bool,
    /// The previous item's class, and whether it took several lines.
    last: Option<(Option<Rule>, bool)>,
    run: usize,
    item: Option<Item>,
}

struct Item {
    first_row: usize,
    class: Option<Rule>,
}

struct Printer<'t> {
    text: &'t str,
    comments: Vec<(usize, usize)>,
    next_comment: usize,
    rows: Vec<Row>,
    line: Option<Line>,
    /// The open line is complete: the next token starts a new one.
    break_pending: bool,
    /// The indentation of the next line, when set explicitly (a closing bracket).
    next_indent: Option<usize>,
    scopes: Vec<Scope>,
    runs: usize,
    /// Where the item being written was parsed from: pest's offsets are
    /// relative to it.
    base: usize,
}

/// The layout of a file that parses. Items are parsed one at a time, so
/// that pest's parse of a large file never exists at once.
fn layout(text: &str) -> Result<String, FormatError> {
    let mut p = Printer {
        text,
        comments: comment_ranges(text),
        next_comment: 0,
        rows: Vec::new(),
        line: None,
        break_pending: false,
        next_indent: None,
        scopes: vec![Scope::new(0, true)],
        runs: 0,
        base: 0,
    };
    let mut pos = super::scan::skip_trivia(text, 0);
    while pos < text.len() {
        let item = SecParser::parse(Rule::item, &text[pos..])
            .map_err(|e| FormatError::Internal(format!("an item does not parse: {e}")))?
            .next()
            .expect("an item");
        let end = pos + item.as_span().end();
        p.base = pos;
        p.item(item);
        pos = super::scan::skip_trivia(text, end);
    }
    p.flush_comments(text.len() + 1);
    p.finish_line();
    Ok(p.render())
}

impl Scope {
    fn new(indent: usize, top: bool) -> Scope {
        Scope {
            indent,
            top,
            any: false,
            separated: false,
            last: None,
            run: 0,
            item: None,
        }
    }
}

impl Printer<'_> {
    /// Where a pair starts in the file.
    fn at(&self, p: &Pair<'_, Rule>) -> usize {
        self.base + p.as_span().start()
    }

    fn scope(&mut self) -> &mut Scope {
        self.scopes.last_mut().expect("the file's scope")
    }

    fn push_blank(&mut self) {
        if !matches!(self.rows.last(), None | Some(Row::Blank)) {
            self.rows.push(Row::Blank);
        }
    }

    fn finish_line(&mut self) {
        if let Some(l) = self.line.take() {
            self.rows.push(Row::Code {
                indent: l.indent,
                cells: l.cells,
                comment: l.comment,
                run: l.run,
            });
        }
        self.break_pending = false;
    }

    /// Put back every comment that starts before `upto`.
    fn flush_comments(&mut self, upto: usize) {
        while let Some(&(s, e)) = self.comments.get(self.next_comment) {
            if s >= upto {
                break;
            }
            self.next_comment += 1;
            let text = self.text[s..e].to_string();
            if follows_code(self.text, s) {
                if let Some(line) = self.line.as_mut().filter(|l| l.comment.is_none()) {
                    line.comment = Some(text);
                    self.break_pending = true;
                    continue;
                }
            }
            self.finish_line();
            let blank = blank_before(self.text, s);
            let scope = self.scope();
            if scope.item.is_none() {
                let (indent, any) = (scope.indent, scope.any);
                scope.any = true;
                scope.separated = true;
                if blank && any {
                    self.push_blank();
                }
                self.rows.push(Row::Comment { indent, text });
            } else {
                let indent = scope.indent + CONTINUATION;
                self.rows.push(Row::Comment { indent, text });
            }
        }
    }

    /// Write one token: `sep` before it unless it starts a line or a column.
    fn word(&mut self, text: &str, pos: Option<usize>, sep: &str) {
        if let Some(pos) = pos {
            self.flush_comments(pos);
        }
        if self.break_pending {
            self.finish_line();
        }
        if self.line.is_none() {
            let rows = self.rows.len();
            let indent = self.next_indent.take().unwrap_or_else(|| {
                let s = self.scopes.last().expect("a scope");
                match &s.item {
                    Some(item) if rows > item.first_row => s.indent + CONTINUATION,
                    _ => s.indent,
                }
            });
            self.line = Some(Line {
                indent,
                cells: vec![String::new()],
                comment: None,
                run: None,
            });
        }
        let line = self.line.as_mut().expect("a line");
        let cell = line.cells.last_mut().expect("a cell");
        if !cell.is_empty() {
            cell.push_str(sep);
        }
        cell.push_str(text);
    }

    /// Continue the line in column `k` (columns align across a run of items).
    fn cell(&mut self, k: usize) {
        if self.break_pending {
            return;
        }
        if let Some(line) = self.line.as_mut() {
            while line.cells.len() <= k {
                line.cells.push(String::new());
            }
        }
    }

    fn begin_item(&mut self, pos: usize, class: Option<Rule>) {
        self.flush_comments(pos);
        self.finish_line();
        if blank_before(self.text, pos) && self.scope().any {
            self.push_blank();
            self.scope().separated = true;
        }
        let first_row = self.rows.len();
        let scope = self.scopes.last_mut().expect("a scope");
        let new_run = scope.separated
            || scope
                .last
                .is_none_or(|(c, multi)| c != class || (scope.top && multi));
        if new_run {
            self.runs += 1;
            scope.run = self.runs;
        }
        scope.separated = false;
        scope.any = true;
        scope.item = Some(Item { first_row, class });
    }

    fn end_item(&mut self) {
        let rows = self.rows.len();
        let scope = self.scopes.last_mut().expect("a scope");
        let item = scope.item.take().expect("an item");
        let multi = rows > item.first_row;
        let run = item.class.map(|_| scope.run);
        if !multi {
            if let Some(line) = self.line.as_mut() {
                line.run = run;
            }
        } else if !scope.top {
            if let Some(Row::Code { run: r, .. }) = self.rows.get_mut(item.first_row) {
                *r = run;
            }
        }
        scope.last = Some((item.class, multi));
        self.break_pending = true;
    }

    fn item(&mut self, item: Pair<'_, Rule>) {
        let p = item.into_inner().next().expect("item has one child");
        let rule = p.as_rule();
        self.begin_item(self.at(&p), Some(rule));
        let at = Some(self.at(&p));
        let mut inner = p.into_inner();
        match rule {
            Rule::system_decl => {
                self.word("system", at, "");
                self.name(inner.next().expect("name"));
                if let Some(d) = inner.next() {
                    self.cell(1);
                    self.raw(d, " ");
                }
            }
            Rule::platform_decl => {
                self.word("platform", at, "");
                self.map(inner.next().expect("map"), true, " ");
            }
            Rule::environment_decl
            | Rule::namespace_decl
            | Rule::persona_decl
            | Rule::app_decl
            | Rule::store_decl
            | Rule::external_decl => {
                let keyword = match rule {
                    Rule::environment_decl => "environment",
                    Rule::namespace_decl => "namespace",
                    Rule::persona_decl => "persona",
                    Rule::app_decl => "app",
                    Rule::store_decl => "store",
                    _ => "external",
                };
                self.word(keyword, at, "");
                self.name(inner.next().expect("name"));
                for part in inner {
                    match part.as_rule() {
                        Rule::description => {
                            self.cell(1);
                            self.raw(part, " ");
                        }
                        Rule::in_namespace => {
                            self.cell(2);
                            self.word("in", Some(self.at(&part)), " ");
                            self.name(part.into_inner().next().expect("namespace"));
                        }
                        _ => {
                            self.cell(3);
                            self.map(part, true, " ");
                        }
                    }
                }
            }
            Rule::pod_decl => {
                self.word("pod", at, "");
                self.name(inner.next().expect("name"));
                self.cell(1);
                self.word("=", None, " ");
                self.list(inner.next().expect("apps"), " ");
                if let Some(map) = inner.next() {
                    self.cell(2);
                    self.map(map, true, " ");
                }
            }
            Rule::allow_stmt | Rule::forbid_stmt => {
                self.word(
                    if rule == Rule::allow_stmt {
                        "allow"
                    } else {
                        "forbid"
                    },
                    at,
                    "",
                );
                self.targets(inner.next().expect("subjects"));
                let arrow = inner.next().expect("arrow");
                self.raw(arrow, " ");
                self.targets(inner.next().expect("targets"));
                self.tail(inner);
            }
            Rule::accept_stmt => {
                self.word("accept", at, "");
                self.name(inner.next().expect("lint"));
                self.word("on", None, " ");
                self.targets(inner.next().expect("subjects"));
                self.raw(inner.next().expect("arrow"), " ");
                self.targets(inner.next().expect("targets"));
                self.cell(1);
                self.raw(inner.next().expect("reason"), " ");
            }
            Rule::lint_stmt => {
                self.word("lint", at, "");
                self.name(inner.next().expect("lint"));
                self.cell(1);
                self.word("=", None, " ");
                self.name(inner.next().expect("level"));
            }
            r => unreachable!("grammar item alternative {r:?}"),
        }
        self.end_item();
    }

    /// A token written as in the source.
    fn raw(&mut self, p: Pair<'_, Rule>, sep: &str) {
        self.word(p.as_str(), Some(self.at(&p)), sep);
    }

    fn name(&mut self, p: Pair<'_, Rule>) {
        self.raw(p, " ");
    }

    /// `: ACCESS, ... [in ENV, ...] ["reason"]` of `allow` and `forbid`.
    fn tail(&mut self, inner: pest::iterators::Pairs<'_, Rule>) {
        for part in inner {
            match part.as_rule() {
                Rule::access_list => {
                    self.word(":", None, "");
                    let items: Vec<_> = part.into_inner().collect();
                    let n = items.len();
                    for (i, a) in items.into_iter().enumerate() {
                        let at = Some(self.at(&a));
                        // `VERB RESOURCE` stays on one line, one space apart.
                        let words: Vec<&str> = a.into_inner().map(|w| w.as_str()).collect();
                        self.word(&words.join(" "), at, " ");
                        if i + 1 < n {
                            self.word(",", None, "");
                        }
                    }
                }
                Rule::env_clause => {
                    self.word("in", Some(self.at(&part)), " ");
                    let envs: Vec<_> = part.into_inner().collect();
                    let n = envs.len();
                    for (i, e) in envs.into_iter().enumerate() {
                        self.name(e);
                        if i + 1 < n {
                            self.word(",", None, "");
                        }
                    }
                }
                _ => {
                    self.cell(1);
                    self.raw(part, " ");
                }
            }
        }
    }

    fn targets(&mut self, p: Pair<'_, Rule>) {
        let t = p.into_inner().next().expect("targets has one child");
        match t.as_rule() {
            Rule::name_list => self.list(t, " "),
            Rule::ns_target => {
                self.word("namespace", Some(self.at(&t)), " ");
                self.name(t.into_inner().next().expect("namespace"));
            }
            _ => self.raw(t, " "),
        }
    }

    /// A `list` or `name_list`: `[a, b]`, or one element a line.
    fn list(&mut self, p: Pair<'_, Rule>, sep: &str) {
        let span = p.as_span();
        let (open, close) = (self.base + span.start(), self.base + span.end() - 1);
        let elems: Vec<_> = p.into_inner().collect();
        let n = elems.len();
        if !breaks(self.text, open, close, n == 0) {
            self.word("[", Some(open), sep);
            for (i, e) in elems.into_iter().enumerate() {
                self.element(e, if i == 0 { "" } else { " " });
                if i + 1 < n {
                    self.word(",", None, "");
                }
            }
            self.word("]", Some(close), "");
            return;
        }
        self.open_block("[", open, sep);
        for e in elems {
            self.begin_item(self.at(&e), None);
            self.element(e, "");
            self.word(",", None, "");
            self.end_item();
        }
        self.close_block("]", close);
    }

    /// A list element: a name or a value.
    fn element(&mut self, e: Pair<'_, Rule>, sep: &str) {
        if e.as_rule() == Rule::value {
            self.value(e, sep);
        } else {
            self.raw(e, sep);
        }
    }

    fn value(&mut self, p: Pair<'_, Rule>, sep: &str) {
        let v = p.into_inner().next().expect("value has one child");
        match v.as_rule() {
            Rule::map => self.map(v, false, sep),
            Rule::list => self.list(v, sep),
            _ => self.raw(v, sep),
        }
    }

    /// A `{ ... }`: on one line (a declaration's entries two spaces apart,
    /// a nested map's comma-separated), or one entry a line.
    fn map(&mut self, p: Pair<'_, Rule>, top: bool, sep: &str) {
        let span = p.as_span();
        let (open, close) = (self.base + span.start(), self.base + span.end() - 1);
        let entries: Vec<_> = p.into_inner().collect();
        let n = entries.len();
        if !breaks(self.text, open, close, n == 0) {
            self.word("{", Some(open), sep);
            for (i, e) in entries.into_iter().enumerate() {
                let sep = if i == 0 || !top { " " } else { "  " };
                self.entry(e, false, sep);
                if i + 1 < n && !top {
                    self.word(",", None, "");
                }
            }
            self.word("}", Some(close), " ");
            return;
        }
        self.open_block("{", open, sep);
        for e in entries {
            self.begin_item(self.at(&e), Some(Rule::entry));
            self.entry(e, true, "");
            self.end_item();
        }
        self.close_block("}", close);
    }

    /// `key [= value]`; in a block, `= value` is the second column.
    fn entry(&mut self, e: Pair<'_, Rule>, aligned: bool, sep: &str) {
        let mut parts = e.into_inner();
        let key = parts.next().expect("key").into_inner().next().expect("key");
        self.raw(key, sep);
        if let Some(v) = parts.next() {
            if aligned {
                self.cell(1);
            }
            self.word("=", None, " ");
            self.value(v, " ");
        }
    }

    fn open_block(&mut self, bracket: &str, pos: usize, sep: &str) {
        self.word(bracket, Some(pos), sep);
        let indent = self.line.as_ref().map_or(0, |l| l.indent);
        self.scopes.push(Scope::new(indent + INDENT, false));
        self.break_pending = true;
    }

    fn close_block(&mut self, bracket: &str, pos: usize) {
        self.flush_comments(pos);
        self.finish_line();
        let scope = self.scopes.pop().expect("the block's scope");
        self.next_indent = Some(scope.indent - INDENT);
        self.word(bracket, None, "");
    }

    /// The rows as text: columns aligned within runs, then end-of-line
    /// comments aligned across adjacent lines.
    fn render(self) -> String {
        let crlf = self
            .text
            .find('\n')
            .is_some_and(|i| self.text[..i].ends_with('\r'));
        let mut widths: HashMap<usize, Vec<usize>> = HashMap::new();
        for row in &self.rows {
            if let Row::Code {
                cells,
                run: Some(r),
                ..
            } = row
            {
                let w = widths.entry(*r).or_default();
                w.resize(w.len().max(cells.len()), 0);
                for j in 0..cells.len() {
                    if cells[j + 1..].iter().any(|c| !c.is_empty()) {
                        w[j] = w[j].max(width(&cells[j]));
                    }
                }
            }
        }
        // (indent + code, comment) per line.
        let mut lines: Vec<(String, Option<String>, usize)> = Vec::new();
        for row in self.rows {
            match row {
                Row::Blank => lines.push((String::new(), None, 0)),
                Row::Comment { indent, text } => {
                    lines.push((format!("{}{text}", " ".repeat(indent)), None, indent))
                }
                Row::Code {
                    indent,
                    cells,
                    comment,
                    run,
                } => {
                    let mut s = " ".repeat(indent);
                    match run.and_then(|r| widths.get(&r)) {
                        Some(w) => {
                            for j in 0..cells.len() {
                                if !cells[j + 1..].iter().any(|c| !c.is_empty()) {
                                    s.push_str(&cells[j]);
                                    break;
                                }
                                if w[j] == 0 {
                                    continue;
                                }
                                s.push_str(&cells[j]);
                                s.push_str(&" ".repeat(w[j] - width(&cells[j]) + 1));
                            }
                        }
                        None => {
                            let parts: Vec<&str> = (cells.iter())
                                .filter(|c| !c.is_empty())
                                .map(String::as_str)
                                .collect();
                            s.push_str(&parts.join(" "));
                        }
                    }
                    lines.push((s, comment, indent));
                }
            }
        }
        // End-of-line comments of adjacent lines at one indentation share a column.
        let mut i = 0;
        while i < lines.len() {
            if lines[i].1.is_none() {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < lines.len() && lines[j].1.is_some() && lines[j].2 == lines[i].2 {
                j += 1;
            }
            let col = lines[i..j].iter().map(|l| width(&l.0)).max().unwrap_or(0) + 2;
            for l in &mut lines[i..j] {
                let pad = col - width(&l.0);
                let c = l.1.take().expect("a comment");
                l.0.push_str(&" ".repeat(pad));
                l.0.push_str(&c);
            }
            i = j;
        }
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut out = String::new();
        if self.text.starts_with('\u{FEFF}') {
            out.push('\u{FEFF}');
        }
        for (l, _, _) in &lines {
            out.push_str(l.trim_end());
            out.push_str(nl);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        let mut d = Diagnostics::new();
        match format(FileId(0), text, &mut d) {
            Ok(s) => s,
            Err(e) => panic!("{e:?}: {d:?}"),
        }
    }

    #[test]
    fn aligns_declarations_and_reasons() {
        let text = "system s \"S\"\nnamespace data \"Databases\"\nnamespace product \"SaaS\" { quota = { cpu = \"8\", pods = 40 } }\n\nallow a -> b: read \"r\"\nallow abc -> b: read, write in dev \"r2\"\n";
        let want = "system s \"S\"\nnamespace data    \"Databases\"\nnamespace product \"SaaS\" { quota = { cpu = \"8\", pods = 40 } }\n\nallow a -> b: read                 \"r\"\nallow abc -> b: read, write in dev \"r2\"\n";
        assert_eq!(fmt(text), want);
        assert_eq!(fmt(want), want);
    }

    #[test]
    fn breaks_blocks_written_over_lines() {
        let text = "app web in p { image = \"x\"\nports = {http=8080,metrics=9090}, replicas = 3 } # web\n";
        let want = "app web in p {\n  image    = \"x\"\n  ports    = { http = 8080, metrics = 9090 }\n  replicas = 3\n}  # web\n";
        assert_eq!(fmt(text), want);
        assert_eq!(fmt(want), want);
    }

    #[test]
    fn keeps_comments_everywhere() {
        let text = "allow # s\n a # who\n -> b\n# own\n: get  pods, read\nin dev # e\n";
        let out = fmt(text);
        assert_eq!(
            out,
            "allow  # s\n    a  # who\n    -> b:\n    # own\n    get pods, read in dev  # e\n"
        );
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn refuses_a_file_with_syntax_errors() {
        let mut d = Diagnostics::new();
        assert!(matches!(
            format(FileId(0), "allow a -> b http\n", &mut d),
            Err(FormatError::Syntax)
        ));
        assert!(d.has_errors());
    }

    /// A large model (parsed in parallel chunks by the checker) formats, and
    /// formatting it again changes nothing.
    #[test]
    fn a_large_synthetic_model() {
        let text = crate::synth::generate(&crate::synth::SynthOptions::new(2_000));
        let out = fmt(&text);
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn keeps_a_byte_order_mark() {
        let out = fmt("\u{FEFF}# c\nsystem  s\n");
        assert_eq!(out, "\u{FEFF}# c\nsystem s\n");
        assert_eq!(fmt(&out), out);
    }

    #[test]
    fn strips_spans() {
        assert_eq!(
            without_spans("A { span: Span { file: FileId(0), start: 1, end: 2 }, x: 1 }"),
            "A { span: Span, x: 1 }"
        );
    }
}

//! Turning pest's parse failures into our diagnostics, worded for the
//! model's author ("expected `->`, found `api`").

use super::scan::{Scan, ITEM_KEYWORDS};
use super::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};
use pest::error::{Error, ErrorVariant, InputLocation};
use std::collections::BTreeSet;

/// The diagnostic for a failed parse of the item starting at `base`.
pub fn syntax_error(
    file: FileId,
    text: &str,
    base: usize,
    err: &Error<Rule>,
    scan: &Scan,
) -> Diagnostic {
    // Parse again with pest's detailed tracking (slower, so only on errors)
    // to learn the literal tokens it expected, not only the rule names.
    pest::set_error_detail(true);
    let detailed = super::parse_windowed(Rule::item, text, base).err();
    pest::set_error_detail(false);
    let err = detailed.as_ref().unwrap_or(err);

    let mut rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    // pest places the error at the furthest *rule* it tried; a literal
    // (`:`, `]`, `=`) expected further on is more precise.
    let attempts = err.parse_attempts();
    let tokens_only = attempts.as_ref().is_some_and(|a| a.max_position > rel);
    if let Some(a) = attempts.as_ref().filter(|_| tokens_only) {
        rel = a.max_position;
    }
    let pos = (base + rel).min(text.len());

    if let Some(&quote) = scan
        .unterminated
        .iter()
        .find(|&&q| q >= base && q <= pos.max(base))
    {
        let end = text[quote..].find('\n').map_or(text.len(), |n| quote + n);
        return Diagnostic::error(
            Code::Syntax,
            Span::new(file, quote, end),
            "unterminated string",
        )
        .label("this string has no closing `\"`")
        .help("strings end on the line they start; close it with `\"`");
    }

    let expected = expected_set(err, tokens_only);
    let found = found_at(text, pos);
    let span = Span::new(file, pos, pos + found.len_bytes);
    let expected_text = join_expected(&expected);
    let mut d = Diagnostic::error(
        Code::Syntax,
        span,
        format!("expected {expected_text}, found {}", found.describe),
    )
    .label(format!("expected {expected_text}"));
    d = hint(d, text, base, pos, &found, &expected);
    if found.len_bytes == 0 && pos >= text.trim_end().len() {
        if let Some(&open) = scan.unclosed.last() {
            let what = &text[open..open + 1];
            d = d.secondary(
                Span::new(file, open, open + 1),
                format!("this `{what}` is never closed"),
            );
        }
    }
    d
}

struct Found {
    describe: String,
    word: Option<String>,
    len_bytes: usize,
}

fn found_at(text: &str, pos: usize) -> Found {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        return Found {
            describe: "end of file".into(),
            word: None,
            len_bytes: 0,
        };
    };
    if c.is_alphanumeric() || c == '_' {
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        let shown: String = word.chars().take(40).collect();
        let ellipsis = if shown.len() < word.len() { "…" } else { "" };
        return Found {
            describe: format!("`{shown}{ellipsis}`"),
            word: Some(word.to_string()),
            len_bytes: len,
        };
    }
    if c == '\n' || c == '\r' {
        return Found {
            describe: "end of line".into(),
            word: None,
            len_bytes: 0,
        };
    }
    let two: String = rest.chars().take(2).collect();
    if two == "->" || two == "~>" {
        return Found {
            describe: format!("`{two}`"),
            word: None,
            len_bytes: 2,
        };
    }
    Found {
        describe: format!("`{c}`"),
        word: None,
        len_bytes: c.len_utf8(),
    }
}

fn expected_set(err: &Error<Rule>, tokens_only: bool) -> BTreeSet<(u8, String)> {
    let mut out = BTreeSet::new();
    if let (false, ErrorVariant::ParsingError { positives, .. }) = (tokens_only, &err.variant) {
        for r in positives {
            if let Some(e) = describe_rule(*r) {
                out.insert(e);
            }
        }
    }
    if let Some(attempts) = err.parse_attempts() {
        for t in attempts.expected_tokens() {
            // pest does not export its token type; its Display is the token.
            let token = t.to_string();
            // A character range (`a..z`, and the one-character ranges the
            // grammar uses for speed): never worth naming to the author.
            let chars: Vec<char> = token.chars().collect();
            let is_range = chars.len() == 4 && chars[1..3] == ['.', '.'];
            if token == "BUILTIN_RULE" || is_range {
                continue;
            }
            if let Some(e) = describe_token(&token) {
                out.insert(e);
            }
        }
    }
    if out.is_empty() {
        out.insert((9, "a declaration or statement".into()));
    }
    out
}

/// Rule → (sort priority, description). `None` hides internal rules.
fn describe_rule(r: Rule) -> Option<(u8, String)> {
    let s = match r {
        Rule::item => return Some((0, "a declaration or statement".into())),
        Rule::name | Rule::key => "a name",
        Rule::string | Rule::string_inner | Rule::description | Rule::reason => "a string",
        Rule::value => "a value",
        Rule::number => "a number",
        Rule::port => "a port",
        Rule::quantity => "a quantity",
        Rule::map => "`{`",
        Rule::list | Rule::name_list => "`[`",
        Rule::entry => "a property",
        Rule::arrow => "`->`",
        Rule::path_arrow => "`~>`",
        Rule::star => "`*`",
        Rule::targets => return Some((2, "a name, a list, `namespace NAME` or `*`".into())),
        Rule::ns_target => "`namespace`",
        Rule::access_list | Rule::access | Rule::access_word => "an access item",
        Rule::env_clause | Rule::in_namespace => "`in`",
        r => {
            let name = format!("{r:?}");
            return name.strip_prefix("k_").map(|k| (1, format!("`{k}`")));
        }
    };
    Some((3, s.to_string()))
}

fn describe_token(t: &str) -> Option<(u8, String)> {
    // Whitespace, comments and the insides of names are never what is missing.
    const UNITS: &[&str] = &[
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E", ".",
    ];
    if t.trim().is_empty() || matches!(t, "#" | "\u{feff}" | "-" | "_") || UNITS.contains(&t) {
        return None;
    }
    if ITEM_KEYWORDS.contains(&t) {
        return Some((1, format!("`{t}`")));
    }
    Some((4, format!("`{t}`")))
}

fn join_expected(set: &BTreeSet<(u8, String)>) -> String {
    // Item keywords are summarised: listing all thirteen helps nobody.
    let mut items: Vec<&str> = Vec::new();
    let mut keywords = 0;
    let many_keywords = set.iter().filter(|(p, _)| *p == 1).count() >= 5;
    for (prio, s) in set {
        if *prio == 1 && many_keywords {
            keywords += 1;
            continue;
        }
        if !items.contains(&s.as_str()) {
            items.push(s);
        }
    }
    if keywords > 0 && !items.contains(&"a declaration or statement") {
        items.insert(0, "a declaration or statement");
    }
    match items.as_slice() {
        [] => "a declaration or statement".into(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `d` with a hint on how to fix it, if there is one.
fn hint(
    d: Diagnostic,
    text: &str,
    base: usize,
    pos: usize,
    found: &Found,
    expected: &BTreeSet<(u8, String)>,
) -> Diagnostic {
    let word = found.word.as_deref();
    let line_before = &text[text[..pos].rfind('\n').map_or(0, |n| n + 1)..pos];
    if text[pos..].starts_with(':') && line_before.contains("~>") {
        return d.help("`forbid A ~> B` forbids any path and takes no access list");
    }
    if pos == base || expected.iter().filter(|(p, _)| *p == 1).count() >= 5 {
        if let Some(w) = word {
            if let Some(k) = crate::suggest::closest(w, ITEM_KEYWORDS.iter().copied()) {
                return d.did_you_mean(k);
            }
        }
        return d.help(format!(
            "a model is a list of declarations ({}) and statements ({})",
            "`system`, `platform`, `environment`, `namespace`, `persona`, `app`, `pod`, `store`, `external`",
            "`allow`, `forbid`, `accept`, `lint`"
        ));
    }
    let wants = |s: &str| expected.iter().any(|(_, e)| e == s);
    let before = &text[base..pos];
    if matches!(text[pos..].chars().next(), Some('.' | '/' | ':'))
        && before.ends_with(|c: char| c.is_ascii_hexdigit())
        && !before.ends_with("->")
    {
        return d.help("quote addresses and CIDRs: `address = \"10.0.0.0/8\"`");
    }

    if wants("`->`") && !wants("`~>`") && text[pos..].starts_with('>') {
        return d.help("write the arrow as `->` with nothing between `-` and `>`");
    }
    if wants("`:`") && word.is_some() {
        return d
            .help("put `:` between the target and the access list, e.g. `allow web -> api: http`");
    }
    if wants("`=`") && word.is_some() {
        return d.help("write properties as `key = value`");
    }
    if wants("`}`") && found.len_bytes == 0 {
        return d.help("a `{` is not closed");
    }
    if wants("`]`") && found.len_bytes == 0 {
        return d.help("a `[` is not closed");
    }
    d
}

//! Reading a `{ key = value }` block against a list of known keys, with
//! typed accessors that report wrong types and bad values.

use super::names;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{Cidr, Protocol};
use crate::span::Span;
use crate::syntax::ast::{Entry, Map, Value, ValueKind};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The entries of a block, keyed by name, after unknown and repeated keys
/// were reported.
pub struct Props<'a> {
    entries: Vec<(&'static str, &'a Entry)>,
}

impl<'a> Props<'a> {
    /// Check `map`'s keys against `known`. `what` names the block in messages
    /// ("app `web`", "`platform`").
    pub fn new(
        map: Option<&'a Map>,
        known: &[&'static str],
        what: &str,
        diags: &mut Diagnostics,
    ) -> Props<'a> {
        let mut entries: Vec<(&'static str, &'a Entry)> = Vec::new();
        let Some(map) = map else {
            return Props { entries };
        };
        for e in &map.entries {
            let Some(&key) = known.iter().find(|k| **k == e.key.name) else {
                diags.push(unknown_property(e, known, what));
                continue;
            };
            if let Some((_, first)) = entries.iter().find(|(k, _)| *k == key) {
                diags.push(
                    Diagnostic::error(
                        Code::DuplicateProperty,
                        e.key.span,
                        format!("property `{key}` is given twice in {what}"),
                    )
                    .label("given again here")
                    .secondary(first.key.span, "first given here")
                    .help("remove one of them"),
                );
                continue;
            }
            entries.push((key, e));
        }
        Props { entries }
    }

    pub fn get(&self, key: &str) -> Option<&'a Entry> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| *e)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The value of `key`; a bare flag where a value is needed is reported.
    pub fn value(&self, key: &str, expected: &str, diags: &mut Diagnostics) -> Option<&'a Value> {
        let e = self.get(key)?;
        match &e.value {
            Some(v) => Some(v),
            None => {
                diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        e.key.span,
                        format!("`{key}` needs a value"),
                    )
                    .label(format!("expected `{key} = {expected}`")),
                );
                None
            }
        }
    }
}

fn unknown_property(e: &Entry, known: &[&'static str], what: &str) -> Diagnostic {
    let mut d = Diagnostic::error(
        Code::UnknownProperty,
        e.key.span,
        format!(
            "unknown property `{}` in {what}",
            names::shorten(&e.key.name)
        ),
    )
    .label("unknown property");
    d = match crate::suggest::closest(&e.key.name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None if known.is_empty() => d.help(format!("{what} takes no properties")),
        None => d.help(format!("{what} takes: {}", backticked(known))),
    };
    d
}

/// `a`, `b` and `c` → "`a`, `b`, `c`".
pub fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn wrong_type(key: &str, v: &Value, expected: &str) -> Diagnostic {
    Diagnostic::error(
        Code::WrongType,
        v.span,
        format!("`{key}` must be {expected}, found {}", v.kind.describe()),
    )
    .label(format!("expected {expected}"))
}

pub fn invalid(key: &str, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, span, message.into()).label(format!("invalid `{key}`"))
}

pub fn string<'v>(key: &str, v: &'v Value, diags: &mut Diagnostics) -> Option<&'v str> {
    match &v.kind {
        ValueKind::Str(s) => Some(s),
        _ => {
            diags.push(wrong_type(key, v, "a string").help(format!("quote it: `{key} = \"...\"`")));
            None
        }
    }
}

pub fn int(key: &str, v: &Value, range: (u64, u64), diags: &mut Diagnostics) -> Option<u64> {
    match &v.kind {
        ValueKind::Int(Some(n)) if (range.0..=range.1).contains(n) => Some(*n),
        ValueKind::Int(Some(n)) => {
            diags.push(invalid(
                key,
                v.span,
                format!(
                    "`{key}` must be between {} and {}, found {n}",
                    range.0, range.1
                ),
            ));
            None
        }
        ValueKind::Int(None) => None, // "number too large" already reported
        _ => {
            diags.push(wrong_type(key, v, "an integer"));
            None
        }
    }
}

pub fn bool_flag(key: &str, e: &Entry, diags: &mut Diagnostics) -> Option<bool> {
    let Some(v) = &e.value else {
        return Some(true); // `{ external }`
    };
    match &v.kind {
        ValueKind::Word(w) if w == "true" => Some(true),
        ValueKind::Word(w) if w == "false" => Some(false),
        _ => {
            diags.push(wrong_type(key, v, "`true` or `false`"));
            None
        }
    }
}

/// A bare word (or a string) from a fixed set.
pub fn choice<'c>(
    key: &str,
    v: &Value,
    choices: &[&'c str],
    diags: &mut Diagnostics,
) -> Option<&'c str> {
    let word = match &v.kind {
        ValueKind::Word(w) | ValueKind::Str(w) => w.as_str(),
        _ => {
            diags.push(wrong_type(
                key,
                v,
                &format!("one of {}", backticked(choices)),
            ));
            return None;
        }
    };
    if let Some(c) = choices.iter().find(|c| **c == word) {
        return Some(c);
    }
    let mut d = Diagnostic::error(
        Code::InvalidValue,
        v.span,
        format!("`{}` is not a valid `{key}`", names::shorten(word)),
    )
    .label(format!("expected one of {}", backticked(choices)));
    if let Some(s) = crate::suggest::closest(word, choices.iter().copied()) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    diags.push(d);
    None
}

pub fn string_list(key: &str, v: &Value, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let ValueKind::List(items) = &v.kind else {
        diags.push(
            wrong_type(key, v, "a list of strings").help(format!("write `{key} = [\"...\"]`")),
        );
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        out.push(string(key, item, diags)?.to_string());
    }
    Some(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum QuantityKind {
    Cpu,
    Memory,
}

/// A Kubernetes quantity (`500m`, `16Gi`, `2`, quoted or not).
pub fn quantity(
    key: &str,
    v: &Value,
    kind: QuantityKind,
    diags: &mut Diagnostics,
) -> Option<String> {
    let text = match &v.kind {
        ValueKind::Str(s) | ValueKind::Quantity(s) => s.clone(),
        ValueKind::Int(Some(n)) => n.to_string(),
        ValueKind::Int(None) => return None,
        _ => {
            diags.push(wrong_type(key, v, "a quantity such as `500m` or `16Gi`"));
            return None;
        }
    };
    let (number, suffix) = split_quantity(&text);
    let number_ok = !number.is_empty()
        && number.split('.').count() <= 2
        && number
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    const SUFFIXES: &[&str] = &[
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    if !number_ok || !SUFFIXES.contains(&suffix) {
        let example = if kind == QuantityKind::Cpu {
            "`500m` or `2`"
        } else {
            "`512Mi` or `16Gi`"
        };
        diags.push(
            invalid(
                key,
                v.span,
                format!("`{}` is not a Kubernetes quantity", names::shorten(&text)),
            )
            .help(format!(
                "write a number with an optional unit, e.g. {example}"
            )),
        );
        return None;
    }
    if kind == QuantityKind::Memory && suffix == "m" {
        diags.push(
            invalid(
                key,
                v.span,
                format!("memory `{text}` means {number} thousandths of a byte"),
            )
            .help(format!("did you mean `{number}Mi`?")),
        );
        return None;
    }
    if kind == QuantityKind::Cpu && !matches!(suffix, "" | "m") {
        diags.push(
            invalid(key, v.span, format!("cpu `{text}` uses a memory unit"))
                .help("give cores (`2`, `0.5`) or millicores (`500m`)"),
        );
        return None;
    }
    Some(text)
}

fn split_quantity(s: &str) -> (&str, &str) {
    let i = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    (&s[..i], &s[i..])
}

/// A CIDR such as `203.0.113.0/24` or `2001:db8::/32`. A bare address is a /32 or /128.
pub fn cidr(key: &str, v: &Value, diags: &mut Diagnostics) -> Option<Cidr> {
    let s = string(key, v, diags)?;
    match parse_cidr(s) {
        Ok(c) => Some(c),
        Err(why) => {
            diags.push(
                invalid(
                    key,
                    v.span,
                    format!("`{}` is not a valid CIDR: {why}", names::shorten(s)),
                )
                .help("write an address with a prefix length, e.g. `203.0.113.0/24`"),
            );
            None
        }
    }
}

pub fn parse_cidr(s: &str) -> Result<Cidr, &'static str> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| "the address is malformed")?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or(if max == 32 {
                "the prefix length must be 0 to 32"
            } else {
                "the prefix length must be 0 to 128"
            })?,
    };
    if host_bits_set(addr, prefix) {
        return Err("it has bits set after the prefix");
    }
    Ok(Cidr { addr, prefix })
}

fn host_bits_set(addr: IpAddr, prefix: u8) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            prefix < 32 && bits & (u32::MAX >> prefix) != 0
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            prefix < 128 && bits & (u128::MAX >> prefix) != 0
        }
    }
}

/// One CIDR or a list of them.
pub fn cidrs(key: &str, v: &Value, diags: &mut Diagnostics) -> Option<Vec<Cidr>> {
    match &v.kind {
        ValueKind::List(items) if !items.is_empty() => {
            let all: Vec<_> = items.iter().map(|i| cidr(key, i, diags)).collect();
            all.into_iter().collect()
        }
        ValueKind::List(_) => {
            diags.push(invalid(key, v.span, format!("`{key}` is an empty list")));
            None
        }
        _ => cidr(key, v, diags).map(|c| vec![c]),
    }
}

/// A port number or `number/protocol`.
pub fn port_number(key: &str, v: &Value, diags: &mut Diagnostics) -> Option<(u16, Protocol)> {
    let (n, proto) = match &v.kind {
        ValueKind::Int(n) => (*n, None),
        ValueKind::Port { number, protocol } => (*number, Some(protocol.as_str())),
        _ => {
            diags.push(wrong_type(key, v, "a port such as `8080` or `53/udp`"));
            return None;
        }
    };
    check_port(key, n, proto, v.span, diags)
}

pub fn check_port(
    key: &str,
    number: Option<u64>,
    proto: Option<&str>,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<(u16, Protocol)> {
    let n = number?;
    let protocol = match proto {
        None => Protocol::Tcp,
        Some(p) => match Protocol::parse(p) {
            Some(p) => p,
            None => {
                diags.push(
                    invalid(
                        key,
                        span,
                        format!("unknown protocol `{}`", names::shorten(p)),
                    )
                    .help("Kubernetes supports `tcp`, `udp` and `sctp`"),
                );
                return None;
            }
        },
    };
    match u16::try_from(n) {
        Ok(p) if p >= 1 => Some((p, protocol)),
        _ => {
            diags.push(
                invalid(key, span, format!("port {n} is out of range"))
                    .help("ports are 1 to 65535"),
            );
            None
        }
    }
}

/// `{ "key" = "value" }` Kubernetes labels.
pub fn labels(key: &str, v: &Value, diags: &mut Diagnostics) -> Option<BTreeMap<String, String>> {
    let ValueKind::Map(map) = &v.kind else {
        diags.push(
            wrong_type(key, v, "a map of labels")
                .help(format!("write `{key} = {{ \"name\" = \"value\" }}`")),
        );
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for e in &map.entries {
        if let Some(problem) = names::label_key_problem(&e.key.name) {
            diags.push(invalid(
                key,
                e.key.span,
                format!("label key `{}` {problem}", names::shorten(&e.key.name)),
            ));
            ok = false;
            continue;
        }
        let Some(val) = &e.value else {
            diags.push(Diagnostic::error(
                Code::WrongType,
                e.key.span,
                format!("label `{}` needs a value", e.key.name),
            ));
            ok = false;
            continue;
        };
        let Some(s) = string(key, val, diags) else {
            ok = false;
            continue;
        };
        if let Some(problem) = names::label_value_problem(s) {
            diags.push(invalid(
                key,
                val.span,
                format!("label value `{}` {problem}", names::shorten(s)),
            ));
            ok = false;
            continue;
        }
        out.insert(e.key.name.clone(), s.to_string());
    }
    ok.then_some(out)
}

/// The entries of a nested map value, or a type error.
pub fn map<'v>(key: &str, v: &'v Value, example: &str, diags: &mut Diagnostics) -> Option<&'v Map> {
    match &v.kind {
        ValueKind::Map(m) => Some(m),
        _ => {
            diags.push(wrong_type(key, v, "a map").help(format!("write `{key} = {example}`")));
            None
        }
    }
}

/// A block given with nothing in it (`quota = {}`).
pub fn empty_block_check(key: &str, map: &Map, diags: &mut Diagnostics) {
    if map.entries.is_empty() {
        diags.push(
            Diagnostic::error(Code::MissingProperty, map.span, format!("`{key}` is empty"))
                .label("nothing here")
                .help(format!("give `{key}` its values or remove it")),
        );
    }
}

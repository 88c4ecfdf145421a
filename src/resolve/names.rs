//! Kubernetes naming rules: DNS-1035 labels (also after the prefixes and
//! suffixes the generator adds), port names, label keys and values.

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// The longest Kubernetes label/DNS-1035 name.
pub const MAX_LABEL: usize = 63;

/// Why a name is not a DNS-1035 label, or `None` if it is one.
pub fn dns1035_problem(name: &str) -> Option<&'static str> {
    let first = name.chars().next()?;
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("contains uppercase letters");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(match c {
            '_' => "contains `_`",
            '.' => "contains `.`",
            _ => "contains characters other than lowercase letters, digits and `-`",
        });
    }
    if !first.is_ascii_lowercase() {
        return Some("does not start with a letter");
    }
    if name.ends_with('-') {
        return Some("ends with `-`");
    }
    None
}

/// A valid spelling close to `name`, at most `max` characters long.
pub fn suggest_dns1035(name: &str, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "x-");
    }
    out.truncate(max);
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

/// Check a declared name that becomes Kubernetes object names.
/// `affix` describes the longest generated name, e.g. `("persona-", "")`.
pub fn check_name(what: &str, name: &str, span: Span, affix: (&str, &str)) -> Option<Diagnostic> {
    let budget = MAX_LABEL - affix.0.len() - affix.1.len();
    if let Some(problem) = dns1035_problem(name) {
        return Some(
            Diagnostic::error(
                Code::InvalidName,
                span,
                format!(
                    "{what} name `{}` is not a valid Kubernetes name",
                    shorten(name)
                ),
            )
            .label(problem)
            .help(format!(
                "use lowercase letters, digits and `-`, starting with a letter, e.g. `{}`",
                suggest_dns1035(name, budget)
            )),
        );
    }
    let len = name.chars().count();
    if len > budget {
        let generated = format!("{}{}{}", affix.0, shorten(name), affix.1);
        let mut d = Diagnostic::error(
            Code::InvalidName,
            span,
            format!("{what} name `{}` is too long", shorten(name)),
        );
        d = if affix == ("", "") {
            d.label(format!("{len} characters; Kubernetes allows {MAX_LABEL}"))
        } else {
            d.label(format!("{len} characters"))
                .note(format!(
                    "the generated name `{generated}` would exceed Kubernetes' {MAX_LABEL}-character limit"
                ))
        };
        return Some(d.help(format!(
            "shorten it to at most {budget} characters, e.g. `{}`",
            suggest_dns1035(name, budget)
        )));
    }
    None
}

/// Long names (a 10,000-character one) are cut in messages.
pub fn shorten(name: &str) -> String {
    if name.chars().count() <= 80 {
        name.to_string()
    } else {
        let head: String = name.chars().take(60).collect();
        format!("{head}…")
    }
}

/// Kubernetes container port names (IANA_SVC_NAME): at most 15 characters,
/// lowercase letters, digits and `-`, at least one letter, no `--`, not
/// starting or ending with `-`.
pub fn port_name_problem(name: &str) -> Option<&'static str> {
    if name.len() > 15 {
        return Some("is longer than 15 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("may contain only lowercase letters, digits and `-`");
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Some("must contain a letter");
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some("may not start or end with `-` or contain `--`");
    }
    None
}

/// A Kubernetes label value: at most 63 characters of `[A-Za-z0-9_.-]`,
/// beginning and ending alphanumeric (or empty).
pub fn label_value_problem(v: &str) -> Option<&'static str> {
    if v.len() > MAX_LABEL {
        return Some("is longer than 63 characters");
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Some("may contain only letters, digits, `-`, `_` and `.`");
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if !v.is_empty() && (!v.starts_with(alnum) || !v.ends_with(alnum)) {
        return Some("must begin and end with a letter or digit");
    }
    None
}

/// A label key: optional `prefix/` (a DNS subdomain) and a name as for values (non-empty).
pub fn label_key_problem(k: &str) -> Option<&'static str> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if let Some(problem) = dns_subdomain_problem(p) {
            return Some(problem);
        }
    }
    if name.is_empty() {
        return Some("has an empty name");
    }
    label_value_problem(name)
}

/// A DNS-1123 subdomain: dot-separated lowercase labels, at most 253 characters.
pub fn dns_subdomain_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() || s.len() > 253 {
        return Some("must be a DNS name of 1 to 253 characters");
    }
    let ok = s.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= MAX_LABEL
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    (!ok).then_some("must be a lowercase DNS name such as `example.com`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1035() {
        assert_eq!(dns1035_problem("web-api"), None);
        assert_eq!(dns1035_problem("a1"), None);
        assert!(dns1035_problem("Web").is_some());
        assert!(dns1035_problem("web_api").is_some());
        assert!(dns1035_problem("1web").is_some());
        assert!(dns1035_problem("web-").is_some());
        assert!(dns1035_problem("wéb").is_some());
    }

    #[test]
    fn suggestions_are_valid() {
        for bad in ["Web_API", "9lives", "__", "a.b.c", "ÄÖÜ", "x--"] {
            let s = suggest_dns1035(bad, 20);
            assert_eq!(dns1035_problem(&s), None, "{bad} -> {s}");
        }
        assert_eq!(suggest_dns1035("Web_API", 63), "web-api");
    }

    #[test]
    fn port_names() {
        assert_eq!(port_name_problem("http"), None);
        assert_eq!(port_name_problem("grpc-web"), None);
        assert!(port_name_problem("8080").is_some());
        assert!(port_name_problem("a-very-long-port-name").is_some());
        assert!(port_name_problem("a--b").is_some());
    }

    #[test]
    fn labels() {
        assert_eq!(label_key_problem("app.kubernetes.io/name"), None);
        assert_eq!(label_key_problem("k8s-app"), None);
        assert!(label_key_problem("Bad Key").is_some());
        assert_eq!(label_value_problem("ingress-nginx"), None);
        assert!(label_value_problem("-x").is_some());
    }
}

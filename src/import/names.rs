//! Names for the draft: every Kubernetes name made a valid model name
//! (a DNS-1035 label within the length the generator leaves), never a name
//! the language reserves, and unique in the model's one name space of
//! personas, apps, pods, stores and externals.

use std::collections::BTreeSet;

/// The kinds of declared names, with their longest valid length
/// (docs/language.md, section 2) and the names reserved for them (E0105).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    App,
    Pod,
    Store,
    Persona,
    External,
    Namespace,
    System,
}

impl Kind {
    fn max_len(self) -> usize {
        match self {
            Kind::App | Kind::Pod => 59,
            Kind::Store => 57,
            Kind::Persona => 55,
            Kind::External | Kind::Namespace | Kind::System => 63,
        }
    }

    fn reserved(self, name: &str) -> bool {
        let global = matches!(
            self,
            Kind::App | Kind::Pod | Kind::Store | Kind::Persona | Kind::External
        ) && matches!(name, "internet" | "kube");
        let policies = matches!(self, Kind::App | Kind::Pod | Kind::Store)
            && matches!(name, "default-deny" | "allow-dns");
        let account = matches!(self, Kind::App | Kind::Pod) && name == "default";
        let namespace = self == Kind::Namespace && (name == "default" || name.starts_with("kube-"));
        global || policies || account || namespace
    }

    fn word(self) -> &'static str {
        match self {
            Kind::App => "app",
            Kind::Pod => "pod",
            Kind::Store => "store",
            Kind::Persona => "persona",
            Kind::External => "ext",
            Kind::Namespace => "ns",
            Kind::System => "system",
        }
    }
}

/// `text` as a DNS-1035 label: lowercase ASCII letters, digits and `-`,
/// starting with a letter (else prefixed with the kind's word), not ending
/// with `-`, at most the kind's length. Empty input gives the kind's word.
pub fn label(text: &str, kind: Kind) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out = if out.is_empty() {
            kind.word().to_string()
        } else {
            format!("{}-{out}", kind.word())
        };
    }
    cut(&out, kind.max_len())
}

fn cut(name: &str, max: usize) -> String {
    let mut s: String = name.chars().take(max).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}

/// Whether `name` is a namespace the language refuses to declare.
pub fn system_namespace(name: &str) -> bool {
    Kind::Namespace.reserved(name)
}

/// The model's declared names so far (one name space for personas, apps,
/// pods, stores and externals).
#[derive(Debug, Default)]
pub struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// `name` itself, if it is a valid name of `kind` that is free.
    pub fn claim_exact(&mut self, name: &str, kind: Kind) -> Option<String> {
        let valid = label(name, kind) == name && !kind.reserved(name);
        (valid && self.taken.insert(name.to_string())).then(|| name.to_string())
    }

    /// A fresh valid name for `wanted` (already a label or not): the label
    /// itself, else with the `alternative` suffix (a namespace, say), else
    /// numbered.
    pub fn claim(&mut self, wanted: &str, alternative: Option<&str>, kind: Kind) -> String {
        let base = label(wanted, kind);
        let base = if kind.reserved(&base) {
            cut(&format!("{base}-{}", kind.word()), kind.max_len())
        } else {
            base
        };
        let mut candidates = vec![base.clone()];
        if let Some(alt) = alternative {
            candidates.push(label(&format!("{base}-{alt}"), kind));
        }
        for c in candidates {
            if self.taken.insert(c.clone()) {
                return c;
            }
        }
        for n in 2.. {
            let suffix = format!("-{n}");
            let c = format!("{}{suffix}", cut(&base, kind.max_len() - suffix.len()));
            if self.taken.insert(c.clone()) {
                return c;
            }
        }
        unreachable!("some number is free")
    }
}

/// Words a port may not be named (they are access operations, E0103).
const ACCESS_WORDS: &[&str] = &[
    "view",
    "logs",
    "exec",
    "portforward",
    "restart",
    "scale",
    "deploy",
    "read",
    "write",
    "admin",
];

/// Whether `name` is a valid port name: an IANA service name (at most 15
/// characters, lowercase letters, digits and `-`, a letter among them, no
/// `-` at either end, no `--`) that is not an access word.
pub fn valid_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && !ACCESS_WORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_valid_and_unique() {
        assert_eq!(label("Web_API", Kind::App), "web-api");
        assert_eq!(label("2fa", Kind::App), "app-2fa");
        assert_eq!(label("", Kind::Store), "store");
        assert_eq!(label("oidc:devs", Kind::Persona), "oidc-devs");
        let mut n = Names::default();
        assert_eq!(n.claim("default", None, Kind::App), "default-app");
        assert_eq!(n.claim("kube", None, Kind::Store), "kube-store");
        assert_eq!(n.claim("web", Some("shop"), Kind::App), "web");
        assert_eq!(n.claim("web", Some("shop"), Kind::App), "web-shop");
        assert_eq!(n.claim("web", Some("shop"), Kind::App), "web-2");
        let long = "a".repeat(80);
        let first = n.claim(&long, None, Kind::App);
        assert_eq!(first.len(), 59);
        let second = n.claim(&long, None, Kind::App);
        assert_eq!(second.len(), 59);
        assert!(second.ends_with("-2"));
    }

    #[test]
    fn port_names() {
        assert!(valid_port_name("http"));
        assert!(valid_port_name("port-8080"));
        assert!(!valid_port_name("8080"));
        assert!(!valid_port_name("logs"));
        assert!(!valid_port_name("a--b"));
        assert!(!valid_port_name("HTTP"));
        assert!(!valid_port_name("very-long-port-name"));
    }
}

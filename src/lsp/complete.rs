//! Completion: what may be written at the cursor, from the text before it
//! (which is usually being typed and does not parse) and the model of the
//! last analysis. Declared names where a name of that kind goes (subjects
//! and targets of `allow`, `forbid` and `accept`, a pod's apps, the
//! namespace after `in` or `namespace`, environments after `in`), the
//! access words the resolver accepts between the statement's subjects and
//! targets ([`crate::resolve::access_words`]), a declaration's property
//! keys ([`crate::resolve::property_keys`]) and the values of the keys
//! that take a word, lint names from the catalogue and lint levels, and
//! the item keywords at the start of a line.

use crate::model::{
    Classification, Engine, Entity, ExternalId, Model, PersonaId, PodSecurity, StoreId,
    StoreLocation,
};
use crate::syntax::ast::DeclKind;
use lsp_types as lsp;

/// What the cursor's position asks for.
#[derive(Debug, PartialEq)]
enum Want {
    Keywords,
    Subjects,
    Targets,
    Access {
        subjects: Vec<Target>,
        targets: Vec<Target>,
    },
    Namespaces,
    Environments,
    Apps,
    Lints,
    Levels,
    Keys {
        kind: Option<DeclKind>,
        given: Vec<String>,
    },
    Values(&'static [&'static str]),
}

/// A subject or target as written: a name, `namespace NAME` or `*`.
#[derive(Debug, PartialEq)]
enum Target {
    Name(String),
    Namespace(String),
    Star,
}

/// A token of the text before the cursor.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    /// `->`, `~>`, `:`, `,`, `[`, `]`, `{`, `}`, `=`, `*`.
    Sym(&'a str),
    Str,
}

/// The completions at byte `offset` of `text`, each replacing the word
/// being typed (from its start to the cursor).
pub fn complete(model: &Model, text: &str, offset: usize) -> Vec<(String, lsp::CompletionItem)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return Vec::new();
    }
    let word_start = word_start(text, offset);
    let Some(want) = want(text, word_start) else {
        return Vec::new();
    };
    let prefix = &text[word_start..offset];
    items(model, want)
        .into_iter()
        .filter(|(label, _)| label.starts_with(prefix))
        .collect()
}

/// Where the name being typed at `offset` starts.
pub fn word_start(text: &str, offset: usize) -> usize {
    let before = &text[..offset];
    let mut start = offset;
    for (i, c) in before.char_indices().rev() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            start = i;
        } else {
            break;
        }
    }
    // `a->b`: the arrow's `-` is not part of the name.
    if text[start..].starts_with("->") {
        start += 1;
    }
    start
}

fn is_keyword(word: &str) -> bool {
    crate::syntax::ITEM_KEYWORDS.contains(&word)
}

/// The start of the item the cursor is in: the last line at or before it
/// whose first word is an item keyword (as the parser's recovery sees
/// items).
fn item_start(text: &str, pos: usize) -> usize {
    let mut line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    loop {
        let line = &text[line_start..];
        let first = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - first.len();
        let word: &str = first
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .next()
            .unwrap_or_default();
        // The word being typed itself is not a keyword yet.
        if is_keyword(word) && line_start + indent + word.len() <= pos {
            return line_start + indent;
        }
        if line_start == 0 {
            return 0;
        }
        line_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
}

/// The tokens of `text` (no comments); `None` when it ends inside a
/// string or a comment (nothing to complete there).
fn tokens(text: &str) -> Option<Vec<Tok<'_>>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => loop {
                match chars.next() {
                    Some((_, '\n')) => break,
                    Some(_) => {}
                    None => return None,
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        chars.next();
                    }
                    Some((_, '"')) => {
                        out.push(Tok::Str);
                        break;
                    }
                    Some((_, '\n')) | None => return None,
                    Some(_) => {}
                }
            },
            '-' | '~' if chars.peek().map(|p| p.1) == Some('>') => {
                chars.next();
                out.push(Tok::Sym(&text[i..i + 2]));
            }
            ':' | ',' | '[' | ']' | '{' | '}' | '=' | '*' => out.push(Tok::Sym(&text[i..i + 1])),
            c if c.is_alphanumeric() || c == '_' || c == '.' || c == '/' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    let arrow = d == '-' && text[j..].starts_with("->");
                    if (d.is_alphanumeric() || matches!(d, '_' | '-' | '.' | '/')) && !arrow {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(&text[i..end]));
            }
            _ => {}
        }
    }
    Some(out)
}

/// What is wanted at `pos` (the start of the word being typed).
fn want(text: &str, pos: usize) -> Option<Want> {
    let start = item_start(text, pos);
    let toks = tokens(&text[start..pos])?;
    // The rest of the cursor's line must not be inside a comment or string.
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    tokens(&text[line_start..pos])?;
    let at_line_start = text[line_start..pos].trim().is_empty();
    let depth: i32 = (toks.iter())
        .map(|t| match t {
            Tok::Sym("[" | "{") => 1,
            Tok::Sym("]" | "}") => -1,
            _ => 0,
        })
        .sum();
    let last = toks.last();
    let continues = matches!(
        last,
        Some(Tok::Sym("," | "->" | "~>" | ":" | "=" | "[" | "{"))
    ) || matches!(last, Some(Tok::Word("in" | "on" | "namespace")))
        || toks.len() == 1;
    if toks.is_empty() || (at_line_start && depth <= 0 && !continues) {
        return Some(Want::Keywords);
    }
    let Tok::Word(keyword) = toks[0] else {
        return None;
    };
    match keyword {
        "allow" | "forbid" => statement(&toks[1..], depth),
        "accept" => match &toks[1..] {
            [] => Some(Want::Lints),
            [_, Tok::Word("on"), rest @ ..] => statement(rest, depth)
                .filter(|w| matches!(w, Want::Subjects | Want::Targets | Want::Namespaces)),
            _ => None,
        },
        "lint" => match &toks[1..] {
            [] => Some(Want::Lints),
            [_, Tok::Sym("=")] => Some(Want::Levels),
            _ => None,
        },
        "pod" => match &toks[1..] {
            [_, Tok::Sym("="), Tok::Sym("["), rest @ ..]
                if depth == 1 && matches!(rest.last(), None | Some(Tok::Sym(","))) =>
            {
                Some(Want::Apps)
            }
            _ => None,
        },
        "platform" => block(None, &toks[1..]),
        "environment" | "namespace" | "persona" | "app" | "store" | "external" => {
            let kind = match keyword {
                "environment" => DeclKind::Environment,
                "namespace" => DeclKind::Namespace,
                "persona" => DeclKind::Persona,
                "app" => DeclKind::App,
                "store" => DeclKind::Store,
                _ => DeclKind::External,
            };
            if depth == 0 && last == Some(&Tok::Word("in")) && toks.len() >= 3 {
                return matches!(kind, DeclKind::App | DeclKind::Store).then_some(Want::Namespaces);
            }
            block(Some(kind), &toks[1..])
        }
        _ => None,
    }
}

/// In a declaration's `{ }` block: a key (or, after `key =`, a value) of
/// the declaration's own block; nothing in nested maps.
fn block(kind: Option<DeclKind>, toks: &[Tok<'_>]) -> Option<Want> {
    let open = toks.iter().position(|t| *t == Tok::Sym("{"))?;
    let inner = &toks[open + 1..];
    let mut depth = 0;
    let mut given = Vec::new();
    let mut expect_key = true;
    for (i, t) in inner.iter().enumerate() {
        match t {
            Tok::Sym("{" | "[") => depth += 1,
            Tok::Sym("}" | "]") if depth == 0 => return None,
            Tok::Sym("}" | "]") => depth -= 1,
            Tok::Word(w) if depth == 0 && expect_key => {
                given.push(w.to_string());
                expect_key = false;
                // A flag (`{ external }`) is followed by the next key.
                if !matches!(inner.get(i + 1), Some(Tok::Sym("="))) {
                    expect_key = true;
                }
            }
            Tok::Sym("=") if depth == 0 => {}
            _ if depth == 0 => expect_key = true,
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    if let [.., Tok::Word(key), Tok::Sym("=")] = inner {
        let values: &'static [&'static str] = match *key {
            "engine" => Engine::NAMES,
            "classification" | "clearance" => Classification::NAMES,
            "pod_security" => PodSecurity::NAMES,
            _ => return None,
        };
        return Some(Want::Values(values));
    }
    Some(Want::Keys { kind, given })
}

/// In `allow`/`forbid` (and `accept … on`), after the keyword.
fn statement(toks: &[Tok<'_>], depth: i32) -> Option<Want> {
    let arrow = toks.iter().position(|t| matches!(t, Tok::Sym("->" | "~>")));
    let colon = toks.iter().position(|t| *t == Tok::Sym(":"));
    let last = toks.last();
    if last == Some(&Tok::Word("namespace")) {
        return Some(Want::Namespaces);
    }
    // A name just written (not after `,` or `[`) is complete.
    let after_separator = matches!(
        last,
        None | Some(Tok::Sym("," | "[" | "->" | "~>" | ":")) | Some(Tok::Word("in"))
    );
    match (arrow, colon) {
        (None, _) if after_separator => Some(Want::Subjects),
        (Some(a), None) => {
            if toks[a + 1..].contains(&Tok::Word("in")) {
                return (last == Some(&Tok::Word("in")) || last == Some(&Tok::Sym(",")))
                    .then_some(Want::Environments);
            }
            after_separator.then_some(Want::Targets)
        }
        (Some(a), Some(c)) if c > a => {
            let access = &toks[c + 1..];
            if let Some(i) = access.iter().position(|t| *t == Tok::Word("in")) {
                let envs = &access[i..];
                return matches!(envs.last(), Some(Tok::Word("in") | Tok::Sym(",")))
                    .then_some(Want::Environments);
            }
            if depth != 0 || !after_separator {
                return None;
            }
            Some(Want::Access {
                subjects: targets(&toks[..a]),
                targets: targets(&toks[a + 1..c]),
            })
        }
        _ => None,
    }
}

/// The subjects or targets written in `toks`.
fn targets(toks: &[Tok<'_>]) -> Vec<Target> {
    let mut out = Vec::new();
    let mut it = toks.iter().peekable();
    while let Some(t) = it.next() {
        match t {
            Tok::Word("namespace") => {
                if let Some(Tok::Word(ns)) = it.next() {
                    out.push(Target::Namespace(ns.to_string()));
                }
            }
            Tok::Word(w) => out.push(Target::Name(w.to_string())),
            Tok::Sym("*") => out.push(Target::Star),
            _ => {}
        }
    }
    out
}

fn item(
    label: &str,
    kind: lsp::CompletionItemKind,
    detail: String,
) -> (String, lsp::CompletionItem) {
    (
        label.to_string(),
        lsp::CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then_some(detail),
            ..Default::default()
        },
    )
}

/// Every persona, app, store and external, with `internet` and `kube`.
fn entities(model: &Model) -> Vec<Entity> {
    let n = |len: usize| 0..len as u32;
    (n(model.personas.len()).map(|i| Entity::Persona(PersonaId(i))))
        .chain(n(model.apps.len()).map(|i| Entity::App(crate::model::AppId(i))))
        .chain(n(model.stores.len()).map(|i| Entity::Store(StoreId(i))))
        .chain(n(model.externals.len()).map(|i| Entity::External(ExternalId(i))))
        .chain([Entity::Internet, Entity::Kube])
        .collect()
}

fn describe(model: &Model, e: Entity) -> String {
    match e {
        Entity::App(a) => {
            let ns = model.apps[a.index()].namespace;
            match model.namespaces.get(ns.index()) {
                Some(n) => format!("app in {}", n.name),
                None => "app".into(),
            }
        }
        Entity::Store(s) => match &model.stores[s.index()].location {
            StoreLocation::InCluster(ns) => match model.namespaces.get(ns.index()) {
                Some(n) => format!("store in {}", n.name),
                None => "store".into(),
            },
            StoreLocation::Outside(_) => "store outside the cluster".into(),
        },
        Entity::Internet => "built-in: anyone outside the cluster, any public address".into(),
        Entity::Kube => "built-in: the Kubernetes API".into(),
        _ => model.kind_of(e).to_string(),
    }
}

fn entity_kind(e: Entity) -> lsp::CompletionItemKind {
    match e {
        Entity::Persona(_) => lsp::CompletionItemKind::INTERFACE,
        Entity::App(_) => lsp::CompletionItemKind::CLASS,
        Entity::Store(_) => lsp::CompletionItemKind::STRUCT,
        Entity::External(_) => lsp::CompletionItemKind::REFERENCE,
        Entity::Internet | Entity::Kube => lsp::CompletionItemKind::CONSTANT,
    }
}

/// Who can be a subject (anything else is an error in every statement)
/// and what can be a target.
fn can_be(model: &Model, e: Entity, subject: bool) -> bool {
    match e {
        Entity::Persona(_) => subject,
        Entity::App(_) => true,
        Entity::Store(s) => {
            !subject
                || matches!(
                    model.stores[s.index()].location,
                    StoreLocation::InCluster(_)
                )
        }
        Entity::External(_) | Entity::Kube => !subject,
        Entity::Internet => true,
    }
}

/// The entities `t` stands for.
fn expand(model: &Model, t: &Target, subject: bool) -> Vec<Entity> {
    match t {
        Target::Name(n) => match n.as_str() {
            "internet" => vec![Entity::Internet],
            "kube" => vec![Entity::Kube],
            _ => model.lookup(n).into_iter().collect(),
        },
        Target::Namespace(ns) => (entities(model).into_iter())
            .filter(|e| match e {
                Entity::App(a) => model.namespace(model.apps[a.index()].namespace).name == *ns,
                Entity::Store(s) if !subject => matches!(
                    model.stores[s.index()].location,
                    StoreLocation::InCluster(n) if model.namespace(n).name == *ns
                ),
                _ => false,
            })
            .collect(),
        Target::Star => (entities(model).into_iter())
            .filter(|e| match e {
                Entity::Persona(_) | Entity::App(_) => true,
                Entity::Store(_) | Entity::External(_) => !subject,
                _ => false,
            })
            .collect(),
    }
}

/// At most this many (subject, target) pairs are tried for access words
/// (`* -> *` in a large model: the union is long complete by then).
const MAX_PAIRS: usize = 2_000;

fn items(model: &Model, want: Want) -> Vec<(String, lsp::CompletionItem)> {
    use lsp::CompletionItemKind as K;
    match want {
        Want::Keywords => (crate::syntax::ITEM_KEYWORDS.iter())
            .map(|k| item(k, K::KEYWORD, String::new()))
            .collect(),
        Want::Subjects | Want::Targets => {
            let subject = want == Want::Subjects;
            let mut out: Vec<_> = (entities(model).into_iter())
                .filter(|&e| can_be(model, e, subject))
                .map(|e| item(model.name_of(e), entity_kind(e), describe(model, e)))
                .collect();
            out.push(item(
                "namespace",
                K::KEYWORD,
                "`namespace NAME`: everything in a namespace".into(),
            ));
            out
        }
        Want::Access { subjects, targets } => {
            let subjects: Vec<Entity> = subjects
                .iter()
                .flat_map(|t| expand(model, t, true))
                .collect();
            let targets: Vec<Entity> = targets
                .iter()
                .flat_map(|t| expand(model, t, false))
                .collect();
            let mut words: Vec<String> = Vec::new();
            let pairs = subjects
                .iter()
                .flat_map(|&s| targets.iter().map(move |&t| (s, t)));
            for (s, t) in pairs.take(MAX_PAIRS) {
                for w in crate::resolve::access_words(model, s, t) {
                    if !words.contains(&w) {
                        words.push(w);
                    }
                }
            }
            (words.iter())
                .map(|w| item(w, K::ENUM_MEMBER, access_detail(w)))
                .collect()
        }
        Want::Namespaces => (model.namespaces.iter())
            .map(|n| {
                item(
                    &n.name,
                    K::MODULE,
                    n.description.clone().unwrap_or_default(),
                )
            })
            .collect(),
        Want::Environments => (model.environments.iter())
            .map(|e| {
                item(
                    &e.name,
                    K::ENUM_MEMBER,
                    e.description.clone().unwrap_or_default(),
                )
            })
            .collect(),
        Want::Apps => (model.apps.iter())
            .map(|a| {
                let ns = model.namespaces.get(a.namespace.index());
                let detail = ns.map(|n| format!("app in {}", n.name)).unwrap_or_default();
                item(&a.name, K::CLASS, detail)
            })
            .collect(),
        Want::Lints => (crate::lints::LINTS.iter())
            .filter(|l| l.name != crate::model::INVARIANT_VIOLATED)
            .map(|l| {
                item(
                    l.name,
                    K::CONSTANT,
                    format!("{} (default: {})", l.summary, l.default.as_str()),
                )
            })
            .collect(),
        Want::Levels => ["allow", "warn", "deny"]
            .iter()
            .map(|l| item(l, K::VALUE, String::new()))
            .collect(),
        Want::Keys { kind, given } => (crate::resolve::property_keys(kind).iter())
            .filter(|k| !given.iter().any(|g| g == *k))
            .map(|k| item(k, K::PROPERTY, String::new()))
            .collect(),
        Want::Values(values) => (values.iter())
            .map(|v| item(v, K::VALUE, String::new()))
            .collect(),
    }
}

fn access_detail(word: &str) -> String {
    if crate::model::Operation::NAMES.contains(&word) {
        "Kubernetes API operation on the workload".into()
    } else if matches!(word, "read" | "write" | "admin") {
        "the store's credentials of this level".into()
    } else {
        // A port name of the target, or a `kube` verb.
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(model: &Model, text: &str) -> Vec<String> {
        let at = text.find('|').expect("a cursor");
        let text = text.replace('|', "");
        complete(model, &text, at)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    const MODEL: &str = r#"system shop
platform { ingress = { namespace = "ingress", pods = { app = "ingress" } } }
environment dev
environment prod
namespace web
namespace data
persona dev-team { group = "devs" }
persona customer { external }
app front in web { image = "x@sha256:1"  ports = { http = 8080, metrics = 9090 } }
app api in web { image = "x@sha256:1"  ports = { grpc = 9000 } }
store db in data { engine = postgres }
external pay { address = "203.0.113.0/24"  ports = { https = 443 } }
"#;

    fn model() -> Model {
        let c = crate::compile_str("m.sec", MODEL);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.model
    }

    #[test]
    fn names_go_where_names_of_their_kind_go() {
        let m = model();
        let subjects = labels(&m, "allow |");
        assert!(subjects.contains(&"dev-team".to_string()), "{subjects:?}");
        assert!(!subjects.contains(&"pay".to_string()), "{subjects:?}");
        assert!(!subjects.contains(&"kube".to_string()), "{subjects:?}");
        let targets = labels(&m, "allow dev-team -> [front, |");
        assert!(targets.contains(&"pay".to_string()) && targets.contains(&"kube".to_string()));
        assert!(!targets.contains(&"customer".to_string()), "{targets:?}");
        assert_eq!(labels(&m, "allow dev-team -> f|"), ["front"]);
        assert_eq!(labels(&m, "allow dev-team -> namespace |"), ["web", "data"]);
        assert_eq!(labels(&m, "app x in |"), ["web", "data"]);
        assert_eq!(labels(&m, "allow front -> api: grpc in |"), ["dev", "prod"]);
        assert_eq!(labels(&m, "allow front -> api: grpc in dev, p|"), ["prod"]);
        assert_eq!(labels(&m, "pod p = [front, |"), ["front", "api"]);
    }

    #[test]
    fn access_words_follow_the_kinds() {
        let m = model();
        // internal persona → app: operations and the app's ports
        let w = labels(&m, "allow dev-team -> front: |");
        assert_eq!(
            w,
            [
                "view",
                "logs",
                "exec",
                "portforward",
                "restart",
                "scale",
                "deploy",
                "http",
                "metrics"
            ]
        );
        // external persona → app: ports only
        assert_eq!(
            labels(&m, "allow customer -> front: |"),
            ["http", "metrics"]
        );
        // app → store: levels; app → app: the target's ports
        assert_eq!(
            labels(&m, "allow api -> db: read, |"),
            ["read", "write", "admin"]
        );
        assert_eq!(labels(&m, "allow front -> api:|"), ["grpc"]);
        assert_eq!(
            labels(&m, "allow front -> [api, pay]: |"),
            ["grpc", "https"]
        );
        assert_eq!(
            labels(&m, "allow front -> namespace web: |"),
            ["http", "metrics", "grpc"]
        );
        let kube = labels(&m, "allow api -> kube: |");
        assert!(kube.contains(&"get".to_string()) && kube.contains(&"create".to_string()));
        // a complete word is not followed by another without a comma
        assert!(labels(&m, "allow front -> api: grpc |").is_empty());
    }

    #[test]
    fn keys_values_lints_and_keywords() {
        let m = model();
        assert_eq!(
            labels(&m, "app x in web { image = \"i\" |"),
            [
                "ports",
                "replicas",
                "resources",
                "health",
                "env",
                "env_from",
                "command",
                "args",
                "run_as",
                "selector",
                "workload",
                "service_account"
            ]
        );
        assert_eq!(
            labels(&m, "store s in data {\n  |"),
            [
                "engine",
                "port",
                "classification",
                "address",
                "selector",
                "workload",
                "service_account"
            ]
        );
        assert_eq!(labels(&m, "persona p { external  c|"), ["clearance"]);
        assert_eq!(labels(&m, "store s in data { engine = |"), Engine::NAMES);
        assert!(labels(&m, "app x in web { health = { |").is_empty());
        let lints = labels(&m, "accept |");
        assert!(lints.contains(&"namespace-wide-grant".to_string()));
        assert!(!lints.contains(&"invariant-violated".to_string()));
        assert_eq!(
            labels(&m, "lint unpinned-image = |"),
            ["allow", "warn", "deny"]
        );
        assert_eq!(
            labels(&m, "accept exec-inherits-identity on dev-team -> f|"),
            ["front"]
        );
        assert_eq!(labels(&m, "allow front -> api: grpc\nal|"), ["allow"]);
        assert!(labels(&m, "allow front -> api: grpc\n|").contains(&"forbid".to_string()));
        // in comments and strings: nothing
        assert!(labels(&m, "allow front -> api: grpc # |").is_empty());
        assert!(labels(&m, "allow front -> api: grpc \"why |").is_empty());
    }
}

//! pest pairs → AST: one small function per grammar rule. Offsets are
//! shifted by `base`, the byte where the item's parse started.

use super::ast::*;
use super::Rule;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::span::{FileId, Span};
use pest::iterators::{Pair, Pairs};

pub struct Cx {
    pub file: FileId,
    pub base: usize,
}

impl Cx {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.base + s.start(), self.base + s.end())
    }

    /// A rule's span without the whitespace and comments pest's implicit
    /// trivia may have consumed after its last token (an optional trailing
    /// part that did not match): it ends where its last child ends.
    fn tight_span(&self, p: &Pair<'_, Rule>) -> Span {
        let full = self.span(p);
        match p.clone().into_inner().last() {
            Some(last) => Span::new(
                self.file,
                full.start as usize,
                self.base + last.as_span().end(),
            ),
            None => full,
        }
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    pub fn item(&self, item: Pair<'_, Rule>, diags: &mut Diagnostics) -> Item {
        let p = item.into_inner().next().expect("item has one child");
        let span = self.tight_span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        match rule {
            Rule::system_decl => Item::System(SystemDecl {
                name: self.ident(inner.next().expect("name")),
                description: self.opt_string(&mut inner, Rule::description, diags),
                span,
            }),
            Rule::platform_decl => Item::Platform(PlatformDecl {
                props: self.map(inner.next().expect("map"), diags),
                keyword: Span::new(span.file, span.start as usize, span.start as usize + 8),
                span,
            }),
            Rule::environment_decl => self.decl(DeclKind::Environment, inner, span, diags),
            Rule::namespace_decl => self.decl(DeclKind::Namespace, inner, span, diags),
            Rule::persona_decl => self.decl(DeclKind::Persona, inner, span, diags),
            Rule::app_decl => self.decl(DeclKind::App, inner, span, diags),
            Rule::store_decl => self.decl(DeclKind::Store, inner, span, diags),
            Rule::external_decl => self.decl(DeclKind::External, inner, span, diags),
            Rule::pod_decl => Item::Pod(PodDecl {
                name: self.ident(inner.next().expect("name")),
                apps: self.name_list(inner.next().expect("list")),
                props: inner.next().map(|m| self.map(m, diags)),
                span,
            }),
            Rule::allow_stmt => Item::Allow(self.allow(inner, span, diags)),
            Rule::forbid_stmt => Item::Forbid(self.forbid(inner, span, diags)),
            Rule::accept_stmt => Item::Accept(AcceptStmt {
                lint: self.ident(inner.next().expect("lint")),
                subjects: self.targets(inner.next().expect("subjects")),
                targets: {
                    inner.next(); // arrow
                    self.targets(inner.next().expect("targets"))
                },
                reason: self.string(inner.next().expect("reason"), diags),
                span,
            }),
            Rule::lint_stmt => Item::Lint(LintStmt {
                lint: self.ident(inner.next().expect("lint")),
                level: self.ident(inner.next().expect("level")),
                span,
            }),
            r => unreachable!("grammar item alternative {r:?}"),
        }
    }

    fn decl(
        &self,
        kind: DeclKind,
        mut inner: Pairs<'_, Rule>,
        span: Span,
        diags: &mut Diagnostics,
    ) -> Item {
        let name = self.ident(inner.next().expect("name"));
        let mut d = Decl {
            kind,
            name,
            description: None,
            namespace: None,
            props: None,
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::description => d.description = Some(self.string(p, diags)),
                Rule::in_namespace => {
                    d.namespace = Some(self.ident(p.into_inner().next().expect("name")))
                }
                Rule::map => d.props = Some(self.map(p, diags)),
                r => unreachable!("declaration part {r:?}"),
            }
        }
        Item::Decl(d)
    }

    fn opt_string(
        &self,
        inner: &mut Pairs<'_, Rule>,
        rule: Rule,
        diags: &mut Diagnostics,
    ) -> Option<Str> {
        if inner.peek().is_some_and(|p| p.as_rule() == rule) {
            inner.next().map(|p| self.string(p, diags))
        } else {
            None
        }
    }

    /// A `string` pair, or a `description`/`reason` wrapping one.
    fn string(&self, p: Pair<'_, Rule>, diags: &mut Diagnostics) -> Str {
        let p = if p.as_rule() == Rule::string {
            p
        } else {
            p.into_inner().next().expect("string")
        };
        let span = self.span(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        Str {
            value: unescape(raw, span, diags),
            span,
        }
    }

    fn map(&self, p: Pair<'_, Rule>, diags: &mut Diagnostics) -> Map {
        let span = self.span(&p);
        let entries = p
            .into_inner()
            .map(|e| {
                let espan = self.span(&e);
                let mut parts = e.into_inner();
                let key = parts.next().expect("key").into_inner().next().expect("key");
                let key = if key.as_rule() == Rule::string {
                    let s = self.string(key, diags);
                    Ident {
                        name: s.value,
                        span: s.span,
                    }
                } else {
                    self.ident(key)
                };
                let value = parts.next().map(|v| self.value(v, diags));
                Entry {
                    key,
                    value,
                    span: espan,
                }
            })
            .collect();
        Map { entries, span }
    }

    fn value(&self, p: Pair<'_, Rule>, diags: &mut Diagnostics) -> Value {
        let v = p.into_inner().next().expect("value has one child");
        let span = self.span(&v);
        let kind = match v.as_rule() {
            Rule::map => ValueKind::Map(self.map(v, diags)),
            Rule::list => ValueKind::List(v.into_inner().map(|x| self.value(x, diags)).collect()),
            Rule::string => ValueKind::Str(self.string(v, diags).value),
            Rule::number => ValueKind::Int(number(v.as_str(), span, diags)),
            Rule::port => {
                let (n, proto) = v.as_str().split_once('/').expect("port has /");
                ValueKind::Port {
                    number: number(n, span, diags),
                    protocol: proto.to_string(),
                }
            }
            Rule::quantity => ValueKind::Quantity(v.as_str().to_string()),
            Rule::name => ValueKind::Word(v.as_str().to_string()),
            r => unreachable!("value alternative {r:?}"),
        };
        Value { kind, span }
    }

    fn targets(&self, p: Pair<'_, Rule>) -> TargetSet {
        let span = self.span(&p);
        let t = p.into_inner().next().expect("targets has one child");
        let targets = match t.as_rule() {
            Rule::star => Targets::Star(self.span(&t)),
            Rule::ns_target => Targets::Namespace(self.ident(t.into_inner().next().expect("ns"))),
            Rule::name_list => Targets::Names(self.name_list(t)),
            Rule::name => Targets::Names(vec![self.ident(t)]),
            r => unreachable!("targets alternative {r:?}"),
        };
        TargetSet { targets, span }
    }

    fn name_list(&self, p: Pair<'_, Rule>) -> Vec<Ident> {
        p.into_inner().map(|n| self.ident(n)).collect()
    }

    fn allow(&self, mut inner: Pairs<'_, Rule>, span: Span, diags: &mut Diagnostics) -> AllowStmt {
        let subjects = self.targets(inner.next().expect("subjects"));
        inner.next(); // arrow
        let targets = self.targets(inner.next().expect("targets"));
        let access = self.access_list(inner.next().expect("access"), diags);
        let (envs, reason) = self.tail(inner, diags);
        AllowStmt {
            subjects,
            targets,
            access,
            envs,
            reason,
            span,
        }
    }

    fn forbid(
        &self,
        mut inner: Pairs<'_, Rule>,
        span: Span,
        diags: &mut Diagnostics,
    ) -> ForbidStmt {
        let subjects = self.targets(inner.next().expect("subjects"));
        let arrow = inner.next().expect("arrow");
        let kind = if arrow.as_rule() == Rule::path_arrow {
            ForbidKind::Path
        } else {
            ForbidKind::Direct
        };
        let targets = self.targets(inner.next().expect("targets"));
        let access = match inner.peek() {
            Some(p) if p.as_rule() == Rule::access_list => {
                self.access_list(inner.next().expect("peeked"), diags)
            }
            _ => Vec::new(),
        };
        let (envs, reason) = self.tail(inner, diags);
        ForbidStmt {
            kind,
            subjects,
            targets,
            access,
            envs,
            reason,
            span,
        }
    }

    /// `[in ENV, ...] ["reason"]`
    fn tail(&self, inner: Pairs<'_, Rule>, diags: &mut Diagnostics) -> (Vec<Ident>, Option<Str>) {
        let mut envs = Vec::new();
        let mut reason = None;
        for p in inner {
            match p.as_rule() {
                Rule::env_clause => envs = p.into_inner().map(|n| self.ident(n)).collect(),
                Rule::reason => reason = Some(self.string(p, diags)),
                r => unreachable!("statement tail {r:?}"),
            }
        }
        (envs, reason)
    }

    fn access_list(&self, p: Pair<'_, Rule>, diags: &mut Diagnostics) -> Vec<AccessItem> {
        p.into_inner().map(|a| self.access(a, diags)).collect()
    }

    fn access(&self, p: Pair<'_, Rule>, diags: &mut Diagnostics) -> AccessItem {
        let mut words = p.into_inner();
        let first = self.ident(words.next().expect("word"));
        if let Some(second) = words.next() {
            return AccessItem::Kube {
                verb: first,
                resource: self.ident(second),
            };
        }
        let text = first.name.as_str();
        let (num, proto) = match text.split_once('/') {
            Some((n, p)) => (n, Some(p)),
            None => (text, None),
        };
        if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
            return AccessItem::Port {
                number: number(num, first.span, diags),
                protocol: proto.map(str::to_string),
                span: first.span,
            };
        }
        AccessItem::Word(first)
    }
}

fn number(digits: &str, span: Span, diags: &mut Diagnostics) -> Option<u64> {
    match digits.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            diags.push(
                Diagnostic::error(Code::NumberTooLarge, span, "number too large")
                    .label("does not fit in 64 bits"),
            );
            None
        }
    }
}

/// Resolve `\"` and `\\`; any other escape is an error.
fn unescape(raw: &str, span: Span, diags: &mut Diagnostics) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, e @ ('"' | '\\'))) => out.push(e),
            other => {
                let len = 1 + other.map_or(0, |(_, e)| e.len_utf8());
                let start = span.start as usize + 1 + i;
                let shown = &raw[i..i + len];
                diags.push(
                    Diagnostic::error(
                        Code::BadEscape,
                        Span::new(span.file, start, start + len),
                        format!("unknown escape `{shown}` in a string"),
                    )
                    .label("not an escape")
                    .help("only `\\\"` and `\\\\` are escapes; write other characters as they are"),
                );
                if let Some((_, e)) = other {
                    out.push(e);
                }
            }
        }
    }
    out
}

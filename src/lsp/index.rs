//! Where each name of a model is declared and used: the syntax trees'
//! identifiers, by the name space they live in (docs/language.md, section
//! 2: personas, apps, pods, stores and externals share one; namespaces and
//! environments each have their own; lints are named, never declared).

use crate::span::{FileId, Span};
use crate::syntax::ast::{self, DeclKind, Item, Targets};

/// The name space a name is looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Space {
    /// Personas, apps, pods, stores, externals (and `internet`, `kube`).
    Entity,
    Namespace,
    Environment,
    System,
    /// Lint names (`accept LINT`, `lint LINT`): used, never declared.
    Lint,
}

/// One identifier in the text: a declaration's name or a use.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub name: String,
    pub space: Space,
    pub span: Span,
    /// For a declaration: its keyword (`app`, `pod`, …) and the whole item.
    pub decl: Option<(&'static str, Span)>,
}

/// Every occurrence of every name in the model's files.
#[derive(Debug, Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
}

impl Index {
    pub fn new(files: &[(FileId, ast::File)]) -> Index {
        let mut ix = Index::default();
        for (_, file) in files {
            for item in &file.items {
                ix.item(item);
            }
        }
        ix
    }

    fn decl(&mut self, keyword: &'static str, space: Space, name: &ast::Ident, item: Span) {
        self.occurrences.push(Occurrence {
            name: name.name.clone(),
            space,
            span: name.span,
            decl: Some((keyword, item)),
        });
    }

    fn use_(&mut self, space: Space, name: &ast::Ident) {
        self.occurrences.push(Occurrence {
            name: name.name.clone(),
            space,
            span: name.span,
            decl: None,
        });
    }

    fn targets(&mut self, t: &ast::TargetSet) {
        match &t.targets {
            Targets::Names(names) => names.iter().for_each(|n| self.use_(Space::Entity, n)),
            Targets::Namespace(ns) => self.use_(Space::Namespace, ns),
            Targets::Star(_) => {}
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::System(d) => self.decl("system", Space::System, &d.name, d.span),
            Item::Platform(_) => {}
            Item::Lint(s) => self.use_(Space::Lint, &s.lint),
            Item::Decl(d) => {
                let space = match d.kind {
                    DeclKind::Environment => Space::Environment,
                    DeclKind::Namespace => Space::Namespace,
                    _ => Space::Entity,
                };
                self.decl(d.kind.keyword(), space, &d.name, d.span);
                if let Some(ns) = &d.namespace {
                    self.use_(Space::Namespace, ns);
                }
            }
            Item::Pod(p) => {
                self.decl("pod", Space::Entity, &p.name, p.span);
                p.apps.iter().for_each(|a| self.use_(Space::Entity, a));
            }
            Item::Allow(s) => {
                self.targets(&s.subjects);
                self.targets(&s.targets);
                s.envs.iter().for_each(|e| self.use_(Space::Environment, e));
            }
            Item::Forbid(s) => {
                self.targets(&s.subjects);
                self.targets(&s.targets);
                s.envs.iter().for_each(|e| self.use_(Space::Environment, e));
            }
            Item::Accept(s) => {
                self.use_(Space::Lint, &s.lint);
                self.targets(&s.subjects);
                self.targets(&s.targets);
            }
        }
    }

    /// The occurrence under a byte offset of a file (the offset just after
    /// a name counts, so a cursor at its end finds it).
    pub fn at(&self, file: FileId, offset: u32) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.span.file == file && o.span.start <= offset && offset <= o.span.end)
    }

    /// Every occurrence of a name in a space, declarations first.
    pub fn all(&self, space: Space, name: &str) -> Vec<&Occurrence> {
        let mut out: Vec<&Occurrence> = (self.occurrences.iter())
            .filter(|o| o.space == space && o.name == name)
            .collect();
        out.sort_by_key(|o| o.decl.is_none());
        out
    }

    /// The declarations of a name (more than one is an error E0102, but
    /// each is still a place to go to).
    pub fn declarations(&self, space: Space, name: &str) -> Vec<&Occurrence> {
        (self.all(space, name).into_iter())
            .filter(|o| o.decl.is_some())
            .collect()
    }

    /// The declarations in one file, in order.
    pub fn declarations_in(&self, file: FileId) -> impl Iterator<Item = &Occurrence> {
        (self.occurrences.iter()).filter(move |o| o.span.file == file && o.decl.is_some())
    }
}

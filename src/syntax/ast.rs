//! The owned, typed syntax tree. Every node carries its [`Span`]; no pest
//! type appears here.

use crate::span::Span;

/// A name as written in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal with escapes resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// One parsed `.sec` file.
#[derive(Clone, Debug, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub enum Item {
    System(SystemDecl),
    Platform(PlatformDecl),
    Decl(Decl),
    Pod(PodDecl),
    Allow(AllowStmt),
    Forbid(ForbidStmt),
    Accept(AcceptStmt),
    Lint(LintStmt),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::System(d) => d.span,
            Item::Platform(d) => d.span,
            Item::Decl(d) => d.span,
            Item::Pod(d) => d.span,
            Item::Allow(s) => s.span,
            Item::Forbid(s) => s.span,
            Item::Accept(s) => s.span,
            Item::Lint(s) => s.span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SystemDecl {
    pub name: Ident,
    pub description: Option<Str>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PlatformDecl {
    pub props: Map,
    /// The `platform` keyword.
    pub keyword: Span,
    pub span: Span,
}

/// The kinds of declaration that share the `KEYWORD NAME "desc" [in NS] {..}` form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclKind {
    Environment,
    Namespace,
    Persona,
    App,
    Store,
    External,
}

impl DeclKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Environment => "environment",
            DeclKind::Namespace => "namespace",
            DeclKind::Persona => "persona",
            DeclKind::App => "app",
            DeclKind::Store => "store",
            DeclKind::External => "external",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: Ident,
    pub description: Option<Str>,
    /// `in NAMESPACE` (apps and stores).
    pub namespace: Option<Ident>,
    pub props: Option<Map>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PodDecl {
    pub name: Ident,
    pub apps: Vec<Ident>,
    /// `{ selector = ..., workload = ..., service_account = ... }`
    pub props: Option<Map>,
    pub span: Span,
}

/// `{ key = value ... }`; a key without `= value` is a flag (`{ external }`).
#[derive(Clone, Debug)]
pub struct Map {
    pub entries: Vec<Entry>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Ident,
    pub value: Option<Value>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ValueKind {
    Str(String),
    /// A non-negative integer literal; `None` when it does not fit in u64.
    Int(Option<u64>),
    /// A bare word: `postgres`, `restricted`, `true`, `http`.
    Word(String),
    /// A quantity such as `500m`, `16Gi`, `0.5`.
    Quantity(String),
    /// `8080/tcp` — the protocol as written.
    Port {
        number: Option<u64>,
        protocol: String,
    },
    List(Vec<Value>),
    Map(Map),
}

impl ValueKind {
    /// How the value is described to users in type errors.
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "an integer",
            ValueKind::Word(_) => "a word",
            ValueKind::Quantity(_) => "a quantity",
            ValueKind::Port { .. } => "a port",
            ValueKind::List(_) => "a list",
            ValueKind::Map(_) => "a map",
        }
    }
}

/// Subjects or targets of a statement.
#[derive(Clone, Debug)]
pub enum Targets {
    Names(Vec<Ident>),
    /// `namespace NAME`: every app and store in it.
    Namespace(Ident),
    /// `*`: every declared thing the access can apply to.
    Star(Span),
}

#[derive(Clone, Debug)]
pub struct TargetSet {
    pub targets: Targets,
    pub span: Span,
}

/// One access item as written.
#[derive(Clone, Debug)]
pub enum AccessItem {
    /// `read`, `http`, `logs`.
    Word(Ident),
    /// `8080`, `53/udp`.
    Port {
        number: Option<u64>,
        protocol: Option<String>,
        span: Span,
    },
    /// `create jobs.batch` (app → kube).
    Kube { verb: Ident, resource: Ident },
}

impl AccessItem {
    pub fn span(&self) -> Span {
        match self {
            AccessItem::Word(i) => i.span,
            AccessItem::Port { span, .. } => *span,
            AccessItem::Kube { verb, resource } => verb.span.to(resource.span),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AllowStmt {
    pub subjects: TargetSet,
    pub targets: TargetSet,
    pub access: Vec<AccessItem>,
    pub envs: Vec<Ident>,
    pub reason: Option<Str>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForbidKind {
    /// `forbid A -> B`: direct effective access.
    Direct,
    /// `forbid A ~> B`: any path.
    Path,
}

#[derive(Clone, Debug)]
pub struct ForbidStmt {
    pub kind: ForbidKind,
    pub subjects: TargetSet,
    pub targets: TargetSet,
    /// Empty: any access.
    pub access: Vec<AccessItem>,
    pub envs: Vec<Ident>,
    pub reason: Option<Str>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct AcceptStmt {
    pub lint: Ident,
    pub subjects: TargetSet,
    pub targets: TargetSet,
    pub reason: Str,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LintStmt {
    pub lint: Ident,
    pub level: Ident,
    pub span: Span,
}

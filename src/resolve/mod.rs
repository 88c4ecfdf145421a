//! Resolution: syntax trees → [`Model`]. Binds every name (with
//! did-you-mean), rejects duplicates across files, checks names against
//! Kubernetes' rules, types every property, forms pod groups, and expands
//! statements into grants after checking that each access is valid for its
//! subject and target. Every problem is reported in one run.

mod bindings;
mod decls;
pub mod identities;
pub mod names;
mod props;
mod run;
mod statements;

pub use props::parse_cidr;

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::SourceMap;
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, Decl, DeclKind, Item};
use foldhash::{HashMap, HashMapExt};

/// Namespace id used when an app's namespace could not be resolved; a model
/// with errors never reaches later stages.
pub const UNRESOLVED_NS: NsId = NsId(u32::MAX);

/// Names of the NetworkPolicies every namespace gets; a pod group or store
/// of that name would collide with them.
const BASELINE_POLICIES: &[&str] = &["default-deny", "allow-dns"];

/// What a global name is bound to during resolution.
#[derive(Clone, Copy, Debug)]
enum Sym {
    Entity(Entity),
    Pod(PodId),
}

struct Resolver<'a> {
    model: Model,
    diags: &'a mut Diagnostics,
    /// Global names (personas, apps, pods, stores, externals) with their spans.
    symbols: HashMap<String, (Sym, Span)>,
    namespaces: HashMap<String, NsId>,
    environments: HashMap<String, EnvId>,
    /// The lints `accept` and `lint` statements may name.
    lints: &'a [&'static LintInfo],
}

/// Resolve the parsed files of one model; `lints` is the lint catalogue
/// (`crate::lints::LINTS`), handed in by the pipeline: the lints run later.
pub fn resolve(
    files: &[(FileId, ast::File)],
    sources: &SourceMap,
    lints: &[&'static LintInfo],
    diags: &mut Diagnostics,
) -> Model {
    let mut r = Resolver {
        model: Model::default(),
        diags,
        lints,
        symbols: HashMap::new(),
        namespaces: HashMap::new(),
        environments: HashMap::new(),
    };
    r.model.files = sources.files().map(|(_, f)| f.name.clone()).collect();
    let items: Vec<&Item> = files.iter().flat_map(|(_, f)| f.items.iter()).collect();
    r.singletons(&items, sources);
    r.declarations(&items);
    run::credentials_in_env_from(&r.model, r.diags);
    run::limits_for_quotas(&r.model, r.diags);
    r.pods(&items);
    r.platform_namespaces();
    for (name, (sym, _)) in &r.symbols {
        if let Sym::Entity(e) = sym {
            r.model.bind(name.clone(), *e);
        }
    }
    for item in &items {
        statements::statement(&mut r, item);
    }
    bindings::check(&r.model, r.diags);
    r.model
}

impl Resolver<'_> {
    fn singletons(&mut self, items: &[&Item], sources: &SourceMap) {
        let mut system: Option<Span> = None;
        let mut platform: Option<Span> = None;
        for item in items {
            match item {
                Item::System(s) => {
                    if let Some(first) = system {
                        self.diags
                            .push(duplicate_singleton("system", s.name.span, first));
                        continue;
                    }
                    system = Some(s.name.span);
                    if let Some(d) =
                        names::check_name("system", &s.name.name, s.name.span, ("", ""))
                    {
                        self.diags.push(d);
                    }
                    self.model.system = System {
                        name: s.name.name.clone(),
                        description: s.description.as_ref().map(|d| d.value.clone()),
                        span: Some(s.name.span),
                    };
                }
                Item::Platform(p) => {
                    if let Some(first) = platform {
                        self.diags
                            .push(duplicate_singleton("platform", p.keyword, first));
                        continue;
                    }
                    platform = Some(p.keyword);
                    self.model.platform = decls::platform(p, self.diags);
                }
                _ => {}
            }
        }
        let unparsed = self.diags.iter().any(|d| d.code == Code::TooDeep);
        if system.is_none() && !unparsed {
            let (file, name) = sources
                .files()
                .next()
                .map_or((FileId(0), "the model".to_string()), |(id, f)| {
                    (id, f.name.clone())
                });
            let d = Diagnostic::error(Code::MissingSystem, Span::new(file, 0, 0), "the model has no `system` declaration")
                .label("expected `system NAME` in one of the model's files")
                .help("add `system NAME \"what the system is\"`; it names the system in every generated object")
                .note(format!("looked in {} file(s), starting with `{name}`", sources.len()));
            self.diags.push(d);
        }
    }

    /// Environments, namespaces, then personas/apps/stores/externals.
    fn declarations(&mut self, items: &[&Item]) {
        let decls: Vec<&Decl> = items
            .iter()
            .filter_map(|i| match i {
                Item::Decl(d) => Some(d),
                _ => None,
            })
            .collect();
        for d in decls.iter().filter(|d| d.kind == DeclKind::Environment) {
            if self.unique_in(&d.name, Table::Environments) {
                let id = EnvId(self.model.environments.len() as u32);
                self.environments.insert(d.name.name.clone(), id);
                self.model
                    .environments
                    .push(decls::environment(d, self.diags));
            }
        }
        for d in decls.iter().filter(|d| d.kind == DeclKind::Namespace) {
            if self.unique_in(&d.name, Table::Namespaces) {
                if let Some(e) = identities::namespace_error(&d.name.name, d.name.span) {
                    self.diags.push(e);
                }
                let id = NsId(self.model.namespaces.len() as u32);
                self.namespaces.insert(d.name.name.clone(), id);
                self.model.namespaces.push(decls::namespace(d, self.diags));
            }
        }
        for d in decls
            .iter()
            .filter(|d| !matches!(d.kind, DeclKind::Environment | DeclKind::Namespace))
        {
            self.entity(d);
        }
    }

    fn entity(&mut self, d: &Decl) {
        let (what, affix) = match d.kind {
            DeclKind::Persona => ("persona", ("persona-", "")),
            DeclKind::App => ("app", ("app-", "")),
            DeclKind::Store => ("store", ("", "-admin")),
            _ => ("external", ("", "")),
        };
        if !self.global_unique(&d.name, what, affix) {
            return;
        }
        let entity = match d.kind {
            DeclKind::Persona => {
                let p = decls::persona(d, self.diags);
                self.model.personas.push(p);
                Entity::Persona(PersonaId(self.model.personas.len() as u32 - 1))
            }
            DeclKind::App => {
                let ns = match &d.namespace {
                    Some(ns) => self.namespace_ref(ns),
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                Code::MissingProperty,
                                d.name.span,
                                format!("app `{}` is in no namespace", d.name.name),
                            )
                            .label("missing `in NAMESPACE`")
                            .help(format!(
                                "write `app {} in NAMESPACE {{ ... }}`",
                                d.name.name
                            )),
                        );
                        UNRESOLVED_NS
                    }
                };
                let a = decls::app(d, ns, self.diags);
                self.model.apps.push(a);
                Entity::App(AppId(self.model.apps.len() as u32 - 1))
            }
            DeclKind::Store => {
                let ns = d.namespace.as_ref().map(|ns| self.namespace_ref(ns));
                let s = decls::store(d, ns.filter(|n| *n != UNRESOLVED_NS), self.diags);
                self.model.stores.push(s);
                Entity::Store(StoreId(self.model.stores.len() as u32 - 1))
            }
            _ => {
                let x = decls::external(d, self.diags);
                self.model.externals.push(x);
                Entity::External(ExternalId(self.model.externals.len() as u32 - 1))
            }
        };
        self.symbols
            .insert(d.name.name.clone(), (Sym::Entity(entity), d.name.span));
    }

    /// The ingress controller and DNS run in namespaces palisade does not
    /// manage: in a model namespace, its default-deny would cut them off.
    fn platform_namespaces(&mut self) {
        let p = &self.model.platform;
        let mut clashes = Vec::new();
        if let Some(ingress) = &p.ingress {
            clashes.push(("ingress", ingress.namespace.clone()));
        }
        clashes.push(("dns", p.dns.namespace.clone()));
        for (what, ns) in clashes {
            let Some(id) = self.namespaces.get(&ns) else {
                continue;
            };
            let decl = self.model.namespaces[id.index()].span;
            let at = self.model.platform.span.unwrap_or(decl);
            self.diags.push(
                Diagnostic::error(
                    Code::WrongKind,
                    at,
                    format!("`platform.{what}` runs in namespace `{ns}`, which the model declares"),
                )
                .label(format!("the {what} pods live in `{ns}`"))
                .secondary(decl, "declared here: palisade would default-deny it")
                .help(format!(
                    "keep the {what} pods in a namespace the model does not declare"
                )),
            );
        }
    }

    /// Bind a namespace reference (`in NS`, `namespace NS`).
    fn namespace_ref(&mut self, name: &ast::Ident) -> NsId {
        if let Some(id) = self.namespaces.get(&name.name) {
            return *id;
        }
        let mut d = Diagnostic::error(
            Code::Undeclared,
            name.span,
            format!("namespace `{}` is not declared", names::shorten(&name.name)),
        )
        .label("not declared");
        if let Some((_, span)) = self.symbols.get(&name.name) {
            d = Diagnostic::error(
                Code::WrongKind,
                name.span,
                format!("`{}` is not a namespace", name.name),
            )
            .label("expected a namespace")
            .secondary(*span, "declared here as something else");
        } else if let Some(s) =
            crate::suggest::closest(&name.name, self.namespaces.keys().map(String::as_str))
        {
            d = d.help(format!("did you mean `{s}`?"));
        } else {
            d = d.help(format!(
                "declare it: `namespace {} \"...\"`",
                names::shorten(&name.name)
            ));
        }
        self.diags.push(d);
        UNRESOLVED_NS
    }

    fn unique_in(&mut self, name: &ast::Ident, table: Table) -> bool {
        let (what, map_has) = match table {
            Table::Namespaces => (
                "namespace",
                self.namespaces
                    .get(&name.name)
                    .map(|id| self.model.namespaces[id.index()].span),
            ),
            Table::Environments => (
                "environment",
                self.environments
                    .get(&name.name)
                    .map(|id| self.model.environments[id.index()].span),
            ),
        };
        if let Some(d) = names::check_name(what, &name.name, name.span, ("", "")) {
            self.diags.push(d);
        }
        if let Some(first) = map_has {
            self.diags.push(duplicate(what, name, first));
            return false;
        }
        true
    }

    /// Check a global name; returns false (and reports) when it is taken.
    fn global_unique(&mut self, name: &ast::Ident, what: &str, affix: (&str, &str)) -> bool {
        if matches!(name.name.as_str(), "internet" | "kube") {
            self.diags.push(
                Diagnostic::error(
                    Code::Reserved,
                    name.span,
                    format!("`{}` is a reserved name", name.name),
                )
                .label("built in")
                .help(if name.name == "internet" {
                    "`internet` already stands for anyone outside the cluster; choose another name"
                } else {
                    "`kube` already stands for the Kubernetes API; choose another name"
                }),
            );
            return false;
        }
        if let Some(d) = names::check_name(what, &name.name, name.span, affix) {
            self.diags.push(d);
        }
        if matches!(what, "app" | "pod") && name.name == "default" {
            self.diags.push(
                Diagnostic::error(Code::Reserved, name.span, "`default` is a reserved name")
                    .label("the ServiceAccount every pod of a namespace runs as unless it names another")
                    .note("palisade names a pod group's ServiceAccount after it: this one's Role, RoleBinding and token would belong to every such pod")
                    .help("choose another name"),
            );
        }
        if matches!(what, "app" | "pod" | "store")
            && BASELINE_POLICIES.contains(&name.name.as_str())
        {
            self.diags.push(
                Diagnostic::error(Code::Reserved, name.span, format!("`{}` is a reserved name", name.name))
                    .label("the name of a generated NetworkPolicy")
                    .help("every namespace gets NetworkPolicies `default-deny` and `allow-dns`; choose another name"),
            );
            return false;
        }
        if let Some((_, first)) = self.symbols.get(&name.name) {
            self.diags.push(duplicate(what, name, *first));
            return false;
        }
        true
    }

    fn pods(&mut self, items: &[&Item]) {
        let mut member_of: HashMap<AppId, (PodId, Span)> = HashMap::new();
        for item in items {
            let Item::Pod(p) = item else { continue };
            if !self.global_unique(&p.name, "pod", ("app-", "")) {
                continue;
            }
            let id = PodId(self.model.pods.len() as u32);
            let mut apps = Vec::new();
            for a in &p.apps {
                match self.symbols.get(&a.name) {
                    Some((Sym::Entity(Entity::App(app)), _)) => {
                        if let Some((_, first)) = member_of.get(app) {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::AppInTwoPods,
                                    a.span,
                                    format!("app `{}` is already in a pod", a.name),
                                )
                                .label("second pod")
                                .secondary(*first, "first pod membership here")
                                .help("an app runs in exactly one pod; remove it from one of them"),
                            );
                            continue;
                        }
                        member_of.insert(*app, (id, a.span));
                        apps.push(*app);
                    }
                    Some((_, span)) => self.diags.push(
                        Diagnostic::error(
                            Code::WrongKind,
                            a.span,
                            format!("`{}` is not an app", a.name),
                        )
                        .label("pods hold apps only")
                        .secondary(*span, "declared here")
                        .help(
                            "stores run in pods of their own, installed by their operator or chart",
                        ),
                    ),
                    None => self.diags.push(self.undeclared(a, "app")),
                }
            }
            if p.apps.is_empty() {
                self.diags.push(
                    Diagnostic::error(
                        Code::MissingProperty,
                        p.span,
                        format!("pod `{}` has no apps", p.name.name),
                    )
                    .label("empty pod")
                    .help("list the apps that share the pod: `pod NAME = [a, b]`"),
                );
            }
            let namespace = self.pod_namespace(p, &apps);
            self.pod_ports(p, &apps);
            let what = format!("pod `{}`", p.name.name);
            let props = props::Props::new(p.props.as_ref(), decls::BINDING_KEYS, &what, self.diags);
            let binding = decls::binding(&props, self.diags);
            for &a in &apps {
                let app = &self.model.apps[a.index()];
                if let Some(span) = app.binding.span {
                    self.diags.push(
                        Diagnostic::error(
                            Code::ConflictingProperties,
                            span,
                            format!("app `{}` is in pod `{}`: the pod is what runs", app.name, p.name.name),
                        )
                        .label("a binding of one app of a pod")
                        .secondary(p.name.span, "the pod")
                        .help(format!(
                            "move `selector`, `workload` and `service_account` to the pod: `pod {} = [...] {{ selector = {{ ... }} }}`",
                            p.name.name
                        )),
                    );
                }
            }
            self.model.pods.push(PodGroup {
                name: p.name.name.clone(),
                namespace,
                apps,
                explicit: true,
                binding,
                span: p.name.span,
            });
            self.symbols
                .insert(p.name.name.clone(), (Sym::Pod(id), p.name.span));
        }
        for i in 0..self.model.apps.len() {
            let app = AppId(i as u32);
            let pod = match member_of.get(&app) {
                Some((pod, _)) => *pod,
                None => {
                    let a = &self.model.apps[i];
                    self.model.pods.push(PodGroup {
                        name: a.name.clone(),
                        namespace: a.namespace,
                        apps: vec![app],
                        explicit: false,
                        binding: a.binding.clone(),
                        span: a.span,
                    });
                    PodId(self.model.pods.len() as u32 - 1)
                }
            };
            self.model.apps[i].pod = pod;
        }
    }

    /// Apps in one pod share its network identity: their ports must not clash.
    fn pod_ports(&mut self, p: &ast::PodDecl, apps: &[AppId]) {
        let mut seen: Vec<(&Port, &str)> = Vec::new();
        for &a in apps {
            let app = &self.model.apps[a.index()];
            for port in &app.ports {
                let clash = seen.iter().find(|(q, _)| {
                    q.name == port.name || (q.number == port.number && q.protocol == port.protocol)
                });
                if let Some((q, other)) = clash {
                    self.diags.push(
                        Diagnostic::error(Code::InvalidValue, port.span, format!("apps in pod `{}` declare clashing ports", p.name.name))
                            .label(format!("`{}` ({}/{}) of `{}`", port.name, port.number, port.protocol.as_str().to_ascii_lowercase(), app.name))
                            .secondary(q.span, format!("`{}` ({}/{}) of `{other}`", q.name, q.number, q.protocol.as_str().to_ascii_lowercase()))
                            .help("containers of one pod share its network: give each port its own name and number"),
                    );
                } else {
                    seen.push((port, &app.name));
                }
            }
        }
    }

    /// All apps of a pod must share a namespace.
    fn pod_namespace(&mut self, p: &ast::PodDecl, apps: &[AppId]) -> NsId {
        let Some(&first) = apps.first() else {
            return UNRESOLVED_NS;
        };
        let ns = self.model.apps[first.index()].namespace;
        for &other in &apps[1..] {
            let app = &self.model.apps[other.index()];
            if app.namespace != ns && app.namespace != UNRESOLVED_NS && ns != UNRESOLVED_NS {
                let (a, b) = (&self.model.apps[first.index()], app);
                let span = p
                    .apps
                    .iter()
                    .find(|i| i.name == b.name)
                    .map_or(p.name.span, |i| i.span);
                self.diags.push(
                    Diagnostic::error(Code::PodSpansNamespaces, span, format!("pod `{}` spans namespaces", p.name.name))
                        .label(format!("`{}` is in namespace `{}`", b.name, self.model.namespaces[b.namespace.index()].name))
                        .secondary(a.span, format!("`{}` is in namespace `{}`", a.name, self.model.namespaces[ns.index()].name))
                        .help("a pod lives in one namespace; move the apps into one namespace or split the pod"),
                );
            }
        }
        ns
    }

    /// "cannot find X" with a suggestion among global names.
    fn undeclared(&self, name: &ast::Ident, what: &str) -> Diagnostic {
        let d = Diagnostic::error(
            Code::Undeclared,
            name.span,
            format!("`{}` is not declared", names::shorten(&name.name)),
        )
        .label(format!("no {what} of this name"));
        if self.namespaces.contains_key(&name.name) {
            return d.help(format!(
                "`{0}` is a namespace; to name everything in it write `namespace {0}`",
                name.name
            ));
        }
        if name.name.len() <= 64 {
            let candidates = self
                .symbols
                .keys()
                .map(String::as_str)
                .chain(["internet", "kube"]);
            if let Some(s) = crate::suggest::closest(&name.name, candidates) {
                return d.help(format!("did you mean `{s}`?"));
            }
        }
        d.help(format!(
            "declare it with `{}`",
            what.replace(", ", "`, `").replace(" or ", "` or `")
        ))
    }
}

#[derive(Clone, Copy)]
enum Table {
    Namespaces,
    Environments,
}

fn duplicate(what: &str, name: &ast::Ident, first: Span) -> Diagnostic {
    Diagnostic::error(
        Code::Duplicate,
        name.span,
        format!("`{}` is declared twice", names::shorten(&name.name)),
    )
    .label(format!("{what} declared again here"))
    .secondary(first, "first declared here")
    .help("every name is declared once; rename one of them")
}

fn duplicate_singleton(what: &str, span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        Code::DuplicateSingleton,
        span,
        format!("a model has one `{what}` declaration"),
    )
    .label(format!("second `{what}`"))
    .secondary(first, "first one here")
    .help(format!("merge the two `{what}` declarations"))
}

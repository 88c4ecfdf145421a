//! Statements: resolve subjects and targets, check each access item for the
//! subject → target kinds (docs/language.md's table), and expand `allow` into
//! grants; record `forbid`, `accept` and `lint`.

use super::props::{backticked, check_port};
use super::{names, Resolver, Sym, UNRESOLVED_NS};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::*;
use crate::span::Span;
use crate::syntax::ast::{self, AccessItem, Item, TargetSet, Targets};
use foldhash::{HashSet, HashSetExt};

pub(super) fn statement(r: &mut Resolver<'_>, item: &Item) {
    match item {
        Item::Allow(s) => allow(r, s),
        Item::Forbid(s) => forbid(r, s),
        Item::Accept(s) => accept(r, s),
        Item::Lint(s) => lint(r, s),
        _ => {}
    }
}

/// A resolved subject or target set.
struct Set {
    entities: Vec<(Entity, Span)>,
    /// From `*` or `namespace X`: members the access does not apply to are skipped.
    wildcard: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Subject,
    Target,
}

fn resolve_set(r: &mut Resolver<'_>, ts: &TargetSet, side: Side) -> Option<Set> {
    match &ts.targets {
        Targets::Names(idents) if idents.is_empty() => {
            r.diags.push(
                Diagnostic::error(Code::EmptyTargetSet, ts.span, "an empty list names nothing")
                    .label("empty")
                    .help("list at least one name, or remove the statement"),
            );
            None
        }
        Targets::Names(idents) => {
            let mut ok = true;
            let mut entities = Vec::with_capacity(idents.len());
            for i in idents {
                match lookup(r, i) {
                    Some(e) => entities.push((e, i.span)),
                    None => ok = false,
                }
            }
            ok.then_some(Set {
                entities,
                wildcard: false,
            })
        }
        Targets::Namespace(ns) => {
            let id = r.namespace_ref(ns);
            if id == UNRESOLVED_NS {
                return None;
            }
            let m = &r.model;
            let apps = m.apps.iter().enumerate().filter(|(_, a)| a.namespace == id);
            let stores = m
                .stores
                .iter()
                .enumerate()
                .filter(|(_, s)| s.location == StoreLocation::InCluster(id));
            let mut entities: Vec<(Entity, Span)> = apps
                .map(|(i, _)| (Entity::App(AppId(i as u32)), ns.span))
                .collect();
            entities.extend(stores.map(|(i, _)| (Entity::Store(StoreId(i as u32)), ns.span)));
            Some(Set {
                entities,
                wildcard: true,
            })
        }
        Targets::Star(span) => {
            let m = &r.model;
            let mut entities: Vec<(Entity, Span)> = Vec::new();
            let n = |len: usize| 0..len as u32;
            if side == Side::Subject {
                entities
                    .extend(n(m.personas.len()).map(|i| (Entity::Persona(PersonaId(i)), *span)));
            }
            entities.extend(n(m.apps.len()).map(|i| (Entity::App(AppId(i)), *span)));
            if side == Side::Target {
                entities.extend(n(m.stores.len()).map(|i| (Entity::Store(StoreId(i)), *span)));
                entities
                    .extend(n(m.externals.len()).map(|i| (Entity::External(ExternalId(i)), *span)));
            }
            Some(Set {
                entities,
                wildcard: true,
            })
        }
    }
}

fn lookup(r: &mut Resolver<'_>, i: &ast::Ident) -> Option<Entity> {
    match r.symbols.get(&i.name) {
        Some((Sym::Entity(e), _)) => Some(*e),
        Some((Sym::Pod(p), span)) => {
            let apps: Vec<&str> = r.model.pods[p.index()]
                .apps
                .iter()
                .map(|a| r.model.apps[a.index()].name.as_str())
                .collect();
            let d = Diagnostic::error(
                Code::WrongKind,
                i.span,
                format!("`{}` is a pod, not an app", i.name),
            )
            .label("statements name apps, stores, personas and externals")
            .secondary(*span, "pod declared here")
            .help(format!("name its apps instead: `[{}]`", apps.join(", ")));
            r.diags.push(d);
            None
        }
        None => match i.name.as_str() {
            "internet" => Some(Entity::Internet),
            "kube" => Some(Entity::Kube),
            _ => {
                let d = r.undeclared(i, "persona, app, store or external");
                r.diags.push(d);
                None
            }
        },
    }
}

fn envs(r: &mut Resolver<'_>, idents: &[ast::Ident]) -> Option<Vec<EnvId>> {
    if idents.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for i in idents {
        match r.environments.get(&i.name) {
            Some(id) => out.push(*id),
            None => {
                let mut d = Diagnostic::error(
                    Code::UndeclaredEnvironment,
                    i.span,
                    format!("environment `{}` is not declared", names::shorten(&i.name)),
                )
                .label("not an environment");
                d = if r.environments.is_empty() {
                    d.help(format!(
                        "declare it: `environment {}`",
                        names::shorten(&i.name)
                    ))
                    .note("a model without `environment` declarations has one implicit environment")
                } else if let Some(s) =
                    crate::suggest::closest(&i.name, r.environments.keys().map(String::as_str))
                {
                    d.did_you_mean(s)
                } else {
                    let mut known: Vec<&str> = r.environments.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    d.help(format!("declared environments: {}", backticked(&known)))
                };
                r.diags.push(d);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// Expand subjects × targets × access into (subject, target, access, item span),
/// reporting invalid combinations once each.
fn expand(
    r: &mut Resolver<'_>,
    subjects: &Set,
    targets: &Set,
    items: &[AccessItem],
    stmt_span: Span,
    grant: bool,
) -> Vec<(Entity, Entity, Access, Span)> {
    let mut out = Vec::new();
    let mut reported: HashSet<(Code, String)> = HashSet::new();
    for item in items {
        let mut any = false;
        let mut first_problem = None;
        for &(s, _) in &subjects.entities {
            // A store's own connections are granted by naming it: `*` and
            // `namespace X` as subjects mean the apps (and personas).
            if subjects.wildcard && matches!(s, Entity::Store(_)) {
                continue;
            }
            for &(t, _) in &targets.entities {
                match interpret(&r.model, s, t, item) {
                    Ok(access) => {
                        any = true;
                        if let Some(d) =
                            platform_gap(&r.model, s, t, &access, item.span()).filter(|_| grant)
                        {
                            if reported.insert((d.code, d.message.clone())) {
                                r.diags.push(d);
                            }
                        }
                        out.push((s, t, access, item.span()));
                    }
                    Err(d) if subjects.wildcard || targets.wildcard => {
                        first_problem.get_or_insert(d);
                    }
                    Err(d) => {
                        if reported.insert((d.code, d.message.clone())) {
                            r.diags.push(*d);
                        }
                    }
                }
            }
        }
        if !any && (subjects.wildcard || targets.wildcard) {
            let mut d = Diagnostic::error(
                Code::EmptyTargetSet,
                item.span(),
                format!(
                    "`{}` applies to nothing this statement names",
                    access_text(item)
                ),
            )
            .label("no subject and target it is valid for")
            .secondary(stmt_span, "in this statement")
            .help("`*` and `namespace X` skip what an access does not apply to; name the targets instead");
            if let Some(p) = first_problem {
                d = d.note(format!("for example: {}", p.message));
            }
            r.diags.push(d);
        }
    }
    out
}

/// A grant the platform cannot carry out: a person reaching an app needs the
/// ingress controller, an app calling `kube` needs the API server's address.
fn platform_gap(
    m: &Model,
    s: Entity,
    t: Entity,
    access: &Access,
    span: Span,
) -> Option<Diagnostic> {
    match access {
        Access::Kube(_) if m.platform.api_server.is_none() => Some(kube_without_api_server(span, m.platform.span)),
        Access::Port { .. }
            if matches!(s, Entity::Persona(_) | Entity::Internet) && m.platform.ingress.is_none() =>
        {
            Some(
                Diagnostic::error(
                    Code::MissingProperty,
                    span,
                    format!("`{}` reaches `{}` through the ingress, but `platform.ingress` is not set", m.name_of(s), m.name_of(t)),
                )
                .label("needs the ingress controller")
                .help("add `ingress = { namespace = \"ingress-nginx\", pods = { \"app.kubernetes.io/name\" = \"ingress-nginx\" } }` to `platform { }`"),
            )
        }
        _ => None,
    }
}

fn kube_without_api_server(span: Span, platform: Option<Span>) -> Diagnostic {
    let mut d = Diagnostic::error(
        Code::KubeWithoutApiServer,
        span,
        "a `kube` grant needs `platform.api_server`",
    )
    .label("the app would call the Kubernetes API")
    .help("add `api_server = { address = \"CIDR\", port = 6443 }` to `platform { }`")
    .note("default-deny egress would otherwise cut the app off from the API server");
    if let Some(p) = platform {
        d = d.secondary(p, "platform declared here");
    }
    d
}

fn access_text(item: &AccessItem) -> String {
    match item {
        AccessItem::Word(w) => names::shorten(&w.name),
        AccessItem::Port {
            number, protocol, ..
        } => match (number, protocol) {
            (Some(n), Some(p)) => format!("{n}/{p}"),
            (Some(n), None) => n.to_string(),
            _ => "port".into(),
        },
        AccessItem::Kube { verb, resource } => format!(
            "{} {}",
            names::shorten(&verb.name),
            names::shorten(&resource.name)
        ),
    }
}

/// An access problem; boxed because a diagnostic is large and errors are rare.
fn err<T>(d: Diagnostic) -> Result<T, Box<Diagnostic>> {
    Err(Box::new(d))
}

/// What `item` means from `s` to `t`, or why it is not valid there.
fn interpret(
    m: &Model,
    s: Entity,
    t: Entity,
    item: &AccessItem,
) -> Result<Access, Box<Diagnostic>> {
    let external_persona =
        matches!(s, Entity::Persona(p) if m.personas[p.index()].external) || s == Entity::Internet;
    match (s, t) {
        (Entity::App(_), Entity::App(a)) => {
            port_access(m, s, t, item, &m.apps[a.index()].ports, true)
        }
        (Entity::App(_), Entity::External(x)) => {
            port_access(m, s, t, item, &m.externals[x.index()].ports, false)
        }
        (Entity::App(_), Entity::Internet) => match item {
            AccessItem::Port { .. } => port_access(m, s, t, item, &[], false),
            _ => err(invalid_access(m, s, t, item)),
        },
        (Entity::App(_) | Entity::Persona(_), Entity::Store(_)) => match item {
            AccessItem::Word(w) => match DataLevel::parse(&w.name) {
                Some(_) if external_persona => err(external_rbac(m, s, item)),
                Some(level) => Ok(Access::Data(level)),
                None => err(invalid_access(m, s, t, item)),
            },
            _ => err(invalid_access(m, s, t, item)),
        },
        (Entity::App(_), Entity::Kube) => match item {
            AccessItem::Kube { verb, resource } => kube_rule(verb, resource).map(Access::Kube),
            _ => err(invalid_access(m, s, t, item)),
        },
        // A store in the cluster may connect to its own pods (replication),
        // to other pods of the model, and out of the cluster (backups to an
        // external or an outside store, the internet) like an app; a store
        // outside the cluster has no pods to give connections.
        (Entity::Store(st), Entity::App(a)) if in_cluster(m, st) => {
            port_access(m, s, t, item, &m.apps[a.index()].ports, true)
        }
        (Entity::Store(st), Entity::External(x)) if in_cluster(m, st) => {
            port_access(m, s, t, item, &m.externals[x.index()].ports, false)
        }
        (Entity::Store(st), Entity::Store(_) | Entity::Internet) if in_cluster(m, st) => match item
        {
            AccessItem::Port { .. } => port_access(m, s, t, item, &[], false),
            _ => err(invalid_access(m, s, t, item)),
        },
        (Entity::Persona(_) | Entity::Internet, Entity::App(a)) => {
            if let AccessItem::Word(w) = item {
                if let Some(op) = Operation::parse(&w.name) {
                    return if external_persona {
                        err(external_rbac(m, s, item))
                    } else {
                        Ok(Access::Op(op))
                    };
                }
                if DataLevel::parse(&w.name).is_some() {
                    return err(invalid_access(m, s, t, item));
                }
            }
            if matches!(item, AccessItem::Port { .. }) {
                return err(invalid_access(m, s, t, item));
            }
            port_access(m, s, t, item, &m.apps[a.index()].ports, true)
        }
        _ => err(invalid_access(m, s, t, item)),
    }
}

/// The access words valid from `s` to `t` — operations, store levels,
/// the target's port names, and for `kube` the verbs — each tried through
/// [`interpret`] itself, so that an editor offers exactly what the
/// resolver accepts (`palisade lsp`'s completion).
pub fn access_words(m: &Model, s: Entity, t: Entity) -> Vec<String> {
    let nowhere = Span::new(crate::span::FileId(0), 0, 0);
    let ident = |name: &str| ast::Ident {
        name: name.to_string(),
        span: nowhere,
    };
    let word = |w: &str| AccessItem::Word(ident(w));
    let ports: Vec<&str> = match t {
        Entity::App(a) => m.apps[a.index()]
            .ports
            .iter()
            .map(|p| p.name.as_str())
            .collect(),
        Entity::External(x) => (m.externals[x.index()].ports.iter())
            .map(|p| p.name.as_str())
            .collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = (Operation::NAMES.iter().copied())
        .chain(["read", "write", "admin"])
        .chain(ports)
        .filter(|w| interpret(m, s, t, &word(w)).is_ok())
        .map(str::to_string)
        .collect();
    let kube = |verb: &str| AccessItem::Kube {
        verb: ident(verb),
        resource: ident("pods"),
    };
    out.extend(
        (KUBE_VERBS.iter())
            .filter(|v| interpret(m, s, t, &kube(v)).is_ok())
            .map(|v| v.to_string()),
    );
    out
}

fn in_cluster(m: &Model, s: StoreId) -> bool {
    matches!(m.stores[s.index()].location, StoreLocation::InCluster(_))
}

fn port_access(
    m: &Model,
    s: Entity,
    t: Entity,
    item: &AccessItem,
    ports: &[Port],
    literal_must_be_declared: bool,
) -> Result<Access, Box<Diagnostic>> {
    match item {
        AccessItem::Word(w) => {
            if Operation::parse(&w.name).is_some() || DataLevel::parse(&w.name).is_some() {
                return err(invalid_access(m, s, t, item));
            }
            match ports.iter().find(|p| p.name == w.name) {
                Some(p) => Ok(Access::Port {
                    number: p.number,
                    protocol: p.protocol,
                    name: Some(p.name.clone()),
                }),
                None => err(no_such_port(m, t, w, ports)),
            }
        }
        AccessItem::Port {
            number,
            protocol,
            span,
        } => {
            let mut sink = crate::diagnostics::Diagnostics::new();
            let Some((n, proto)) =
                check_port("port", *number, protocol.as_deref(), *span, &mut sink)
            else {
                // No diagnostic: the number did not fit, which the parser reported;
                // this repeat is dropped by `Diagnostics::dedup`.
                return err(sink.into_vec().into_iter().next().unwrap_or_else(|| {
                    Diagnostic::error(Code::NumberTooLarge, *span, "number too large")
                        .label("does not fit in 64 bits")
                }));
            };
            let declared = ports.iter().find(|p| p.number == n && p.protocol == proto);
            if literal_must_be_declared && declared.is_none() {
                let list = port_list(ports);
                return err(Diagnostic::error(
                    Code::InvalidAccess,
                    *span,
                    format!(
                        "{} `{}` does not listen on {n}/{}",
                        m.kind_of(t),
                        m.name_of(t),
                        proto.as_str().to_ascii_lowercase()
                    ),
                )
                .label("not a declared port")
                .help(if list.is_empty() {
                    format!("`{}` declares no ports", m.name_of(t))
                } else {
                    format!("its ports: {list}")
                }));
            }
            Ok(Access::Port {
                number: n,
                protocol: proto,
                name: declared.map(|p| p.name.clone()),
            })
        }
        AccessItem::Kube { .. } => err(invalid_access(m, s, t, item)),
    }
}

fn port_list(ports: &[Port]) -> String {
    ports
        .iter()
        .map(|p| {
            format!(
                "`{}` ({}/{})",
                p.name,
                p.number,
                p.protocol.as_str().to_ascii_lowercase()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn no_such_port(m: &Model, t: Entity, w: &ast::Ident, ports: &[Port]) -> Diagnostic {
    let d = Diagnostic::error(
        Code::InvalidAccess,
        w.span,
        format!(
            "{} `{}` has no port named `{}`",
            m.kind_of(t),
            m.name_of(t),
            names::shorten(&w.name)
        ),
    )
    .label("no such port");
    match crate::suggest::closest(&w.name, ports.iter().map(|p| p.name.as_str())) {
        Some(s) => d.did_you_mean(s),
        None if ports.is_empty() => d.help(format!("`{}` declares no ports", m.name_of(t))),
        None => d.help(format!("its ports: {}", port_list(ports))),
    }
}

fn external_rbac(m: &Model, s: Entity, item: &AccessItem) -> Diagnostic {
    Diagnostic::error(
        Code::ExternalPersonaRbac,
        item.span(),
        format!("external persona `{}` cannot be given `{}`", m.name_of(s), access_text(item)),
    )
    .label("a Kubernetes API operation or credential")
    .help("external personas come in through the ingress and may only reach app ports; give the operation to an internal persona")
}

/// "app `web`", or "`internet`" for the built-ins.
fn describe(m: &Model, e: Entity) -> String {
    match e {
        Entity::Internet | Entity::Kube => format!("`{}`", m.name_of(e)),
        _ => format!("{} `{}`", m.kind_of(e), m.name_of(e)),
    }
}

/// The access items valid from `s` to `t`, for error messages.
fn valid_access(m: &Model, s: Entity, t: Entity) -> String {
    let ports = |t: Entity| match t {
        Entity::App(a) => m.apps[a.index()]
            .ports
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>(),
        Entity::External(x) => m.externals[x.index()]
            .ports
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect(),
        _ => Vec::new(),
    };
    let port_text = |t: Entity| {
        let p = ports(t);
        if p.is_empty() {
            "a declared port (it declares none)".to_string()
        } else {
            format!("one of its ports ({})", p.join(", "))
        }
    };
    let external =
        matches!(s, Entity::Persona(p) if m.personas[p.index()].external) || s == Entity::Internet;
    match (s, t) {
        (Entity::App(_), Entity::App(_)) => format!("{} or a port number", port_text(t)),
        (Entity::App(_), Entity::External(_)) => {
            format!("{} or a port number such as `443`", port_text(t))
        }
        (Entity::App(_), Entity::Internet) => "a port number such as `443` or `53/udp`".into(),
        (Entity::App(_), Entity::Store(_)) => "`read`, `write` or `admin`".into(),
        (Entity::App(_), Entity::Kube) => {
            "`VERB RESOURCE`, e.g. `get configmaps` or `create jobs.batch`".into()
        }
        (Entity::Persona(_) | Entity::Internet, Entity::App(_)) if external => {
            format!("{} (through the ingress)", port_text(t))
        }
        (Entity::Persona(_), Entity::App(_)) => format!(
            "{}, or {} (through the ingress)",
            backticked(Operation::NAMES),
            port_text(t)
        ),
        (Entity::Persona(_), Entity::Store(_)) if !external => "`read`, `write` or `admin`".into(),
        (Entity::Persona(_) | Entity::Internet, Entity::Store(_)) => {
            "nothing: external personas cannot hold store credentials".into()
        }
        (Entity::Store(st), Entity::App(_)) if in_cluster(m, st) => {
            format!("{} or a port number", port_text(t))
        }
        (Entity::Store(st), Entity::External(_)) if in_cluster(m, st) => {
            format!("{} or a port number such as `443`", port_text(t))
        }
        (Entity::Store(st), Entity::Store(x)) if in_cluster(m, st) && in_cluster(m, x) => {
            "a port number such as `5432` (replication between its pods: `allow db -> db: 5432`)".into()
        }
        (Entity::Store(st), Entity::Store(_)) if in_cluster(m, st) => {
            "a port number such as `5432` (egress to its address)".into()
        }
        (Entity::Store(st), Entity::Internet) if in_cluster(m, st) => {
            "a port number such as `443` (backups to object storage: `allow db -> internet: 443`)".into()
        }
        (Entity::Store(_), Entity::Kube) => {
            "nothing: `kube` grants are an app's (its ServiceAccount); palisade gives a store's pods no token".into()
        }
        (Entity::Store(_), Entity::App(_) | Entity::External(_) | Entity::Store(_) | Entity::Internet) => {
            "nothing for a store outside the cluster: it runs where palisade generates nothing, so the model cannot grant its connections; control them where it runs (its firewall or security groups) and remove the statement".into()
        }
        (Entity::External(_), _) => "nothing: externals are targets of egress, not subjects".into(),
        (Entity::Kube, _) => "nothing: `kube` is a target only".into(),
        (_, Entity::Persona(_)) => "nothing: personas are subjects, not targets".into(),
        (Entity::Persona(_) | Entity::Internet, _) => {
            "nothing: people reach apps (and stores, for internal personas) only".into()
        }
    }
}

fn invalid_access(m: &Model, s: Entity, t: Entity, item: &AccessItem) -> Diagnostic {
    Diagnostic::error(
        Code::InvalidAccess,
        item.span(),
        format!(
            "`{}` is not a valid access from {} to {}",
            access_text(item),
            describe(m, s),
            describe(m, t)
        ),
    )
    .label("not valid here")
    .help(format!(
        "{} → {} access is {}",
        m.kind_of(s),
        m.kind_of(t),
        valid_access(m, s, t)
    ))
}

fn kube_rule(verb: &ast::Ident, resource: &ast::Ident) -> Result<KubeRule, Box<Diagnostic>> {
    if !KUBE_VERBS.contains(&verb.name.as_str()) {
        let mut d = Diagnostic::error(
            Code::InvalidAccess,
            verb.span,
            format!(
                "`{}` is not a Kubernetes API verb",
                names::shorten(&verb.name)
            ),
        )
        .label("unknown verb");
        d = match crate::suggest::closest(&verb.name, KUBE_VERBS.iter().copied()) {
            Some(s) => d.did_you_mean(s),
            None => d.help(format!("verbs: {}", backticked(KUBE_VERBS))),
        };
        return err(d);
    }
    let text = resource.name.as_str();
    let valid_chars = text.chars().all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '/' | '*')
    });
    let (main, sub) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let (res, group) = match main.split_once('.') {
        Some((r, g)) => (r, g),
        None => (main, ""),
    };
    let bad = !valid_chars
        || res.is_empty()
        || sub.is_some_and(|s| s.is_empty() || s.contains('/'))
        || group.ends_with('.');
    if bad {
        return err(Diagnostic::error(
            Code::InvalidAccess,
            resource.span,
            format!("`{}` is not a Kubernetes resource", names::shorten(text)),
        )
        .label("expected `resource[.group][/subresource]`")
        .help("e.g. `configmaps`, `jobs.batch`, `pods/log`, `deployments.apps/scale`"));
    }
    Ok(KubeRule {
        verb: verb.name.clone(),
        group: group.to_string(),
        resource: res.to_string(),
        subresource: sub.map(str::to_string),
    })
}

fn push_statement(
    r: &mut Resolver<'_>,
    span: Span,
    reason: Option<&ast::Str>,
    targets: &TargetSet,
) -> StmtId {
    let id = StmtId(r.model.statements.len() as u32);
    r.model.statements.push(Statement {
        span,
        reason: reason.map(|s| s.value.clone()),
        wildcard_target: !matches!(targets.targets, Targets::Names(_)),
        targets_span: targets.span,
    });
    id
}

fn allow(r: &mut Resolver<'_>, s: &ast::AllowStmt) {
    let subjects = resolve_set(r, &s.subjects, Side::Subject);
    let targets = resolve_set(r, &s.targets, Side::Target);
    let envs = envs(r, &s.envs);
    let (Some(subjects), Some(targets)) = (subjects, targets) else {
        return;
    };
    let stmt = push_statement(r, s.span, s.reason.as_ref(), &s.targets);
    for (subject, target, access, span) in expand(r, &subjects, &targets, &s.access, s.span, true) {
        r.model.grants.push(Grant {
            subject,
            target,
            access,
            envs: envs.clone(),
            stmt,
            span,
        });
    }
}

fn forbid(r: &mut Resolver<'_>, s: &ast::ForbidStmt) {
    let subjects = resolve_set(r, &s.subjects, Side::Subject);
    let targets = resolve_set(r, &s.targets, Side::Target);
    let envs = envs(r, &s.envs);
    let (Some(subjects), Some(targets)) = (subjects, targets) else {
        return;
    };
    let mut access: Vec<Access> = expand(r, &subjects, &targets, &s.access, s.span, false)
        .into_iter()
        .map(|(_, _, a, _)| a)
        .collect();
    access.sort();
    access.dedup();
    r.model.forbids.push(Forbid {
        kind: match s.kind {
            ast::ForbidKind::Direct => ForbidKind::Direct,
            ast::ForbidKind::Path => ForbidKind::Path,
        },
        subjects: subjects.entities.iter().map(|(e, _)| *e).collect(),
        targets: targets.entities.iter().map(|(e, _)| *e).collect(),
        access,
        envs,
        reason: s.reason.as_ref().map(|r| r.value.clone()),
        span: s.span,
    });
}

fn lint_ref(r: &mut Resolver<'_>, name: &ast::Ident) -> Option<&'static str> {
    if let Some(l) = r.lints.iter().find(|l| l.name == name.name) {
        return Some(l.name);
    }
    let mut d = Diagnostic::error(
        Code::UnknownLint,
        name.span,
        format!("unknown lint `{}`", names::shorten(&name.name)),
    )
    .label("no lint of this name");
    d = match crate::suggest::closest(&name.name, r.lints.iter().map(|l| l.name)) {
        Some(s) => d.did_you_mean(s),
        None => d.help("`palisade explain` lists the lints"),
    };
    r.diags.push(d);
    None
}

fn accept(r: &mut Resolver<'_>, s: &ast::AcceptStmt) {
    let lint = lint_ref(r, &s.lint);
    if lint == Some(INVARIANT_VIOLATED) {
        r.diags.push(
            Diagnostic::error(
                Code::InvariantNotAdjustable,
                s.lint.span,
                "a violated invariant cannot be accepted",
            )
            .label("`invariant-violated` is always an error")
            .help("change the `forbid` or the access that breaks it"),
        );
    }
    let subjects = resolve_set(r, &s.subjects, Side::Subject);
    let targets = resolve_set(r, &s.targets, Side::Target);
    let (Some(lint), Some(subjects), Some(targets)) = (lint, subjects, targets) else {
        return;
    };
    if lint == INVARIANT_VIOLATED {
        return;
    }
    r.model.accepts.push(Accept {
        lint,
        subjects: subjects.entities.iter().map(|(e, _)| *e).collect(),
        targets: targets.entities.iter().map(|(e, _)| *e).collect(),
        reason: s.reason.value.clone(),
        span: s.span,
    });
}

fn lint(r: &mut Resolver<'_>, s: &ast::LintStmt) {
    let lint = lint_ref(r, &s.lint);
    let level = Level::parse(&s.level.name);
    if level.is_none() {
        let mut d = Diagnostic::error(
            Code::InvalidValue,
            s.level.span,
            format!("`{}` is not a lint level", names::shorten(&s.level.name)),
        )
        .label("expected `allow`, `warn` or `deny`");
        if let Some(x) = crate::suggest::closest(&s.level.name, ["allow", "warn", "deny"]) {
            d = d.did_you_mean(x);
        }
        r.diags.push(d);
    }
    let (Some(lint), Some(level)) = (lint, level) else {
        return;
    };
    if lint == INVARIANT_VIOLATED && level != Level::Deny {
        r.diags.push(
            Diagnostic::error(Code::InvariantNotAdjustable, s.level.span, "`invariant-violated` cannot be lowered")
                .label("always `deny`")
                .help("a `forbid` states what must never happen; remove the `forbid` if it no longer holds"),
        );
        return;
    }
    if let Some(first) = r.model.lint_levels.iter().find(|l| l.lint == lint) {
        let first = first.span;
        r.diags.push(
            Diagnostic::error(
                Code::Duplicate,
                s.span,
                format!("the level of `{lint}` is set twice"),
            )
            .label("set again here")
            .secondary(first, "first set here")
            .help("keep one `lint` statement per lint"),
        );
        return;
    }
    r.model.lint_levels.push(LintLevel {
        lint,
        level,
        span: s.span,
    });
}

//! The access view: every edge of every environment's effective access
//! graph ([`crate::access_graph`]), each with the grants that declare it
//! and, when it is wider than declared, the cause in words and the lint
//! findings that report it. It reads the graph; it builds none.
//!
//! Input: a [`Checked`] model. Output: [`AccessView`], read by `graph
//! --effective`, `query`, `diff` and `review`; [`report`] is how an edge and
//! its derivation are shown.
//!
//! # API
//!
//! ```
//! # let mut comp = palisade::compile_str("m.sec", r#"
//! #   system m
//! #   namespace p
//! #   app etl in p { image = "ghcr.io/a/etl:1" ports = { metrics = 9090 } }
//! #   app shipper in p { image = "ghcr.io/a/shipper:1" }
//! #   pod etl-pod = [etl, shipper]
//! #   store raw in p { engine = postgres }
//! #   allow etl -> raw: read
//! # "#);
//! let checked = palisade::check(comp);                // effective access + lints
//! # let comp = &checked.comp;
//! let view = palisade::view::access_view(&checked);
//! for env in &view.envs {                              // one per environment
//!     for e in &env.edges {                            // sorted: from, to, access
//!         let from = view.name(&comp.model, e.from);   // `shipper`, `ingress`
//!         let what = view.access_text(&comp.model, e); // `read`, `http`, `exec`, `kube`
//!         match &e.widened {
//!             None => {}                               // exactly as declared
//!             Some(w) => {
//!                 // w.undeclared: the part no grant declares;
//!                 // w.causes: ["shares pod `etl-pod` with `etl` (one network identity)"]
//!                 let _ = (&w.undeclared, &w.causes);
//!             }
//!         }
//!         // e.declared: indices into comp.model.grants (their `span`s point at
//!         // the `allow`); e.findings: indices into comp.findings.
//!         let _ = (from, what);
//!     }
//! }
//! # let shipper = view.envs[0].edges.iter().find(|e| view.name(&comp.model, e.from) == "shipper"
//! #     && view.name(&comp.model, e.to) == "raw").unwrap();
//! # assert!(shipper.declared.is_empty());
//! # assert_eq!(shipper.widened.as_ref().unwrap().causes,
//! #     ["shares pod `etl-pod` with `etl` (one network identity)"]);
//! # assert_eq!(comp.findings[shipper.findings[0]].finding.lint, "shared-pod-widening");
//! ```
//!
//! An edge goes from a [`GNode`] (a model entity; the ingress controller
//! only as the target of an app's connection) to another and carries one
//! [`Kind`] of access: network ports (`Net`), store credentials of a level
//! (`Data`, the highest held), a Kubernetes operation (`Op`), or the app's
//! ServiceAccount token (`Token`, target `kube`). The edges and what each
//! comes from are the graph's ([`crate::access_graph`] lists them).
//!
//! Nothing is recomputed: the edges are the graph's, and the causes are the
//! evaluators' (policy rules, RBAC bindings). An edge is *declared* by the
//! grants of its (subject, target) of the same kind; whatever part of the
//! edge they do not cover is its [`Widening`]. The cost is linear in the
//! effective edges (no pass over pairs of pods).

pub mod report;

use crate::access_graph::{Class, CutWhy, EnvGraph, Part, Why};

/// What the grants of an edge's pair declare of its class.
enum Covers {
    Ports(PortSet),
    Level(DataLevel),
    Unit,
}
pub use crate::access_graph::{GNode, Kind};
use crate::effective::access::{EnvAccess, Holder, Layer, LayerCause, Node, Via};
use crate::effective::network::{PortRanges, PortSet, Protocol};
use crate::lints::Outcome;
use crate::model::{
    Access, AppId, DataLevel, Entity, EnvId, Model, NsId, Operation, PersonaId, PodId, StoreId,
    StoreLocation,
};
use crate::source::SourceMap;
use crate::span::Span;
use crate::{Checked, Compilation};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// Every environment's effective edges.
#[derive(Clone, Debug, Default)]
pub struct AccessView {
    /// In the order of [`crate::check`]'s environments (model order; one
    /// with `env: None` when the model declares none).
    pub envs: Vec<EnvView>,
}

/// One environment's effective edges.
#[derive(Clone, Debug, Default)]
pub struct EnvView {
    pub env: Option<EnvId>,
    /// Sorted by (from, to, access) in model order: deterministic.
    pub edges: Vec<AccessEdge>,
    /// Connections the NetworkPolicies admit and the mesh or guardrail
    /// layer cuts, one per (from, to), sorted by (from, to) in model order;
    /// empty without the layers.
    pub cut: Vec<CutAccess>,
}

/// A connection the NetworkPolicies admit and a layer beyond them cuts, in
/// whole or in part ([`crate::access_graph::Cut`]): not access, the reason
/// some is not there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CutAccess {
    pub from: GNode,
    pub to: GNode,
    /// The ports cut (their union), as [`Kind::Net`].
    pub access: Kind,
    /// Why, one per cause, e.g. ``NetworkPolicy admits TCP/5432: egress
    /// p/etl-pod egress[0], ingress data/raw ingress[0]; GlobalNetworkPolicy
    /// shop-forbid-etl-pod-raw-50695331d6-egress egress[0] denies it (forbid at
    /// shop.sec:16:1)``.
    pub causes: Vec<String>,
}

/// One effective edge: `from` may do `access` to `to`.
#[derive(Clone, Debug)]
pub struct AccessEdge {
    pub from: GNode,
    pub to: GNode,
    /// Network ports (their union), the highest data level, one operation,
    /// or the token.
    pub access: Kind,
    /// The grants that declare (part of) it: indices into `model.grants`.
    /// Each grant's `span` is its access item, `model.statements[stmt]` the
    /// whole `allow`. Empty for an edge no statement declares.
    pub declared: Vec<usize>,
    /// `None` when the grants cover all of it.
    pub widened: Option<Widening>,
    /// Indices into [`Compilation::findings`] of the lint findings that
    /// report this edge or its widening (accepted ones included; see
    /// `Outcome::accepted`).
    pub findings: Vec<usize>,
}

/// How an edge is wider than declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widening {
    /// The part no grant declares: the extra ports, the level above the
    /// declared one, the operation, the token.
    pub undeclared: Kind,
    /// Why it exists, one per cause, e.g. ``shares pod `etl-pod` with `etl`
    /// (one network identity)``, ``exec into `api`, whose container mounts
    /// main-db-write``, or the NetworkPolicy rules / RBAC binding that admit it.
    pub causes: Vec<String>,
}

impl AccessEdge {
    pub fn is_widened(&self) -> bool {
        self.widened.is_some()
    }

    /// The lints of [`AccessEdge::findings`], deduplicated.
    pub fn lints(&self, comp: &Compilation) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for &i in &self.findings {
            if let Some(o) = comp.findings.get(i) {
                if !out.contains(&o.finding.lint) {
                    out.push(o.finding.lint);
                }
            }
        }
        out
    }
}

impl AccessView {
    /// The view of one environment (`None`: the implicit one).
    pub fn env(&self, env: Option<EnvId>) -> Option<&EnvView> {
        self.envs.iter().find(|e| e.env == env)
    }

    /// A node as the model names it: `api`, `internet`, `kube`, `ingress`.
    pub fn name(&self, model: &Model, n: GNode) -> String {
        node_name(model, n)
    }

    /// The access of an edge in the model's words: port names of the target
    /// where they cover the ports (`http`), else `TCP/9000`; `read`; `exec`;
    /// `kube`.
    pub fn access_text(&self, model: &Model, e: &AccessEdge) -> String {
        kind_text(model, e.to, &e.access)
    }
}

/// A node as the model names it.
pub fn node_name(model: &Model, n: GNode) -> String {
    crate::access_graph::name(model, n)
}

/// An access in the model's words, for an edge to `to` (see
/// [`AccessView::access_text`]).
pub fn kind_text(model: &Model, to: GNode, kind: &Kind) -> String {
    match kind {
        Kind::Net(ports) => ports_text(model, to, ports),
        Kind::Data(level) => level.as_str().to_string(),
        Kind::Op(op) => op.as_str().to_string(),
        Kind::Token => "kube".into(),
    }
}

/// `http, metrics` when the ports are exactly named ports of the target
/// (`postgres` for a store's port), else the port set (`TCP/8080 UDP/53`).
pub fn ports_text(model: &Model, to: GNode, ports: &PortSet) -> String {
    let named: Vec<(String, Protocol, u16)> = match to {
        GNode::E(Entity::App(a)) => (model.apps[a.index()].ports.iter())
            .map(|p| (p.name.clone(), p.protocol.into(), p.number))
            .collect(),
        GNode::E(Entity::External(x)) => (model.externals[x.index()].ports.iter())
            .map(|p| (p.name.clone(), p.protocol.into(), p.number))
            .collect(),
        GNode::E(Entity::Store(s)) => {
            let st = &model.stores[s.index()];
            vec![(st.engine.as_str().to_string(), Protocol::Tcp, st.port)]
        }
        _ => Vec::new(),
    };
    let mut covered = PortSet::empty();
    let mut names = Vec::new();
    for (name, proto, number) in &named {
        if ports.contains(*proto, *number) {
            covered = covered.union(&PortSet::of(*proto, PortRanges::single(*number)));
            names.push(name.clone());
        }
    }
    if !names.is_empty() && ports.is_subset(&covered) {
        names.join(", ")
    } else {
        ports.to_string()
    }
}

/// The view of a checked model (a model with errors has no graphs, and
/// so an empty view).
pub fn access_view(checked: &Checked) -> AccessView {
    let comp = &checked.comp;
    let findings = FindingIndex::new(&comp.findings);
    let statics = Statics::new(&comp.model);
    AccessView {
        envs: (checked.graphs.par_iter())
            .map(|g| Builder::new(&comp.model, &comp.sources, g, &statics, &findings).build())
            .collect(),
    }
}

/// A finding that may report a cause: of this lint and pair (and, for
/// `namespace-wide-grant`, stated at a grant of this operation).
struct Cand {
    lint: &'static str,
    pair: (Entity, Entity),
    op: Option<Operation>,
}

/// Findings by (lint, subject, target) of their pairs.
struct FindingIndex<'a> {
    by_pair: HashMap<(&'static str, Entity, Entity), Vec<usize>>,
    outcomes: &'a [Outcome],
}

impl<'a> FindingIndex<'a> {
    fn new(findings: &'a [Outcome]) -> Self {
        let mut m: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, o) in findings.iter().enumerate() {
            for &(s, t) in &o.finding.pairs {
                let v = m.entry((o.finding.lint, s, t)).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        FindingIndex {
            by_pair: m,
            outcomes: findings,
        }
    }

    fn get(&self, lint: &'static str, s: Entity, t: Entity) -> &[usize] {
        self.by_pair.get(&(lint, s, t)).map_or(&[], Vec::as_slice)
    }
}

/// What every environment shares.
struct Statics {
    /// Per persona, the personas it shares an RBAC subject with
    /// (`shared-rbac-subject`): each holds the others' Roles.
    rbac_mates: HashMap<PersonaId, Vec<PersonaId>>,
}

impl Statics {
    fn new(m: &Model) -> Self {
        let mut rbac_mates: HashMap<PersonaId, Vec<PersonaId>> = HashMap::new();
        for (_, personas) in crate::lints::shared_rbac_subjects(m).into_values() {
            for &a in &personas {
                let mates = rbac_mates.entry(a).or_default();
                for &b in &personas {
                    if a != b && !mates.contains(&b) {
                        mates.push(b);
                    }
                }
            }
        }
        Statics { rbac_mates }
    }
}

struct Builder<'a> {
    model: &'a Model,
    sources: &'a SourceMap,
    graph: &'a EnvGraph,
    env: &'a EnvAccess,
    statics: &'a Statics,
    findings: &'a FindingIndex<'a>,
    /// Grants applying here by (subject, target).
    grants: HashMap<(Entity, Entity), Vec<usize>>,
    /// Operation grants applying here by (persona, op, namespace): targets.
    op_targets: HashMap<(Entity, Operation, NsId), Vec<Entity>>,
    /// The spans of operation grants applying here, with their operation.
    op_spans: HashSet<(Span, Operation)>,
    /// Which app's container mounts (group, store, level).
    mounts: HashMap<(PodId, StoreId, DataLevel), AppId>,
    /// Exec on a store's pods: (persona, store) → the RBAC cause.
    store_execs: HashMap<(PersonaId, StoreId), &'a str>,
}

impl<'a> Builder<'a> {
    fn new(
        m: &'a Model,
        sources: &'a SourceMap,
        graph: &'a EnvGraph,
        statics: &'a Statics,
        findings: &'a FindingIndex<'a>,
    ) -> Self {
        let env = &graph.access;
        let mut grants: HashMap<(Entity, Entity), Vec<usize>> = HashMap::new();
        let mut op_targets: HashMap<(Entity, Operation, NsId), Vec<Entity>> = HashMap::new();
        let mut op_spans = HashSet::new();
        for (gi, g) in m.grants.iter().enumerate() {
            if let Access::Op(op) = g.access {
                op_spans.insert((g.span, op));
            }
            if !m.grant_applies(g, env.env) {
                continue;
            }
            grants.entry((g.subject, g.target)).or_default().push(gi);
            if let (Access::Op(granted), Some(ns)) = (&g.access, namespace_of(m, g.target)) {
                for &op in ALL_OPS.iter().filter(|&&op| implies(*granted, op)) {
                    let v = op_targets.entry((g.subject, op, ns)).or_default();
                    if !v.contains(&g.target) {
                        v.push(g.target);
                    }
                }
            }
        }
        let mut mounts = HashMap::new();
        for d in &env.data {
            if let (Holder::Group(g), Via::Mount, Some(app)) = (d.holder, &d.via, d.app) {
                mounts.insert((g, d.store, d.level), app);
            }
        }
        let mut store_execs = HashMap::new();
        for o in &env.ops {
            if let (Operation::Exec, Node::Store(s)) = (o.op, o.target) {
                store_execs.entry((o.persona, s)).or_insert(&*o.cause);
            }
        }
        Builder {
            model: m,
            sources,
            graph,
            env,
            statics,
            findings,
            grants,
            op_targets,
            op_spans,
            mounts,
            store_execs,
        }
    }

    fn build(self) -> EnvView {
        EnvView {
            env: self.env.env,
            edges: (self.graph.edges())
                .map(|(from, to, e)| self.finish(from, to, e.class, &e.access, self.graph.parts(e)))
                .collect(),
            cut: self.cuts(),
        }
    }

    /// The graph's cuts, one per (from, to), with their causes in words.
    fn cuts(&self) -> Vec<CutAccess> {
        let mut out: Vec<CutAccess> = Vec::new();
        for c in self.graph.cuts() {
            let ports = self.graph.cut_ports(c.why);
            let text = self.cut_cause(c.from, c.to, c.why);
            match out.last_mut() {
                Some(last) if last.from == c.from && last.to == c.to => {
                    if let Kind::Net(p) = &mut last.access {
                        *p = p.union(ports);
                    }
                    crate::lints::push_unique(&mut last.causes, text);
                }
                _ => out.push(CutAccess {
                    from: c.from,
                    to: c.to,
                    access: Kind::Net(ports.clone()),
                    causes: vec![text],
                }),
            }
        }
        out
    }

    /// Why a connection is cut: what the NetworkPolicies admit, then what
    /// each layer's objects do.
    fn cut_cause(&self, from: GNode, to: GNode, why: CutWhy) -> String {
        let env = self.env;
        let m = self.model;
        let (admitted, by) = match why {
            CutWhy::Net(i) => {
                let c = &env.cut[i];
                let eg: Vec<String> = c.egress.iter().map(|x| env.describe(*x)).collect();
                let ing: Vec<String> = c.ingress.iter().map(|x| env.describe(*x)).collect();
                (
                    format!(
                        "NetworkPolicy admits {}: egress {}, ingress {}",
                        c.ports,
                        eg.join(", "),
                        ing.join(", ")
                    ),
                    &c.by,
                )
            }
            CutWhy::Ingress(i) => {
                let c = &env.cut[i];
                let ing: Vec<String> = c.ingress.iter().map(|x| env.describe(*x)).collect();
                (
                    format!(
                        "through the ingress controller, which NetworkPolicy lets reach `{}` on {} ({})",
                        node_name(m, to),
                        c.ports,
                        ing.join(", ")
                    ),
                    &c.by,
                )
            }
            CutWhy::Ip(i) => {
                let c = &env.ip_cut[i];
                (
                    format!(
                        "its pod's NetworkPolicies admit egress to {} on {}",
                        c.addresses.describe(),
                        c.ports
                    ),
                    &c.by,
                )
            }
        };
        let mut out = admitted;
        for b in by {
            out.push_str("; ");
            out.push_str(&b.text());
        }
        if by.iter().any(|b| b.layer == Layer::Guardrail) {
            let at = self.forbids_at(from, to);
            if !at.is_empty() {
                out.push_str(&format!(" (forbid at {})", at.join(", ")));
            }
        }
        out
    }

    /// Where the `forbid`s applying here that name `from` and `to` (or
    /// their pod-mates: a guardrail selects a pod) are: `m.sec:16:1`.
    fn forbids_at(&self, from: GNode, to: GNode) -> Vec<String> {
        let m = self.model;
        let same = |e: Entity, n: GNode| match (e, n) {
            (Entity::App(a), GNode::E(Entity::App(b))) => {
                m.apps[a.index()].pod == m.apps[b.index()].pod
            }
            (e, GNode::E(n)) => e == n,
            _ => false,
        };
        let mut out = Vec::new();
        for f in &m.forbids {
            let applies = match (&f.envs, self.env.env) {
                (Some(list), Some(e)) => list.contains(&e),
                _ => true,
            };
            let names =
                f.subjects.iter().any(|&s| same(s, from)) && f.targets.iter().any(|&t| same(t, to));
            if applies && names {
                let file = self.sources.get(f.span.file);
                let (line, col) = file.line_col(f.span.start);
                out.push(format!("{}:{line}:{col}", file.name));
            }
        }
        out
    }

    /// The grants of (from, to) that declare this class of access, and
    /// what they declare.
    fn declared(&self, from: GNode, to: GNode, class: Class) -> (Vec<usize>, Covers) {
        let m = self.model;
        let (GNode::E(s), GNode::E(t)) = (from, to) else {
            return (Vec::new(), Covers::Ports(PortSet::empty()));
        };
        let grants = self.grants.get(&(s, t)).map_or(&[][..], Vec::as_slice);
        let mut ids = Vec::new();
        let mut ports = PortSet::empty();
        let mut level: Option<DataLevel> = None;
        for &gi in grants {
            let g = &m.grants[gi];
            let hit = match (class, &g.access) {
                (
                    Class::Net,
                    Access::Port {
                        number, protocol, ..
                    },
                ) => {
                    let p = PortSet::of((*protocol).into(), PortRanges::single(*number));
                    ports = ports.union(&p);
                    true
                }
                // An app's data grant includes the connection to the store.
                (Class::Net, Access::Data(_)) => match (s, t) {
                    (Entity::App(_), Entity::Store(st)) => {
                        let port = m.stores[st.index()].port;
                        let p = PortSet::of(Protocol::Tcp, PortRanges::single(port));
                        ports = ports.union(&p);
                        true
                    }
                    _ => false,
                },
                (Class::Data, Access::Data(l)) => {
                    level = level.max(Some(*l));
                    true
                }
                (Class::Op(op), Access::Op(o)) => implies(*o, op),
                (Class::Kube, Access::Kube(_)) => true,
                _ => false,
            };
            if hit {
                ids.push(gi);
            }
        }
        let part = match class {
            Class::Net => Covers::Ports(ports),
            Class::Data => match level {
                Some(l) => Covers::Level(l),
                None => Covers::Unit,
            },
            Class::Op(_) | Class::Kube => Covers::Unit,
        };
        (ids, part)
    }

    fn finish(
        &self,
        from: GNode,
        to: GNode,
        class: Class,
        access: &Kind,
        parts: &[Why],
    ) -> AccessEdge {
        let access = access.clone();
        let (declared, covers) = self.declared(from, to, class);
        let has_decl = !declared.is_empty();
        // Whether the declared access covers one part of the edge.
        let covered = |p: Part<'_>| match (p, &covers) {
            (Part::Ports(p), Covers::Ports(d)) => p.is_subset(d),
            (Part::Level(l), Covers::Level(d)) => l <= *d,
            (Part::Unit, _) => has_decl,
            _ => false,
        };
        let mut findings: Vec<usize> = Vec::new();
        let mut causes: Vec<String> = Vec::new();
        for &why in parts {
            if covered(self.graph.part(why)) {
                continue;
            }
            let (text, mut cands) = self.cause(from, to, why);
            crate::lints::push_unique(&mut causes, text);
            // A persona holds the Roles of those it shares a subject with.
            if let GNode::E(Entity::Persona(p)) = from {
                for &mate in self.statics.rbac_mates.get(&p).into_iter().flatten() {
                    cands.push(Cand {
                        lint: "shared-rbac-subject",
                        pair: (Entity::Persona(p), Entity::Persona(mate)),
                        op: None,
                    });
                }
            }
            for c in &cands {
                for f in self.lookup(c) {
                    crate::lints::push_unique(&mut findings, f);
                }
            }
        }
        // Findings about the edge whether declared or not.
        if let (GNode::E(s), GNode::E(t)) = (from, to) {
            let general: &[&'static str] = match (s, t, class) {
                (Entity::Persona(_), Entity::Store(_), Class::Data) => {
                    &["human-write-restricted", "clearance-exceeded"]
                }
                (Entity::Persona(_), Entity::App(_), Class::Op(Operation::Portforward)) => {
                    &["portforward-bypasses-network"]
                }
                (Entity::App(_), Entity::Internet, Class::Net) => &["egress-to-internet"],
                _ => &[],
            };
            for lint in general {
                for &f in self.findings.get(lint, s, t) {
                    crate::lints::push_unique(&mut findings, f);
                }
            }
        }
        findings.sort_unstable();
        let widened = (!causes.is_empty()).then(|| Widening {
            undeclared: match (&access, &covers) {
                (Kind::Net(p), Covers::Ports(d)) => Kind::Net(p.difference(d)),
                (other, _) => other.clone(),
            },
            causes,
        });
        AccessEdge {
            from,
            to,
            access,
            declared,
            widened,
            findings,
        }
    }

    /// A pod-mate of `app` (other than it) for which `has` holds.
    fn mate(&self, node: Node, app: GNode, has: impl Fn(Entity) -> bool) -> Option<Entity> {
        let Node::Group(g) = node else { return None };
        let apps = &self.model.pods[g.index()].apps;
        if apps.len() < 2 {
            return None;
        }
        (apps.iter().map(|&a| Entity::App(a))).find(|&a| GNode::E(a) != app && has(a))
    }

    fn has_grant(&self, s: Entity, t: Entity, class: Class) -> bool {
        !self.declared(GNode::E(s), GNode::E(t), class).0.is_empty()
    }

    fn shares(&self, node: Node, mate: Entity) -> String {
        let Node::Group(g) = node else {
            return String::new();
        };
        format!(
            "shares pod `{}` with `{}` (one network identity)",
            self.model.pods[g.index()].name,
            self.model.name_of(mate)
        )
    }

    /// A cause in words and the (lint, subject, target) of the findings
    /// that would report it.
    fn cause(&self, from: GNode, to: GNode, why: Why) -> (String, Vec<Cand>) {
        let m = self.model;
        let env = self.env;
        let pair = match (from, to) {
            (GNode::E(s), GNode::E(t)) => Some((s, t)),
            _ => None,
        };
        let lint = |name: &'static str| {
            (pair.into_iter())
                .map(|(s, t)| Cand {
                    lint: name,
                    pair: (s, t),
                    op: None,
                })
                .collect()
        };
        match why {
            Why::Net(i) => {
                let e = &env.net[i];
                if let GNode::E(t) = to {
                    let out = self.mate(e.from, from, |mate| self.has_grant(mate, t, Class::Net));
                    if let Some(mate) = out {
                        return (self.shares(e.from, mate), lint("shared-pod-widening"));
                    }
                }
                if let GNode::E(s) = from {
                    let inc = self.mate(e.to, to, |mate| self.has_grant(s, mate, Class::Net));
                    if let Some(mate) = inc {
                        return (self.shares(e.to, mate), lint("shared-pod-widening"));
                    }
                }
                let eg: Vec<String> = e.egress.iter().map(|c| env.describe(*c)).collect();
                let ing: Vec<String> = e.ingress.iter().map(|c| env.describe(*c)).collect();
                (
                    format!(
                        "NetworkPolicy admits {}: egress {}, ingress {}{}",
                        e.ports,
                        eg.join(", "),
                        ing.join(", "),
                        layers_text(&e.layers)
                    ),
                    Vec::new(),
                )
            }
            Why::Ingress(i) => {
                let e = &env.net[i];
                let ing: Vec<String> = e.ingress.iter().map(|c| env.describe(*c)).collect();
                (
                    format!(
                        "through the ingress controller, which may reach `{}` on {} ({}{}): \
                         NetworkPolicies cannot tell who is behind it",
                        node_name(m, to),
                        e.ports,
                        ing.join(", "),
                        layers_text(&e.layers)
                    ),
                    Vec::new(),
                )
            }
            Why::Ip(i) => {
                let ip = &env.ip[i];
                let internet = to == GNode::E(Entity::Internet);
                if let GNode::E(t) = to {
                    let out = self.mate(ip.from, from, |mate| {
                        self.has_grant(mate, t, Class::Net)
                            || (matches!(t, Entity::Store(_))
                                && self.has_grant(mate, t, Class::Data))
                    });
                    if let Some(mate) = out {
                        let l = if internet {
                            lint("egress-to-internet")
                        } else {
                            Vec::new()
                        };
                        return (self.shares(ip.from, mate), l);
                    }
                }
                let text = format!(
                    "its {} NetworkPolicies admit egress to {} on {}",
                    if matches!(ip.from, Node::Store(_)) {
                        "pods'"
                    } else {
                        "pod's"
                    },
                    ip.addresses.describe(),
                    ip.ports
                );
                (text, Vec::new())
            }
            Why::Data(i) => {
                let d = &env.data[i];
                let secret = format!("{}-{}", m.stores[d.store.index()].name, d.level.as_str());
                match &d.via {
                    Via::Mount => (format!("its container mounts {secret}"), Vec::new()),
                    Via::Secret(cause) => (format!("may get Secret {secret}: {cause}"), Vec::new()),
                    Via::Exec(g) => {
                        let group = &m.pods[g.index()];
                        // The container that mounts it.
                        let app = self.mounts.get(&(*g, d.store, d.level)).copied();
                        let text = match app {
                            Some(a) if group.apps.len() > 1 => format!(
                                "exec into pod `{}`, whose container `{}` mounts {secret}",
                                group.name,
                                m.apps[a.index()].name
                            ),
                            _ => format!(
                                "exec into {}, whose container mounts {secret}",
                                self.group_text(*g)
                            ),
                        };
                        (text, self.exec_lints(from, *g))
                    }
                    Via::ExecStore => {
                        let Holder::Persona(p) = d.holder else {
                            return ("exec into the store's own pods".into(), Vec::new());
                        };
                        let text = match self.store_execs.get(&(p, d.store)) {
                            Some(cause) => format!("exec into the store's own pods: {cause}"),
                            None => "exec into the store's own pods".into(),
                        };
                        let lints = self.wide_lints(Entity::Persona(p), Operation::Exec, to);
                        (text, lints)
                    }
                }
            }
            Why::Op(i) => {
                let o = &env.ops[i];
                let who = Entity::Persona(o.persona);
                let mate = self.mate(o.target, to, |mate| {
                    self.has_grant(who, mate, Class::Op(o.op))
                });
                if let (Some(mate), Node::Group(g)) = (mate, o.target) {
                    let text = format!(
                        "shares pod `{}` with `{}`, on which `{}` is granted: {}",
                        m.pods[g.index()].name,
                        m.name_of(mate),
                        o.op.as_str(),
                        o.cause
                    );
                    // namespace-wide-grant reports pod-mates too.
                    return (text, self.wide_lints(who, o.op, to));
                }
                let named = self.named(who, o.op, to);
                if named.is_empty() {
                    return (o.cause.to_string(), Vec::new());
                }
                let ns = namespace_of(
                    m,
                    match to {
                        GNode::E(t) => t,
                        GNode::Ingress => Entity::Kube,
                    },
                )
                .map_or("?", |ns| m.namespaces[ns.index()].name.as_str());
                let list: Vec<String> = named
                    .iter()
                    .map(|&t| format!("`{}`", m.name_of(t)))
                    .collect();
                let text = format!(
                    "`{}` on {} reaches every pod of namespace `{ns}` (RBAC cannot name pods): {}",
                    o.op.as_str(),
                    list.join(", "),
                    o.cause
                );
                (text, self.wide_lints(who, o.op, to))
            }
            Why::Token => (
                "its container mounts a ServiceAccount token".into(),
                Vec::new(),
            ),
            Why::ExecNet { op, net } => {
                let Some((pods, lints)) = self.exec_into(from, env.ops[op].target) else {
                    return (String::new(), Vec::new());
                };
                let text = format!(
                    "exec into {pods}, which may connect to `{}` on {}",
                    node_name(m, to),
                    env.net[net].ports
                );
                (text, lints)
            }
            Why::ExecIp { op, ip } => {
                let Some((pods, lints)) = self.exec_into(from, env.ops[op].target) else {
                    return (String::new(), Vec::new());
                };
                let ip = &env.ip[ip];
                let text = format!(
                    "exec into {pods}, which may connect to {} on {}",
                    ip.addresses.describe(),
                    ip.ports
                );
                (text, lints)
            }
            Why::ExecToken { op } => {
                let Node::Group(g) = env.ops[op].target else {
                    return (String::new(), Vec::new());
                };
                let text = format!(
                    "exec into {}, whose pod mounts a ServiceAccount token",
                    self.group_text(g)
                );
                (text, self.exec_lints(from, g))
            }
        }
    }

    /// `` `api` `` or `` pod `etl-pod` (etl, shipper) ``.
    fn group_text(&self, g: PodId) -> String {
        let m = self.model;
        let pod = &m.pods[g.index()];
        if pod.apps.len() == 1 {
            format!("`{}`", m.apps[pod.apps[0].index()].name)
        } else {
            let apps: Vec<&str> = pod
                .apps
                .iter()
                .map(|a| m.apps[a.index()].name.as_str())
                .collect();
            format!("pod `{}` ({})", pod.name, apps.join(", "))
        }
    }

    /// `exec-inherits-identity` reports (persona, each app of the group).
    /// What exec lands in — `` `api` `` or `` the pods of store `orders` ``
    /// — and the findings that report it: `exec-inherits-identity` for a
    /// pod group; for a store's pods, reached only by a namespace-wide
    /// exec rule, `namespace-wide-grant`.
    fn exec_into(&self, from: GNode, target: Node) -> Option<(String, Vec<Cand>)> {
        match (target, from) {
            (Node::Group(g), _) => Some((self.group_text(g), self.exec_lints(from, g))),
            (Node::Store(s), GNode::E(who)) => {
                let store = Entity::Store(s);
                let lints = self.wide_lints(who, Operation::Exec, GNode::E(store));
                let name = self.model.name_of(store);
                Some((format!("the pods of store `{name}`"), lints))
            }
            _ => None,
        }
    }

    fn exec_lints(&self, from: GNode, g: PodId) -> Vec<Cand> {
        let GNode::E(who) = from else {
            return Vec::new();
        };
        (self.model.pods[g.index()].apps.iter())
            .map(|&a| Cand {
                lint: "exec-inherits-identity",
                pair: (who, Entity::App(a)),
                op: None,
            })
            .collect()
    }

    /// The targets of `who`'s `op` grants in `to`'s namespace.
    fn named(&self, who: Entity, op: Operation, to: GNode) -> &[Entity] {
        let GNode::E(t) = to else { return &[] };
        let Some(ns) = namespace_of(self.model, t) else {
            return &[];
        };
        self.op_targets
            .get(&(who, op, ns))
            .map_or(&[], Vec::as_slice)
    }

    /// `namespace-wide-grant` reports (persona, each named target).
    fn wide_lints(&self, who: Entity, op: Operation, to: GNode) -> Vec<Cand> {
        (self.named(who, op, to).iter())
            .map(|&t| Cand {
                lint: "namespace-wide-grant",
                pair: (who, t),
                op: Some(op),
            })
            .collect()
    }

    /// The findings a candidate names: of its lint and pair, and for an
    /// operation, stated at a grant of that operation.
    fn lookup(&self, c: &Cand) -> Vec<usize> {
        let hits = self.findings.get(c.lint, c.pair.0, c.pair.1);
        let Some(op) = c.op else {
            return hits.to_vec();
        };
        (hits.iter().copied())
            .filter(|&f| {
                let span = self.findings.outcomes[f].finding.span;
                self.op_spans.contains(&(span, op))
            })
            .collect()
    }
}

/// What admits a connection in the layers beyond the NetworkPolicies, as a
/// continuation of the NetworkPolicy cause: `; AuthorizationPolicy core/api
/// rules[0] admits it`, or nothing.
fn layers_text(layers: &[LayerCause]) -> String {
    layers.iter().map(|l| format!("; {}", l.text())).collect()
}

const ALL_OPS: [Operation; 7] = [
    Operation::View,
    Operation::Logs,
    Operation::Exec,
    Operation::Portforward,
    Operation::Restart,
    Operation::Scale,
    Operation::Deploy,
];

/// Whether a grant of operation `granted` declares effective `op`: the
/// rules of docs/kubernetes.md give `logs` `list pods` (which is `view`'s
/// request) and `deploy` `patch deployments` (`restart`'s).
pub fn implies(granted: Operation, op: Operation) -> bool {
    granted == op
        || matches!(
            (granted, op),
            (Operation::Logs, Operation::View) | (Operation::Deploy, Operation::Restart)
        )
}

/// The namespace an app or in-cluster store runs in.
fn namespace_of(m: &Model, e: Entity) -> Option<NsId> {
    match e {
        Entity::App(a) => Some(m.apps[a.index()].namespace),
        Entity::Store(s) => match m.stores[s.index()].location {
            StoreLocation::InCluster(ns) => Some(ns),
            StoreLocation::Outside(_) => None,
        },
        _ => None,
    }
}

//! `external-reaches-sensitive`: an external persona (or `internet`) has a
//! path to a confidential or restricted store that the model's statements
//! do not declare: some hop of it is wider than declared.

use super::{Cx, Finding, LintInfo};
use crate::access_graph::{Class, EnvGraph, GNode};
use crate::effective::access::sensitive;
use crate::model::{Access, Entity, Level, Model, Operation, PersonaId, StoreId};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::{BTreeMap, VecDeque};

pub const INFO: LintInfo = LintInfo {
    name: "external-reaches-sensitive",
    default: Level::Warn,
    summary: "an external persona reaches a confidential or restricted store by a path the statements do not declare",
    explain: "\
Customers and partners are outside your trust boundary. A chain of access
from one of them to a confidential or restricted store — customer → web →
api → database — is what an attacker follows, hop by hop.

When every hop of such a chain is a statement of the model (`allow customer
-> web: https`, `allow web -> api: grpc`, `allow api -> db: write`), the
chain is the declared design: the lint is quiet, and `palisade query path
customer db` or `palisade review` shows it for review. The lint fires when
an external persona (or `internet`) reaches a sensitive store only through
a hop no statement declares: a pod-mate's connection, the ingress
controller admitted to an app the persona was not granted, exec into a pod
that mounts credentials. The finding shows the shortest effective path and
names the undeclared hops.

Fix: narrow the undeclared hop (the lint that reports it — e.g.
`shared-pod-widening` — says how). If the hop is intended, declare it with
an `allow`; if the exposure is reviewed and accepted as it is, say why:
`accept external-reaches-sensitive on customer -> main-db \"API enforces tenancy\"`.
To require that no path exist at all, write `forbid customer ~> main-db`
(an invariant: `check` fails while a path exists).",
};

/// The classes of access each (subject, target) pair is declared to have
/// in one environment.
fn declared(m: &Model, graph: &EnvGraph) -> HashSet<(Entity, Entity, Class)> {
    let mut set = HashSet::new();
    for g in m.grants.iter().filter(|g| m.grant_applies(g, graph.env())) {
        let (s, t) = (g.subject, g.target);
        match g.access {
            Access::Port { .. } => {
                set.insert((s, t, Class::Net));
            }
            Access::Data(_) => {
                set.insert((s, t, Class::Data));
                // An app's data grant includes the connection to the store.
                if matches!(s, Entity::App(_)) {
                    set.insert((s, t, Class::Net));
                }
            }
            Access::Op(op) => {
                set.insert((s, t, Class::Op(op)));
                // `logs` lists pods (view's request); `deploy` patches
                // (restart's).
                match op {
                    Operation::Logs => set.insert((s, t, Class::Op(Operation::View))),
                    Operation::Deploy => set.insert((s, t, Class::Op(Operation::Restart))),
                    _ => false,
                };
            }
            Access::Kube(_) => {
                set.insert((s, t, Class::Kube));
            }
        }
    }
    set
}

/// Whether a hop is one a statement declares.
fn is_declared(set: &HashSet<(Entity, Entity, Class)>, from: GNode, to: GNode, class: Class) -> bool {
    match (from, to) {
        (GNode::E(s), GNode::E(t)) => set.contains(&(s, t, class)),
        // Through the ingress controller as a party of its own: no
        // statement names it.
        _ => false,
    }
}

/// Every party reached from `from` over moving edges a statement declares.
fn declared_reach(
    graph: &EnvGraph,
    set: &HashSet<(Entity, Entity, Class)>,
    from: GNode,
) -> HashSet<GNode> {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([from]);
    seen.insert(from);
    while let Some(at) = queue.pop_front() {
        for (to, e) in graph.edges_from(at) {
            if e.moves && is_declared(set, at, to, e.class) && seen.insert(to) {
                queue.push_back(to);
            }
        }
    }
    seen
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // (source, store) → (path, undeclared hops, environments)
    type Found = (String, Vec<String>, Vec<String>);
    let mut found: BTreeMap<(Entity, StoreId), Found> = BTreeMap::new();
    let sensitive_stores: Vec<StoreId> = (m.stores.iter().enumerate())
        .filter(|(_, s)| sensitive(s.classification))
        .map(|(s, _)| StoreId(s as u32))
        .collect();
    if sensitive_stores.is_empty() {
        return;
    }
    for graph in cx.graphs {
        let set = declared(m, graph);
        let mut by_design: HashMap<Entity, HashSet<GNode>> = HashMap::new();
        // External personas, and the built-in `internet`.
        let sources = (m.personas.iter().enumerate())
            .filter(|(_, p)| p.external)
            .map(|(p, _)| Entity::Persona(PersonaId(p as u32)))
            .chain([Entity::Internet]);
        for source in sources {
            let from = GNode::E(source);
            let reach = graph.reach(from);
            for &s in &sensitive_stores {
                let to = GNode::E(Entity::Store(s));
                let Some(hops) = graph.path(&reach, to) else {
                    continue;
                };
                let design = by_design
                    .entry(source)
                    .or_insert_with(|| declared_reach(graph, &set, from));
                if design.contains(&to) {
                    continue;
                }
                let path = graph.render_path(m, &reach, to).unwrap_or_default();
                let entry = found
                    .entry((source, s))
                    .or_insert_with(|| (path, Vec::new(), Vec::new()));
                for h in hops
                    .iter()
                    .filter(|h| !is_declared(&set, h.from, h.to, h.edge.class))
                {
                    let hop = graph.render_edge(m, h.from, h.to, h.edge);
                    super::push_unique(&mut entry.1, hop);
                }
                let name = cx.in_env(graph.env());
                super::push_unique(&mut entry.2, name);
            }
        }
    }
    for ((source, s), (path, undeclared, envs)) in found {
        let store = &m.stores[s.index()];
        let (span, who, subject) = match source {
            Entity::Persona(p) => (
                m.personas[p.index()].span,
                format!("external persona `{}`", m.personas[p.index()].name),
                m.personas[p.index()].name.clone(),
            ),
            // `internet` is declared by no one: the statement granting it.
            _ => (
                cx.grants_of(Entity::Internet)
                    .next()
                    .map_or(store.span, |g| g.span),
                "`internet`".to_string(),
                "internet".to_string(),
            ),
        };
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "{who} has a path to {} store `{}` that the statements do not declare{}",
                store.classification.as_str(),
                store.name,
                envs.join(",")
            ),
        )
        .pair(source, Entity::Store(s))
        .note(format!("path: {path}"));
        for hop in undeclared {
            f = f.note(format!("not declared: {hop}"));
        }
        out.push(f.help(format!(
            "narrow the undeclared hop, declare it with an `allow` if it is intended, or record the review: `accept external-reaches-sensitive on {subject} -> {} \"<why this exposure is acceptable>\"`",
            store.name
        )));
    }
}

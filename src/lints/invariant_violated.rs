//! `invariant-violated`: a `forbid` fails on effective access.

use crate::access_graph::{name, EnvGraph, GNode, Kind, Reach};
use super::{Cx, Finding, LintInfo};
use crate::effective::network::Protocol;
use crate::model::{Access, Entity, EnvId, Forbid, ForbidKind, Level, Model, Operation};
use foldhash::{HashMap, HashMapExt};

pub const INFO: LintInfo = LintInfo {
    name: "invariant-violated",
    default: Level::Deny,
    summary: "a `forbid` invariant fails",
    explain: "\
`forbid A -> B [: access]` says A must not be able to perform the access on
B *by any means the objects grant*: directly (a network connection, a
credentials Secret, an operation), or by acting as a pod it can exec into.
`forbid A ~> B` says there must be no path at all from A to B through the
effective access graph (A reaches X, X reaches B, ...).

An `allow` that declares what a `forbid` forbids — the same subject and
target, an access the `forbid` covers, an environment both apply to —
fails it too, whatever the objects do: with `platform.guardrails` the
generated guardrail cuts the connection, but the model still says both.

Always an error; it cannot be lowered or accepted. The error shows the
path (or the statement) that breaks the invariant.

Fix: remove or narrow the access on the path (the notes say which
statement's effect each hop is), or change the invariant if the design
changed.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    on_graphs(cx, out, true);
}

/// The `forbid`s on `cx`'s graphs; with `declared`, also against the
/// model's own `allow`s (`check`; an audit judges the manifests' graph
/// only).
pub fn on_graphs(cx: &Cx<'_>, out: &mut Vec<Finding>, declared: bool) {
    let m = cx.model;
    // One search per (environment, subject), however many `~>` name it.
    let mut searches: HashMap<(usize, GNode), Reach> = HashMap::new();
    for f in &m.forbids {
        let mut failures: Vec<String> = Vec::new();
        for (i, graph) in cx.graphs.iter().enumerate() {
            if let (Some(list), Some(e)) = (&f.envs, graph.env()) {
                if !list.contains(&e) {
                    continue;
                }
            }
            for &s in &f.subjects {
                let from = GNode::E(s);
                if f.kind == ForbidKind::Path {
                    searches
                        .entry((i, from))
                        .or_insert_with(|| graph.reach(from));
                }
                let reach = searches
                    .get(&(i, from))
                    .filter(|_| f.kind == ForbidKind::Path);
                for &t in &f.targets {
                    let to = GNode::E(t);
                    let found = match reach {
                        Some(reach) => graph.render_path(m, reach, to),
                        None => direct(m, graph, from, to, &f.access),
                    };
                    let found = found.map(|path| format!("path: {path}")).or_else(|| {
                        declared
                            .then(|| declared_by(cx, f, s, t, graph.env()))
                            .flatten()
                    });
                    if let Some(why) = found {
                        failures.push(format!("{why}{}", cx.in_env(graph.env())));
                    }
                }
            }
        }
        if failures.is_empty() {
            continue;
        }
        failures.dedup();
        let arrow = if f.kind == ForbidKind::Path {
            "~>"
        } else {
            "->"
        };
        let mut finding = Finding::new(
            &INFO,
            f.span,
            format!("this invariant fails: a forbidden `{arrow}` exists"),
        )
        .help("remove or narrow the access on the path");
        if let Some(r) = &f.reason {
            finding = finding.note(format!("the invariant: \"{r}\""));
        }
        for p in failures {
            finding = finding.note(p);
        }
        out.push(finding);
    }
}

/// Direct effective access from `from` to `to` matching `access` (any if
/// empty): one edge of the graph (which holds what exec into a pod and the
/// ingress controller pass on), or `deploy`/`restart` of a pod — which may
/// change its template, and so act as it — and one edge from it.
fn direct(m: &Model, g: &EnvGraph, from: GNode, to: GNode, access: &[Access]) -> Option<String> {
    // Reading a store's pod logs is no access to the store in the language
    // (persona → store access is read, write, admin); on an app it is.
    let to_store = matches!(to, GNode::E(crate::model::Entity::Store(_)));
    let matches = |k: &Kind| {
        if access.is_empty() {
            !(to_store && matches!(k, Kind::Op(Operation::Logs | Operation::View)))
        } else {
            access.iter().any(|a| kind_matches(a, k))
        }
    };
    for (t, e) in g.edges_from(from) {
        if t == to && matches(&e.access) {
            return Some(g.render_edge(m, from, to, e));
        }
    }
    for (x, e) in g.edges_from(from) {
        if !matches!(e.access, Kind::Op(Operation::Deploy | Operation::Restart)) {
            continue;
        }
        for (t, e2) in g.edges_from(x) {
            if t == to && matches(&e2.access) && !matches!(e2.access, Kind::Op(_)) {
                return Some(format!(
                    "{} {} {} {} {}",
                    name(m, from),
                    g.label(m, e),
                    name(m, x),
                    g.label(m, e2),
                    name(m, to)
                ));
            }
        }
    }
    None
}

/// An `allow` of `s -> t` in `env` whose access `f` forbids (any access
/// for a `~>`, which also forbids the direct step), in words.
fn declared_by(cx: &Cx<'_>, f: &Forbid, s: Entity, t: Entity, env: Option<EnvId>) -> Option<String> {
    let m = cx.model;
    let g = cx
        .grants_of(s)
        .filter(|g| g.target == t && m.grant_applies(g, env))
        .find(|g| {
            f.kind == ForbidKind::Path || f.access.is_empty() || f.access.iter().any(|a| covers(a, &g.access))
        })?;
    Some(format!(
        "declared: `allow {} -> {}: {}` (a layer may cut the connection, but the model says both)",
        m.name_of(s),
        m.name_of(t),
        g.access
    ))
}

/// The `forbid`s by (subject, target) pair, to ask of a grant whether a
/// `forbid` of its own pair contradicts it without a pass over them all.
pub struct Forbids<'m> {
    by_pair: HashMap<(Entity, Entity), Vec<&'m Forbid>>,
}

impl<'m> Forbids<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut by_pair: HashMap<(Entity, Entity), Vec<&'m Forbid>> = HashMap::new();
        for f in &model.forbids {
            for &s in &f.subjects {
                for &t in &f.targets {
                    by_pair.entry((s, t)).or_default().push(f);
                }
            }
        }
        Forbids { by_pair }
    }

    /// Whether a `forbid` (`->` or `~>`) applying in `env` forbids what
    /// `g` declares: the model says both, which `check` reports here.
    pub fn contradict(&self, g: &crate::model::Grant, env: Option<EnvId>) -> bool {
        let Some(list) = self.by_pair.get(&(g.subject, g.target)) else {
            return false;
        };
        list.iter().any(|f| {
            let applies = match (&f.envs, env) {
                (Some(list), Some(e)) => list.contains(&e),
                _ => true,
            };
            applies
                && (f.kind == ForbidKind::Path
                    || f.access.is_empty()
                    || f.access.iter().any(|a| covers(a, &g.access)))
        })
    }
}

/// Whether forbidding `forbidden` forbids the granted `granted`: the grant
/// gives all the `forbid` names (`write` gives `read`); for RBAC rules,
/// either covering the other (`* pods` and `get pods` meet).
fn covers(forbidden: &Access, granted: &Access) -> bool {
    use super::duplicate_statement::access_covers;
    match (forbidden, granted) {
        (Access::Kube(_), Access::Kube(_)) => {
            access_covers(granted, forbidden) || access_covers(forbidden, granted)
        }
        _ => access_covers(granted, forbidden),
    }
}

fn kind_matches(a: &Access, k: &Kind) -> bool {
    match (a, k) {
        (
            Access::Port {
                number, protocol, ..
            },
            Kind::Net(ports),
        ) => {
            let p = Protocol::from(*protocol);
            ports.contains(p, *number)
        }
        (Access::Data(want), Kind::Data(have)) => have >= want,
        (Access::Data(_), Kind::Net(_)) => false,
        (Access::Op(want), Kind::Op(have)) => want == have,
        (Access::Kube(_), Kind::Token) => true,
        (Access::Kube(_), _) => false,
        _ => false,
    }
}

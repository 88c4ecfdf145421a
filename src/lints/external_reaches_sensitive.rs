//! `external-reaches-sensitive`: an external persona has a path to a
//! confidential or restricted store.

use crate::access_graph::GNode;
use super::{Cx, Finding, LintInfo};
use crate::effective::access::sensitive;
use crate::model::{Entity, Level, PersonaId, StoreId};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "external-reaches-sensitive",
    default: Level::Warn,
    summary: "an external persona has a path to a confidential or restricted store",
    explain: "\
Customers and partners are outside your trust boundary. If a chain of
effective access leads from one of them to a confidential or restricted
store — customer → web → api → database — then compromising each hop in
turn is all an attacker needs. Each hop may be intended; the chain is what
a reviewer must see.

Fires for every external persona and every confidential or restricted store
it reaches through the effective access graph (network connections the
policies allow, credentials apps hold), showing the shortest path.

Fix: break the chain where it is weakest (an API that needs no write
access, a store behind a service with its own authorization), add `forbid`
invariants for the paths that must never exist, or accept the finding with
the design's reason: `accept external-reaches-sensitive on customer -> main-db \"API enforces tenancy\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut found: BTreeMap<(Entity, StoreId), (String, Vec<String>)> = BTreeMap::new();
    for graph in cx.graphs {
        // External personas, and the built-in `internet`.
        let sources = (m.personas.iter().enumerate())
            .filter(|(_, p)| p.external)
            .map(|(p, _)| Entity::Persona(PersonaId(p as u32)))
            .chain([Entity::Internet]);
        for source in sources {
            let from = GNode::E(source);
            let reach = graph.reach(from);
            for (s, store) in m.stores.iter().enumerate() {
                if !sensitive(store.classification) {
                    continue;
                }
                let to = GNode::E(Entity::Store(StoreId(s as u32)));
                if let Some(path) = graph.render_path(m, &reach, to) {
                    let entry = found
                        .entry((source, StoreId(s as u32)))
                        .or_insert_with(|| (path, Vec::new()));
                    let name = cx.in_env(graph.env());
                    super::push_unique(&mut entry.1, name);
                }
            }
        }
    }
    for ((source, s), (path, envs)) in found {
        let store = &m.stores[s.index()];
        let (span, who) = match source {
            Entity::Persona(p) => (
                m.personas[p.index()].span,
                format!("external persona `{}`", m.personas[p.index()].name),
            ),
            // `internet` is declared by no one: the statement granting it.
            _ => (
                cx.grants_of(Entity::Internet)
                    .next()
                    .map_or(store.span, |g| g.span),
                "`internet`".to_string(),
            ),
        };
        out.push(
            Finding::new(
                &INFO,
                span,
                format!(
                    "{who} has a path to {} store `{}`{}",
                    store.classification.as_str(),
                    store.name,
                    envs.join(",")
                ),
            )
            .pair(source, Entity::Store(s))
            .note(format!("path: {path}"))
            .help("break the chain, or add `forbid` invariants for paths that must never exist"),
        );
    }
}

//! `namespace-wide-grant`: an RBAC grant reaches pods the model did not name.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::Node;
use crate::model::{Entity, Level, Operation};
use std::collections::{BTreeMap, BTreeSet};

pub const INFO: LintInfo = LintInfo {
    name: "namespace-wide-grant",
    default: Level::Warn,
    summary: "an RBAC grant reaches pods of apps or stores the model did not name",
    explain: "\
Kubernetes RBAC cannot name a pod: pods get generated names, so a rule on
`pods/exec`, `pods/log` or `pods/portforward` can only be granted for every
pod of a namespace. `allow sre -> api: exec` therefore lets `sre` exec into
every pod in `api`'s namespace — other apps, and the pods of in-cluster
stores (which is full access to the store's data).

Fires for every persona operation (exec, logs, portforward) whose effective
reach, computed from the generated Roles, includes pods of apps or stores
that the statement did not name. The finding lists them, per environment.

Fix: move the named apps into a namespace of their own (the boundary RBAC
can draw), or narrow the operation (logs instead of exec). If the widening
is acceptable, record why:
`accept namespace-wide-grant on analyst -> [etl, shipper] \"scheduler logs hold nothing sensitive\"`.",
};

/// (persona, operation, namespace)
type Key = (u32, u8, u32);
/// (the first statement's span, the named targets, each extra pod with its
/// environments, the RBAC cause)
type Found = (
    crate::span::Span,
    BTreeSet<Entity>,
    BTreeMap<String, Vec<String>>,
    String,
);

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut found: BTreeMap<Key, Found> = BTreeMap::new();
    for (env, index) in cx.envs.iter().zip(&cx.declared) {
        for o in &env.ops {
            if !matches!(
                o.op,
                Operation::Exec | Operation::Logs | Operation::Portforward
            ) {
                continue;
            }
            let target_ns = match o.target {
                Node::Group(g) => m.pods[g.index()].namespace,
                Node::Store(s) => match m.stores[s.index()].location {
                    crate::model::StoreLocation::InCluster(ns) => ns,
                    _ => continue,
                },
                _ => continue,
            };
            let declared: Vec<&crate::model::Grant> = index
                .ops(Entity::Persona(o.persona), o.op)
                .iter()
                .copied()
                .filter(
                    |g| matches!(g.target, Entity::App(a) if m.pod_of(a).namespace == target_ns),
                )
                .collect();
            let named = declared.iter().any(|g| {
                matches!((g.target, o.target), (Entity::App(a), Node::Group(grp)) if m.apps[a.index()].pod == grp)
            });
            if named || declared.is_empty() {
                continue;
            }
            let key = (o.persona.0, o.op as u8, target_ns.0);
            let entry = found.entry(key).or_insert_with(|| {
                (
                    declared[0].span,
                    BTreeSet::new(),
                    BTreeMap::new(),
                    o.cause.clone(),
                )
            });
            entry.1.extend(declared.iter().map(|g| g.target));
            let envs = entry.2.entry(cx.node(o.target)).or_default();
            let env_name = cx.in_env(env.env);
            if !envs.contains(&env_name) {
                envs.push(env_name);
            }
        }
    }
    for ((persona, op, ns), (span, named, extra, cause)) in found {
        let persona_e = Entity::Persona(crate::model::PersonaId(persona));
        let op = Operation::NAMES[op as usize];
        let ns = &m.namespaces[ns as usize].name;
        let list: Vec<String> = extra
            .iter()
            .map(|(node, envs)| format!("{node}{}", envs.join(",")))
            .collect();
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "`{op}` for {} reaches every pod of namespace `{ns}`, not only the named apps",
                m.name_of(persona_e)
            ),
        )
        .note(format!("also reached: {}", list.join("; ")))
        .note(format!("cause: {cause}"))
        .help("RBAC cannot name pods: give the named apps a namespace of their own, or accept the widening");
        f.pairs = named.into_iter().map(|t| (persona_e, t)).collect();
        out.push(f);
    }
}

//! `namespace-wide-grant`: an RBAC grant reaches pods the model did not name.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::Node;
use crate::model::{
    AppId, Entity, EnvId, Grant, Level, NsId, Operation, PersonaId, PodId, StoreLocation,
};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt, HashSet};
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
stores (which is full access to the store's data, and to the connections
its pods may open: its backups' destinations).

Fires for every persona operation (exec, logs, portforward) whose effective
reach, computed from the generated Roles, includes pods of apps or stores
that the statement did not name, or apps sharing a pod with a named app (a
pod's containers cannot be told apart by RBAC either). The finding lists
them, per environment.

Fix: move the named apps into a namespace of their own (the boundary RBAC
can draw), or narrow the operation (logs instead of exec). If the widening
is acceptable, record why:
`accept namespace-wide-grant on analyst -> [etl, shipper] \"scheduler logs hold nothing sensitive\"`.",
};

/// (persona, operation, namespace)
type Key = (PersonaId, Operation, NsId);

/// A key's grants, the pod groups they name and the apps they name.
type Named<'a> = (Vec<&'a Grant>, HashSet<PodId>, HashSet<AppId>);

/// Per key: the first statement's span, the named targets, each extra pod
/// with its environments, the RBAC cause.
struct Found {
    span: Span,
    named: BTreeSet<Entity>,
    extra: BTreeMap<Extra, Vec<Option<EnvId>>>,
    cause: std::sync::Arc<str>,
}

/// What an operation reaches beyond the named apps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Extra {
    /// The pods of an unnamed pod group or in-cluster store.
    Pod(Node),
    /// An unnamed app sharing a pod with a named one: RBAC reaches pods,
    /// and exec, logs and portforward may pick any container of the pod.
    Mate(AppId),
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut found: BTreeMap<Key, Found> = BTreeMap::new();
    for (env, index) in cx.envs().zip(&cx.declared) {
        // The operation grants of this environment by (persona, op,
        // namespace): the pod groups they name.
        let mut named: HashMap<Key, Named<'_>> = HashMap::new();
        for ((subject, op), grants) in &index.ops {
            let Entity::Persona(p) = *subject else {
                continue;
            };
            for g in grants {
                if let Entity::App(a) = g.target {
                    let pod = m.apps[a.index()].pod;
                    let entry = named
                        .entry((p, *op, m.pods[pod.index()].namespace))
                        .or_default();
                    entry.0.push(g);
                    entry.1.insert(pod);
                    entry.2.insert(a);
                }
            }
        }
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
                    StoreLocation::InCluster(ns) => ns,
                    StoreLocation::Outside(_) => continue,
                },
                Node::Ingress | Node::Dns => continue,
            };
            let key = (o.persona, o.op, target_ns);
            let Some((grants, pods, apps)) = named.get(&key) else {
                continue; // no statement grants it here: not this lint's case
            };
            let extra: Vec<Extra> = match o.target {
                Node::Group(g) if pods.contains(&g) => (m.pods[g.index()].apps.iter())
                    .filter(|a| !apps.contains(*a))
                    .map(|&a| Extra::Mate(a))
                    .collect(),
                node => vec![Extra::Pod(node)],
            };
            if extra.is_empty() {
                continue;
            }
            let entry = found.entry(key).or_insert_with(|| Found {
                span: grants[0].span,
                named: BTreeSet::new(),
                extra: BTreeMap::new(),
                cause: o.cause.clone(),
            });
            entry.named.extend(grants.iter().map(|g| g.target));
            for x in extra {
                super::push_unique(entry.extra.entry(x).or_default(), env.env);
            }
        }
    }
    for ((persona, op, ns), f) in found {
        let persona_e = Entity::Persona(persona);
        let ns = &m.namespaces[ns.index()].name;
        let list: Vec<String> = (f.extra.iter())
            .map(|(extra, envs)| {
                let envs: Vec<String> = envs.iter().map(|e| cx.in_env(*e)).collect();
                let what = match *extra {
                    Extra::Pod(node) => cx.node(node),
                    Extra::Mate(a) => format!(
                        "{} (shares pod {})",
                        m.apps[a.index()].name,
                        m.pods[m.apps[a.index()].pod.index()].name
                    ),
                };
                format!("{what}{}", envs.join(","))
            })
            .collect();
        let mut finding = Finding::new(
            &INFO,
            f.span,
            format!(
                "`{}` for {} reaches every pod of namespace `{ns}`, not only the named apps",
                op.as_str(),
                m.name_of(persona_e)
            ),
        )
        .note(format!("also reached: {}", list.join("; ")))
        .note(format!("cause: {}", f.cause))
        ;
        let mut fixes = Vec::new();
        if f.extra.keys().any(|x| matches!(x, Extra::Pod(_))) {
            fixes.push("RBAC cannot name pods: give the named apps a namespace of their own".to_string());
        }
        if f.extra.keys().any(|x| matches!(x, Extra::Mate(_))) {
            fixes.push(format!(
                "`{}` picks any container of a pod: name the pod-mates in the statement too, or give the named apps pods of their own",
                op.as_str()
            ));
        }
        let named: Vec<&str> = f.named.iter().map(|&t| m.name_of(t)).collect();
        let target = match named.as_slice() {
            [one] => one.to_string(),
            many => format!("[{}]", many.join(", ")),
        };
        fixes.push(format!(
            "or accept the widening: `accept namespace-wide-grant on {} -> {target} \"<reason>\"`",
            m.name_of(persona_e)
        ));
        finding = finding.help(fixes.join("; "));
        finding.pairs = f.named.into_iter().map(|t| (persona_e, t)).collect();
        out.push(finding);
    }
}

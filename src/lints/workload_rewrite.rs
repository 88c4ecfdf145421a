//! `workload-rewrite`: a persona's `restart` or `deploy` is a write of the
//! whole Deployment, so of everything a pod of its namespace can be
//! (palisade's addition to CHECKS.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{
    Access, DataLevel, Entity, Level, NsId, Operation, PodId, StmtId, StoreLocation,
};
use crate::span::Span;
use std::collections::{BTreeMap, BTreeSet};

pub const INFO: LintInfo = LintInfo {
    name: "workload-rewrite",
    default: Level::Warn,
    summary: "restart or deploy lets a persona rewrite a Deployment: any image, ServiceAccount, Secret or pod label of its namespace",
    explain: "\
`restart` and `deploy` are RBAC `patch` (and `update`) on the app's
Deployment, limited by `resourceNames` to that one Deployment. RBAC cannot
limit *what* a patch changes: `kubectl rollout restart` only touches an
annotation, but the same permission rewrites the whole pod template. A
persona allowed to restart or deploy `api` can make `api`'s pods:

- run any image and command (the app's mounts and network access come
  with it, as with `exec`);
- run as any ServiceAccount of the namespace, and so hold any app's `kube`
  Role there;
- mount any Secret of the namespace: every store credential any app there
  holds, and every in-cluster store's credentials there;
- carry any pod group's label (`<label_domain>/pod`), and so get that
  group's NetworkPolicy access.

`scale` (`deployments/scale`) changes only the replica count and is not
reported.

Fires once per statement, persona and namespace with `restart` or
`deploy` items; the notes list what the namespace holds beyond the named
pod groups.

Fix: give deploying to a pipeline (a GitOps controller that applies
reviewed manifests) rather than to people; keep an app whose restart is
delegated in a namespace with nothing else in it. If the persona really
deploys the app, accept it: `accept workload-rewrite on ci -> api \"CI
deploys api\"`.",
};

/// One finding: a statement's `restart`/`deploy` items for one persona in
/// one namespace.
#[derive(Default)]
struct Item {
    /// The first access item's span.
    span: Option<Span>,
    ops: BTreeSet<Operation>,
    groups: BTreeSet<PodId>,
    targets: Vec<Entity>,
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut items: BTreeMap<(StmtId, Entity, NsId), Item> = BTreeMap::new();
    for g in &m.grants {
        let (Entity::Persona(_), Entity::App(app), Access::Op(op)) =
            (g.subject, g.target, &g.access)
        else {
            continue;
        };
        if !matches!(op, Operation::Restart | Operation::Deploy) {
            continue;
        }
        let a = &m.apps[app.index()];
        let item = items.entry((g.stmt, g.subject, a.namespace)).or_default();
        item.span = Some(item.span.map_or(g.span, |s| s.min(g.span)));
        item.ops.insert(*op);
        item.groups.insert(a.pod);
        if !item.targets.contains(&g.target) {
            item.targets.push(g.target);
        }
    }
    for ((_, subject, ns), item) in items {
        // What the namespace holds beyond each named pod group.
        let mut accounts = BTreeSet::new();
        let mut labels = BTreeSet::new();
        let mut secrets = BTreeSet::new();
        for &own in &item.groups {
            for (i, pod) in m.pods.iter().enumerate() {
                if pod.namespace != ns || i == own.index() {
                    continue;
                }
                labels.insert(pod.name.clone());
                let kube: Vec<String> = (m.grants.iter())
                    .filter(|k| {
                        matches!(k.access, Access::Kube(_))
                            && matches!(k.subject, Entity::App(x) if pod.apps.contains(&x))
                    })
                    .map(|k| format!("`{}`", k.access))
                    .collect();
                if !kube.is_empty() {
                    accounts.insert(format!("`{}` ({})", pod.name, kube.join(", ")));
                }
            }
            for s in &m.grants {
                let (Entity::App(x), Entity::Store(st), Access::Data(level)) =
                    (s.subject, s.target, &s.access)
                else {
                    continue;
                };
                if m.apps[x.index()].namespace == ns && m.apps[x.index()].pod != own {
                    secrets.insert(format!("{}-{}", m.stores[st.index()].name, level.as_str()));
                }
            }
        }
        for st in &m.stores {
            if st.location == StoreLocation::InCluster(ns) {
                labels.insert(st.name.clone());
                for level in [DataLevel::Read, DataLevel::Write, DataLevel::Admin] {
                    secrets.insert(format!("{}-{}", st.name, level.as_str()));
                }
            }
        }
        let nsname = &m.namespace(ns).name;
        let persona = m.name_of(subject);
        let ops: Vec<String> = item
            .ops
            .iter()
            .map(|o| format!("`{}`", o.as_str()))
            .collect();
        let groups: Vec<String> = (item.groups.iter())
            .map(|g| format!("`{}`", m.pods[g.index()].name))
            .collect();
        let verb = if item.ops.len() == 1 { "lets" } else { "let" };
        let whose = if groups.len() == 1 {
            format!("{}'s Deployment", groups[0])
        } else {
            format!("the Deployments of {}", groups.join(", "))
        };
        let mut f = Finding::new(
            &INFO,
            item.span.expect("one grant at least"),
            format!(
                "{} {verb} {persona} rewrite {whose}: any image, ServiceAccount, Secret or pod label of namespace `{nsname}`",
                ops.join(" and "),
            ),
        )
        .note(format!(
            "RBAC `patch` on a Deployment cannot limit what changes: the pod template runs any image as {}, with {} mounts and network access",
            if groups.len() == 1 {
                format!("pod group {}", groups[0])
            } else {
                format!("pod groups {}", groups.join(", "))
            },
            if groups.len() == 1 { "its" } else { "their" }
        ))
        .help("leave deploying to a reviewed pipeline, or give the app a namespace of its own; accept it if the persona deploys it");
        if !accounts.is_empty() {
            let list: Vec<String> = accounts.into_iter().collect();
            f = f.note(format!(
                "ServiceAccounts it can run as: {}",
                list.join(", ")
            ));
        }
        if !secrets.is_empty() {
            let list: Vec<String> = secrets.into_iter().map(|s| format!("`{s}`")).collect();
            f = f.note(format!("Secrets it can mount: {}", list.join(", ")));
        }
        if !labels.is_empty() {
            let list: Vec<String> = labels.into_iter().collect();
            f = f.note(format!(
                "pod labels it can take, with their network access: {}",
                list.join(", ")
            ));
        }
        f.pairs = item.targets.into_iter().map(|t| (subject, t)).collect();
        out.push(f);
    }
}

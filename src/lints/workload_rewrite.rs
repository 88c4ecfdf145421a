//! `workload-rewrite`: a persona's `restart` or `deploy` is a write of the
//! whole Deployment, so of everything a pod of its namespace can be
//! (palisade's addition to CHECKS.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{Access, DataLevel, Entity, Level, Operation, PodId, StoreLocation};
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

Fires on every `restart` or `deploy` grant of a persona; the notes list
what the namespace holds that the persona was not granted.

Fix: give deploying to a pipeline (a GitOps controller that applies
reviewed manifests) rather than to people; keep an app whose restart is
delegated in a namespace with nothing else in it. If the persona really
deploys the app, accept it: `accept workload-rewrite on ci -> api \"CI
deploys api\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // One finding per access item and pod group: its apps are its pairs.
    let mut items: BTreeMap<(Span, Entity, PodId, Operation), Vec<Entity>> = BTreeMap::new();
    for g in &m.grants {
        let (Entity::Persona(_), Entity::App(app), Access::Op(op)) =
            (g.subject, g.target, &g.access)
        else {
            continue;
        };
        if matches!(op, Operation::Restart | Operation::Deploy) {
            let targets =
                (items.entry((g.span, g.subject, m.apps[app.index()].pod, *op))).or_default();
            if !targets.contains(&g.target) {
                targets.push(g.target);
            }
        }
    }
    for ((span, subject, own, op), targets) in items {
        let ns = m.pods[own.index()].namespace;
        // What the namespace holds beyond this pod group.
        let mut accounts = Vec::new();
        let mut labels = Vec::new();
        for (i, pod) in m.pods.iter().enumerate() {
            if pod.namespace != ns || i == own.index() {
                continue;
            }
            labels.push(pod.name.clone());
            let kube: Vec<String> = (m.grants.iter())
                .filter(|k| {
                    matches!(k.access, Access::Kube(_))
                        && matches!(k.subject, Entity::App(x) if pod.apps.contains(&x))
                })
                .map(|k| format!("`{}`", k.access))
                .collect();
            if !kube.is_empty() {
                accounts.push(format!("`{}` ({})", pod.name, kube.join(", ")));
            }
        }
        let mut secrets = BTreeSet::new();
        for s in m.grants.iter() {
            let (Entity::App(x), Entity::Store(st), Access::Data(level)) =
                (s.subject, s.target, &s.access)
            else {
                continue;
            };
            if m.apps[x.index()].namespace == ns && m.apps[x.index()].pod != own {
                secrets.insert(format!("{}-{}", m.stores[st.index()].name, level.as_str()));
            }
        }
        for st in &m.stores {
            if st.location == StoreLocation::InCluster(ns) {
                labels.push(st.name.clone());
                for level in [DataLevel::Read, DataLevel::Write, DataLevel::Admin] {
                    secrets.insert(format!("{}-{}", st.name, level.as_str()));
                }
            }
        }
        let nsname = &m.namespace(ns).name;
        let persona = m.name_of(subject);
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "`{op}` lets {persona} rewrite `{}`'s Deployment: any image, ServiceAccount, Secret or pod label of namespace `{nsname}`",
                m.pods[own.index()].name,
                op = op.as_str(),
            ),
        )
        .note(format!(
            "RBAC `patch` on the Deployment cannot limit what changes: the pod template runs any image as pod group `{}`, with its mounts and network access",
            m.pods[own.index()].name
        ))
        .help("leave deploying to a reviewed pipeline, or give the app a namespace of its own; accept it if the persona deploys it");
        if !accounts.is_empty() {
            f = f.note(format!(
                "ServiceAccounts it can run as: {}",
                accounts.join(", ")
            ));
        }
        if !secrets.is_empty() {
            let list: Vec<String> = secrets.into_iter().map(|s| format!("`{s}`")).collect();
            f = f.note(format!("Secrets it can mount: {}", list.join(", ")));
        }
        if !labels.is_empty() {
            f = f.note(format!(
                "pod labels it can take, with their network access: {}",
                labels.join(", ")
            ));
        }
        f.pairs = targets.into_iter().map(|t| (subject, t)).collect();
        out.push(f);
    }
}

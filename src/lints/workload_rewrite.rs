//! `workload-rewrite`: a persona's `restart` or `deploy` is a write of the
//! whole Deployment, so of everything a pod of its namespace can be
//! (palisade's addition to the design's lint list, docs/checks.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{
    Access, DataLevel, Entity, Level, NsId, Operation, PodId, PodSecurity, StmtId, StoreLocation,
};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt};
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

Pod Security still applies: in a `restricted` namespace (the default) the
rewritten pod cannot be privileged, share the node's namespaces or mount
its files. In a `baseline` or `privileged` namespace it can do more, up to
taking the node; the finding says so.

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
    if items.is_empty() {
        return;
    }
    // Per namespace: its pod groups and stores; per pod group: its apps'
    // kube rules and the Secrets they mount.
    let mut pods_in: HashMap<NsId, Vec<PodId>> = HashMap::new();
    for (i, pod) in m.pods.iter().enumerate() {
        pods_in
            .entry(pod.namespace)
            .or_default()
            .push(PodId(i as u32));
    }
    let mut stores_in: HashMap<NsId, Vec<&crate::model::Store>> = HashMap::new();
    for st in &m.stores {
        if let StoreLocation::InCluster(ns) = st.location {
            stores_in.entry(ns).or_default().push(st);
        }
    }
    let mut kube_of: HashMap<PodId, Vec<String>> = HashMap::new();
    let mut secrets_of: HashMap<PodId, BTreeSet<String>> = HashMap::new();
    for k in &m.grants {
        let Entity::App(x) = k.subject else { continue };
        let pod = m.apps[x.index()].pod;
        match (&k.access, k.target) {
            (Access::Kube(_), _) => kube_of
                .entry(pod)
                .or_default()
                .push(format!("`{}`", k.access)),
            (Access::Data(level), Entity::Store(st)) => {
                secrets_of.entry(pod).or_default().insert(format!(
                    "{}-{}",
                    m.stores[st.index()].name,
                    level.as_str()
                ));
            }
            _ => {}
        }
    }
    for ((_, subject, ns), item) in items {
        // What the namespace holds beyond the named pod groups: with two or
        // more, each can take what the others have.
        let only = (item.groups.len() == 1).then(|| *item.groups.iter().next().expect("one"));
        let mut accounts = BTreeSet::new();
        let mut labels = BTreeSet::new();
        let mut secrets = BTreeSet::new();
        for &pod in pods_in.get(&ns).map_or(&[][..], Vec::as_slice) {
            if Some(pod) == only {
                continue;
            }
            let name = &m.pods[pod.index()].name;
            labels.insert(name.clone());
            if let Some(kube) = kube_of.get(&pod) {
                accounts.insert(format!("`{name}` ({})", kube.join(", ")));
            }
            secrets.extend(secrets_of.get(&pod).into_iter().flatten().cloned());
        }
        for st in stores_in.get(&ns).into_iter().flatten() {
            labels.insert(st.name.clone());
            for level in [DataLevel::Read, DataLevel::Write, DataLevel::Admin] {
                secrets.insert(format!("{}-{}", st.name, level.as_str()));
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
        match m.namespace(ns).pod_security {
            PodSecurity::Restricted => {}
            PodSecurity::Baseline => {
                f = f.note(format!(
                    "namespace `{nsname}` is `baseline`: the rewritten pod may also run as root, with the runtime's default capabilities"
                ))
            }
            PodSecurity::Privileged => {
                f = f.note(format!(
                    "namespace `{nsname}` is `privileged`: the rewritten pod may run privileged, on the node's network and files, and take the node"
                ))
            }
        }
        f.pairs = item.targets.into_iter().map(|t| (subject, t)).collect();
        out.push(f);
    }
}

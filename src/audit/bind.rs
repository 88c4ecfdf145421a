//! Binding a model to the workloads of a set of manifests
//! (docs/brownfield.md): each pod group and in-cluster store to one
//! workload of its namespace, by `selector`, else the `palisade.dev/pod`
//! label, else `workload`, else a workload named like the group.

use super::{Unbound, Unmodelled};
use crate::effective::access::Placement;
use crate::k8s::{Labels, Resource};
use crate::manifests::Manifests;
use crate::model::{Binding as ModelBinding, Model, StoreLocation, Subject, WorkloadKind};
use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeSet;

/// How an entity was bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Selector,
    PodLabel,
    Workload,
    Name,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Selector => "selector",
            By::PodLabel => "label",
            By::Workload => "workload",
            By::Name => "name",
        }
    }
}

/// One entity bound to one workload.
#[derive(Clone, Debug)]
pub struct Binding {
    pub entity: String,
    /// `app` (a lone app's group), `pod`, `store`.
    pub kind: &'static str,
    /// The workload object.
    pub object: usize,
    /// `ns/Kind/name`
    pub workload: String,
    pub by: By,
}

/// Every binding of a model to a set of manifests.
#[derive(Debug, Default)]
pub struct Bindings {
    /// Per pod group, per store: the bound workload object.
    pub groups: Vec<Option<usize>>,
    pub stores: Vec<Option<usize>>,
    pub placement: Placement,
    pub list: Vec<Binding>,
    pub unbound: Vec<Unbound>,
    pub unmodelled: Vec<Unmodelled>,
    /// (namespace, name) of every workload object → object.
    by_name: HashMap<(String, String), usize>,
}

impl Bindings {
    /// `ns/Kind/name` of the workload the cluster names `name` in `ns`.
    pub fn workload_id(&self, m: &Manifests, ns: &str, name: &str) -> Option<String> {
        let i = self.object_named(m, ns, name)?;
        Some(m.objects[i].workload_id())
    }

    pub fn object_named(&self, _m: &Manifests, ns: &str, name: &str) -> Option<usize> {
        self.by_name
            .get(&(ns.to_string(), name.to_string()))
            .copied()
    }

    /// The RBAC object of a kind (`RoleBinding`, `ClusterRole`, …).
    pub fn rbac_object(
        &self,
        m: &Manifests,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<usize> {
        m.objects.iter().position(|o| {
            let meta = o.resource.metadata();
            o.kind == kind
                && meta.name == name
                && (namespace.is_none() || meta.namespace.as_deref() == namespace)
        })
    }
}

/// The labels of the pods a workload object makes.
fn pod_labels(r: &Resource) -> Option<&Labels> {
    match r {
        Resource::Deployment(d)
        | Resource::StatefulSet(d)
        | Resource::DaemonSet(d)
        | Resource::ReplicaSet(d) => Some(&d.spec.template.metadata.labels),
        Resource::Pod(p) => Some(&p.metadata.labels),
        _ => None,
    }
}

fn kind_matches(kind: WorkloadKind, object_kind: &str) -> bool {
    kind.kind() == object_kind
}

pub fn bind(model: &Model, m: &Manifests) -> Bindings {
    let mut out = Bindings {
        groups: vec![None; model.pods.len()],
        stores: vec![None; model.stores.len()],
        ..Bindings::default()
    };
    // Workloads by namespace, in file order; a controller's objects are
    // their owner's.
    let mut workloads: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, o) in m.objects.iter().enumerate() {
        if o.owned || pod_labels(&o.resource).is_none() {
            continue;
        }
        let meta = o.resource.metadata();
        let ns = meta.namespace.as_deref().unwrap_or("default");
        workloads.entry(ns).or_default().push(i);
        out.by_name
            .entry((ns.to_string(), meta.name.clone()))
            .or_insert(i);
    }
    let pod_label = format!("{}/pod", model.platform.label_domain);
    // Workloads by (namespace, pod label, value) and by (namespace, name),
    // in file order: each lookup is one probe, however many workloads.
    let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    let mut by_name: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (&ns, list) in &workloads {
        for &i in list {
            let labels = pod_labels(&m.objects[i].resource).expect("a workload");
            for (k, v) in labels.iter() {
                by_label.entry((ns, k, v)).or_default().push(i);
            }
            by_name
                .entry((ns, m.objects[i].resource.metadata().name.as_str()))
                .or_default()
                .push(i);
        }
    }
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let find = |ns: &str, name: &str, b: &ModelBinding, used: &BTreeSet<usize>| {
        let free = |list: Option<&Vec<usize>>| {
            list.into_iter()
                .flatten()
                .copied()
                .filter(|i| !used.contains(i))
                .collect::<Vec<usize>>()
        };
        // The selector's rarest label: the fewest candidates to try.
        let rarest = (b.selector.iter())
            .map(|(k, v)| by_label.get(&(ns, k.as_str(), v.as_str())))
            .min_by_key(|list| list.map_or(0, Vec::len));
        if let Some(list) = rarest {
            let hit = free(list).into_iter().find(|&i| {
                let labels = pod_labels(&m.objects[i].resource).expect("a workload");
                b.selector
                    .iter()
                    .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
            });
            if let Some(i) = hit {
                return Some((i, By::Selector));
            }
        }
        if let Some(&i) = free(by_label.get(&(ns, pod_label.as_str(), name))).first() {
            return Some((i, By::PodLabel));
        }
        if let Some(w) = &b.workload {
            let hit = free(by_name.get(&(ns, w.name.as_str())))
                .into_iter()
                .find(|&i| kind_matches(w.kind, m.objects[i].kind));
            if let Some(i) = hit {
                return Some((i, By::Workload));
            }
        }
        free(by_name.get(&(ns, name)))
            .first()
            .map(|&i| (i, By::Name))
    };
    // Where an entity is unbound: a workload that would bind it in another
    // namespace (objects that name no namespace are read as `-n`'s, which
    // is `default` unless given).
    let mut namespaces: Vec<&str> = workloads.keys().copied().collect();
    namespaces.sort_unstable();
    let unbound_note = |ns: &str,
                        name: &str,
                        b: &ModelBinding,
                        used: &BTreeSet<usize>,
                        what: &str| {
        let elsewhere = (namespaces.iter())
            .filter(|&&o| o != ns)
            .find_map(|&o| find(o, name, b, used).map(|(i, _)| m.objects[i].workload_id()));
        match elsewhere {
            Some(w) => format!(
                "{what}; `{w}` in another namespace would bind it: objects that name no namespace are read as in the one `-n` gives (`default` unless given)"
            ),
            None => what.to_string(),
        }
    };
    for (g, pod) in model.pods.iter().enumerate() {
        if pod.apps.is_empty() {
            continue;
        }
        let ns = &model.namespaces[pod.namespace.index()].name;
        let kind = if pod.explicit { "pod" } else { "app" };
        match find(ns, &pod.name, &pod.binding, &used) {
            Some((i, by)) => {
                used.insert(i);
                out.groups[g] = Some(i);
                out.list.push(Binding {
                    entity: pod.name.clone(),
                    kind,
                    object: i,
                    workload: m.objects[i].workload_id(),
                    by,
                });
            }
            None => out.unbound.push(Unbound {
                entity: pod.name.clone(),
                kind,
                span: pod.span,
                note: unbound_note(
                    ns,
                    &pod.name,
                    &pod.binding,
                    &used,
                    "no workload of its namespace has its selector's labels, its name or its `workload`",
                ),
            }),
        }
    }
    for (s, store) in model.stores.iter().enumerate() {
        let StoreLocation::InCluster(ns) = store.location else {
            continue;
        };
        let ns = &model.namespaces[ns.index()].name;
        match find(ns, &store.name, &store.binding, &used) {
            Some((i, by)) => {
                used.insert(i);
                out.stores[s] = Some(i);
                out.list.push(Binding {
                    entity: store.name.clone(),
                    kind: "store",
                    object: i,
                    workload: m.objects[i].workload_id(),
                    by,
                });
            }
            None => out.unbound.push(Unbound {
                entity: store.name.clone(),
                kind: "store",
                span: store.span,
                note: unbound_note(
                    ns,
                    &store.name,
                    &store.binding,
                    &used,
                    "evaluated as a pod carrying its selector (or `palisade.dev/pod`), as an operator would run it",
                ),
            }),
        }
    }
    let name_of = |i: usize| {
        let meta = m.objects[i].resource.metadata();
        (
            meta.namespace.clone().unwrap_or_else(|| "default".into()),
            meta.name.clone(),
        )
    };
    out.placement = Placement {
        groups: out.groups.iter().map(|o| o.map(name_of)).collect(),
        stores: out.stores.iter().map(|o| o.map(name_of)).collect(),
        outside: true,
    };
    // Workloads the model does not mention, and among them those whose
    // pods carry a party's selector: its NetworkPolicies select them too.
    let mut wearing: HashMap<usize, String> = HashMap::new();
    let parties = (model.pods.iter().enumerate())
        .filter(|(_, g)| !g.apps.is_empty())
        .map(|(i, g)| {
            let sel = model.group_selector(crate::model::PodId(i as u32));
            (g.namespace, g.name.as_str(), sel)
        })
        .chain(
            (model.stores.iter().enumerate()).filter_map(|(i, s)| match s.location {
                StoreLocation::InCluster(ns) => Some((
                    ns,
                    s.name.as_str(),
                    model.store_selector(crate::model::StoreId(i as u32)),
                )),
                StoreLocation::Outside(_) => None,
            }),
        );
    for (ns, name, selector) in parties {
        let ns = model.namespaces[ns.index()].name.as_str();
        let rarest = (selector.iter())
            .map(|(k, v)| by_label.get(&(ns, k.as_str(), v.as_str())))
            .min_by_key(|list| list.map_or(0, Vec::len));
        for &i in rarest.flatten().into_iter().flatten() {
            let labels = pod_labels(&m.objects[i].resource).expect("a workload");
            let all = (selector.iter()).all(|(k, v)| labels.get(k).is_some_and(|x| x == v));
            if all && !used.contains(&i) {
                wearing.entry(i).or_insert_with(|| name.to_string());
            }
        }
    }
    let mut all: Vec<usize> = workloads.values().flatten().copied().collect();
    all.sort_unstable();
    for i in all {
        if !used.contains(&i) {
            out.unmodelled.push(Unmodelled {
                what: m.objects[i].workload_id(),
                object: i,
                shares: wearing.get(&i).cloned(),
            });
        }
    }
    let subjects = unmodelled_subjects(model, m, &out);
    out.unmodelled.extend(subjects);
    out
}

/// RBAC subjects of the manifests' bindings that are no persona and no
/// bound group's ServiceAccount. Kubernetes' own (`system:` names, the
/// control plane's namespaces) are not the model's business.
fn unmodelled_subjects(model: &Model, m: &Manifests, b: &Bindings) -> Vec<Unmodelled> {
    let mut known: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &model.personas {
        for s in &p.subjects {
            known.insert(match s {
                Subject::User(u) => ("User".into(), u.clone()),
                Subject::Group(g) => ("Group".into(), g.clone()),
                Subject::ServiceAccount { namespace, name } => {
                    ("ServiceAccount".into(), format!("{namespace}/{name}"))
                }
            });
        }
    }
    for (g, pod) in model.pods.iter().enumerate() {
        if b.groups[g].is_some() || !pod.apps.is_empty() {
            let ns = &model.namespaces[pod.namespace.index()].name;
            known.insert((
                "ServiceAccount".into(),
                format!("{ns}/{}", pod.service_account()),
            ));
        }
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, o) in m.objects.iter().enumerate() {
        let (Resource::RoleBinding(rb) | Resource::ClusterRoleBinding(rb)) = &o.resource else {
            continue;
        };
        for s in &rb.subjects {
            let key = match s.kind.as_str() {
                "ServiceAccount" => {
                    let ns = s
                        .namespace
                        .clone()
                        .or_else(|| rb.metadata.namespace.clone())
                        .unwrap_or_else(|| "default".into());
                    if matches!(
                        ns.as_str(),
                        "kube-system" | "kube-public" | "kube-node-lease"
                    ) {
                        continue;
                    }
                    ("ServiceAccount".to_string(), format!("{ns}/{}", s.name))
                }
                kind => (kind.to_string(), s.name.clone()),
            };
            if key.1.starts_with("system:") || known.contains(&key) || !seen.insert(key.clone()) {
                continue;
            }
            out.push(Unmodelled {
                what: format!("{} {}", key.0, key.1),
                object: i,
                shares: None,
            });
        }
    }
    out
}

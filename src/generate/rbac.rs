//! RBAC: an app's `kube` grants become `Role app-<group>` bound to the
//! group's ServiceAccount; a persona's operations become, per namespace,
//! `Role persona-<persona>` bound to the persona's subjects (docs/kubernetes.md's
//! operation table). `resourceNames` pin a rule wherever RBAC allows.

/// Namespaces of the apps mounting each store's credentials.
use super::flows::StoreUsers;
use super::Cx;
use crate::k8s::{self, PolicyRule, Resource, RoleRef};
use crate::model::{Access, Entity, Operation, StoreLocation, Subject, WorkloadRef};
use std::collections::{BTreeMap, BTreeSet};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// A rule before merging: (apiGroup, resource, resourceName or "") → verbs.
type Rules = BTreeMap<(String, String, String), BTreeSet<String>>;

fn add(rules: &mut Rules, group: &str, resource: &str, name: Option<&str>, verbs: &[&str]) {
    let key = (
        group.to_string(),
        resource.to_string(),
        name.unwrap_or("").to_string(),
    );
    rules
        .entry(key)
        .or_default()
        .extend(verbs.iter().map(|v| v.to_string()));
}

/// Compact RBAC rules: unnamed rules that share apiGroup and verbs merge
/// their resources; named rules merge names only within one resource, so a
/// name never applies to a resource it was not granted on.
fn render(rules: &Rules) -> Vec<PolicyRule> {
    let mut unnamed: BTreeMap<(String, Vec<String>), BTreeSet<String>> = BTreeMap::new();
    let mut named: BTreeMap<(String, String, Vec<String>), BTreeSet<String>> = BTreeMap::new();
    for ((group, resource, name), verbs) in rules {
        let verbs: Vec<String> = verbs.iter().cloned().collect();
        if name.is_empty() {
            unnamed
                .entry((group.clone(), verbs))
                .or_default()
                .insert(resource.clone());
        } else {
            named
                .entry((group.clone(), resource.clone(), verbs))
                .or_default()
                .insert(name.clone());
        }
    }
    let unnamed = unnamed
        .into_iter()
        .map(|((group, verbs), resources)| PolicyRule {
            api_groups: vec![group],
            resources: resources.into_iter().collect(),
            verbs,
            ..Default::default()
        });
    let named = named
        .into_iter()
        .map(|((group, resource, verbs), names)| PolicyRule {
            api_groups: vec![group],
            resources: vec![resource],
            resource_names: names.into_iter().collect(),
            verbs,
            ..Default::default()
        });
    unnamed.chain(named).collect()
}

/// `Role app-<group>` + `RoleBinding app-<group>` for apps with `kube` grants.
pub fn app_roles(cx: &Cx<'_>) -> Vec<Resource> {
    let mut per_group: BTreeMap<(String, String, String), Rules> = BTreeMap::new();
    for g in cx.grants() {
        let (Entity::App(app), Access::Kube(rule)) = (g.subject, &g.access) else {
            continue;
        };
        let pod = cx.model.pod_of(app);
        let key = (
            cx.ns_name(pod.namespace).to_string(),
            pod.name.clone(),
            pod.service_account().to_string(),
        );
        let resource = match &rule.subresource {
            Some(s) => format!("{}/{s}", rule.resource),
            None => rule.resource.clone(),
        };
        add(
            per_group.entry(key).or_default(),
            &rule.group,
            &resource,
            None,
            &[&rule.verb],
        );
    }
    let mut out = Vec::new();
    for ((ns, group, service_account), rules) in per_group {
        let subjects = vec![subject(&Subject::ServiceAccount {
            namespace: ns.clone(),
            name: service_account,
        })];
        out.extend(role_and_binding(
            cx,
            &ns,
            &format!("app-{group}"),
            &rules,
            subjects,
        ));
    }
    out
}

/// Per (persona, namespace): `Role persona-<persona>` + `RoleBinding`.
pub fn persona_roles(cx: &Cx<'_>, store_users: &StoreUsers) -> Vec<Resource> {
    let m = cx.model;
    let mut per: BTreeMap<(usize, String), Rules> = BTreeMap::new();
    for g in cx.grants() {
        let Entity::Persona(p) = g.subject else {
            continue;
        };
        if m.personas[p.index()].external {
            continue;
        }
        match (&g.access, g.target) {
            (Access::Op(op), Entity::App(a)) => {
                let pod = m.pod_of(a);
                let ns = cx.ns_name(pod.namespace).to_string();
                operation(
                    per.entry((p.index(), ns)).or_default(),
                    *op,
                    &pod.workload(),
                );
            }
            (Access::Data(level), Entity::Store(s)) => {
                for ns in secret_namespaces(cx, store_users, s, *level) {
                    let name = format!("{}-{}", m.stores[s.index()].name, level.as_str());
                    add(
                        per.entry((p.index(), ns)).or_default(),
                        "",
                        "secrets",
                        Some(&name),
                        &["get"],
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for ((p, ns), rules) in per {
        let persona = &m.personas[p];
        let subjects = persona.subjects.iter().map(subject).collect();
        out.extend(role_and_binding(
            cx,
            &ns,
            &format!("persona-{}", persona.name),
            &rules,
            subjects,
        ));
    }
    out
}

/// A Role with `rules` and the RoleBinding of the same name to `subjects`.
fn role_and_binding(
    cx: &Cx<'_>,
    ns: &str,
    name: &str,
    rules: &Rules,
    subjects: Vec<k8s::Subject>,
) -> [Resource; 2] {
    [
        Resource::Role(k8s::Role {
            metadata: cx.metadata(name, ns, &[]),
            rules: render(rules),
            aggregation_rule: None,
        }),
        Resource::RoleBinding(k8s::RoleBinding {
            metadata: cx.metadata(name, ns, &[]),
            subjects,
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: name.into(),
            },
        }),
    ]
}

/// docs/kubernetes.md's operation table.
/// `workload`: the pod group's workload, which restart, deploy and scale
/// name.
fn operation(rules: &mut Rules, op: Operation, workload: &WorkloadRef) {
    let (resource, deployment) = (workload.kind.resource(), workload.name.as_str());
    let scale = format!("{resource}/scale");
    match op {
        Operation::View => {
            for r in ["pods", "services", "endpoints", "events"] {
                add(rules, "", r, None, &["get", "list", "watch"]);
            }
            for r in ["deployments", "replicasets", resource] {
                add(rules, "apps", r, None, &["get", "list", "watch"]);
            }
        }
        Operation::Logs => {
            add(rules, "", "pods", None, &["get", "list"]);
            add(rules, "", "pods/log", None, &["get"]);
        }
        Operation::Exec => {
            add(rules, "", "pods", None, &["get"]);
            add(rules, "", "pods/exec", None, &["create"]);
        }
        Operation::Portforward => {
            add(rules, "", "pods", None, &["get"]);
            add(rules, "", "pods/portforward", None, &["create"]);
        }
        Operation::Restart => add(rules, "apps", resource, Some(deployment), &["get", "patch"]),
        Operation::Deploy => add(
            rules,
            "apps",
            resource,
            Some(deployment),
            &["get", "patch", "update"],
        ),
        Operation::Scale => add(
            rules,
            "apps",
            &scale,
            Some(deployment),
            &["get", "patch", "update"],
        ),
    }
}

/// Where the credentials Secret `<store>-<level>` a persona may read lives:
/// the namespaces of the apps that mount it, so that the person reads the
/// very object the workloads use (a pod can only mount a Secret of its own
/// namespace). When no app mounts that level, an in-cluster store's own
/// namespace (where its operator keeps credentials); for a store outside
/// the cluster, nowhere (`unenforced-grant` reports it).
fn secret_namespaces(
    cx: &Cx<'_>,
    store_users: &StoreUsers,
    store: crate::model::StoreId,
    level: crate::model::DataLevel,
) -> BTreeSet<String> {
    if let Some(mounted) = store_users.get(&(store, level)).filter(|s| !s.is_empty()) {
        return mounted.clone();
    }
    match &cx.model.stores[store.index()].location {
        StoreLocation::InCluster(ns) => BTreeSet::from([cx.ns_name(*ns).to_string()]),
        StoreLocation::Outside(_) => BTreeSet::new(),
    }
}

fn subject(s: &Subject) -> k8s::Subject {
    let (kind, api_group, name, namespace) = match s {
        Subject::Group(name) => ("Group", Some(RBAC_GROUP.into()), name, None),
        Subject::User(name) => ("User", Some(RBAC_GROUP.into()), name, None),
        Subject::ServiceAccount { namespace, name } => {
            ("ServiceAccount", None, name, Some(namespace.clone()))
        }
    };
    k8s::Subject {
        kind: kind.into(),
        api_group,
        name: name.clone(),
        namespace,
    }
}

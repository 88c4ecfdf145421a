//! Personas from the subjects of RoleBindings and ClusterRoleBindings, with
//! the operations the RBAC authorizer ([`crate::effective::rbac`]) grants
//! them on each workload, and `kube` grants from the RBAC of the apps'
//! ServiceAccounts. Rules the language cannot state (wildcards, Secrets,
//! non-resource URLs, anything that is not an operation) are listed.

use super::names::Kind;
use super::{Draft, Persona, Subject};
use crate::effective::rbac::{Attributes, Authorizer, BindingKind, Cause, ResourceNames, UserInfo};
use crate::k8s::{PolicyRule, Resource};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// (operation, verb, API group, resource, subresource, names the workload)
type OperationRequest = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
);

/// The RBAC request behind each operation, as the effective-access engine
/// asks it (`effective::access`), and whether it names the workload (whose
/// resource, `deployments` or another, comes from its kind).
const OPERATIONS: &[OperationRequest] = &[
    ("view", "list", "", "pods", None, false),
    ("logs", "get", "", "pods", Some("log"), false),
    ("exec", "create", "", "pods", Some("exec"), false),
    (
        "portforward",
        "create",
        "",
        "pods",
        Some("portforward"),
        false,
    ),
    ("restart", "patch", "apps", "", None, true),
    ("scale", "patch", "apps", "", Some("scale"), true),
    ("deploy", "update", "apps", "", None, true),
];

/// (API group, resource, verbs) a person's operations account for: a rule
/// made only of these is what the operations say (docs/kubernetes.md).
const OPERATION_RULES: &[(&str, &str, &[&str])] = &[
    ("", "pods", &["get", "list", "watch"]),
    ("", "pods/log", &["get", "list", "watch"]),
    ("", "pods/exec", &["create", "get"]),
    ("", "pods/portforward", &["create", "get"]),
    ("", "services", &["get", "list", "watch"]),
    ("", "endpoints", &["get", "list", "watch"]),
    ("", "events", &["get", "list", "watch"]),
    ("events.k8s.io", "events", &["get", "list", "watch"]),
    (
        "discovery.k8s.io",
        "endpointslices",
        &["get", "list", "watch"],
    ),
    (
        "apps",
        "deployments",
        &["get", "list", "watch", "patch", "update"],
    ),
    (
        "apps",
        "statefulsets",
        &["get", "list", "watch", "patch", "update"],
    ),
    (
        "apps",
        "daemonsets",
        &["get", "list", "watch", "patch", "update"],
    ),
    ("apps", "replicasets", &["get", "list", "watch"]),
    ("apps", "deployments/scale", &["get", "patch", "update"]),
    ("apps", "statefulsets/scale", &["get", "patch", "update"]),
];

pub(super) fn collect(d: &mut Draft<'_>) {
    let resources = d.manifests.resources();
    let rbac = Authorizer::new(&resources);
    d.rbac_objects = rbac_objects(d);
    let subjects = subjects(d);
    let mut app_accounts: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (gi, g) in d
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.service_account.is_empty())
    {
        app_accounts
            .entry((g.namespace.clone(), g.service_account.clone()))
            .or_default()
            .push(gi);
    }
    let accounts = accounts(d);
    for ((ns, sa), groups) in &app_accounts {
        kube_grants(d, &rbac, &accounts, ns, sa, groups);
    }
    for (subject, bindings) in subjects {
        if let Subject::ServiceAccount { namespace, name } = &subject {
            if app_accounts.contains_key(&(namespace.clone(), name.clone())) {
                continue;
            }
        }
        persona(d, &rbac, subject, &bindings);
    }
}

/// Every User, Group and ServiceAccount the bindings name, with the
/// bindings (object indexes). `system:` identities are listed, not
/// imported (the language refuses them).
fn subjects(d: &mut Draft<'_>) -> BTreeMap<Subject, Vec<usize>> {
    let mut out: BTreeMap<Subject, Vec<usize>> = BTreeMap::new();
    let mut reserved: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, o) in d.manifests.objects.iter().enumerate() {
        let (b, ns) = match &o.resource {
            Resource::RoleBinding(b) => (b, b.metadata.namespace.clone().unwrap_or_default()),
            Resource::ClusterRoleBinding(b) => (b, String::new()),
            _ => continue,
        };
        for s in &b.subjects {
            let subject = match s.kind.as_str() {
                "User" => match s.name.strip_prefix("system:serviceaccount:") {
                    Some(rest) => match rest.split_once(':') {
                        Some((n, a)) => Subject::ServiceAccount {
                            namespace: n.into(),
                            name: a.into(),
                        },
                        None => continue,
                    },
                    None if s.name.starts_with("system:") => {
                        reserved
                            .entry(format!("user `{}`", s.name))
                            .or_default()
                            .push(d.origin(i));
                        continue;
                    }
                    None => Subject::User(s.name.clone()),
                },
                "Group" if s.name.starts_with("system:") => {
                    reserved
                        .entry(format!("group `{}`", s.name))
                        .or_default()
                        .push(d.origin(i));
                    continue;
                }
                "Group" => Subject::Group(s.name.clone()),
                "ServiceAccount" => {
                    let namespace = s
                        .namespace
                        .clone()
                        .filter(|n| !n.is_empty())
                        .unwrap_or(ns.clone());
                    if namespace.is_empty() {
                        continue;
                    }
                    Subject::ServiceAccount {
                        namespace,
                        name: s.name.clone(),
                    }
                }
                _ => continue,
            };
            if let Subject::ServiceAccount { namespace, name } = &subject {
                let valid_ns = super::names::label(namespace, Kind::Namespace) == *namespace;
                let valid_name = !name.is_empty()
                    && name.len() <= 253
                    && name.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    });
                if !valid_ns || !valid_name {
                    reserved
                        .entry(format!("ServiceAccount `{namespace}/{name}`"))
                        .or_default()
                        .push(d.origin(i));
                    continue;
                }
            }
            let list = out.entry(subject).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    for (who, origins) in reserved {
        d.notes.push(format!(
            "{who} is bound by {}: the language refuses it as a persona's subject (`system:` identities are Kubernetes' own; a ServiceAccount needs a DNS-1035 namespace; docs/language.md, persona)",
            origins.join(", ")
        ));
    }
    out
}

fn user_of(s: &Subject) -> UserInfo {
    match s {
        Subject::Group(g) => UserInfo::group_member("", [g.clone()]),
        Subject::User(u) => UserInfo::user(u.clone()),
        Subject::ServiceAccount { namespace, name } => UserInfo::service_account(namespace, name),
    }
}

/// `RoleBinding shop/devs (rbac.yaml:3) of ClusterRole view (rbac.yaml:20)`.
fn cause_origin(d: &Draft<'_>, c: &Cause<'_>) -> String {
    let find = |kind: &str, ns: Option<&str>, name: &str| {
        let key = (
            kind.to_string(),
            ns.unwrap_or_default().to_string(),
            name.to_string(),
        );
        d.rbac_objects.get(&key).copied()
    };
    let binding = find(c.binding_kind.as_str(), c.binding_namespace, c.binding_name).map_or_else(
        || format!("{} {}", c.binding_kind.as_str(), c.binding_name),
        |i| d.origin(i),
    );
    let role = find(c.role_kind.as_str(), c.role_namespace, c.role_name).map_or_else(
        || format!("{} {}", c.role_kind.as_str(), c.role_name),
        |i| d.origin(i),
    );
    let mut s = format!("{binding} of {role}");
    if let Some((from, _)) = c.aggregated_from {
        s.push_str(&format!(" (aggregated from ClusterRole {from})"));
    }
    s
}

/// RBAC objects by (kind, namespace or `""`, name); of two with one key
/// the last, as the authorizer keeps it (the last applied wins).
fn rbac_objects(d: &Draft<'_>) -> HashMap<(String, String, String), usize> {
    let mut out = HashMap::new();
    for (i, o) in d.manifests.objects.iter().enumerate() {
        let namespaced = match &o.resource {
            Resource::Role(_) | Resource::RoleBinding(_) => true,
            Resource::ClusterRole(_) | Resource::ClusterRoleBinding(_) => false,
            _ => continue,
        };
        let m = o.resource.metadata();
        let ns = if namespaced {
            m.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        out.insert((o.kind.to_string(), ns, m.name.clone()), i);
    }
    out
}

fn persona(d: &mut Draft<'_>, rbac: &Authorizer, subject: Subject, bindings: &[usize]) {
    let (wanted, alt) = match &subject {
        Subject::User(u) => (u.split('@').next().unwrap_or(u).to_string(), None),
        Subject::Group(g) => (g.clone(), None),
        Subject::ServiceAccount { namespace, name } => (name.clone(), Some(namespace.clone())),
    };
    let name = d.names.claim(&wanted, alt.as_deref(), Kind::Persona);
    let user = user_of(&subject);
    // Operations per group, with their causes.
    let mut ops: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let mut origins: BTreeSet<String> = BTreeSet::new();
    let mut store_ops: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for gi in 0..d.groups.len() {
        let g = &d.groups[gi];
        for (oi, &(op, verb, api, res, sub, by_workload)) in OPERATIONS.iter().enumerate() {
            let resource = match (by_workload, g.kind) {
                (false, _) => res,
                (true, "Deployment") => "deployments",
                (true, "StatefulSet") => "statefulsets",
                (true, "DaemonSet") if sub.is_none() => "daemonsets",
                (true, _) => continue,
            };
            let mut attrs = Attributes::resource(verb, api, resource, g.namespace.clone());
            if let Some(sub) = sub {
                attrs = attrs.with_subresource(sub);
            }
            let names = rbac.allowed_names(&user, &attrs);
            let cause = match &names {
                ResourceNames::All(c) => Some(c),
                ResourceNames::Only(_) if by_workload => names.allows(&g.workload),
                ResourceNames::Only(_) => None,
            };
            let Some(cause) = cause else { continue };
            origins.insert(cause_origin(d, cause));
            match &g.store {
                Some(s) => {
                    store_ops.entry(s.name.clone()).or_default().insert(op);
                }
                None => {
                    ops.entry(gi).or_default().insert(oi);
                }
            }
        }
    }
    // Store credentials: `get` on the Secret `<store>-<level>` (the names
    // `palisade build` gives them), in any namespace of the model.
    let mut credentials: BTreeMap<String, &str> = BTreeMap::new();
    for g in &d.groups {
        let Some(store) = &g.store else { continue };
        'levels: for level in ["admin", "write", "read"] {
            for ns in d.namespaces.keys() {
                let attrs = Attributes::resource("get", "", "secrets", ns.clone());
                let names = rbac.allowed_names(&user, &attrs);
                if let Some(cause) = names.allows(&format!("{}-{level}", store.name)) {
                    origins.insert(cause_origin(d, cause));
                    credentials.insert(store.name.clone(), level);
                    break 'levels;
                }
            }
        }
    }
    for (store, list) in store_ops {
        d.notes.push(format!(
            "persona `{name}` has {} on store `{store}`'s pods: a persona reaches a store only through its credentials (read, write, admin) in the model",
            list.into_iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    unexplained_rules(d, rbac, &name, &user);
    let bound_by: Vec<String> = bindings.iter().map(|&i| d.origin(i)).collect();
    d.personas.push(Persona {
        name: name.clone(),
        subject,
        origins: bound_by,
    });
    // One statement per set of operations.
    let mut by_ops: BTreeMap<Vec<usize>, Vec<String>> = BTreeMap::new();
    for (gi, set) in ops {
        let key: Vec<usize> = set.into_iter().collect();
        by_ops
            .entry(key)
            .or_default()
            .extend(d.groups[gi].members());
    }
    let origins: Vec<String> = origins.into_iter().collect();
    for (store, level) in credentials {
        d.allows.push(super::Allow {
            subjects: vec![name.clone()],
            target: store,
            items: vec![level.to_string()],
            origins: origins.clone(),
            notes: Vec::new(),
        });
    }
    for (set, targets) in by_ops {
        let items: Vec<String> = set.iter().map(|&i| OPERATIONS[i].0.to_string()).collect();
        d.allows.push(super::Allow {
            subjects: vec![name.clone()],
            target: if targets.len() == 1 {
                targets[0].clone()
            } else {
                format!("[{}]", targets.join(", "))
            },
            items,
            origins: origins.clone(),
            notes: Vec::new(),
        });
    }
}

/// Lists the rules `user` holds that the persona's operations do not say.
fn unexplained_rules(d: &mut Draft<'_>, rbac: &Authorizer, persona: &str, user: &UserInfo) {
    let mut namespaces: Vec<String> = vec![String::new()];
    namespaces.extend(d.namespaces.keys().cloned());
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut cluster_wide: BTreeSet<String> = BTreeSet::new();
    let stores: BTreeSet<String> = (d.groups.iter())
        .filter_map(|g| g.store.as_ref())
        .flat_map(|s| ["read", "write", "admin"].map(|l| format!("{}-{l}", s.name)))
        .collect();
    for ns in &namespaces {
        for (rule, cause) in rbac.rules_for(user, ns) {
            if cause.binding_kind == BindingKind::ClusterRoleBinding {
                cluster_wide.insert(cause_origin(d, &cause));
            }
            if explained(rule, &stores) {
                continue;
            }
            let line = format!(
                "persona `{persona}` holds `{}` by {}: not an operation the language names",
                rule_text(rule),
                cause_origin(d, &cause)
            );
            if seen.insert(line.clone()) {
                d.notes.push(line);
            }
        }
    }
    for c in cluster_wide {
        d.notes.push(format!(
            "persona `{persona}` is granted {c} in every namespace, also those the model does not hold: the model grants operations app by app"
        ));
    }
}

/// Whether every (group, resource, verb) of `rule` is among
/// [`OPERATION_RULES`], or the rule reads only store credentials (`get`
/// on Secrets named `<store>-<level>`, among `credentials`).
fn explained(rule: &PolicyRule, credentials: &BTreeSet<String>) -> bool {
    if !rule.non_resource_urls.is_empty() {
        return false;
    }
    let secrets = rule.api_groups.iter().all(String::is_empty)
        && rule.resources.iter().all(|r| r == "secrets")
        && rule.verbs.iter().all(|v| v == "get")
        && !rule.resource_names.is_empty()
        && rule.resource_names.iter().all(|n| credentials.contains(n));
    if secrets {
        return true;
    }
    rule.api_groups.iter().all(|g| {
        rule.resources.iter().all(|r| {
            rule.verbs.iter().all(|v| {
                OPERATION_RULES
                    .iter()
                    .any(|&(og, or, verbs)| og == g && or == r && verbs.contains(&v.as_str()))
            })
        })
    })
}

/// `allow APP -> kube: VERB RESOURCE, …` for the groups running as
/// ServiceAccount `ns`/`sa`.
/// Each ServiceAccount's `automountServiceAccountToken`, by (namespace,
/// name); the last of one name wins, as the last applied does.
type Accounts = HashMap<(String, String), Option<bool>>;

fn accounts(d: &Draft<'_>) -> Accounts {
    (d.manifests.objects.iter())
        .filter_map(|o| match &o.resource {
            Resource::ServiceAccount(a) => Some((
                (
                    a.metadata.namespace.clone().unwrap_or_default(),
                    a.metadata.name.clone(),
                ),
                a.automount_service_account_token,
            )),
            _ => None,
        })
        .collect()
}

fn kube_grants(
    d: &mut Draft<'_>,
    rbac: &Authorizer,
    accounts: &Accounts,
    ns: &str,
    sa: &str,
    groups: &[usize],
) {
    let user = UserInfo::service_account(ns, sa);
    let mut items: BTreeSet<String> = BTreeSet::new();
    let mut origins: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let subjects: Vec<String> = groups
        .iter()
        .map(|&g| d.groups[g].subject().to_string())
        .collect();
    let who = format!("ServiceAccount {ns}/{sa} (of `{}`)", subjects.join("`, `"));
    for (rule, cause) in rbac.rules_for(&user, ns) {
        let origin = cause_origin(d, &cause);
        let (ok, bad) = rule_items(rule);
        if !bad.is_empty() || !rule.resource_names.is_empty() {
            let what = if !rule.resource_names.is_empty() && bad.is_empty() {
                format!(
                    "limited to the objects {:?}, which a `kube` grant cannot name: the draft grants the verbs on every object of the kind",
                    rule.resource_names
                )
            } else {
                "not a `VERB RESOURCE` the language accepts".to_string()
            };
            notes.push(format!(
                "{who} holds `{}` by {origin}: {what}",
                rule_text(rule)
            ));
        }
        if !ok.is_empty() && !origins.contains(&origin) {
            origins.push(origin);
        }
        items.extend(ok);
    }
    match rbac.namespaces_for(&user) {
        None => notes.push(format!(
            "{who} is bound by a ClusterRoleBinding: its rights hold in every namespace, and a `kube` grant only in its own"
        )),
        Some(set) => {
            let others: Vec<&str> = set.into_iter().filter(|n| *n != ns).collect();
            if !others.is_empty() {
                notes.push(format!(
                    "{who} has RoleBindings in other namespaces ({}): a `kube` grant holds in its own only",
                    others.join(", ")
                ));
            }
        }
    }
    d.notes.extend(notes);
    if items.is_empty() {
        tokens_without_rights(d, accounts, ns, sa, groups);
        return;
    }
    if sa == "default" {
        d.notes.push(format!(
            "{who} holds API rights ({}), which the model cannot grant to the `default` ServiceAccount: every pod of the namespace that names none runs as it — give the workloads a ServiceAccount of their own",
            items.into_iter().collect::<Vec<_>>().join(", ")
        ));
        return;
    }
    let items: Vec<String> = items.into_iter().collect();
    for &g in groups {
        if d.groups[g].store.is_some() {
            d.notes.push(format!(
                "store `{}` runs as {who}, which holds API rights: a store has no `kube` grants in the model",
                d.groups[g].subject()
            ));
            continue;
        }
        // The token is mounted into every container of the pod: each app
        // holds the rights.
        let subjects = d.groups[g].members();
        d.platform.api_server = true;
        d.allows.push(super::Allow {
            subjects,
            target: "kube".into(),
            items: items.clone(),
            origins: origins.clone(),
            notes: Vec::new(),
        });
    }
}

/// Notes the workloads that get a ServiceAccount token although their
/// account holds no rights: the model mounts a token only with a `kube`
/// grant (the token still authenticates, as every account is in
/// `system:authenticated` and `system:serviceaccounts`).
fn tokens_without_rights(
    d: &mut Draft<'_>,
    accounts: &Accounts,
    ns: &str,
    sa: &str,
    groups: &[usize],
) {
    let account_mounts = accounts
        .get(&(ns.to_string(), sa.to_string()))
        .copied()
        .flatten();
    for &g in groups {
        let pod_mounts = match &d.manifests.objects[d.groups[g].obj].resource {
            Resource::Deployment(w)
            | Resource::StatefulSet(w)
            | Resource::DaemonSet(w)
            | Resource::ReplicaSet(w) => w.spec.template.spec.automount_service_account_token,
            Resource::Pod(p) => p.spec.automount_service_account_token,
            _ => Some(false),
        };
        if pod_mounts.or(account_mounts).unwrap_or(true) {
            let who = d.groups[g].subject().to_string();
            d.note_for(
                &who,
                "a ServiceAccount token is mounted into the pods of {who} (`automountServiceAccountToken` is not false), though the model mounts one only with a `kube` grant: set it to false".to_string(),
            );
        }
    }
}

/// A rule as `VERB RESOURCE` items (`get secrets`, `get /metrics`), with
/// its `resourceNames`.
fn rule_text(rule: &PolicyRule) -> String {
    let (ok, bad) = rule_items(rule);
    let mut items: Vec<String> = ok.into_iter().chain(bad).collect();
    for url in &rule.non_resource_urls {
        items.retain(|i| i != url);
        for v in &rule.verbs {
            items.push(format!("{v} {url}"));
        }
    }
    let mut text = items.join(", ");
    if !rule.resource_names.is_empty() {
        text.push_str(&format!(" (only {})", rule.resource_names.join(", ")));
    }
    text
}

/// A rule's `VERB RESOURCE` items, and whether some part cannot be one
/// (non-resource URLs, a verb or resource the language does not accept).
fn rule_items(rule: &PolicyRule) -> (Vec<String>, Vec<String>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for url in &rule.non_resource_urls {
        bad.push(url.clone());
    }
    for g in &rule.api_groups {
        for r in &rule.resources {
            for v in &rule.verbs {
                let (res, sub) = match r.split_once('/') {
                    Some((a, b)) => (a, Some(b)),
                    None => (r.as_str(), None),
                };
                let mut resource = res.to_string();
                if !g.is_empty() {
                    resource.push('.');
                    resource.push_str(g);
                }
                if let Some(sub) = sub {
                    resource.push('/');
                    resource.push_str(sub);
                }
                let valid = crate::model::KUBE_VERBS.contains(&v.as_str())
                    && !res.is_empty()
                    && !sub.is_some_and(|s| s.is_empty() || s.contains('/'))
                    && resource.chars().all(|c| {
                        c.is_ascii_lowercase()
                            || c.is_ascii_digit()
                            || matches!(c, '.' | '-' | '/' | '*')
                    });
                if valid {
                    ok.push(format!("{v} {resource}"));
                } else {
                    bad.push(format!("{v} {resource}"));
                }
            }
        }
    }
    (ok, bad)
}

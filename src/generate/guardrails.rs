//! Guardrails (`platform.guardrails = calico`): every `forbid` that is a
//! network cut becomes Calico `GlobalNetworkPolicy` denies ordered before
//! every namespace's policies, so a NetworkPolicy added later by hand
//! cannot reopen what the model forbids (docs/kubernetes.md, "Layers").
//!
//! A forbidden (subject, target) pair is a network cut when the subject is
//! pods of the model (an app's pod group, a store in the cluster), the
//! target is pods or addresses (an app, a store, an external, `internet`),
//! and the access is any access or ports. The other pairs — people and the
//! internet come in through the ingress controller, which a packet filter
//! cannot tell apart; operations, data levels and `kube` are RBAC and
//! credentials, not packets — are enforced by `check` alone, which says so
//! ([`not_guardrails`]).

use super::flows::{internet, GroupKey, Peer};
use super::Cx;
use crate::diagnostics::{Code, Diagnostic};
use crate::k8s::{
    CalicoPolicySpec, CalicoRule, EntityRule, GlobalNetworkPolicy, IntOrString, Labels, ObjectMeta,
    Order, Resource,
};
use crate::model::{
    Access, Cidr, Entity, EnvId, Forbid, ForbidKind, Guardrails, Model, Protocol, StoreLocation,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The `order` of every guardrail: Calico evaluates lower orders first, and
/// gives Kubernetes NetworkPolicies 1000.
pub const ORDER: i64 = 100;

/// Where a forbidden connection goes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dest {
    Pods(GroupKey),
    /// Addresses: (name of the target, the networks and their exceptions).
    Nets(String, Vec<(String, Vec<String>)>),
    /// `internet`: its networks depend on the subject ([`internet_nets`]).
    Internet,
}

/// What is denied of one (subject, destination): every protocol and port
/// (`None`), or these.
type Denied = Option<BTreeSet<(u16, Protocol)>>;

/// Why a pair of a `forbid` is not a network cut, or the cut.
fn classify(
    m: &Model,
    f: &Forbid,
    s: Entity,
    t: Entity,
) -> Result<(GroupKey, Dest, Denied), &'static str> {
    let subject = match s {
        Entity::App(a) => {
            let g = m.pod_of(a);
            GroupKey {
                ns: m.namespace(g.namespace).name.clone(),
                name: g.name.clone(),
            }
        }
        Entity::Store(id) => match m.stores[id.index()].location {
            StoreLocation::InCluster(ns) => GroupKey {
                ns: m.namespace(ns).name.clone(),
                name: m.stores[id.index()].name.clone(),
            },
            StoreLocation::Outside(_) => return Err("a store outside the cluster has no pods to filter"),
        },
        Entity::Persona(_) | Entity::Internet => {
            return Err("people and the internet come in through the ingress controller, whose connections a packet filter cannot tell apart")
        }
        Entity::External(_) => return Err("an external system's connections into the cluster come through the ingress controller"),
        Entity::Kube => return Err("the Kubernetes API is not a pod of the model"),
    };
    let dest = match t {
        Entity::App(a) => {
            let g = m.pod_of(a);
            Dest::Pods(GroupKey {
                ns: m.namespace(g.namespace).name.clone(),
                name: g.name.clone(),
            })
        }
        Entity::Store(id) => {
            let store = &m.stores[id.index()];
            match &store.location {
                StoreLocation::InCluster(ns) => Dest::Pods(GroupKey {
                    ns: m.namespace(*ns).name.clone(),
                    name: store.name.clone(),
                }),
                StoreLocation::Outside(cidrs) => Dest::Nets(
                    store.name.clone(),
                    cidrs.iter().map(|c| (c.to_string(), Vec::new())).collect(),
                ),
            }
        }
        Entity::External(x) => {
            let ext = &m.externals[x.index()];
            let nets = ext.addresses.iter().map(|c| (c.to_string(), Vec::new()));
            Dest::Nets(ext.name.clone(), nets.collect())
        }
        Entity::Internet => Dest::Internet,
        Entity::Persona(_) => return Err("a person is not reached over the network"),
        Entity::Kube => return Err("access to the Kubernetes API is RBAC, not a connection"),
    };
    let mut ports = BTreeSet::new();
    for a in &f.access {
        match a {
            Access::Port {
                number, protocol, ..
            } => {
                ports.insert((*number, *protocol));
            }
            Access::Data(_) => {
                return Err("a data level is which credentials, not which packets: one connection carries every level")
            }
            Access::Op(_) | Access::Kube(_) => {
                return Err("an operation is RBAC, not a connection")
            }
        }
    }
    let denied = (!f.access.is_empty()).then_some(ports);
    Ok((subject, dest, denied))
}

/// Ten hex digits of FNV-1a (64-bit) of the pair: stable across versions
/// and platforms, so a guardrail keeps its name from build to build.
fn pair_hash(subject: &str, target: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in subject.bytes().chain([0]).chain(target.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:010x}", h >> 24)
}

/// The addresses each pod group (or in-cluster store) is granted outside
/// the cluster in an environment, by any of its apps: the externals' and
/// outside stores' it may reach, and the API server's for a `kube` grant.
/// A catch-all (`0.0.0.0/0`) is never one of them.
fn granted_addresses(m: &Model, env: Option<EnvId>) -> HashMap<GroupKey, Vec<Cidr>> {
    let mut out: HashMap<GroupKey, Vec<Cidr>> = HashMap::new();
    for g in m.grants.iter().filter(|g| m.grant_applies(g, env)) {
        let Some(key) = group_key(m, g.subject) else {
            continue;
        };
        let addresses: &[Cidr] = match (g.target, &g.access) {
            (Entity::External(x), Access::Port { .. }) => &m.externals[x.index()].addresses,
            (Entity::Store(s), Access::Port { .. } | Access::Data(_)) => {
                match &m.stores[s.index()].location {
                    StoreLocation::Outside(c) => c,
                    StoreLocation::InCluster(_) => continue,
                }
            }
            (Entity::Kube, Access::Kube(_)) => match &m.platform.api_server {
                Some(api) => std::slice::from_ref(&api.address),
                None => continue,
            },
            _ => continue,
        };
        let list = out.entry(key).or_default();
        for c in addresses.iter().filter(|c| c.prefix > 0) {
            if !list.contains(c) {
                list.push(*c);
            }
        }
    }
    out
}

/// The pod group an app runs in, or an in-cluster store's own pods.
fn group_key(m: &Model, e: Entity) -> Option<GroupKey> {
    match e {
        Entity::App(a) => {
            let g = m.pod_of(a);
            Some(GroupKey {
                ns: m.namespace(g.namespace).name.clone(),
                name: g.name.clone(),
            })
        }
        Entity::Store(id) => match m.stores[id.index()].location {
            StoreLocation::InCluster(ns) => Some(GroupKey {
                ns: m.namespace(ns).name.clone(),
                name: m.stores[id.index()].name.clone(),
            }),
            StoreLocation::Outside(_) => None,
        },
        _ => None,
    }
}

/// `internet` for a guardrail of `subject`: everything but the platform's
/// private and never-internet ranges and what the subject's pod is granted
/// outside the cluster (an external, an outside store, the API server).
/// `check` counts a connection to a declared address as one to its owner,
/// not to `internet`, so `forbid api -> internet: 443` must not cut `allow
/// api -> stripe: https` (nor a pod-mate's); every other address, declared
/// or not, stays denied.
fn internet_nets(m: &Model, granted: &[Cidr]) -> Vec<(String, Vec<String>)> {
    let mut not = m.platform.not_internet();
    for c in granted {
        if !not.contains(c) {
            not.push(*c);
        }
    }
    internet(&not)
        .into_iter()
        .filter_map(|p| match p {
            Peer::Ip { cidr, except } => Some((
                cidr.to_string(),
                except.iter().map(ToString::to_string).collect(),
            )),
            _ => None,
        })
        .collect()
}

fn applies(f: &Forbid, env: Option<EnvId>) -> bool {
    match (&f.envs, env) {
        (None, _) | (_, None) => true,
        (Some(list), Some(e)) => list.contains(&e),
    }
}

/// Every cut of an environment, merged per (subject, destination).
fn cuts(m: &Model, env: Option<EnvId>) -> BTreeMap<(GroupKey, Dest), Denied> {
    let mut out: BTreeMap<(GroupKey, Dest), Denied> = BTreeMap::new();
    for f in m.forbids.iter().filter(|f| applies(f, env)) {
        for &s in &f.subjects {
            for &t in &f.targets {
                let Ok((subject, dest, denied)) = classify(m, f, s, t) else {
                    continue;
                };
                let slot = out
                    .entry((subject, dest))
                    .or_insert_with(|| Some(BTreeSet::new()));
                match (slot.as_mut(), denied) {
                    (Some(have), Some(more)) => have.extend(more),
                    _ => *slot = None,
                }
            }
        }
    }
    out
}

/// The guardrails of an environment: per cut, a deny on the subject's
/// egress and, for a destination in the cluster, one on its ingress.
pub fn policies(cx: &Cx<'_>) -> Vec<Resource> {
    if cx.model.platform.guardrails != Some(Guardrails::Calico) {
        return Vec::new();
    }
    let system = &cx.model.system.name;
    let mut out = Vec::new();
    let cuts = cuts(cx.model, cx.env);
    let granted = if cuts.keys().any(|(_, d)| *d == Dest::Internet) {
        granted_addresses(cx.model, cx.env)
    } else {
        HashMap::new()
    };
    for ((subject, dest), denied) in cuts {
        let from = pods(cx, &subject);
        let target_name = match &dest {
            Dest::Pods(g) => g.name.clone(),
            Dest::Nets(name, _) => name.clone(),
            Dest::Internet => "internet".into(),
        };
        let internet;
        let nets = match &dest {
            Dest::Nets(_, nets) => nets,
            Dest::Internet => {
                let mine = granted.get(&subject).map_or(&[][..], Vec::as_slice);
                internet = internet_nets(cx.model, mine);
                &internet
            }
            Dest::Pods(_) => &Vec::new(),
        };
        let to_rules: Vec<EntityRule> = match &dest {
            Dest::Pods(g) => vec![pods(cx, g)],
            Dest::Nets(..) | Dest::Internet => nets
                .iter()
                .map(|(net, except)| EntityRule {
                    nets: vec![net.clone()],
                    not_nets: except.clone(),
                    ..EntityRule::default()
                })
                .collect(),
        };
        let egress = to_rules
            .iter()
            .flat_map(|to| deny_rules(&denied, EntityRule::default(), to.clone()))
            .collect();
        // No dots: Calico's own validator (calicoctl, its API server)
        // admits at most one dot in a GlobalNetworkPolicy name and reads
        // what precedes it as the policy's tier. Names may contain `-` and
        // `--`, so the readable part alone could be two pairs' (`a--b` →
        // `c`, `a` → `b--c`): a hash of the pair keeps each its own.
        let name = format!(
            "{system}-forbid-{}-{target_name}-{}",
            subject.name,
            pair_hash(&subject.name, &target_name)
        );
        out.push(gnp(
            cx,
            &format!("{name}-egress"),
            &from,
            "Egress",
            Vec::new(),
            egress,
        ));
        if let Dest::Pods(g) = &dest {
            let ingress = deny_rules(&denied, from.clone(), EntityRule::default());
            out.push(gnp(
                cx,
                &format!("{name}-ingress"),
                &pods(cx, g),
                "Ingress",
                ingress,
                Vec::new(),
            ));
        }
    }
    out
}

/// A pod group (or in-cluster store) as a Calico entity: its pod label in
/// its namespace.
fn pods(cx: &Cx<'_>, g: &GroupKey) -> EntityRule {
    EntityRule {
        selector: Some(
            (cx.selector(&g.name).iter())
                .map(|(k, v)| format!("{k} == '{v}'"))
                .collect::<Vec<_>>()
                .join(" && "),
        ),
        namespace_selector: Some(format!("kubernetes.io/metadata.name == '{}'", g.ns)),
        ..EntityRule::default()
    }
}

/// Deny rules from `source` to `destination`: one for every protocol, or one
/// per protocol with its ports.
fn deny_rules(denied: &Denied, source: EntityRule, destination: EntityRule) -> Vec<CalicoRule> {
    let Some(ports) = denied else {
        return vec![CalicoRule {
            action: "Deny".into(),
            protocol: None,
            source,
            destination,
            other: Default::default(),
        }];
    };
    let mut by_proto: BTreeMap<Protocol, Vec<IntOrString>> = BTreeMap::new();
    for (n, p) in ports {
        by_proto
            .entry(*p)
            .or_default()
            .push(IntOrString::Int(i32::from(*n)));
    }
    by_proto
        .into_iter()
        .map(|(p, ports)| CalicoRule {
            action: "Deny".into(),
            protocol: Some(p.as_str().into()),
            source: source.clone(),
            destination: EntityRule {
                ports,
                ..destination.clone()
            },
            other: Default::default(),
        })
        .collect()
}

fn gnp(
    cx: &Cx<'_>,
    name: &str,
    selected: &EntityRule,
    direction: &str,
    ingress: Vec<CalicoRule>,
    egress: Vec<CalicoRule>,
) -> Resource {
    Resource::GlobalNetworkPolicy(GlobalNetworkPolicy {
        metadata: ObjectMeta {
            name: name.into(),
            namespace: None,
            labels: cx.common_labels(),
            annotations: Labels::new_vec(),
        },
        spec: CalicoPolicySpec {
            order: Some(Order::Int(ORDER)),
            selector: selected.selector.clone(),
            namespace_selector: selected.namespace_selector.clone(),
            types: vec![direction.into()],
            ingress,
            egress,
        },
    })
}

/// With `platform.guardrails` set: a note for each `forbid` pair that is
/// not a network cut (why), and for each `~>`, that its guardrail cuts only
/// the direct connection. `check` and `build` print them.
pub fn not_guardrails(m: &Model) -> Vec<Diagnostic> {
    if m.platform.guardrails.is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for f in &m.forbids {
        let mut not: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut cut = false;
        for &s in &f.subjects {
            for &t in &f.targets {
                let pair = format!("`{} -> {}`", m.name_of(s), m.name_of(t));
                match classify(m, f, s, t) {
                    Ok(_) => cut = true,
                    Err(why) => not.entry(why).or_default().push(pair),
                }
            }
        }
        for (why, pairs) in not {
            out.push(
                Diagnostic::new(
                    Code::ForbidNotGuardrail,
                    crate::diagnostics::Severity::Note,
                    f.span,
                    format!(
                        "no network guardrail for {}: `check` alone enforces it",
                        pairs.join(", ")
                    ),
                )
                .label("not a network cut")
                .note(why.to_string()),
            );
        }
        if cut && f.kind == ForbidKind::Path {
            out.push(
                Diagnostic::new(
                    Code::ForbidNotGuardrail,
                    crate::diagnostics::Severity::Note,
                    f.span,
                    "the guardrail of this `~>` denies only the direct connection",
                )
                .label("paths through other parties are not cut")
                .note("a path through another app, an `exec` or a credentials Secret is enforced by `check` alone".to_string()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pair_hash;

    #[test]
    fn pairs_that_join_into_one_readable_name_keep_their_own() {
        // `s-forbid-a--b-c-…` and `s-forbid-a-b--c-…` read alike; a pair
        // split differently must never share a hash.
        assert_ne!(pair_hash("a--b", "c"), pair_hash("a", "b--c"));
        assert_ne!(pair_hash("a-b", "c"), pair_hash("a", "b-c"));
        // Stable: a guardrail keeps its name from build to build and
        // version to version (snapshots would catch a change too).
        assert_eq!(
            pair_hash("frontend", "internet"),
            pair_hash("frontend", "internet")
        );
        assert_eq!(pair_hash("x", "y").len(), 10);
    }
}

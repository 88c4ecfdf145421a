//! Calico `GlobalNetworkPolicy` denies evaluated for the connections the
//! NetworkPolicies allow (docs/checks.md, "The guardrail layer"): Calico
//! runs policies in `order`, lowest first, and counts Kubernetes
//! NetworkPolicies as 1000, so a `Deny` rule of a policy ordered before
//! 1000 closes a connection whatever the NetworkPolicies say.
//!
//! Rules are read in order within a policy; the first that matches a port
//! decides it (`Allow` and `Pass` end the policy's say over that port, `Log`
//! does not). Selectors are Calico's expressions; this reads `all()`,
//! `has(k)`, `!has(k)`, `k == 'v'`, `k != 'v'` and `k in {'a', 'b'}` joined by
//! `&&`. A rule it cannot read (another selector, `nets` on a pod's side,
//! `notSelector`, `serviceAccounts`, ...) does not match: a deny is left
//! out rather than guessed, so access is shown wider, never narrower.
//! What Calico allows before the NetworkPolicies (an `Allow` ordered before
//! 1000 that a NetworkPolicy would deny) is not added.

use super::network::{IpSet, PortRanges, PortSet, Protocol};
use super::parties::{
    CutEdge, IpCut, IpEdge, Layer, LayerCause, NetEdge, Node, Outside, OutsideEdge, Placement,
    Verdict, ELSEWHERE,
};
use crate::k8s::{CalicoRule, EntityRule, GlobalNetworkPolicy, IntOrString, Labels, Resource};
use crate::model::Model;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where Calico puts Kubernetes NetworkPolicies in its order.
pub const NETWORK_POLICY_ORDER: f64 = 1000.0;

/// A parsed selector: ANDed terms, or `None` when unreadable.
fn parse_selector(s: &str) -> Option<Vec<Term>> {
    let s = s.trim();
    if s.is_empty() || s == "all()" {
        return Some(Vec::new());
    }
    s.split("&&").map(|t| parse_term(t.trim())).collect()
}

#[derive(Debug)]
enum Term {
    All,
    Has(String),
    NotHas(String),
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
}

fn unquote(v: &str) -> Option<String> {
    let v = v.trim();
    let q = v.chars().next()?;
    (matches!(q, '\'' | '"') && v.len() >= 2 && v.ends_with(q))
        .then(|| v[1..v.len() - 1].to_string())
}

fn parse_term(t: &str) -> Option<Term> {
    if t == "all()" {
        return Some(Term::All);
    }
    if let Some(k) = t.strip_prefix("!has(").and_then(|r| r.strip_suffix(')')) {
        return Some(Term::NotHas(k.trim().to_string()));
    }
    if let Some(k) = t.strip_prefix("has(").and_then(|r| r.strip_suffix(')')) {
        return Some(Term::Has(k.trim().to_string()));
    }
    if let Some((k, v)) = t.split_once("==") {
        return Some(Term::Eq(k.trim().to_string(), unquote(v)?));
    }
    if let Some((k, v)) = t.split_once("!=") {
        return Some(Term::Ne(k.trim().to_string(), unquote(v)?));
    }
    if let Some((k, v)) = t.split_once(" in ") {
        let list = v.trim().strip_prefix('{')?.strip_suffix('}')?;
        let values = list.split(',').map(unquote).collect::<Option<Vec<_>>>()?;
        return Some(Term::In(k.trim().to_string(), values));
    }
    None
}

fn terms_match(terms: &[Term], labels: &Labels) -> bool {
    terms.iter().all(|t| match t {
        Term::All => true,
        Term::Has(k) => labels.get(k).is_some(),
        Term::NotHas(k) => labels.get(k).is_none(),
        Term::Eq(k, v) => labels.get(k) == Some(v),
        Term::Ne(k, v) => labels.get(k) != Some(v),
        Term::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
    })
}

/// A workload as Calico selects it: its labels and its namespace's.
#[derive(Clone, Debug)]
struct Endpoint {
    labels: Labels,
    ns_labels: Labels,
}

/// Whether a selector pair (`selector`, `namespaceSelector`) surely
/// selects `e`; `None` when it cannot be read.
fn selects(selector: Option<&str>, ns_selector: Option<&str>, e: &Endpoint) -> Option<bool> {
    let pods = parse_selector(selector.unwrap_or("all()"))?;
    let nss = parse_selector(ns_selector.unwrap_or("all()"))?;
    Some(terms_match(&pods, &e.labels) && terms_match(&nss, &e.ns_labels))
}

/// Whether an entity rule surely matches the pod `e` (`None`: unreadable,
/// or it names addresses).
fn entity_matches_pod(r: &EntityRule, e: &Endpoint) -> Option<bool> {
    if !r.nets.is_empty() || !r.not_nets.is_empty() {
        return None;
    }
    selects(r.selector.as_deref(), r.namespace_selector.as_deref(), e)
}

/// The ports of a rule (its protocol and destination ports); `None` when
/// the rule says more than this reads (it is then narrower).
fn rule_ports(r: &CalicoRule) -> Option<PortSet> {
    if !r.other.is_empty() || !r.source.other.is_empty() || !r.destination.other.is_empty() {
        return None;
    }
    let ranges = if r.destination.ports.is_empty() {
        PortRanges::full()
    } else {
        let mut out = PortRanges::empty();
        for p in &r.destination.ports {
            let range = match p {
                IntOrString::Int(n) => PortRanges::single(u16::try_from(*n).ok()?),
                IntOrString::String(s) => {
                    let (a, b) = s.split_once(':')?;
                    PortRanges::range(a.parse().ok()?, b.parse().ok()?)
                }
            };
            out = out.union(&range);
        }
        out
    };
    match r.protocol.as_deref() {
        None if r.destination.ports.is_empty() => Some(PortSet::all()),
        None => None,
        Some(p) => Some(PortSet::of(
            Protocol::parse(&p.to_ascii_uppercase())?,
            ranges,
        )),
    }
}

/// Whether a policy governs `direction` (`Ingress`, `Egress`): its `types`,
/// or without them Calico's default (ingress unless the policy has only
/// egress rules; egress when it has egress rules).
fn applies_to(p: &GlobalNetworkPolicy, direction: &str) -> bool {
    if !p.spec.types.is_empty() {
        return p.spec.types.iter().any(|t| t == direction);
    }
    match direction {
        "Ingress" => !p.spec.ingress.is_empty() || p.spec.egress.is_empty(),
        _ => !p.spec.egress.is_empty(),
    }
}

/// A guardrail policy, its index among the objects and its name in causes.
struct Guardrail<'a> {
    object: usize,
    name: Arc<str>,
    policy: &'a GlobalNetworkPolicy,
}

impl Guardrail<'_> {
    /// Its deny rule `index` of `list` (`ingress`, `egress`).
    fn deny(&self, list: &'static str, index: usize) -> LayerCause {
        LayerCause {
            layer: Layer::Guardrail,
            verdict: Verdict::Denies,
            object: self.object,
            name: self.name.clone(),
            rule: Some((list, index)),
            principal: None,
        }
    }
}

impl std::ops::Deref for Guardrail<'_> {
    type Target = GlobalNetworkPolicy;
    fn deref(&self) -> &GlobalNetworkPolicy {
        self.policy
    }
}

/// The guardrail policies (ordered before the NetworkPolicies), in order.
fn ordered(objects: &[Resource]) -> Vec<Guardrail<'_>> {
    let mut out: Vec<Guardrail<'_>> = objects
        .iter()
        .enumerate()
        .filter_map(|(object, r)| match r {
            Resource::GlobalNetworkPolicy(p) => Some(Guardrail {
                object,
                name: format!("GlobalNetworkPolicy {}", p.metadata.name).into(),
                policy: p,
            }),
            _ => None,
        })
        .filter(|p| {
            p.spec
                .order
                .is_some_and(|o| o.value() < NETWORK_POLICY_ORDER)
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |p: &GlobalNetworkPolicy| p.spec.order.map_or(f64::MAX, |o| o.value());
        key(a)
            .total_cmp(&key(b))
            .then(a.metadata.name.cmp(&b.metadata.name))
    });
    out
}

/// What the policies deny of `ports` from `peer` into (`ingress`) or out of
/// `at`, and the deny rules that do; `peer_rule` tells whether a rule's
/// peer side matches.
fn denied(
    policies: &[Guardrail<'_>],
    at: &Endpoint,
    ingress: bool,
    ports: &PortSet,
    peer_rule: impl Fn(&CalicoRule) -> Option<bool>,
) -> (PortSet, Vec<LayerCause>) {
    let mut undecided = ports.clone();
    let mut out = PortSet::empty();
    let mut causes = Vec::new();
    for p in policies {
        let direction = if ingress { "Ingress" } else { "Egress" };
        if !applies_to(p, direction) {
            continue;
        }
        // An unreadable selector may select `at`: its Allow and Pass rules
        // count (more access), its Deny rules do not.
        let selected = selects(
            p.spec.selector.as_deref(),
            p.spec.namespace_selector.as_deref(),
            at,
        );
        if selected == Some(false) {
            continue;
        }
        let rules = if ingress {
            &p.spec.ingress
        } else {
            &p.spec.egress
        };
        for (i, r) in rules.iter().enumerate() {
            let hit = match r.action.as_str() {
                "Log" => continue,
                "Deny" => {
                    let (Some(rp), Some(true), Some(true)) =
                        (rule_ports(r), peer_rule(r), selected)
                    else {
                        continue;
                    };
                    let hit = undecided.intersection(&rp);
                    if !hit.is_empty() {
                        causes.push(p.deny(if ingress { "ingress" } else { "egress" }, i));
                    }
                    out = out.union(&hit);
                    hit
                }
                // Allow, Pass: they decide their ports, not by a deny; read
                // wide when unreadable.
                _ => {
                    if peer_rule(r) == Some(false) {
                        continue;
                    }
                    undecided.intersection(&rule_ports(r).unwrap_or_else(PortSet::all))
                }
            };
            undecided = undecided.difference(&hit);
        }
    }
    (out, causes)
}

/// Each Namespace object's labels, by name.
fn namespace_labels(objects: &[Resource]) -> BTreeMap<String, Labels> {
    let mut out = BTreeMap::new();
    for r in objects {
        if let Resource::Namespace(n) = r {
            out.insert(n.metadata.name.clone(), n.metadata.labels.clone());
        }
    }
    out
}

/// A pod of namespace `ns` with `labels`, as Calico selects it (with the
/// labels Calico adds: the namespace's name, the pod's namespace).
fn endpoint_of(ns_labels: &BTreeMap<String, Labels>, ns: String, mut labels: Labels) -> Endpoint {
    let mut nl = ns_labels.get(&ns).cloned().unwrap_or_default();
    nl.insert("kubernetes.io/metadata.name".into(), ns.clone());
    nl.insert("projectcalico.org/name".into(), ns.clone());
    labels.insert("projectcalico.org/namespace".into(), ns);
    Endpoint {
        labels,
        ns_labels: nl,
    }
}

/// For an audit: narrow the connections with what the model does not name
/// ([`super::access::NetPart::outside`]) to what the guardrails leave
/// open. Any pod of a namespace, and any pod anywhere, is a pod without
/// labels: only a deny that selects every pod of its namespace (or every
/// pod) cuts it, so access is shown wider, never narrower.
pub fn restrict_outside(
    model: &Model,
    objects: &[Resource],
    placement: &Placement,
    outside: &mut Vec<OutsideEdge>,
) {
    let policies = ordered(objects);
    if policies.is_empty() {
        return;
    }
    let ns_labels = namespace_labels(objects);
    let mut cache: BTreeMap<Outside, Option<Endpoint>> = BTreeMap::new();
    let mut endpoint = |p: &Outside| {
        cache
            .entry(p.clone())
            .or_insert_with(|| {
                let (ns, labels) = match p {
                    Outside::Node(n) => {
                        let (ns, labels, _) =
                            super::mesh::node_identity(model, objects, placement, *n)?;
                        (ns, labels)
                    }
                    Outside::Pod(ns, name) => {
                        (ns.clone(), super::mesh::workload_labels(objects, ns, name)?)
                    }
                    Outside::AnyIn(ns) => (ns.clone(), Labels::new_vec()),
                    Outside::Anywhere => (ELSEWHERE.to_string(), Labels::new_vec()),
                };
                Some(endpoint_of(&ns_labels, ns, labels))
            })
            .clone()
    };
    outside.retain_mut(|e| {
        let (Some(src), Some(dst)) = (endpoint(&e.from), endpoint(&e.to)) else {
            return true;
        };
        let (into, _) = denied(&policies, &dst, true, &e.ports, |r| {
            entity_matches_pod(&r.source, &src)
        });
        let (out_of, _) = denied(&policies, &src, false, &e.ports, |r| {
            entity_matches_pod(&r.destination, &dst)
        });
        e.ports = e.ports.difference(&into.union(&out_of));
        !e.ports.is_empty()
    });
}

/// The hook of `access::network`: narrow each connection to what the
/// guardrails leave open (nothing to do without any); what they deny goes
/// to `cut` and `ip_cut`, with the rules that deny it.
pub fn restrict(
    model: &Model,
    objects: &[Resource],
    placement: &Placement,
    net: &mut Vec<NetEdge>,
    ip: &mut Vec<IpEdge>,
    cut: &mut Vec<CutEdge>,
    ip_cut: &mut Vec<IpCut>,
) {
    let policies = ordered(objects);
    if policies.is_empty() {
        return;
    }
    let ns_labels = namespace_labels(objects);
    let mut cache: BTreeMap<Node, Option<Endpoint>> = BTreeMap::new();
    let mut endpoint = |n: Node| {
        cache
            .entry(n)
            .or_insert_with(|| {
                let (ns, labels, _) = super::mesh::node_identity(model, objects, placement, n)?;
                Some(endpoint_of(&ns_labels, ns, labels))
            })
            .clone()
    };
    net.retain_mut(|e| {
        let (Some(src), Some(dst)) = (endpoint(e.from), endpoint(e.to)) else {
            return true;
        };
        let (into, mut by) = denied(&policies, &dst, true, &e.ports, |r| {
            entity_matches_pod(&r.source, &src)
        });
        let (out_of, by_egress) = denied(&policies, &src, false, &e.ports, |r| {
            entity_matches_pod(&r.destination, &dst)
        });
        let lost = into.union(&out_of);
        if !lost.is_empty() {
            // The source's side first, as a packet meets them.
            by.splice(0..0, by_egress);
            cut.push(CutEdge {
                from: e.from,
                to: e.to,
                ports: lost.clone(),
                egress: e.egress.clone(),
                ingress: e.ingress.clone(),
                by,
            });
        }
        e.ports = e.ports.difference(&lost);
        !e.ports.is_empty()
    });
    let mut split = Vec::new();
    for e in ip.drain(..) {
        let Some(src) = endpoint(e.from) else {
            split.push(e);
            continue;
        };
        // Per deny rule with `nets`: those addresses lose its ports.
        let mut parts = vec![(e.addresses.clone(), e.ports.clone())];
        for p in &policies {
            if !applies_to(p, "Egress")
                || selects(
                    p.spec.selector.as_deref(),
                    p.spec.namespace_selector.as_deref(),
                    &src,
                ) != Some(true)
            {
                continue;
            }
            for (i, r) in p.spec.egress.iter().enumerate() {
                let d = &r.destination;
                if r.action != "Deny"
                    || d.nets.is_empty()
                    || d.selector.is_some()
                    || d.namespace_selector.is_some()
                {
                    continue;
                }
                let Some(rp) = rule_ports(r) else { continue };
                let nets = d
                    .nets
                    .iter()
                    .filter_map(|c| IpSet::parse_cidr(c))
                    .fold(IpSet::empty(), |a, b| a.union(&b));
                let not = d
                    .not_nets
                    .iter()
                    .filter_map(|c| IpSet::parse_cidr(c))
                    .fold(IpSet::empty(), |a, b| a.union(&b));
                let hit_addrs = nets.difference(&not);
                let mut next = Vec::new();
                for (addrs, ports) in parts {
                    let inside = addrs.intersection(&hit_addrs);
                    let outside = addrs.difference(&hit_addrs);
                    if !outside.is_empty() {
                        next.push((outside, ports.clone()));
                    }
                    if !inside.is_empty() {
                        let lost = ports.intersection(&rp);
                        if !lost.is_empty() {
                            ip_cut.push(IpCut {
                                from: e.from,
                                addresses: inside.clone(),
                                ports: lost,
                                by: vec![p.deny("egress", i)],
                            });
                        }
                        next.push((inside, ports.difference(&rp)));
                    }
                }
                parts = next;
            }
        }
        for (addresses, ports) in parts {
            if !ports.is_empty() {
                split.push(IpEdge {
                    from: e.from,
                    addresses,
                    ports,
                });
            }
        }
    }
    *ip = split;
}

//! Calico `GlobalNetworkPolicy` denies evaluated for the connections the
//! NetworkPolicies allow (docs/checks.md, "The guardrail layer"): Calico
//! runs policies in `order`, lowest first, and counts Kubernetes
//! NetworkPolicies as 1000, so a `Deny` rule of a policy ordered before
//! 1000 closes a connection whatever the NetworkPolicies say.
//!
//! Rules are read in order across the policies; the first that matches a
//! port (and, for address egress, an address) decides it: `Allow` and
//! `Pass` end the guardrails' say over it, `Deny` closes it, `Log` does
//! not decide. Selectors are Calico's expressions; this reads `all()`,
//! `has(k)`, `!has(k)`, `k == 'v'`, `k != 'v'` and `k in {'a', 'b'}` joined
//! by `&&`, three-valued: a party known only by some of its labels (a
//! stand-in) may be matched by a term on a label it is not known to carry.
//! A rule that may match (an unreadable selector or field, `nets` on a
//! pod's side, a selector on an address's side, a term a stand-in cannot
//! decide) denies nothing and, as an `Allow` or `Pass`, keeps what it may
//! match open: access is shown wider, never narrower. What Calico allows
//! before the NetworkPolicies (an `Allow` ordered before 1000 that a
//! NetworkPolicy would deny) is not added.
//!
//! Each policy's selectors and rules are read once, and the policies are
//! indexed by a `k == 'v'` term of their selectors, so a connection meets
//! only the policies that can select its ends.

use super::mesh::{node_identity, Templates};
use super::network::{IpSet, PortRanges, PortSet, Protocol};
use super::parties::{
    CutEdge, IpCut, IpEdge, Layer, LayerCause, NetEdge, Node, Outside, OutsideEdge, Placement,
    Verdict,
};
use crate::k8s::{CalicoRule, EntityRule, GlobalNetworkPolicy, IntOrString, Labels, Resource};
use crate::model::Model;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Where Calico puts Kubernetes NetworkPolicies in its order.
pub const NETWORK_POLICY_ORDER: f64 = 1000.0;

/// Whether something surely matches, surely does not, or may for some of
/// the pods (or addresses) a party stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    fn of(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// A parsed selector: ANDed terms, or `None` when unreadable.
type Selector = Option<Vec<Term>>;

fn parse_selector(s: Option<&str>) -> Selector {
    let s = s.unwrap_or("").trim();
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

impl Term {
    /// The label it reads (`None` for `all()`).
    fn key(&self) -> Option<&str> {
        match self {
            Term::All => None,
            Term::Has(k) | Term::NotHas(k) | Term::Eq(k, _) | Term::Ne(k, _) | Term::In(k, _) => {
                Some(k)
            }
        }
    }

    /// Whether it holds when its label has `value` (`None`: absent).
    fn holds(&self, value: Option<&String>) -> bool {
        match self {
            Term::All => true,
            Term::Has(_) => value.is_some(),
            Term::NotHas(_) => value.is_none(),
            Term::Eq(_, v) => value == Some(v),
            Term::Ne(_, v) => value != Some(v),
            Term::In(_, vs) => value.is_some_and(|l| vs.contains(l)),
        }
    }
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

/// Labels as far as they are known: `exact` when they are all the
/// object's labels, else only some of them (a stand-in's: the pods it
/// stands for may carry others). Calico's own `projectcalico.org/` labels
/// are known only where they are set here.
#[derive(Clone, Debug)]
struct Known {
    labels: Labels,
    exact: bool,
}

impl Known {
    /// Whether the object surely has no label `k`.
    fn surely_absent(&self, k: &str) -> bool {
        self.exact && !k.starts_with("projectcalico.org/")
    }

    /// The value of `k`: `Some(Some(v))`, `Some(None)` when surely absent,
    /// `None` when unknown.
    fn value(&self, k: &str) -> Option<Option<&String>> {
        match self.labels.get(k) {
            Some(v) => Some(Some(v)),
            None if self.surely_absent(k) => Some(None),
            None => None,
        }
    }

    fn term(&self, t: &Term) -> Tri {
        let Some(k) = t.key() else {
            return Tri::Yes;
        };
        self.value(k).map_or(Tri::Maybe, |v| Tri::of(t.holds(v)))
    }

    /// Whether `selector` matches (`Maybe` when unreadable).
    fn matches(&self, selector: &Selector) -> Tri {
        let Some(terms) = selector else {
            return Tri::Maybe;
        };
        terms.iter().fold(Tri::Yes, |acc, t| acc.and(self.term(t)))
    }
}

/// A workload endpoint as Calico selects it: what is known of its labels
/// and of its namespace's. A model party placed on a workload knows its
/// labels exactly; a stand-in ([`Outside::AnyIn`], [`Outside::Anywhere`],
/// a store without a workload, the ingress controller, DNS) knows only
/// some, so a rule matches it surely only when it matches every pod it
/// stands for.
#[derive(Clone, Debug)]
struct Endpoint {
    pod: Known,
    ns: Known,
    /// The guardrails that may select it ([`Guardrails::candidates`]).
    candidates: std::cell::OnceCell<Vec<usize>>,
}

/// A side of a rule (`source`, `destination`), read once.
struct Entity {
    pods: Selector,
    nss: Selector,
    /// `selector` or `namespaceSelector` is set: it also selects network
    /// sets (addresses) palisade does not see.
    selects: bool,
    /// `nets` minus `notNets` (every address when neither is set); `None`
    /// when set and an entry cannot be read.
    nets: Option<IpSet>,
    /// `nets` or `notNets` is set.
    has_nets: bool,
    /// Fields palisade does not read (`notSelector`, `serviceAccounts`, ...).
    other: bool,
}

/// A `nets` entry as Calico takes it: a CIDR, or a bare address (a /32 or
/// /128).
fn parse_net(s: &str) -> Option<IpSet> {
    IpSet::parse_cidr(s).or_else(|| s.trim().parse::<std::net::IpAddr>().ok().map(IpSet::single))
}

impl Entity {
    fn read(r: &EntityRule, unreadable: &mut Vec<String>) -> Entity {
        let mut nets_of = |list: &[String]| {
            list.iter()
                .map(|c| {
                    let n = parse_net(c);
                    if n.is_none() {
                        unreadable.push(c.clone());
                    }
                    n
                })
                .collect::<Option<Vec<IpSet>>>()
                .map(|l| l.iter().fold(IpSet::empty(), |a, b| a.union(b)))
        };
        let nets = match (nets_of(&r.nets), nets_of(&r.not_nets)) {
            (Some(_), Some(not)) if r.nets.is_empty() => Some(IpSet::all().difference(&not)),
            (Some(n), Some(not)) => Some(n.difference(&not)),
            _ => None,
        };
        Entity {
            pods: parse_selector(r.selector.as_deref()),
            nss: parse_selector(r.namespace_selector.as_deref()),
            selects: r.selector.is_some() || r.namespace_selector.is_some(),
            nets,
            has_nets: !r.nets.is_empty() || !r.not_nets.is_empty(),
            other: !r.other.is_empty(),
        }
    }

    /// Whether it matches the pod `e` (its address is not known: a rule
    /// with `nets` may).
    fn matches_pod(&self, e: &Endpoint) -> Tri {
        let mut m = e.pod.matches(&self.pods).and(e.ns.matches(&self.nss));
        if self.has_nets || self.other {
            m = m.and(Tri::Maybe);
        }
        m
    }

    /// The addresses outside the cluster it surely matches, and those it
    /// may (a selector may select a network set; an unreadable field may
    /// match anything).
    fn matches_addresses(&self) -> (IpSet, IpSet) {
        match &self.nets {
            None => (IpSet::empty(), IpSet::all()),
            Some(nets) if self.selects || self.other => (IpSet::empty(), nets.clone()),
            Some(nets) => (nets.clone(), IpSet::empty()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Deny,
    Log,
    /// `Allow`, `Pass` (and an action palisade does not know): the port is
    /// decided without a deny of this tier.
    Ends,
}

/// A rule, read once.
struct Rule {
    index: usize,
    action: Action,
    /// Its protocol and ports; `None` when it says more than palisade reads.
    ports: Option<PortSet>,
    source: Entity,
    destination: Entity,
}

impl Rule {
    fn read(index: usize, r: &CalicoRule, unreadable: &mut Vec<String>) -> Rule {
        Rule {
            index,
            action: match r.action.as_str() {
                "Deny" => Action::Deny,
                "Log" => Action::Log,
                _ => Action::Ends,
            },
            ports: rule_ports(r),
            source: Entity::read(&r.source, unreadable),
            destination: Entity::read(&r.destination, unreadable),
        }
    }
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

/// A guardrail policy, read once: its index among the objects, its name in
/// causes, its selectors and its rules per direction (`None`: it does not
/// govern that direction).
struct Policy {
    object: usize,
    name: Arc<str>,
    pods: Selector,
    nss: Selector,
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
    /// Some rule is not a `Deny` or `Log` (it may keep a port open).
    admits: bool,
}

impl Policy {
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

    fn rules(&self, ingress: bool) -> Option<&[Rule]> {
        if ingress { &self.ingress } else { &self.egress }.as_deref()
    }

    /// Whether it selects `e`.
    fn selects(&self, e: &Endpoint) -> Tri {
        e.pod.matches(&self.pods).and(e.ns.matches(&self.nss))
    }
}

/// Which side of an endpoint an index key is read on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Side {
    Pod,
    Namespace,
}

/// The guardrail policies (ordered before the NetworkPolicies), in order,
/// indexed by a `k == 'v'` term of their selectors (`palisade.dev/pod ==
/// 'api'`, `kubernetes.io/metadata.name == 'shop'`), so that an endpoint
/// meets only the policies that can select it.
struct Guardrails {
    policies: Vec<Policy>,
    /// Side → key → value → the policies (positions in `policies`).
    index: HashMap<(Side, String), HashMap<String, Vec<usize>>>,
    /// Policies without such a term.
    general: Vec<usize>,
    /// The `nets` entries that could not be read.
    unreadable: Vec<String>,
}

impl Guardrails {
    fn new(objects: &[Resource]) -> Guardrails {
        let mut found: Vec<(f64, &GlobalNetworkPolicy, usize)> = objects
            .iter()
            .enumerate()
            .filter_map(|(object, r)| match r {
                Resource::GlobalNetworkPolicy(p) => {
                    let order = p.spec.order.map(|o| o.value())?;
                    (order < NETWORK_POLICY_ORDER).then_some((order, p, object))
                }
                _ => None,
            })
            .collect();
        found.sort_by(|a, b| (a.0.total_cmp(&b.0)).then(a.1.metadata.name.cmp(&b.1.metadata.name)));
        let mut unreadable = Vec::new();
        let mut out = Guardrails {
            policies: Vec::with_capacity(found.len()),
            index: HashMap::new(),
            general: Vec::new(),
            unreadable: Vec::new(),
        };
        for (_, p, object) in found {
            let mut rules = |direction: &str, list: &[CalicoRule]| {
                applies_to(p, direction).then(|| {
                    (list.iter().enumerate())
                        .map(|(i, r)| Rule::read(i, r, &mut unreadable))
                        .collect()
                })
            };
            let mut policy = Policy {
                object,
                name: format!("GlobalNetworkPolicy {}", p.metadata.name).into(),
                pods: parse_selector(p.spec.selector.as_deref()),
                nss: parse_selector(p.spec.namespace_selector.as_deref()),
                ingress: rules("Ingress", &p.spec.ingress),
                egress: rules("Egress", &p.spec.egress),
                admits: false,
            };
            policy.admits = [&policy.ingress, &policy.egress]
                .into_iter()
                .flatten()
                .flatten()
                .any(|r| r.action == Action::Ends);
            let position = out.policies.len();
            let key = |side: Side, s: &Selector| {
                s.as_ref()?.iter().find_map(|t| match t {
                    Term::Eq(k, v) => Some(((side, k.clone()), v.clone())),
                    _ => None,
                })
            };
            match key(Side::Pod, &policy.pods).or_else(|| key(Side::Namespace, &policy.nss)) {
                Some((k, v)) => out
                    .index
                    .entry(k)
                    .or_default()
                    .entry(v)
                    .or_default()
                    .push(position),
                None => out.general.push(position),
            }
            out.policies.push(policy);
        }
        out.unreadable = unreadable;
        out
    }

    /// The policies that may select `e`, in order.
    /// Computed once per endpoint. A policy that may select `e` only
    /// maybe (its term is on a label `e` is not known to carry) matters
    /// only for its `Allow` and `Pass` rules (its denies need a sure
    /// match): a policy of denies alone is left out then.
    fn candidates<'e>(&self, e: &'e Endpoint) -> &'e [usize] {
        e.candidates.get_or_init(|| {
            let mut out = self.general.clone();
            for ((side, k), values) in &self.index {
                let known = match side {
                    Side::Pod => &e.pod,
                    Side::Namespace => &e.ns,
                };
                match known.value(k) {
                    Some(Some(v)) => out.extend(values.get(v).into_iter().flatten()),
                    Some(None) => {}
                    None => out
                        .extend((values.values().flatten()).filter(|&&i| self.policies[i].admits)),
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        })
    }

    fn policies_for<'a>(&'a self, e: &'a Endpoint) -> impl Iterator<Item = &'a Policy> + 'a {
        (self.candidates(e).iter()).map(move |&i| &self.policies[i])
    }

    /// What the policies deny of `ports` from `peer` into (`ingress`) or
    /// out of `at`, and the deny rules that do. Calico's order: the first
    /// rule that matches a port decides it (`Allow`, `Pass` keep it open,
    /// `Deny` closes it, `Log` goes on). Where a selector or rule may match
    /// only some of the pods a party stands for, or cannot be read, its
    /// `Deny` closes nothing and its `Allow` or `Pass` keeps the port open:
    /// wider, never narrower.
    fn denied(
        &self,
        at: &Endpoint,
        ingress: bool,
        ports: &PortSet,
        peer: impl Fn(&Rule) -> Tri,
    ) -> (PortSet, Vec<LayerCause>) {
        let mut undecided = ports.clone();
        let mut out = PortSet::empty();
        let mut causes = Vec::new();
        let list = if ingress { "ingress" } else { "egress" };
        for p in self.policies_for(at) {
            let Some(rules) = p.rules(ingress) else {
                continue;
            };
            let selected = p.selects(at);
            if selected == Tri::No {
                continue;
            }
            for r in rules {
                if undecided.is_empty() {
                    return (out, causes);
                }
                let matched = selected.and(peer(r));
                let hit = match (r.action, matched) {
                    (Action::Log, _) | (_, Tri::No) => continue,
                    (Action::Deny, Tri::Yes) => {
                        let Some(rp) = &r.ports else { continue };
                        let hit = undecided.intersection(rp);
                        if !hit.is_empty() {
                            causes.push(p.deny(list, r.index));
                            out = out.union(&hit);
                        }
                        hit
                    }
                    (Action::Deny, Tri::Maybe) => continue,
                    (Action::Ends, _) => {
                        undecided.intersection(r.ports.as_ref().unwrap_or(&PortSet::all()))
                    }
                };
                undecided = undecided.difference(&hit);
            }
        }
        (out, causes)
    }

    /// What the policies deny of egress from `from` to `addresses` on
    /// `ports`, as [`Guardrails::denied`] decides it: the parts of the
    /// addresses left open, each with its ports, and each part denied with
    /// the rule that denies it.
    fn denied_ip(
        &self,
        from: &Endpoint,
        addresses: &IpSet,
        ports: &PortSet,
    ) -> (Vec<(IpSet, PortSet)>, Vec<IpDenied>) {
        // (addresses, ports still open, ports not yet decided)
        let mut parts = vec![(addresses.clone(), ports.clone(), ports.clone())];
        let mut cuts = Vec::new();
        for p in self.policies_for(from) {
            let Some(rules) = p.rules(false) else {
                continue;
            };
            let selected = p.selects(from);
            if selected == Tri::No {
                continue;
            }
            for r in rules {
                let pod = selected.and(r.source.matches_pod(from));
                if r.action == Action::Log || pod == Tri::No {
                    continue;
                }
                let (sure, maybe) = r.destination.matches_addresses();
                let (deciding, ports) = match (r.action, pod, &r.ports) {
                    (Action::Deny, Tri::Yes, Some(rp)) => (sure, rp.clone()),
                    (Action::Deny, ..) => continue,
                    (_, _, rp) => (sure.union(&maybe), rp.clone().unwrap_or_else(PortSet::all)),
                };
                if deciding.is_empty() {
                    continue;
                }
                let mut next = Vec::with_capacity(parts.len());
                for (addrs, open, undecided) in parts {
                    let hit = undecided.intersection(&ports);
                    let inside = addrs.intersection(&deciding);
                    if hit.is_empty() || inside.is_empty() {
                        next.push((addrs, open, undecided));
                        continue;
                    }
                    let outside = addrs.difference(&deciding);
                    if !outside.is_empty() {
                        next.push((outside, open.clone(), undecided.clone()));
                    }
                    let open = if r.action == Action::Deny {
                        cuts.push((inside.clone(), hit.clone(), p.deny("egress", r.index)));
                        open.difference(&hit)
                    } else {
                        open
                    };
                    next.push((inside, open, undecided.difference(&hit)));
                }
                parts = next;
            }
        }
        // The parts with the same ports left open, together.
        let mut open: Vec<(IpSet, PortSet)> = Vec::new();
        for (addrs, ports, _) in parts {
            if ports.is_empty() {
                continue;
            }
            match open.iter_mut().find(|(_, p)| *p == ports) {
                Some((a, _)) => *a = a.union(&addrs),
                None => open.push((addrs, ports)),
            }
        }
        (open, cuts)
    }
}

/// Addresses and ports a rule denies.
type IpDenied = (IpSet, PortSet, LayerCause);

/// Each Namespace object's labels, by name.
fn namespace_labels(objects: &[Resource]) -> HashMap<&str, &Labels> {
    let mut out = HashMap::new();
    for r in objects {
        if let Resource::Namespace(n) = r {
            out.insert(n.metadata.name.as_str(), &n.metadata.labels);
        }
    }
    out
}

/// A pod of namespace `ns` (`None`: any namespace) with `labels` (all of
/// them when `exact`), as Calico selects it, with the labels Calico adds:
/// the namespace's name, the pod's namespace. A namespace's labels are
/// known exactly when the objects hold it.
fn endpoint_of(
    ns_labels: &HashMap<&str, &Labels>,
    ns: Option<&str>,
    mut labels: Labels,
    exact: bool,
) -> Endpoint {
    let Some(ns) = ns else {
        return Endpoint {
            pod: Known { labels, exact },
            ns: Known {
                labels: Labels::new_vec(),
                exact: false,
            },
            candidates: Default::default(),
        };
    };
    let found = ns_labels.get(ns);
    let mut nl = found.map_or_else(Labels::new_vec, |l| (*l).clone());
    nl.insert("kubernetes.io/metadata.name".into(), ns.to_string());
    nl.insert("projectcalico.org/name".into(), ns.to_string());
    labels.insert("projectcalico.org/namespace".into(), ns.to_string());
    Endpoint {
        pod: Known { labels, exact },
        ns: Known {
            labels: nl,
            exact: found.is_some(),
        },
        candidates: Default::default(),
    }
}

/// A model node as Calico selects it.
fn node_endpoint(
    model: &Model,
    templates: &Templates<'_>,
    placement: &Placement,
    ns_labels: &HashMap<&str, &Labels>,
    n: Node,
) -> Option<Rc<Endpoint>> {
    let id = node_identity(model, templates, placement, n)?;
    Some(Rc::new(endpoint_of(
        ns_labels,
        Some(&id.namespace),
        id.labels,
        id.exact,
    )))
}

/// For an audit: narrow the connections with what the model does not name
/// ([`super::access::NetPart::outside`]) to what the guardrails leave
/// open. Any pod of a namespace ([`Outside::AnyIn`]) is a pod of that
/// namespace whose labels are unknown, and any pod anywhere
/// ([`Outside::Anywhere`]) one whose namespace is unknown too: a rule
/// matches them surely only when it matches every such pod (`all()`, and
/// for a namespace's pods, terms on the namespace), so only such a deny
/// cuts them and an `Allow` that may match keeps the port open: access is
/// shown wider, never narrower.
pub fn restrict_outside(
    model: &Model,
    objects: &[Resource],
    placement: &Placement,
    outside: &mut Vec<OutsideEdge>,
) {
    let guardrails = Guardrails::new(objects);
    if guardrails.policies.is_empty() {
        return;
    }
    let ns_labels = namespace_labels(objects);
    let templates = Templates::new(objects);
    let mut cache: HashMap<Outside, Option<Rc<Endpoint>>> = HashMap::new();
    let mut endpoint = |p: &Outside| {
        cache
            .entry(p.clone())
            .or_insert_with(|| match p {
                Outside::Node(n) => node_endpoint(model, &templates, placement, &ns_labels, *n),
                Outside::Pod(ns, name) => {
                    let labels = templates.labels(ns, name)?.clone();
                    Some(endpoint_of(&ns_labels, Some(ns), labels, true).into())
                }
                Outside::AnyIn(ns) => {
                    Some(endpoint_of(&ns_labels, Some(ns), Labels::new_vec(), false).into())
                }
                Outside::Anywhere => {
                    Some(endpoint_of(&ns_labels, None, Labels::new_vec(), false).into())
                }
            })
            .clone()
    };
    outside.retain_mut(|e| {
        let (Some(src), Some(dst)) = (endpoint(&e.from), endpoint(&e.to)) else {
            return true;
        };
        let (into, _) = guardrails.denied(&dst, true, &e.ports, |r| r.source.matches_pod(&src));
        let (out_of, _) =
            guardrails.denied(&src, false, &e.ports, |r| r.destination.matches_pod(&dst));
        e.ports = e.ports.difference(&into.union(&out_of));
        !e.ports.is_empty()
    });
}

/// The hook of `access::network`: narrow each connection to what the
/// guardrails leave open (nothing to do without any); what they deny goes
/// to `cut` and `ip_cut`, with the rules that deny it; a `nets` entry that
/// cannot be read goes to `problems` (its rule denies nothing, and an
/// `Allow` with it may match any address).
#[expect(
    clippy::too_many_arguments,
    reason = "the lists the layer narrows and the three it adds to, as `access` holds them"
)]
pub fn restrict(
    model: &Model,
    objects: &[Resource],
    placement: &Placement,
    net: &mut Vec<NetEdge>,
    ip: &mut Vec<IpEdge>,
    cut: &mut Vec<CutEdge>,
    ip_cut: &mut Vec<IpCut>,
    problems: &mut Vec<String>,
) {
    let guardrails = Guardrails::new(objects);
    if guardrails.policies.is_empty() {
        return;
    }
    problems.extend(guardrails.unreadable.iter().map(|n| {
        format!("GlobalNetworkPolicy: `{n}` is not an address or a CIDR: its rule is not evaluated")
    }));
    let ns_labels = namespace_labels(objects);
    let templates = Templates::new(objects);
    let mut cache: HashMap<Node, Option<Rc<Endpoint>>> = HashMap::new();
    let mut endpoint = |n: Node| {
        cache
            .entry(n)
            .or_insert_with(|| node_endpoint(model, &templates, placement, &ns_labels, n))
            .clone()
    };
    net.retain_mut(|e| {
        let (Some(src), Some(dst)) = (endpoint(e.from), endpoint(e.to)) else {
            return true;
        };
        let (into, mut by) =
            guardrails.denied(&dst, true, &e.ports, |r| r.source.matches_pod(&src));
        let (out_of, by_egress) =
            guardrails.denied(&src, false, &e.ports, |r| r.destination.matches_pod(&dst));
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
        let (open, cuts) = guardrails.denied_ip(&src, &e.addresses, &e.ports);
        for (addresses, ports, by) in cuts {
            ip_cut.push(IpCut {
                from: e.from,
                addresses,
                ports,
                by: vec![by],
            });
        }
        for (addresses, ports) in open {
            split.push(IpEdge {
                from: e.from,
                addresses,
                ports,
            });
        }
    }
    *ip = split;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(pairs: &[(&str, &str)], exact: bool) -> Known {
        Known {
            labels: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            exact,
        }
    }

    #[test]
    fn a_stand_in_decides_only_the_labels_it_is_known_to_carry() {
        let sel = |s: &str| parse_selector(Some(s));
        let real = known(&[("app", "web")], true);
        let stand_in = known(&[("app", "web")], false);
        assert_eq!(real.matches(&sel("role != 'backup'")), Tri::Yes);
        assert_eq!(stand_in.matches(&sel("role != 'backup'")), Tri::Maybe);
        assert_eq!(stand_in.matches(&sel("!has(role)")), Tri::Maybe);
        assert_eq!(stand_in.matches(&sel("app == 'web'")), Tri::Yes);
        assert_eq!(stand_in.matches(&sel("app != 'web'")), Tri::No);
        assert_eq!(stand_in.matches(&sel("all()")), Tri::Yes);
        // Calico's own labels are not the workload's to say.
        assert_eq!(
            real.matches(&sel("!has(projectcalico.org/orchestrator)")),
            Tri::Maybe
        );
        assert_eq!(stand_in.matches(&sel("app ~ 'w'")), Tri::Maybe);
    }

    #[test]
    fn nets_are_cidrs_or_bare_addresses() {
        let net = parse_net("203.0.113.5").unwrap();
        assert_eq!(net, IpSet::parse_cidr("203.0.113.5/32").unwrap());
        assert_eq!(
            parse_net("2001:db8::1"),
            IpSet::parse_cidr("2001:db8::1/128")
        );
        assert!(parse_net("the-bank").is_none());
        // An entry that cannot be read: the rule matches no address
        // surely, and any address maybe.
        let mut unreadable = Vec::new();
        let e = Entity::read(
            &EntityRule {
                nets: vec!["0.0.0.0/0".into()],
                not_nets: vec!["the-bank".into()],
                ..EntityRule::default()
            },
            &mut unreadable,
        );
        assert_eq!(unreadable, ["the-bank"]);
        let (sure, maybe) = e.matches_addresses();
        assert!(sure.is_empty() && maybe == IpSet::all());
    }
}

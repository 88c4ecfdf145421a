//! One NetworkPolicy, validated and resolved against a [`Cluster`]: the
//! pods it selects, and per rule the peers (symbolic, for point queries,
//! and resolved through the label index, for enumeration) and the ports.
//!
//! Validation follows `pkg/apis/networking/validation` (ValidateNetworkPolicy):
//! what the API server would reject is dropped at the smallest enclosing
//! element — a selector, peer or port entry then matches nothing — and
//! reported as a problem. Label key/value syntax is not checked.

use super::cluster::{Cluster, NamespaceId, Pod, PodId, DEFAULT_NAMESPACE};
use super::ip::IpSet;
use super::ports::{PortRanges, PortSet, Protocol, MAX_PORT, MIN_PORT};
use super::selector::Selector;
use super::{Direction, PolicyMeta};
use crate::k8s::{IntOrString, IpBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};

/// Where a peer's pods may live.
#[derive(Clone, Debug)]
pub(crate) enum NsScope {
    /// No `namespaceSelector`: the policy's namespace (absent from the
    /// cluster: none).
    Own(Option<NamespaceId>),
    Selected(Selector),
}

#[derive(Clone, Debug)]
pub(crate) enum Peer {
    Pods {
        namespaces: NsScope,
        /// `None`: every pod of those namespaces.
        pods: Option<Selector>,
    },
    Ips(IpSet),
    /// Rejected by validation.
    Nothing,
}

#[derive(Clone, Debug)]
pub(crate) enum Peers {
    /// `from`/`to` absent or empty: every pod and every address.
    Any,
    List(Vec<Peer>),
}

#[derive(Clone, Debug)]
pub(crate) enum Ports {
    /// `ports` absent or empty: all traffic.
    All,
    List {
        fixed: PortSet,
        /// Named ports, resolved against the destination pod.
        named: Vec<(Protocol, String)>,
    },
}

impl Ports {
    /// The ports this rule admits towards `dst` (a pod, or `None` for an
    /// address, where named ports resolve to nothing).
    pub(crate) fn at(&self, dst: Option<&Pod>) -> PortSet {
        match self {
            Ports::All => PortSet::all(),
            Ports::List { fixed, named } => {
                let mut out = fixed.clone();
                if let Some(pod) = dst {
                    for (proto, name) in named {
                        for cp in &pod.ports {
                            if cp.protocol == *proto && cp.name.as_deref() == Some(name) {
                                out.add(*proto, &PortRanges::single(cp.port));
                            }
                        }
                    }
                }
                out
            }
        }
    }
}

/// A peer set resolved to pods.
#[derive(Clone, Debug)]
pub(crate) enum PodsMat {
    All,
    /// Sorted, distinct.
    List(Vec<PodId>),
}

#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub peers: Peers,
    pub ports: Ports,
    /// Addresses the rule admits.
    pub ips: IpSet,
    /// Pods the rule admits, through the label index.
    pub pods: PodsMat,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledPolicy {
    pub meta: PolicyMeta,
    /// Pods of the policy's namespace its `podSelector` selects, sorted.
    pub selected: Vec<PodId>,
    /// Whether the policy isolates its pods in each [`Direction`].
    pub affects: [bool; 2],
    /// Rules per [`Direction`] (empty when the policy does not affect it).
    pub rules: [Vec<Rule>; 2],
}

/// `IsValidPortName` (IANA_SVC_NAME): 1-15 characters of `a-z0-9-`, at
/// least one letter, no leading, trailing or doubled `-`.
fn valid_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn port_number(n: i32) -> Option<u16> {
    u16::try_from(n)
        .ok()
        .filter(|p| (MIN_PORT..=MAX_PORT).contains(p))
}

/// Where in the policy an element is (`ingress[0].from[1].podSelector`),
/// formatted only when a problem is reported: compiling ten thousand
/// policies must not format a path per peer.
#[derive(Clone, Copy)]
enum Loc<'a> {
    Root(&'static str),
    Index(&'a Loc<'a>, &'static str, usize),
    Field(&'a Loc<'a>, &'static str),
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Root(name) => f.write_str(name),
            Loc::Index(parent, name, i) => match parent {
                Loc::Root("") => write!(f, "{name}[{i}]"),
                _ => write!(f, "{parent}.{name}[{i}]"),
            },
            Loc::Field(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

struct Compiler<'a> {
    cluster: &'a Cluster,
    ns: Option<NamespaceId>,
    problems: Vec<String>,
}

impl Compiler<'_> {
    fn ip_block(&mut self, b: &IpBlock, at: Loc<'_>) -> Peer {
        let Some(cidr) = IpSet::parse_cidr(&b.cidr) else {
            self.problems.push(format!(
                "{at}.ipBlock.cidr: {:?} is not a CIDR; the peer matches nothing",
                b.cidr
            ));
            return Peer::Nothing;
        };
        let mut ips = cidr.clone();
        for (i, e) in b.except.iter().enumerate() {
            match IpSet::parse_cidr(e) {
                Some(x) if x.is_subset(&cidr) && x != cidr => ips = ips.difference(&x),
                _ => {
                    self.problems.push(format!(
                        "{at}.ipBlock.except[{i}]: {e:?} is not a CIDR strictly inside {:?}; the peer matches nothing",
                        b.cidr
                    ));
                    return Peer::Nothing;
                }
            }
        }
        Peer::Ips(ips)
    }

    fn peer(&mut self, p: &NetworkPolicyPeer, at: Loc<'_>) -> Peer {
        match (&p.ip_block, &p.namespace_selector, &p.pod_selector) {
            (Some(b), None, None) => self.ip_block(b, at),
            (Some(_), _, _) => {
                self.problems.push(format!(
                    "{at}: ipBlock may not be combined with a selector; the peer matches nothing"
                ));
                Peer::Nothing
            }
            (None, None, None) => {
                self.problems
                    .push(format!("{at}: an empty peer; it matches nothing"));
                Peer::Nothing
            }
            (None, ns, pods) => Peer::Pods {
                namespaces: match ns {
                    None => NsScope::Own(self.ns),
                    Some(s) => NsScope::Selected(Selector::compile_or_nothing(
                        s,
                        Loc::Field(&at, "namespaceSelector"),
                        &mut self.problems,
                    )),
                },
                pods: pods.as_ref().map(|s| {
                    Selector::compile_or_nothing(
                        s,
                        Loc::Field(&at, "podSelector"),
                        &mut self.problems,
                    )
                }),
            },
        }
    }

    fn ports(&mut self, ports: Option<&[NetworkPolicyPort]>, at: Loc<'_>) -> Ports {
        let Some(ports) = ports.filter(|p| !p.is_empty()) else {
            return Ports::All;
        };
        let mut fixed = PortSet::empty();
        let mut named = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let at = Loc::Index(&at, "ports", i);
            let proto = match &p.protocol {
                None => Protocol::Tcp,
                Some(s) => match Protocol::parse(s) {
                    Some(proto) => proto,
                    None => {
                        self.problems.push(format!(
                            "{at}.protocol: {s:?} is not TCP, UDP or SCTP; the entry matches nothing"
                        ));
                        continue;
                    }
                },
            };
            let ranges = match (&p.port, p.end_port) {
                (None, None) => PortRanges::full(),
                (Some(IntOrString::Int(n)), None) => match port_number(*n) {
                    Some(n) => PortRanges::single(n),
                    None => {
                        self.problems.push(format!(
                            "{at}.port: {n} is not in 1-65535; the entry matches nothing"
                        ));
                        continue;
                    }
                },
                (Some(IntOrString::Int(n)), Some(e)) => match (port_number(*n), port_number(e)) {
                    (Some(lo), Some(hi)) if lo <= hi => PortRanges::range(lo, hi),
                    _ => {
                        self.problems.push(format!(
                                "{at}: port {n} and endPort {e} do not make a range within 1-65535; the entry matches nothing"
                            ));
                        continue;
                    }
                },
                (Some(IntOrString::String(name)), None) => {
                    if valid_port_name(name) {
                        named.push((proto, name.clone()));
                    } else {
                        self.problems.push(format!(
                            "{at}.port: {name:?} is not a valid port name; the entry matches nothing"
                        ));
                    }
                    continue;
                }
                (Some(IntOrString::String(_)), Some(_)) | (None, Some(_)) => {
                    self.problems.push(format!(
                        "{at}.endPort needs a numeric port; the entry matches nothing"
                    ));
                    continue;
                }
            };
            fixed.add(proto, &ranges);
        }
        Ports::List { fixed, named }
    }

    fn rule(
        &mut self,
        peers: Option<&[NetworkPolicyPeer]>,
        ports: Option<&[NetworkPolicyPort]>,
        direction: Direction,
        index: usize,
    ) -> Rule {
        let (name, peer_key) = match direction {
            Direction::Ingress => ("ingress", "from"),
            Direction::Egress => ("egress", "to"),
        };
        let root = Loc::Root("");
        let at = Loc::Index(&root, name, index);
        let peers = match peers.filter(|p| !p.is_empty()) {
            None => Peers::Any,
            Some(list) => Peers::List(
                list.iter()
                    .enumerate()
                    .map(|(i, p)| self.peer(p, Loc::Index(&at, peer_key, i)))
                    .collect(),
            ),
        };
        let ports = self.ports(ports, at);
        let (ips, pods) = self.resolve(&peers);
        Rule {
            peers,
            ports,
            ips,
            pods,
        }
    }

    /// The addresses and (through the label index) the pods `peers` admit.
    fn resolve(&self, peers: &Peers) -> (IpSet, PodsMat) {
        let list = match peers {
            Peers::Any => return (IpSet::all(), PodsMat::All),
            Peers::List(list) => list,
        };
        let ips = list.iter().fold(IpSet::empty(), |acc, p| match p {
            Peer::Ips(set) => acc.union(set),
            _ => acc,
        });
        let mut pods: Vec<PodId> = Vec::new();
        let everything = Selector::everything();
        for peer in list {
            let Peer::Pods {
                namespaces,
                pods: sel,
            } = peer
            else {
                continue;
            };
            let namespaces: Option<Vec<NamespaceId>> = match namespaces {
                NsScope::Own(ns) => Some(ns.iter().copied().collect()),
                NsScope::Selected(s) if s.is_everything() => None,
                NsScope::Selected(s) => Some(self.cluster.select_namespaces(s)),
            };
            let sel = sel.as_ref().unwrap_or(&everything);
            if namespaces.is_none() && sel.is_everything() {
                // every pod: no need to list them
                return (ips, PodsMat::All);
            }
            pods.extend(self.cluster.select_pods(namespaces.as_deref(), sel));
        }
        pods.sort_unstable();
        pods.dedup();
        (ips, PodsMat::List(pods))
    }
}

/// `policy` against `cluster`, and what validation would have rejected.
pub(crate) fn compile(cluster: &Cluster, policy: &NetworkPolicy) -> (CompiledPolicy, Vec<String>) {
    let namespace = policy
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    let meta = PolicyMeta {
        namespace,
        name: policy.metadata.name.clone(),
    };
    let mut c = Compiler {
        cluster,
        ns: cluster.namespace_id(&meta.namespace),
        problems: Vec::new(),
    };
    let spec = &policy.spec;

    // SetDefaults_NetworkPolicy: no policyTypes means Ingress, plus Egress
    // when there are egress rules (len(egress) != 0: `egress: []` adds none).
    let mut affects = [false; 2];
    match spec.policy_types.as_deref() {
        None | Some([]) => {
            affects[Direction::Ingress as usize] = true;
            affects[Direction::Egress as usize] =
                spec.egress.as_ref().is_some_and(|e| !e.is_empty());
        }
        Some(types) => {
            for t in types {
                match t.as_str() {
                    "Ingress" => affects[Direction::Ingress as usize] = true,
                    "Egress" => affects[Direction::Egress as usize] = true,
                    other => {
                        c.problems.push(format!(
                            "spec.policyTypes: {other:?} is not Ingress or Egress; the policy selects nothing"
                        ));
                        affects = [false; 2];
                        break;
                    }
                }
            }
        }
    }

    let pod_selector = Selector::compile_or_nothing(
        &spec.pod_selector,
        Loc::Root("spec.podSelector"),
        &mut c.problems,
    );
    let selected = match c.ns {
        Some(ns) if affects.iter().any(|&a| a) => cluster.select_pods(Some(&[ns]), &pod_selector),
        _ => Vec::new(),
    };

    let mut rules: [Vec<Rule>; 2] = [Vec::new(), Vec::new()];
    if affects[Direction::Ingress as usize] {
        for (i, r) in spec.ingress.iter().flatten().enumerate() {
            let rule = c.rule(r.from.as_deref(), r.ports.as_deref(), Direction::Ingress, i);
            rules[Direction::Ingress as usize].push(rule);
        }
    }
    if affects[Direction::Egress as usize] {
        for (i, r) in spec.egress.iter().flatten().enumerate() {
            let rule = c.rule(r.to.as_deref(), r.ports.as_deref(), Direction::Egress, i);
            rules[Direction::Egress as usize].push(rule);
        }
    }
    let problems = c.problems;
    (
        CompiledPolicy {
            meta,
            selected,
            affects,
            rules,
        },
        problems,
    )
}

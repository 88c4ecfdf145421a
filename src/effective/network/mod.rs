//! NetworkPolicy evaluation: which pod may open which connection to which
//! pod or address, given a set of `networking.k8s.io/v1` NetworkPolicies.
//!
//! Kubernetes semantics, from the API reference (`k8s.io/api/networking/v1`
//! types.go field docs), the API server's defaulting
//! (`pkg/apis/networking/v1/defaults.go`) and validation
//! (`pkg/apis/networking/validation/validation.go`), label selectors as
//! `k8s.io/apimachinery` evaluates them, and the concept page
//! (`website: content/en/docs/concepts/services-networking/network-policies.md`).
//! IBM's network-config-analyzer (NCA) is the reference implementation the
//! tests compare against (`tests/effective_network.rs`): the two agree on
//! every fixture but where NCA departs from Kubernetes, which the fixtures
//! record (`tests/effective/README.md`).
//!
//! # Semantics
//! - **Isolation** is per direction. A pod is isolated for ingress (egress)
//!   iff some policy that affects ingress (egress) selects it; it then
//!   accepts (opens) only what the union of those policies' rules allows.
//!   A pod no such policy selects is open in that direction. A connection
//!   between pods needs both the source's egress and the destination's
//!   ingress.
//! - **policyTypes** absent or empty defaults as the API server does:
//!   `Ingress`, plus `Egress` iff `egress` has at least one rule. So
//!   `egress: []` without policyTypes does not isolate egress (NCA differs:
//!   it adds Egress whenever the field is present).
//! - **Rules**: `ingress`/`egress` absent or empty with the direction in
//!   policyTypes allows nothing. In a rule, `from`/`to` absent or empty
//!   admits every pod and every address; `ports` absent or empty admits all
//!   traffic (every protocol).
//! - **Peers**: `podSelector` alone selects pods of the policy's namespace;
//!   `namespaceSelector` alone all pods of the namespaces it selects; both
//!   in one peer are ANDed; peers of a list are ORed. Selectors AND
//!   `matchLabels` with `matchExpressions` (`In`, `NotIn`, `Exists`,
//!   `DoesNotExist`; `NotIn` holds when the key is missing); an empty
//!   selector selects everything. Every namespace carries
//!   `kubernetes.io/metadata.name=<name>`.
//! - **ipBlock** peers admit addresses only, never pods: an address endpoint
//!   is taken to be outside the cluster (the docs say ipBlock "should be
//!   cluster-external IPs"; CNIs differ on pod IPs). NCA does the same.
//!   `except` ranges are removed from `cidr`.
//! - **Ports**: absent `protocol` is TCP; absent `port` every port of that
//!   protocol; `endPort` makes a range. A named port resolves against the
//!   *destination* pod's container ports of that name and protocol — the
//!   selected pod for ingress, the peer pod for egress; towards an address
//!   it resolves to nothing.
//! - **Same pod**: a pod stands for its workload (one representative per
//!   Deployment), so a pod → itself query is about traffic between its
//!   replicas over the pod network, which policies do govern: it is
//!   evaluated like any other pair, as NCA does. Loopback (localhost inside
//!   one pod) never reaches the network and is not modelled; Kubernetes
//!   cannot block it.
//! - **Addresses**: the address side of a pod ↔ address connection is not
//!   governed by any policy ([`Side::External`]); address → address traffic
//!   is no cluster traffic and counts as allowed.
//! - **Not modelled**: traffic from the pod's node (always allowed by
//!   Kubernetes), Services (policies see pod ports after translation),
//!   host-network pods.
//! - **Invalid input** never panics: whatever the API server's validation
//!   would reject (malformed CIDR, `except` outside `cidr`, unknown selector
//!   operator or protocol, `endPort` without a numeric `port`, ipBlock with
//!   a selector, ...) is dropped at the smallest enclosing element — that
//!   selector, peer or port entry matches nothing; an unknown policyType
//!   makes the policy select nothing — and reported in
//!   [`NetworkAccess::problems`].
//!
//! # Scale
//! Selectors are resolved through inverted label indexes of the
//! [`Cluster`]; [`NetworkAccess::connections`] enumerates only the pairs
//! some rule admits, and reports the pairs where neither side is isolated
//! as one symbolic rectangle, so its cost follows the rules and the answer,
//! not the square of the number of pods.

mod cluster;
mod compile;
mod ip;
mod ports;
mod selector;
#[cfg(test)]
mod tests;

pub use cluster::{
    Cluster, ContainerPort, Namespace, NamespaceId, Pod, PodId, DEFAULT_NAMESPACE,
    NAMESPACE_NAME_LABEL,
};
pub use ip::{partition_by_ports, IpSet};
pub use ports::{PortRanges, PortSet, Protocol, MAX_PORT, MIN_PORT};

use crate::k8s::NetworkPolicy;
use compile::{CompiledPolicy, PodsMat, Rule};
use rayon::prelude::*;
use std::fmt;
use std::net::IpAddr;

/// Traffic direction, as seen from the pod a policy selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress = 0,
    Egress = 1,
}

impl Direction {
    fn other(self) -> Direction {
        match self {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        })
    }
}

/// A policy, by its position in the slice given to [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId(pub usize);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyMeta {
    pub namespace: String,
    pub name: String,
}

/// Rule `index` of the `ingress` or `egress` list of a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleRef {
    pub policy: PolicyId,
    pub direction: Direction,
    pub index: usize,
}

/// Why one side of a connection lets it through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// No policy isolates the pod in this direction.
    NotIsolated,
    Rule(RuleRef),
}

/// One cause and the part of a connection's ports it admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    pub cause: Cause,
    pub ports: PortSet,
}

/// An allowed pod → pod connection: the ports on which it is allowed, and
/// what admits it on each side (each cause with the allowed ports it covers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    pub src: PodId,
    pub dst: PodId,
    pub ports: PortSet,
    /// The source's side.
    pub egress: Vec<Admission>,
    /// The destination's side.
    pub ingress: Vec<Admission>,
}

/// Every allowed pod → pod connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connectivity {
    /// Pods no policy isolates for egress.
    pub open_sources: Vec<PodId>,
    /// Pods no policy isolates for ingress.
    pub open_destinations: Vec<PodId>,
    /// The connections between isolated pods and any pods (sorted by
    /// source, then destination). Each pair of `open_sources` ×
    /// `open_destinations` is allowed all traffic besides, and is not listed.
    pub connections: Vec<Connection>,
}

impl Connectivity {
    /// Every allowed pair with its ports, the open rectangle included
    /// (which this materializes: |open_sources| × |open_destinations|).
    pub fn pairs(&self) -> impl Iterator<Item = (PodId, PodId, PortSet)> + '_ {
        let open = self.open_sources.iter().flat_map(move |&s| {
            self.open_destinations
                .iter()
                .map(move |&d| (s, d, PortSet::all()))
        });
        open.chain(
            self.connections
                .iter()
                .map(|c| (c.src, c.dst, c.ports.clone())),
        )
    }
}

/// A connection end: a pod of the cluster or an address (outside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Pod(PodId),
    Ip(IpAddr),
}

/// How one side judges a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// The end is an address: no policy applies to it.
    External,
    /// No policy isolates the pod in this direction.
    NotIsolated,
    /// These rules admit it.
    Allowed(Vec<RuleRef>),
    /// These policies isolate the pod and none of their rules admits it.
    Denied(Vec<PolicyId>),
}

impl Side {
    pub fn admits(&self) -> bool {
        !matches!(self, Side::Denied(_))
    }
}

/// A point query's answer, with its reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The source's egress.
    pub egress: Side,
    /// The destination's ingress.
    pub ingress: Side,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.egress.admits() && self.ingress.admits()
    }
}

/// Addresses a pod may reach (egress) or be reached from (ingress), on
/// `ports`, because of `cause`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpGrant {
    pub ips: IpSet,
    pub ports: PortSet,
    pub cause: Cause,
}

/// Something the API server would have rejected, and how it was evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub policy: PolicyId,
    pub message: String,
}

/// The effect of a set of NetworkPolicies on a [`Cluster`].
#[derive(Clone, Debug)]
pub struct NetworkAccess<'c> {
    cluster: &'c Cluster,
    policies: Vec<CompiledPolicy>,
    /// Per direction, per pod: the policies isolating it.
    selecting: [Vec<Vec<PolicyId>>; 2],
    problems: Vec<Problem>,
}

/// Evaluates `policies` on `cluster`.
pub fn evaluate<'c, P>(cluster: &'c Cluster, policies: &[P]) -> NetworkAccess<'c>
where
    P: std::borrow::Borrow<NetworkPolicy> + Sync,
{
    let n = cluster.pod_count();
    let mut selecting = [vec![Vec::new(); n], vec![Vec::new(); n]];
    let mut problems = Vec::new();
    // Policies compile independently (each reads only the cluster).
    let compiled: Vec<(CompiledPolicy, Vec<String>)> = policies
        .par_iter()
        .with_min_len(64)
        .map(|p| compile::compile(cluster, p.borrow()))
        .collect();
    let compiled = (compiled.into_iter().enumerate())
        .map(|(i, (c, msgs))| {
            for dir in [Direction::Ingress, Direction::Egress] {
                if c.affects[dir as usize] {
                    for pod in &c.selected {
                        selecting[dir as usize][pod.index()].push(PolicyId(i));
                    }
                }
            }
            problems.extend(msgs.into_iter().map(|message| Problem {
                policy: PolicyId(i),
                message,
            }));
            c
        })
        .collect();
    NetworkAccess {
        cluster,
        policies: compiled,
        selecting,
        problems,
    }
}

/// A rule's pods: those open and those isolated in the other direction.
type Split = (Vec<PodId>, Vec<PodId>);

/// A pending pair in [`NetworkAccess::connections`]: the pod on the
/// driving side and what admits it there.
type Candidate = (PodId, Admission);

/// One subject's share of [`NetworkAccess::connections`]: connections
/// found at once and candidates (peer, [`Candidate`]) to check.
type SubjectPass = (Vec<Connection>, Vec<(PodId, Candidate)>);

impl<'c> NetworkAccess<'c> {
    pub fn cluster(&self) -> &'c Cluster {
        self.cluster
    }

    pub fn policy(&self, id: PolicyId) -> &PolicyMeta {
        &self.policies[id.0].meta
    }

    /// What validation would have rejected, by policy.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The policies isolating `pod` in `direction` (empty: not isolated).
    pub fn isolating(&self, pod: PodId, direction: Direction) -> &[PolicyId] {
        &self.selecting[direction as usize][pod.index()]
    }

    pub fn is_isolated(&self, pod: PodId, direction: Direction) -> bool {
        !self.isolating(pod, direction).is_empty()
    }

    /// `namespace/name ingress[0]` or `not isolated`.
    pub fn describe(&self, cause: Cause) -> String {
        match cause {
            Cause::NotIsolated => "not isolated".to_string(),
            Cause::Rule(r) => {
                let m = self.policy(r.policy);
                format!("{}/{} {}[{}]", m.namespace, m.name, r.direction, r.index)
            }
        }
    }

    /// May `from` open a connection to `to` on `protocol`/`port`?
    pub fn allowed(&self, from: Endpoint, to: Endpoint, protocol: Protocol, port: u16) -> bool {
        self.check(from, to, protocol, port).allowed()
    }

    /// [`NetworkAccess::allowed`], with what decides on each side.
    pub fn check(&self, from: Endpoint, to: Endpoint, protocol: Protocol, port: u16) -> Verdict {
        let dst = match to {
            Endpoint::Pod(d) => Some(d),
            Endpoint::Ip(_) => None,
        };
        let side = |dir: Direction, subject: PodId, peer: Endpoint| {
            let isolating = self.isolating(subject, dir);
            if isolating.is_empty() {
                return Side::NotIsolated;
            }
            let rules: Vec<RuleRef> = self
                .rules_of(subject, dir)
                .filter(|(_, rule)| self.rule_admits(rule, peer))
                .filter(|(_, rule)| self.ports_to(rule, dst).contains(protocol, port))
                .map(|(r, _)| r)
                .collect();
            if rules.is_empty() {
                Side::Denied(isolating.to_vec())
            } else {
                Side::Allowed(rules)
            }
        };
        Verdict {
            egress: match from {
                Endpoint::Ip(_) => Side::External,
                Endpoint::Pod(s) => side(Direction::Egress, s, to),
            },
            ingress: match to {
                Endpoint::Ip(_) => Side::External,
                Endpoint::Pod(d) => side(Direction::Ingress, d, from),
            },
        }
    }

    /// The connection `src` → `dst`, if any port is allowed.
    pub fn between(&self, src: PodId, dst: PodId) -> Option<Connection> {
        let egress = self.admissions(Direction::Egress, src, dst, dst);
        let ingress = self.admissions(Direction::Ingress, dst, src, dst);
        combine(src, dst, ingress, egress)
    }

    /// The addresses `pod` may reach (`Egress`) or be reached from
    /// (`Ingress`), one grant per admitting rule (or one for all addresses
    /// when the pod is not isolated). Named ports resolve against `pod` for
    /// ingress and to nothing for egress. Overlapping grants add up; see
    /// [`partition_by_ports`] for the net effect per address range.
    pub fn ip_grants(&self, pod: PodId, direction: Direction) -> Vec<IpGrant> {
        if !self.is_isolated(pod, direction) {
            return vec![IpGrant {
                ips: IpSet::all(),
                ports: PortSet::all(),
                cause: Cause::NotIsolated,
            }];
        }
        let dst = match direction {
            Direction::Ingress => Some(pod),
            Direction::Egress => None,
        };
        self.rules_of(pod, direction)
            .filter(|(_, rule)| !rule.ips.is_empty())
            .filter_map(|(r, rule)| {
                let ports = self.ports_to(rule, dst);
                (!ports.is_empty()).then(|| IpGrant {
                    ips: rule.ips.clone(),
                    ports,
                    cause: Cause::Rule(r),
                })
            })
            .collect()
    }

    /// [`NetworkAccess::ip_grants`] as disjoint address sets, each with all
    /// the ports allowed to (from) it.
    pub fn ip_access(&self, pod: PodId, direction: Direction) -> Vec<(IpSet, PortSet)> {
        let grants = self.ip_grants(pod, direction);
        partition_by_ports(grants.iter().map(|g| (&g.ips, &g.ports)))
    }

    /// Every allowed pod → pod connection. Pairs with a side isolated are
    /// found from the rules (each rule's pods come from the label index),
    /// pairs with neither side isolated are reported as the rectangle
    /// `open_sources` × `open_destinations`: the cost follows the rules'
    /// reach and the answer, never all pairs of pods.
    pub fn connections(&self) -> Connectivity {
        self.enumerate(None)
    }

    /// [`NetworkAccess::connections`], with pairs isolated on both sides
    /// found from the `driving` side's rules (`None`: the cheaper side).
    fn enumerate(&self, driving: Option<Direction>) -> Connectivity {
        let open = |dir: Direction| -> Vec<PodId> {
            self.cluster
                .all_pods()
                .filter(|&p| !self.is_isolated(p, dir))
                .collect()
        };
        let (open_src, open_dst) = (open(Direction::Egress), open(Direction::Ingress));
        let isolated = |dir: Direction| -> Vec<PodId> {
            self.cluster
                .all_pods()
                .filter(|&p| self.is_isolated(p, dir))
                .collect()
        };
        let (iso_src, iso_dst) = (isolated(Direction::Egress), isolated(Direction::Ingress));
        let lists = |dir: Direction| match dir {
            Direction::Egress => (&open_src, &iso_src),
            Direction::Ingress => (&open_dst, &iso_dst),
        };

        // Each rule's pods, split by whether they are isolated on the
        // other side (relative to the rule's direction).
        let split: Vec<[Vec<Split>; 2]> = self
            .policies
            .iter()
            .map(|p| {
                [Direction::Ingress, Direction::Egress].map(|dir| {
                    p.rules[dir as usize]
                        .iter()
                        .map(|r| match &r.pods {
                            PodsMat::All => (Vec::new(), Vec::new()),
                            PodsMat::List(l) => {
                                l.iter().partition(|&&q| !self.is_isolated(q, dir.other()))
                            }
                        })
                        .collect()
                })
            })
            .collect();
        let members = |r: RuleRef| -> (&[PodId], &[PodId]) {
            let rule = &self.policies[r.policy.0].rules[r.direction as usize][r.index];
            match rule.pods {
                PodsMat::All => {
                    let (o, i) = lists(r.direction.other());
                    (o, i)
                }
                PodsMat::List(_) => {
                    let (o, i) = &split[r.policy.0][r.direction as usize][r.index];
                    (o, i)
                }
            }
        };

        // Pairs isolated on both sides are found from one side's rules and
        // checked against the other's: the side whose rules name fewer
        // such pairs drives.
        let reach = |dir: Direction| -> usize {
            self.policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.affects[dir as usize])
                .map(|(i, p)| {
                    let named: usize = (0..p.rules[dir as usize].len())
                        .map(|index| {
                            members(RuleRef {
                                policy: PolicyId(i),
                                direction: dir,
                                index,
                            })
                            .1
                            .len()
                        })
                        .sum();
                    p.selected.len().saturating_mul(named)
                })
                .fold(0usize, usize::saturating_add)
        };
        let driving = driving.unwrap_or(if reach(Direction::Ingress) <= reach(Direction::Egress) {
            Direction::Ingress
        } else {
            Direction::Egress
        });

        // Each isolated subject `a` on every core: its rules' open peers
        // make connections at once; its isolated peers `b` (on the driving
        // side) become candidates to check on `b`'s side.
        let per_subject: Vec<SubjectPass> = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .flat_map(|dir| lists(dir).1.iter().map(move |&a| (dir, a)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .with_min_len(64)
            .map(|(dir, a)| {
                let mut local: Vec<(PodId, Admission)> = Vec::new();
                let mut pending: Vec<(PodId, Candidate)> = Vec::new();
                for (r, rule) in self.rules_of(a, dir) {
                    let (open_peers, isolated_peers) = members(r);
                    for &b in open_peers {
                        let ports = self.ports_to(rule, Some(dst_of(dir, a, b)));
                        let cause = Cause::Rule(r);
                        local.push((b, Admission { cause, ports }));
                    }
                    if dir == driving {
                        for &b in isolated_peers {
                            let ports = self.ports_to(rule, Some(dst_of(dir, a, b)));
                            let cause = Cause::Rule(r);
                            pending.push((b, (a, Admission { cause, ports })));
                        }
                    }
                }
                // Stable: each peer's admissions stay in rule order.
                local.sort_by_key(|(b, _)| *b);
                let mut found = Vec::new();
                for group in local.chunk_by(|x, y| x.0 == y.0) {
                    let b = group[0].0;
                    let admissions: Vec<Admission> =
                        group.iter().map(|(_, ad)| ad.clone()).collect();
                    let other = vec![Admission {
                        cause: Cause::NotIsolated,
                        ports: PortSet::all(),
                    }];
                    found.extend(match dir {
                        Direction::Ingress => combine(b, a, admissions, other),
                        Direction::Egress => combine(a, b, other, admissions),
                    });
                }
                (found, pending)
            })
            .collect();
        let mut out = Vec::new();
        let mut pending: Vec<(PodId, Candidate)> = Vec::new();
        for (found, p) in per_subject {
            out.extend(found);
            pending.extend(p);
        }
        // The driving side's candidates `a`, checked on `b`'s side: each
        // `b` independently, on every core (the final sort keeps the
        // result deterministic). Stable sort: per (b, a), rule order.
        pending.par_sort_by_key(|(b, (a, _))| (*b, *a));
        let checked: Vec<Connection> = pending
            .par_chunk_by(|x, y| x.0 == y.0)
            .flat_map_iter(|cands| {
                let b = cands[0].0;
                let mut found = Vec::new();
                for group in cands.chunk_by(|x, y| x.1 .0 == y.1 .0) {
                    let a = group[0].1 .0;
                    let mine: Vec<Admission> =
                        group.iter().map(|(_, (_, ad))| ad.clone()).collect();
                    let c = match driving {
                        Direction::Ingress => {
                            let theirs = self.admissions(Direction::Egress, b, a, a);
                            combine(b, a, mine, theirs)
                        }
                        Direction::Egress => {
                            let theirs = self.admissions(Direction::Ingress, b, a, b);
                            combine(a, b, theirs, mine)
                        }
                    };
                    found.extend(c);
                }
                found
            })
            .collect();
        out.extend(checked);
        out.par_sort_by_key(|c| (c.src, c.dst));
        Connectivity {
            open_sources: open_src,
            open_destinations: open_dst,
            connections: out,
        }
    }

    /// The rules of the policies isolating `pod` in `dir`.
    fn rules_of(&self, pod: PodId, dir: Direction) -> impl Iterator<Item = (RuleRef, &Rule)> + '_ {
        self.isolating(pod, dir).iter().flat_map(move |&pid| {
            self.policies[pid.0].rules[dir as usize]
                .iter()
                .enumerate()
                .map(move |(index, rule)| {
                    (
                        RuleRef {
                            policy: pid,
                            direction: dir,
                            index,
                        },
                        rule,
                    )
                })
        })
    }

    fn ports_to(&self, rule: &Rule, dst: Option<PodId>) -> PortSet {
        rule.ports.at(dst.map(|d| self.cluster.pod(d)))
    }

    /// Whether `rule` admits `peer` (evaluating its selectors directly).
    fn rule_admits(&self, rule: &Rule, peer: Endpoint) -> bool {
        use compile::{NsScope, Peer, Peers};
        let pod = match peer {
            Endpoint::Ip(addr) => return rule.ips.contains(addr),
            Endpoint::Pod(p) => p,
        };
        let Peers::List(peers) = &rule.peers else {
            return true;
        };
        let ns = self.cluster.namespace_of(pod);
        peers.iter().any(|p| match p {
            Peer::Pods { namespaces, pods } => {
                let ns_ok = match namespaces {
                    NsScope::Own(own) => *own == Some(ns),
                    NsScope::Selected(s) => s.matches(&self.cluster.namespace(ns).labels),
                };
                ns_ok
                    && pods
                        .as_ref()
                        .is_none_or(|s| s.matches(&self.cluster.pod(pod).labels))
            }
            Peer::Ips(_) | Peer::Nothing => false,
        })
    }

    /// What admits, on `subject`'s `dir` side, traffic with pod `peer`
    /// towards pod `dst`.
    fn admissions(
        &self,
        dir: Direction,
        subject: PodId,
        peer: PodId,
        dst: PodId,
    ) -> Vec<Admission> {
        if !self.is_isolated(subject, dir) {
            return vec![Admission {
                cause: Cause::NotIsolated,
                ports: PortSet::all(),
            }];
        }
        self.rules_of(subject, dir)
            .filter(|(_, rule)| match &rule.pods {
                // The rule's pods, as the label index found them (the same
                // list the enumeration reads), not its selectors again.
                PodsMat::All => true,
                PodsMat::List(pods) => pods.binary_search(&peer).is_ok(),
            })
            .map(|(r, rule)| Admission {
                cause: Cause::Rule(r),
                ports: self.ports_to(rule, Some(dst)),
            })
            .collect()
    }
}

/// The destination of a pair where `a` is the subject of `dir` and `b`
/// its peer.
fn dst_of(dir: Direction, a: PodId, b: PodId) -> PodId {
    match dir {
        Direction::Ingress => a,
        Direction::Egress => b,
    }
}

/// The connection both sides' admissions allow, if any: ports in both
/// unions; each admission keeps the part the other side allows too.
fn combine(
    src: PodId,
    dst: PodId,
    ingress: Vec<Admission>,
    egress: Vec<Admission>,
) -> Option<Connection> {
    let union = |a: &[Admission]| {
        a.iter()
            .fold(PortSet::empty(), |acc, x| acc.union(&x.ports))
    };
    let (inu, egu) = (union(&ingress), union(&egress));
    let ports = inu.intersection(&egu);
    if ports.is_empty() {
        return None;
    }
    let keep = |list: Vec<Admission>, other: &PortSet| -> Vec<Admission> {
        let mut list: Vec<Admission> = list
            .into_iter()
            .filter_map(|a| {
                let ports = a.ports.intersection(other);
                (!ports.is_empty()).then_some(Admission {
                    cause: a.cause,
                    ports,
                })
            })
            .collect();
        list.sort_by_key(|a| a.cause);
        list
    };
    Some(Connection {
        src,
        dst,
        ports,
        egress: keep(egress, &inu),
        ingress: keep(ingress, &egu),
    })
}

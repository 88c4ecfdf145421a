//! The connections a model allows, computed from the resolved model alone
//! (never from generated YAML or generator code), in exactly the row format
//! that `tests/oracles/bin/nca_rows.py` prints network-config-analyzer's
//! connectivity in:
//!
//! ```text
//! SRC -> DST : PROTO/PORTS
//! ```
//!
//! - pod endpoints are `namespace/workload`: a pod group's Deployment is
//!   named after the group, a stand-in Pod after its store (standins.rs);
//! - one row per (src, dst, protocol, contiguous port range): 8080 and 8081
//!   print as `TCP/8080-8081`;
//! - an address endpoint is the set of maximal address ranges that have the
//!   same connections with the pod: a range prints as a CIDR when it is one
//!   (`203.0.113.0/24`) and as `first-last` otherwise, IPv4 before IPv6,
//!   comma-joined in address order;
//! - connections of a pod group with itself are not rows (apps in one pod
//!   talk over localhost), except for an app granted access to itself
//!   (`allow c -> c: gossip`): its replicas reach each other.

use palisade::model::{Access, AppId, Cidr, Entity, EnvId, Model, Protocol, StoreLocation};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Name of the ingress-controller stand-in Pod (in `platform.ingress.namespace`).
pub const INGRESS_STANDIN: &str = "ingress-controller";
/// Name of the DNS stand-in Deployment (in `platform.dns.namespace`).
pub const DNS_STANDIN: &str = "coredns";
/// Name prefix of the impostors (standins.rs, `mesh_standins`).
pub const IMPOSTOR: &str = "impostor-";
/// Namespace of the decoys (standins.rs): no connection may involve them.
pub const DECOY_NAMESPACE: &str = "zz-oracle-decoys";

/// One connectivity row.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Row {
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub ports: String,
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} : {}/{}",
            self.src, self.dst, self.proto, self.ports
        )
    }
}

impl Row {
    /// Whether either endpoint is a pod in one of `namespaces`.
    pub fn touches(&self, namespaces: &BTreeSet<String>) -> bool {
        let in_model = |ep: &str| {
            ep.split_once('/')
                .is_some_and(|(ns, _)| namespaces.contains(ns))
        };
        in_model(&self.src) || in_model(&self.dst)
    }
}

/// A protocol and one port.
type Conn = (Protocol, u16);

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IpRange {
    pub v6: bool,
    pub start: u128,
    pub end: u128,
}

impl IpRange {
    fn max(v6: bool) -> u128 {
        if v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        }
    }

    fn bits(v6: bool) -> u32 {
        if v6 {
            128
        } else {
            32
        }
    }

    pub fn of(c: &Cidr) -> IpRange {
        let (v6, addr) = match c.addr {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        };
        let host_bits = Self::bits(v6) - u32::from(c.prefix).min(Self::bits(v6));
        let host_mask = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        IpRange {
            v6,
            start: addr & !host_mask,
            end: (addr | host_mask) & Self::max(v6),
        }
    }

    fn addr(v6: bool, n: u128) -> String {
        if v6 {
            Ipv6Addr::from(n).to_string()
        } else {
            Ipv4Addr::from(n as u32).to_string()
        }
    }

    /// `a.b.c.d/n` when the range is one network, else `first-last`
    /// (Python's `ipaddress.summarize_address_range`, as nca_rows.py does).
    fn name(&self) -> String {
        let bits = Self::bits(self.v6);
        let whole = self.start == 0 && self.end == Self::max(self.v6);
        let size = self.end.wrapping_sub(self.start).wrapping_add(1);
        if whole {
            return format!("{}/0", Self::addr(self.v6, 0));
        }
        if size.is_power_of_two() && self.start.is_multiple_of(size) {
            let prefix = bits - size.trailing_zeros();
            return format!("{}/{prefix}", Self::addr(self.v6, self.start));
        }
        format!(
            "{}-{}",
            Self::addr(self.v6, self.start),
            Self::addr(self.v6, self.end)
        )
    }
}

/// `internet`: 0.0.0.0/0 and ::/0 less `platform.private_ranges` and the
/// ranges that are never the internet (docs/language.md): link-local
/// 169.254.0.0/16 and fe80::/10, unique local fc00::/7. Written out here,
/// not taken from the compiler.
pub fn internet(model: &Model) -> Vec<IpRange> {
    all_but(not_internet(model))
}

fn not_internet(model: &Model) -> Vec<IpRange> {
    let never = ["169.254.0.0/16", "fe80::/10", "fc00::/7"]
        .map(|c| palisade::resolve::parse_cidr(c).expect("a CIDR"));
    (model.platform.private_ranges.iter())
        .chain(never.iter())
        .map(IpRange::of)
        .collect()
}

/// [`internet`] less `more` (a guardrail's exemptions).
#[allow(dead_code)] // tests/oracles/layers.rs
pub fn internet_less(model: &Model, more: Vec<IpRange>) -> Vec<IpRange> {
    all_but(not_internet(model).into_iter().chain(more).collect())
}

/// Every address of both families but `private`'s.
fn all_but(private: Vec<IpRange>) -> Vec<IpRange> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let mut holes: Vec<IpRange> = private.iter().copied().filter(|r| r.v6 == v6).collect();
        holes.sort();
        let mut next = Some(0u128);
        for h in holes {
            let Some(from) = next else { break };
            if h.start > from {
                out.push(IpRange {
                    v6,
                    start: from,
                    end: h.start - 1,
                });
            }
            if h.end >= from {
                next = h.end.checked_add(1).filter(|&n| n <= IpRange::max(v6));
            }
        }
        if let Some(from) = next {
            out.push(IpRange {
                v6,
                start: from,
                end: IpRange::max(v6),
            });
        }
    }
    out
}

/// A row's address endpoint (`a.b.c.d/n`, `first-last`, comma-joined)
/// as ranges; `None` for a pod endpoint.
#[allow(dead_code)] // tests/oracles.rs
pub fn parse_ranges(endpoint: &str) -> Option<Vec<IpRange>> {
    let mut out = Vec::new();
    for part in endpoint.split(',') {
        let range = if let Some((a, b)) = part.split_once('-').filter(|_| !part.contains('/')) {
            let (a, b): (IpAddr, IpAddr) = (a.parse().ok()?, b.parse().ok()?);
            let n = |x: IpAddr| match x {
                IpAddr::V4(v) => u128::from(u32::from(v)),
                IpAddr::V6(v) => u128::from(v),
            };
            IpRange {
                v6: a.is_ipv6(),
                start: n(a),
                end: n(b),
            }
        } else {
            let (a, p) = part.split_once('/')?;
            IpRange::of(&Cidr {
                addr: a.parse().ok()?,
                prefix: p.parse().ok()?,
            })
        };
        out.push(range);
    }
    Some(out)
}

/// Allowed connections before they are printed as rows.
#[derive(Default)]
struct Facts {
    pods: BTreeMap<(String, String), BTreeSet<Conn>>,
    /// Egress of a pod endpoint to addresses.
    addresses: BTreeMap<String, Vec<(IpRange, Conn)>>,
}

impl Facts {
    fn pod(&mut self, src: String, dst: String, conn: Conn) {
        if src != dst {
            self.pods.entry((src, dst)).or_default().insert(conn);
        }
    }

    fn address(&mut self, src: &str, ranges: impl IntoIterator<Item = IpRange>, conn: Conn) {
        let list = self.addresses.entry(src.to_string()).or_default();
        list.extend(ranges.into_iter().map(|r| (r, conn)));
    }
}

/// `namespace/group` of the pod group an app runs in.
pub fn group_of(model: &Model, app: AppId) -> String {
    let group = model.pod_of(app);
    format!("{}/{}", model.namespace(group.namespace).name, group.name)
}

/// Every pod endpoint the model itself owns: its pod groups and in-cluster stores.
pub fn model_pods(model: &Model) -> Vec<String> {
    let groups = model
        .pods
        .iter()
        .map(|g| format!("{}/{}", model.namespace(g.namespace).name, g.name));
    let stores = model.stores.iter().filter_map(|s| match s.location {
        StoreLocation::InCluster(ns) => Some(format!("{}/{}", model.namespace(ns).name, s.name)),
        StoreLocation::Outside(_) => None,
    });
    groups.chain(stores).collect()
}

/// The namespaces the model declares (rows touching none of them are outside the model).
pub fn model_namespaces(model: &Model) -> BTreeSet<String> {
    model.namespaces.iter().map(|n| n.name.clone()).collect()
}

/// The rows NCA must print for `model` in environment `env` (`None`: the
/// implicit one), restricted to rows with a pod endpoint in the model.
pub fn expected_rows(model: &Model, env: Option<EnvId>) -> BTreeSet<Row> {
    let mut facts = Facts::default();
    let ingress = model
        .platform
        .ingress
        .as_ref()
        .map(|i| format!("{}/{INGRESS_STANDIN}", i.namespace));
    // An in-cluster store's pod: `ns/store`.
    let store_pod = |s: palisade::model::StoreId| match model.stores[s.index()].location {
        StoreLocation::InCluster(ns) => Some(format!(
            "{}/{}",
            model.namespace(ns).name,
            model.stores[s.index()].name
        )),
        StoreLocation::Outside(_) => None,
    };
    for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
        // A store's own connections: to its own pods (replication), to
        // another in-cluster store, to an app; out of the cluster to an
        // external's or an outside store's addresses and to `internet`.
        if let (
            Entity::Store(s),
            Access::Port {
                number, protocol, ..
            },
        ) = (g.subject, &g.access)
        {
            let Some(src) = store_pod(s) else { continue };
            let conn = (*protocol, *number);
            let dst = match g.target {
                Entity::App(a) => Some(group_of(model, a)),
                Entity::Store(t) => match &model.stores[t.index()].location {
                    StoreLocation::InCluster(_) => store_pod(t),
                    StoreLocation::Outside(cidrs) => {
                        facts.address(&src, cidrs.iter().map(IpRange::of), conn);
                        None
                    }
                },
                Entity::External(x) => {
                    let addrs = model.externals[x.index()].addresses.iter();
                    facts.address(&src, addrs.map(IpRange::of), conn);
                    None
                }
                Entity::Internet => {
                    facts.address(&src, internet(model), conn);
                    None
                }
                _ => None,
            };
            if let Some(dst) = dst {
                facts.pods.entry((src, dst)).or_default().insert(conn);
            }
            continue;
        }
        let Entity::App(target_app) = g.target else {
            if let Entity::App(a) = g.subject {
                egress(model, &mut facts, a, g.target, &g.access);
            }
            continue;
        };
        let Access::Port {
            number, protocol, ..
        } = g.access
        else {
            continue; // persona operations: RBAC, not network
        };
        let dst = group_of(model, target_app);
        match g.subject {
            // An app granted access to itself: its replicas reach each other.
            Entity::App(a) if a == target_app => {
                facts
                    .pods
                    .entry((dst.clone(), dst))
                    .or_default()
                    .insert((protocol, number));
            }
            Entity::App(a) => facts.pod(group_of(model, a), dst, (protocol, number)),
            Entity::Persona(_) | Entity::Internet => {
                if let Some(ing) = &ingress {
                    facts.pod(ing.clone(), dst, (protocol, number));
                }
            }
            _ => {}
        }
    }
    let dns = format!("{}/{DNS_STANDIN}", model.platform.dns.namespace);
    let mut pods = model_pods(model);
    // The ingress controller, too, if it runs in a namespace of the model.
    let namespaces = model_namespaces(model);
    pods.extend(ingress.filter(|i| {
        i.split_once('/')
            .is_some_and(|(ns, _)| namespaces.contains(ns))
    }));
    for pod in pods {
        for &port in &model.platform.dns_ports {
            facts.pod(pod.clone(), dns.clone(), (Protocol::Udp, port));
            facts.pod(pod.clone(), dns.clone(), (Protocol::Tcp, port));
        }
    }
    rows(facts)
}

/// An app's connections to a non-app target.
fn egress(model: &Model, facts: &mut Facts, app: AppId, target: Entity, access: &Access) {
    let src = group_of(model, app);
    match (target, access) {
        (Entity::Store(s), Access::Data(_)) => {
            let store = &model.stores[s.index()];
            let conn = (Protocol::Tcp, store.port);
            match &store.location {
                StoreLocation::InCluster(ns) => {
                    let dst = format!("{}/{}", model.namespace(*ns).name, store.name);
                    facts.pod(src, dst, conn);
                }
                StoreLocation::Outside(cidrs) => {
                    facts.address(&src, cidrs.iter().map(IpRange::of), conn);
                }
            }
        }
        (
            Entity::External(x),
            Access::Port {
                number, protocol, ..
            },
        ) => {
            let addrs = model.externals[x.index()].addresses.iter().map(IpRange::of);
            facts.address(&src, addrs, (*protocol, *number));
        }
        (
            Entity::Internet,
            Access::Port {
                number, protocol, ..
            },
        ) => {
            facts.address(&src, internet(model), (*protocol, *number));
        }
        (Entity::Kube, Access::Kube(_)) => {
            if let Some(api) = &model.platform.api_server {
                let conn = (Protocol::Tcp, api.port);
                facts.address(&src, [IpRange::of(&api.address)], conn);
            }
        }
        _ => {}
    }
}

/// `(PROTO, PORTS)` pairs: contiguous ports of a protocol merged.
fn conn_columns(conns: &BTreeSet<Conn>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut by_proto: BTreeMap<Protocol, Vec<u16>> = BTreeMap::new();
    for &(p, n) in conns {
        by_proto.entry(p).or_default().push(n);
    }
    for (p, ports) in by_proto {
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for n in ports {
            match runs.last_mut() {
                Some((_, hi)) if u32::from(*hi) + 1 == u32::from(n) => *hi = n,
                _ => runs.push((n, n)),
            }
        }
        for (lo, hi) in runs {
            let ports = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            out.push((p.as_str().to_string(), ports));
        }
    }
    out
}

fn push_rows(out: &mut BTreeSet<Row>, src: &str, dst: &str, conns: &BTreeSet<Conn>) {
    for (proto, ports) in conn_columns(conns) {
        out.insert(Row {
            src: src.to_string(),
            dst: dst.to_string(),
            proto,
            ports,
        });
    }
}

fn rows(facts: Facts) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    for ((src, dst), conns) in &facts.pods {
        push_rows(&mut out, src, dst, conns);
    }
    for (src, list) in &facts.addresses {
        for (conns, ranges) in address_groups(list) {
            let name: Vec<String> = ranges.iter().map(IpRange::name).collect();
            push_rows(&mut out, src, &name.join(","), &conns);
        }
    }
    out
}

/// Maximal address ranges with the same (non-empty) connections, grouped by
/// those connections; within a group IPv4 first, then in address order.
fn address_groups(list: &[(IpRange, Conn)]) -> BTreeMap<BTreeSet<Conn>, Vec<IpRange>> {
    let mut groups: BTreeMap<BTreeSet<Conn>, Vec<IpRange>> = BTreeMap::new();
    for v6 in [false, true] {
        let mine: Vec<&(IpRange, Conn)> = list.iter().filter(|(r, _)| r.v6 == v6).collect();
        let mut cuts: BTreeSet<u128> = BTreeSet::new();
        for (r, _) in &mine {
            cuts.insert(r.start);
            if let Some(n) = r.end.checked_add(1).filter(|&n| n <= IpRange::max(v6)) {
                cuts.insert(n);
            }
        }
        let cuts: Vec<u128> = cuts.into_iter().collect();
        for (i, &start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(IpRange::max(v6), |n| n - 1);
            let conns: BTreeSet<Conn> = mine
                .iter()
                .filter(|(r, _)| r.start <= start && end <= r.end)
                .map(|(_, c)| *c)
                .collect();
            if conns.is_empty() {
                continue;
            }
            let ranges = groups.entry(conns).or_default();
            match ranges.last_mut() {
                Some(last) if last.v6 == v6 && last.end.checked_add(1) == Some(start) => {
                    last.end = end;
                }
                _ => ranges.push(IpRange { v6, start, end }),
            }
        }
    }
    groups
}

/// The difference between what NCA found and what the model allows, or
/// `None` when they are equal.
pub fn compare(expected: &BTreeSet<Row>, actual: &BTreeSet<Row>) -> Option<String> {
    if expected == actual {
        return None;
    }
    let mut text = String::new();
    let missing: Vec<&Row> = expected.difference(actual).collect();
    let unexpected: Vec<&Row> = actual.difference(expected).collect();
    if !missing.is_empty() {
        text += &format!(
            "  missing ({}: the model allows them, the policies block them):\n",
            missing.len()
        );
        for r in missing {
            text += &format!("    - {r}\n");
        }
    }
    if !unexpected.is_empty() {
        text += &format!(
            "  unexpected ({}: the policies allow them, the model does not):\n",
            unexpected.len()
        );
        for r in unexpected {
            text += &format!("    + {r}\n");
        }
    }
    Some(text)
}

/// All rows, one a line, for snapshots and reports.
pub fn render(rows: &BTreeSet<Row>) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

#[allow(dead_code)] // tests/oracles.rs
/// The rows NCA must print for the Istio layer alone (`platform.mesh =
/// istio`), restricted to TCP connections into the model's pods: an
/// AuthorizationPolicy governs what reaches a workload, over TCP (Istio's
/// proxy carries nothing else), by the caller's identity. Each granted TCP
/// connection between pods of the model, and from the ingress controller
/// for people, from the caller's pods; into an impostor (a pod wearing the
/// group's labels, standins.rs) the same as into its group, and from an
/// impostor nothing. Worked out from the grants alone, like
/// [`expected_rows`].
pub fn expected_mesh_rows(model: &Model, env: Option<EnvId>) -> BTreeSet<Row> {
    let ingress = model
        .platform
        .ingress
        .as_ref()
        .map(|i| format!("{}/{INGRESS_STANDIN}", i.namespace));
    let store_pod = |s: palisade::model::StoreId| match model.stores[s.index()].location {
        StoreLocation::InCluster(ns) => Some(format!(
            "{}/{}",
            model.namespace(ns).name,
            model.stores[s.index()].name
        )),
        StoreLocation::Outside(_) => None,
    };
    let mut pairs: BTreeMap<(String, String), BTreeSet<Conn>> = BTreeMap::new();
    let mut add = |src: String, dst: String, port: u16| {
        pairs
            .entry((src, dst))
            .or_default()
            .insert((Protocol::Tcp, port));
    };
    for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
        let dst = match g.target {
            Entity::App(a) => group_of(model, a),
            Entity::Store(s) => match store_pod(s) {
                Some(p) => p,
                None => continue,
            },
            _ => continue,
        };
        let port = match (&g.access, g.target) {
            (
                Access::Port {
                    number,
                    protocol: Protocol::Tcp,
                    ..
                },
                _,
            ) => *number,
            (Access::Data(_), Entity::Store(s)) if matches!(g.subject, Entity::App(_)) => {
                model.stores[s.index()].port
            }
            _ => continue,
        };
        let src = match g.subject {
            Entity::App(a) => group_of(model, a),
            Entity::Store(s) => match store_pod(s) {
                Some(p) => p,
                None => continue,
            },
            Entity::Persona(_) | Entity::Internet => match &ingress {
                Some(i) => i.clone(),
                None => continue,
            },
            _ => continue,
        };
        let to_itself = matches!((g.subject, g.target), (Entity::App(a), Entity::App(b)) if a == b)
            || matches!((g.subject, g.target), (Entity::Store(a), Entity::Store(b)) if a == b);
        if src == dst && !to_itself {
            continue; // pod-mates: localhost
        }
        let (ns, name) = dst.split_once('/').expect("ns/name");
        let impostor = format!("{ns}/{}{name}", IMPOSTOR);
        add(src.clone(), impostor, port);
        add(src, dst, port);
    }
    let mut out = BTreeSet::new();
    for ((src, dst), conns) in &pairs {
        push_rows(&mut out, src, dst, conns);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> IpRange {
        let (a, p) = s.split_once('/').unwrap();
        IpRange::of(&Cidr {
            addr: a.parse().unwrap(),
            prefix: p.parse().unwrap(),
        })
    }

    #[test]
    fn ranges_print_like_python_ipaddress() {
        assert_eq!(cidr("203.0.113.7/24").name(), "203.0.113.0/24");
        assert_eq!(cidr("0.0.0.0/0").name(), "0.0.0.0/0");
        assert_eq!(cidr("::/0").name(), "::/0");
        assert_eq!(cidr("2001:db8::/32").name(), "2001:db8::/32");
        assert_eq!(cidr("10.96.0.1/32").name(), "10.96.0.1/32");
        let r = IpRange {
            v6: false,
            start: 0,
            end: (10 << 24) - 1,
        };
        assert_eq!(r.name(), "0.0.0.0-9.255.255.255");
    }
}

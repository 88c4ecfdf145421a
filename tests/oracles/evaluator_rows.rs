//! The NetworkPolicy evaluator's answers (`palisade::effective::network`)
//! printed as rows in the format of network-config-analyzer's `nca_rows.py`
//! (connectivity.rs), so they compare with NCA's and with the model's.

use crate::connectivity::Row;
use palisade::effective::network::{Direction, IpSet, NetworkAccess, PortSet, Protocol};
use std::collections::BTreeSet;

/// `(protocol, ports)` cells of a row, as nca_rows.py prints a port set.
pub fn cells(ports: &PortSet) -> Vec<(String, String)> {
    if ports.is_all() {
        return vec![("*".into(), "*".into())];
    }
    assert!(
        !ports.other_protocols(),
        "other protocols without every port: {ports}"
    );
    let mut out = Vec::new();
    for proto in Protocol::ALL {
        let r = ports.ports(proto);
        if r.is_full() {
            out.push((proto.to_string(), "*".into()));
            continue;
        }
        for &(lo, hi) in r.ranges() {
            let range = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            out.push((proto.to_string(), range));
        }
    }
    out
}

/// An address range of a `bits`-bit family as Python's `ipaddress` prints
/// it: the CIDR when it is exactly one, else `first-last`.
fn range_name<A: std::fmt::Display>(
    lo: u128,
    hi: u128,
    bits: u32,
    a: impl Fn(u128) -> A,
) -> String {
    let size = (hi - lo).wrapping_add(1); // 0: the whole IPv6 space
    if size == 0 {
        return format!("{}/0", a(lo));
    }
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        format!("{}/{}", a(lo), bits - size.trailing_zeros())
    } else {
        format!("{}-{}", a(lo), a(hi))
    }
}

/// The name nca_rows.py gives a set of addresses: its maximal ranges,
/// IPv4 first, comma-joined.
pub fn ip_name(ips: &IpSet) -> String {
    let mut names = Vec::new();
    for (lo, hi) in ips.v4_ranges() {
        let (lo, hi) = (u128::from(u32::from(lo)), u128::from(u32::from(hi)));
        names.push(range_name(lo, hi, 32, |n| {
            std::net::Ipv4Addr::from(u32::try_from(n).expect("IPv4"))
        }));
    }
    for (lo, hi) in ips.v6_ranges() {
        names.push(range_name(
            u128::from(lo),
            u128::from(hi),
            128,
            std::net::Ipv6Addr::from,
        ));
    }
    names.join(",")
}

/// One row per `(protocol, ports)` cell of `ports`, from `src` to `dst`.
pub fn push_rows(out: &mut BTreeSet<Row>, src: String, dst: String, ports: &PortSet) {
    for (proto, ports) in cells(ports) {
        out.insert(Row {
            src: src.clone(),
            dst: dst.clone(),
            proto,
            ports,
        });
    }
}

/// The evaluator's connectivity in nca_rows.py's format.
pub fn rows(access: &NetworkAccess, ipv6: bool, self_loops: bool) -> BTreeSet<Row> {
    let c = access.cluster();
    let mut out = BTreeSet::new();
    let mut push = |src: String, dst: String, ports: &PortSet| push_rows(&mut out, src, dst, ports);
    for (s, d, ports) in access.connections().pairs() {
        if s != d || self_loops {
            push(c.pod_name(s), c.pod_name(d), &ports);
        }
    }
    for (pod, _) in c.pods() {
        for dir in [Direction::Ingress, Direction::Egress] {
            for (ips, ports) in access.ip_access(pod, dir) {
                let ips = if ipv6 { ips } else { ips.v4_only() };
                if ips.is_empty() {
                    continue;
                }
                match dir {
                    Direction::Ingress => push(ip_name(&ips), c.pod_name(pod), &ports),
                    Direction::Egress => push(c.pod_name(pod), ip_name(&ips), &ports),
                }
            }
        }
    }
    out
}

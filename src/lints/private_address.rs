//! `private-address`: an external or outside store whose address overlaps
//! the private ranges, where the cluster's own pods and nodes live.

use super::{Cx, Finding, LintInfo};
use crate::effective::network::IpSet;
use crate::model::{Cidr, Entity, ExternalId, Level, Model, StoreId, StoreLocation};
use crate::span::Span;

pub const INFO: LintInfo = LintInfo {
    name: "private-address",
    default: Level::Warn,
    summary: "an external or outside store's address overlaps the private ranges",
    explain: "\
`platform.private_ranges` (and IPv6 unique local `fc00::/7`) are where the
cluster's nodes and, with most network plugins, its pods live. An
`external` or outside store declared there becomes an `ipBlock` that may
match the cluster itself: whether a NetworkPolicy `ipBlock` matches pod
addresses depends on the network plugin, and node addresses always match.
So the app granted the external may reach more than the external — up to
other workloads, past their policies' intent, when the range is wide.

Fires on every external and outside store with an address overlapping
the private ranges. A narrow address (a /32 database host in your VPC) is
usually what you mean: accept it with the reason.

Fix: narrow the address to the third party's hosts, or accept:
`accept private-address on ledger-db -> ledger-db \"RDS in the VPC, one host\"`.",
};

/// The IPv4 and IPv6 link-local ranges.
pub(super) fn link_local() -> IpSet {
    set(&crate::model::never_internet()[..2])
}

pub(super) fn set(cidrs: &[Cidr]) -> IpSet {
    crate::access_graph::ip_set(cidrs.iter().map(ToString::to_string))
}

pub(super) fn overlaps(c: &Cidr, set: &IpSet) -> bool {
    IpSet::parse_cidr(&c.to_string()).is_some_and(|s| !s.intersection(set).is_empty())
}

/// Every external and store outside the cluster: its kind, entity,
/// declaration and addresses.
pub(super) fn declared(m: &Model) -> impl Iterator<Item = (&'static str, Entity, Span, &[Cidr])> {
    let externals = (m.externals.iter().enumerate()).map(|(i, x)| {
        let e = Entity::External(ExternalId(i as u32));
        ("external", e, x.span, x.addresses.as_slice())
    });
    let stores = (m.stores.iter().enumerate()).filter_map(|(i, s)| match &s.location {
        StoreLocation::Outside(c) => {
            Some(("store", Entity::Store(StoreId(i as u32)), s.span, c.as_slice()))
        }
        StoreLocation::InCluster(_) => None,
    });
    externals.chain(stores)
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut private_cidrs = m.platform.private_ranges.clone();
    private_cidrs.push(crate::model::never_internet()[2]);
    let private = set(&private_cidrs);
    for (kind, e, span, cidrs) in declared(m) {
        // A catch-all is `unsafe-address`'s.
        let hits: Vec<String> = (cidrs.iter())
            .filter(|c| c.prefix > 0 && overlaps(c, &private))
            .map(ToString::to_string)
            .collect();
        if hits.is_empty() {
            continue;
        }
        out.push(
            Finding::new(
                &INFO,
                span,
                format!(
                    "{kind} `{}` has an address in the private ranges, where the cluster's nodes and pods live",
                    m.name_of(e)
                ),
            )
            .pair(e, e)
            .note(format!("in the private ranges: {}", hits.join(", ")))
            .help("narrow the address to the third party's hosts, or accept it with the reason"),
        );
    }
}

//! `unsafe-address`: an external or outside store whose address is a
//! catch-all, or link-local (the cloud metadata endpoint).

use super::{Cx, Finding, LintInfo};
use crate::model::{Cidr, Entity, Level};
use crate::span::Span;

pub const INFO: LintInfo = LintInfo {
    name: "unsafe-address",
    default: Level::Deny,
    summary: "an external or outside store's address is a catch-all or link-local (cloud metadata)",
    explain: "\
An `external` or a store outside the cluster becomes an `ipBlock` in the
egress of every app and store granted it. An address of `0.0.0.0/0` or
`::/0` grants every address there is: the internet, every node, and every
pod whose address the network plugin matches against `ipBlock`s — while
the model reads as if one third party were allowed. So, nearly, does a
block wider than any one holder has: an IPv4 prefix shorter than /8, an
IPv6 prefix shorter than /16 (`2000::/3` is every routable IPv6 address). A link-local address
(`169.254.0.0/16`, `fe80::/10`) is where the node's cloud metadata
endpoint lives (`169.254.169.254`): a pod that reaches it can read the
node's cloud credentials. And a catch-all declaration would hide an
`-> internet` grant from `egress-to-internet`; it does not (a catch-all
takes nothing from `internet`).

Fires on every external and outside store with such an address (a
catch-all, a block that wide, or a link-local one).
An error by default: a model that hands every pod everything, or the
node's credentials, must say so on purpose.

Fix: declare the third party's real address ranges; use `-> internet`
for what really is the internet. To keep it (a metadata proxy you run,
say): `accept unsafe-address on x -> x \"why\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    for (kind, e, span, addresses) in super::private_address::declared(m) {
        report(cx, out, kind, e, span, addresses);
    }
}

/// Prefixes shorter than this are catch-alls in all but name: an IPv4
/// block larger than a /8 (the largest ever assigned to one holder), an
/// IPv6 block larger than a /16 (`2000::/3` is every routable address).
fn wide(c: &Cidr) -> u8 {
    if c.addr.is_ipv4() {
        8
    } else {
        16
    }
}

fn report(cx: &Cx<'_>, out: &mut Vec<Finding>, kind: &str, e: Entity, span: Span, cidrs: &[Cidr]) {
    let link_local = super::private_address::link_local();
    let mut why = Vec::new();
    for c in cidrs {
        if c.prefix == 0 {
            why.push(format!("`{c}` is every address there is"));
        } else if c.prefix < wide(c) {
            why.push(format!(
                "`{c}` is 1/{} of every {} address: no one third party holds that much",
                1u64 << c.prefix,
                if c.addr.is_ipv4() { "IPv4" } else { "IPv6" }
            ));
        } else if super::private_address::overlaps(c, &link_local) {
            why.push(format!(
                "`{c}` is link-local: the node's cloud metadata endpoint (169.254.169.254) hands out its credentials"
            ));
        }
    }
    if why.is_empty() {
        return;
    }
    out.push(
        Finding::new(
            &INFO,
            span,
            format!(
                "{kind} `{}` has an address that grants far more than one third party",
                cx.model.name_of(e)
            ),
        )
        .pair(e, e)
        .notes(why)
        .help("declare the real address ranges; grant `internet` for what is the internet"),
    );
}

//! `egress-to-internet`: an app or a store may open connections to the
//! internet.

use crate::access_graph::{GNode, Kind};
use super::{Cx, Finding, LintInfo};
use crate::model::{Access, Entity, Level};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "egress-to-internet",
    default: Level::Warn,
    summary: "an app or a store may open connections to the internet",
    explain: "\
Egress to any public address is how data leaves and how a compromised pod
fetches its next stage. It is sometimes needed (webhooks to arbitrary
customer URLs), but it should be a visible, reviewed decision; most
third parties can be declared as `external`s with their addresses instead.

Fires for every app whose pod's effective egress (from the generated
NetworkPolicies, the pod's whole identity), and every store in the cluster
whose pods' effective egress (a backup to object storage), includes public
addresses, i.e. anything outside `platform.private_ranges` (and the
link-local and unique-local ranges, which are never the internet) that no
`external`, store outside the cluster or `platform.api_server` accounts
for. A catch-all declaration (`0.0.0.0/0`) accounts for nothing.

Fix: declare the third party as an `external` with its address ranges, or
accept: `accept egress-to-internet on webhooks -> internet \"customer URLs\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // The graph's `internet`: public addresses that no external, store
    // outside the cluster or the API server accounts for. From an app's
    // pod or an in-cluster store's pods.
    let mut found: BTreeMap<Entity, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for graph in cx.graphs {
        for (from, e) in graph.edges_to(GNode::E(Entity::Internet)) {
            let (GNode::E(who @ (Entity::App(_) | Entity::Store(_))), Kind::Net(ports)) =
                (from, &e.access)
            else {
                continue;
            };
            let entry = found.entry(who).or_default();
            super::push_unique(&mut entry.0, ports.to_string());
            super::push_unique(&mut entry.1, cx.in_env(graph.env()));
        }
    }
    let internet_grant = |who: Entity| {
        cx.grants_of(who)
            .find(|g| g.target == Entity::Internet && matches!(g.access, Access::Port { .. }))
    };
    for (who, (ports, envs)) in found {
        let granted = internet_grant(who);
        let declared_at = match who {
            Entity::App(a) => m.apps[a.index()].span,
            Entity::Store(s) => m.stores[s.index()].span,
            _ => continue,
        };
        let span = granted.map_or(declared_at, |g| g.span);
        let name = m.name_of(who);
        let mut f = Finding::new(
            &INFO,
            span,
            format!("`{name}` may connect to the internet{}", envs.join(",")),
        )
        .pair(who, Entity::Internet)
        .note(format!("ports: {}", ports.join(", ")));
        let accept = format!(
            "accept it: `accept egress-to-internet on {name} -> internet \"<reason>\"`"
        );
        if granted.is_some() {
            f = f.help(format!(
                "declare the third party as an `external` with its addresses and grant `{name}` that instead of `internet`, or {accept}"
            ));
        }
        if granted.is_none() {
            // A pod-mate's grant: apps of one pod share its egress.
            let mate = match who {
                Entity::App(a) => (m.pod_of(a).apps.iter())
                    .find(|&&b| b != a && internet_grant(Entity::App(b)).is_some()),
                _ => None,
            };
            f = f.note(match mate {
                Some(&b) => format!(
                    "no statement grants it: `{}`'s does (one pod, one network identity)",
                    m.apps[b.index()].name
                ),
                None => "no `-> internet` grant: an address it is granted (a catch-all \
                         external or store) covers public addresses"
                    .to_string(),
            });
            f = f.help(match mate {
                Some(_) => format!("give `{name}` a pod of its own, or {accept}"),
                None => format!(
                    "declare the real addresses of the externals and stores `{name}` is granted, or {accept}"
                ),
            });
        }
        out.push(f);
    }
}

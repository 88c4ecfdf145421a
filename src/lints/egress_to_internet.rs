//! `egress-to-internet`: an app may open connections to the internet.

use crate::access_graph::{GNode, Kind};
use super::{Cx, Finding, LintInfo};
use crate::model::{Access, AppId, Entity, Level};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "egress-to-internet",
    default: Level::Warn,
    summary: "an app may open connections to the internet",
    explain: "\
Egress to any public address is how data leaves and how a compromised pod
fetches its next stage. It is sometimes needed (webhooks to arbitrary
customer URLs), but it should be a visible, reviewed decision; most
third parties can be declared as `external`s with their addresses instead.

Fires for every app whose pod's effective egress (from the generated
NetworkPolicies, the pod's whole identity) includes public addresses, i.e.
anything outside `platform.private_ranges` (and the link-local and
unique-local ranges, which are never the internet) that no `external`,
store outside the cluster or `platform.api_server` accounts for. A
catch-all declaration (`0.0.0.0/0`) accounts for nothing.

Fix: declare the third party as an `external` with its address ranges, or
accept: `accept egress-to-internet on webhooks -> internet \"customer URLs\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // The graph's `internet`: public addresses that no external, store
    // outside the cluster or the API server accounts for.
    let mut found: BTreeMap<AppId, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for graph in cx.graphs {
        for (from, e) in graph.edges_to(GNode::E(Entity::Internet)) {
            let (GNode::E(Entity::App(a)), Kind::Net(ports)) = (from, &e.access) else {
                continue;
            };
            let entry = found.entry(a).or_default();
            super::push_unique(&mut entry.0, ports.to_string());
            super::push_unique(&mut entry.1, cx.in_env(graph.env()));
        }
    }
    for (a, (ports, envs)) in found {
        let app = Entity::App(a);
        let granted = cx
            .grants_of(app)
            .find(|g| g.target == Entity::Internet && matches!(g.access, Access::Port { .. }));
        let span = granted.map_or(m.apps[a.index()].span, |g| g.span);
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "`{}` may connect to the internet{}",
                m.apps[a.index()].name,
                envs.join(",")
            ),
        )
        .pair(app, Entity::Internet)
        .note(format!("ports: {}", ports.join(", ")));
        let name = &m.apps[a.index()].name;
        let accept = format!(
            "accept it: `accept egress-to-internet on {name} -> internet \"<reason>\"`"
        );
        if granted.is_some() {
            f = f.help(format!(
                "declare the third party as an `external` with its addresses and grant `{name}` that instead of `internet`, or {accept}"
            ));
        }
        if granted.is_none() {
            let mate = (m.pod_of(a).apps.iter()).find(|&&b| {
                b != a
                    && cx.grants_of(Entity::App(b)).any(|g| {
                        g.target == Entity::Internet && matches!(g.access, Access::Port { .. })
                    })
            });
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

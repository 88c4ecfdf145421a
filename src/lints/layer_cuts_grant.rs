//! `layer-cuts-grant`: a declared connection that the generated
//! NetworkPolicies admit and the generated mesh or guardrail layer cuts.

use super::{Cx, Finding, LintInfo};
use crate::access_graph::{Class, CutWhy, EnvGraph, GNode, Kind};
use crate::effective::network::Protocol;
use crate::model::{Access, Entity, Level};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "layer-cuts-grant",
    default: Level::Warn,
    summary: "a declared connection that the mesh or guardrail layer cuts",
    explain: "\
With `platform.mesh` or `platform.guardrails`, a connection must pass every
layer: the NetworkPolicies, the AuthorizationPolicies and the Calico
guardrails. The layers are generated from the same model, so they agree —
except where one of them cannot say what the model says. A guardrail
selects pods: `forbid shipper -> raw`, when `shipper` shares a pod with
`etl`, becomes a deny on the whole pod, and `etl`'s declared connection to
`raw` is cut with it. The model then states a connection the deploy repo
does not have, and the app breaks.

Fires for every `allow` whose connection (a port grant, or an app's
`read`/`write`/`admin` grant on an in-cluster store, which includes the
connection to its port) the generated NetworkPolicies admit and the
generated mesh or guardrails take away, per environment where it applies.
The notes name the objects that cut it. Quiet on an `allow` that a
`forbid` of its own pair contradicts: `invariant-violated` reports that,
as an error.

Fix: give the forbidden app a pod of its own (`shipper` then loses what
only `etl` may do), or drop the `forbid` and accept `shared-pod-widening`
with its reason. To keep both: `accept layer-cuts-grant on etl -> raw
\"the sidecar's pod does not need the database\"`.",
};

/// The port a grant's connection uses, when it has one.
fn port(cx: &Cx<'_>, access: &Access, target: Entity) -> Option<(Protocol, u16)> {
    match (access, target) {
        (
            Access::Port {
                number, protocol, ..
            },
            _,
        ) => Some(((*protocol).into(), *number)),
        (Access::Data(_), Entity::Store(s)) => Some((Protocol::Tcp, cx.model.stores[s.index()].port)),
        _ => None,
    }
}

/// What cuts a connection, in words: each object of a layer and its rule.
fn cut_by(g: &EnvGraph, why: CutWhy) -> Vec<String> {
    let by = match why {
        CutWhy::Net(i) | CutWhy::Ingress(i) => &g.access.cut[i].by,
        CutWhy::Ip(i) => &g.access.ip_cut[i].by,
    };
    by.iter().map(|b| b.text()).collect()
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // grant (by its item's place, subject and target: one per expanded
    // grant) → (the grant, environments, what cuts it)
    type Key = (crate::span::Span, Entity, Entity);
    let mut found: BTreeMap<Key, (&crate::model::Grant, Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut forbids = None;
    for g in cx.graphs {
        for c in g.cuts() {
            let (GNode::E(s), GNode::E(t)) = (c.from, c.to) else {
                continue;
            };
            let cut = g.cut_ports(c.why);
            let kept = match g.edge(c.from, c.to, Class::Net).map(|e| &e.access) {
                Some(Kind::Net(p)) => p.clone(),
                _ => Default::default(),
            };
            // The subject's own grants only: cuts × grants would not scale.
            for grant in cx.grants_of(s) {
                if grant.target != t || !m.grant_applies(grant, g.env()) {
                    continue;
                }
                let Some((proto, number)) = port(cx, &grant.access, t) else {
                    continue;
                };
                if !cut.contains(proto, number) || kept.contains(proto, number) {
                    continue;
                }
                // A `forbid` of the statement's own pair: the model says
                // both, an error `invariant-violated` reports.
                let forbids = forbids.get_or_insert_with(|| super::invariant_violated::Forbids::new(m));
                if forbids.contradict(grant, g.env()) {
                    continue;
                }
                let entry = (found.entry((grant.span, grant.subject, grant.target)))
                    .or_insert_with(|| (grant, Vec::new(), Vec::new()));
                super::push_unique(&mut entry.1, cx.in_env(g.env()));
                for b in cut_by(g, c.why) {
                    super::push_unique(&mut entry.2, b);
                }
            }
        }
    }
    for (grant, envs, by) in found.into_values() {
        let (s, t) = (m.name_of(grant.subject), m.name_of(grant.target));
        out.push(
            Finding::new(
                &INFO,
                grant.span,
                format!(
                    "the mesh or guardrail layer cuts `{s} -> {t}`, which this statement allows{}",
                    envs.join(",")
                ),
            )
            .pair(grant.subject, grant.target)
            .notes(by)
            .help(format!(
                "a guardrail selects a whole pod: give the forbidden app a pod of its own, or drop the `forbid`; to keep both: `accept layer-cuts-grant on {s} -> {t} \"<reason>\"`"
            )),
        );
    }
}

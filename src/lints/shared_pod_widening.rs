//! `shared-pod-widening`: an app gets network access only because a
//! pod-mate has it.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::Node;
use crate::model::{Entity, Level};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "shared-pod-widening",
    default: Level::Warn,
    summary: "an app gets network access only because a pod-mate has it",
    explain: "\
Containers in one pod share one network identity: NetworkPolicies select
pods, not containers. When `pod etl-pod = [etl, shipper]` and only `etl` may
reach the `raw` database, the `shipper` container can reach it too — and
anything that reaches `etl`'s pod reaches `shipper`'s ports.

Fires for every app in a shared pod and every connection of the pod (in or
out) that the model grants to a pod-mate but not to the app itself.

Fix: if the apps need not share localhost or a volume, give each its own
pod. If they must, accept it with the reason:
`accept shared-pod-widening on shipper -> [raw, results] \"log shipper sidecar\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // app → (other entity, outgoing?) → environments
    let mut found: BTreeMap<(Entity, Entity, bool), Vec<String>> = BTreeMap::new();
    for (env, index) in cx.envs().zip(&cx.declared) {
        let declared = |s: Entity, t: Entity| index.has(s, t);
        for e in env.net.iter() {
            for (group, other, outgoing) in [(e.from, e.to, true), (e.to, e.from, false)] {
                let Node::Group(g) = group else { continue };
                let apps = &m.pods[g.index()].apps;
                if apps.len() < 2 {
                    continue;
                }
                for other in cx.entities(other) {
                    for &a in apps {
                        let app = Entity::App(a);
                        if other == app {
                            continue;
                        }
                        let (s, t) = if outgoing { (app, other) } else { (other, app) };
                        let mate_has = apps.iter().any(|&b| {
                            b != a && {
                                let mate = Entity::App(b);
                                if outgoing {
                                    declared(mate, other)
                                } else {
                                    declared(other, mate)
                                }
                            }
                        });
                        if mate_has && !declared(s, t) {
                            let envs = found.entry((app, other, outgoing)).or_default();
                            let name = cx.in_env(env.env);
                            super::push_unique(envs, name);
                        }
                    }
                }
            }
        }
    }
    let mut per_app: BTreeMap<Entity, Vec<(Entity, bool, Vec<String>)>> = BTreeMap::new();
    for ((app, other, outgoing), envs) in found {
        per_app
            .entry(app)
            .or_default()
            .push((other, outgoing, envs));
    }
    for (app, items) in per_app {
        let Entity::App(a) = app else { continue };
        let pod = m.pod_of(a);
        let mut f = Finding::new(
            &INFO,
            pod.span,
            format!(
                "`{}` shares pod `{}`, and with it network access it was not granted",
                m.name_of(app),
                pod.name
            ),
        );
        for (other, outgoing, envs) in items {
            let name = m.name_of(other);
            let (arrow, pair) = if outgoing {
                (format!("{} -> {name}", m.name_of(app)), (app, other))
            } else {
                (format!("{name} -> {}", m.name_of(app)), (other, app))
            };
            f = f.note(format!("{arrow}{} (granted to a pod-mate)", envs.join(",")));
            f.pairs.push(pair);
        }
        out.push(f.help("give the app a pod of its own, or accept the shared identity"));
    }
}

//! `portforward-bypasses-network`: portforward reaches ports no policy admits.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::Node;
use crate::effective::network::{PortSet, Protocol};
use crate::model::{Access, Entity, Level, Operation};
use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "portforward-bypasses-network",
    default: Level::Warn,
    summary: "portforward lets a persona reach ports no policy admits",
    explain: "\
`kubectl port-forward` tunnels through the API server and the kubelet
straight into the pod: NetworkPolicies never see the traffic. A persona
with `portforward` on an app reaches *every* port of its pod — admin and
debug ports included, and the ports of pod-mates.

Fires for every persona with effective portforward on a pod group whose
containers listen on ports that no NetworkPolicy admits from anywhere.

Fix: if the persona needs only some ports, grant `logs` or `exec` in a
non-production environment instead, or move the debug ports to a pod of
their own; if the tunnel is the intended break-glass path, accept it:
`accept portforward-bypasses-network on sre -> api \"on-call debugging\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut found: BTreeMap<(u32, u32), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for env in cx.envs() {
        let mut admitted_to: HashMap<Node, PortSet> = HashMap::new();
        if env.ops.iter().any(|o| o.op == Operation::Portforward) {
            for e in env.net.iter() {
                let slot = admitted_to.entry(e.to).or_insert_with(PortSet::empty);
                *slot = slot.union(&e.ports);
            }
        }
        for o in env.ops.iter().filter(|o| o.op == Operation::Portforward) {
            let Node::Group(g) = o.target else { continue };
            let admitted = admitted_to
                .get(&o.target)
                .cloned()
                .unwrap_or_else(PortSet::empty);
            let mut bypassed = Vec::new();
            for &a in &m.pods[g.index()].apps {
                for p in &m.apps[a.index()].ports {
                    let proto = Protocol::from(p.protocol);
                    if !admitted.contains(proto, p.number) {
                        bypassed.push(format!(
                            "{}:{} ({})",
                            m.apps[a.index()].name,
                            p.number,
                            p.name
                        ));
                    }
                }
            }
            if bypassed.is_empty() {
                continue;
            }
            let entry = found.entry((o.persona.0, g.0)).or_default();
            for b in bypassed {
                super::push_unique(&mut entry.0, b);
            }
            let name = cx.in_env(env.env);
            super::push_unique(&mut entry.1, name);
        }
    }
    for ((p, g), (ports, envs)) in found {
        let who = Entity::Persona(crate::model::PersonaId(p));
        let group = crate::model::PodId(g);
        let span = cx
            .grants_of(who)
            .find(|gr| {
                gr.access == Access::Op(Operation::Portforward)
                    && matches!(gr.target, Entity::App(a) if m.pod_of(a).namespace == m.pods[g as usize].namespace)
            })
            .map_or(m.personas[p as usize].span, |gr| gr.span);
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "portforward lets {} reach ports of {} that no NetworkPolicy admits{}",
                m.name_of(who),
                cx.node(Node::Group(group)),
                envs.join(",")
            ),
        )
        .note(format!("ports: {}", ports.join(", ")))
        ;
        f.pairs = m.pods[g as usize]
            .apps
            .iter()
            .map(|&a| (who, Entity::App(a)))
            .collect();
        let apps: Vec<&str> = f.pairs.iter().map(|&(_, a)| m.name_of(a)).collect();
        let target = match apps.as_slice() {
            [one] => one.to_string(),
            many => format!("[{}]", many.join(", ")),
        };
        // A port grant to a persona goes through the ingress controller:
        // advice only where the model has one.
        let ports = if m.platform.ingress.is_some() {
            format!(
                ", or grant the ports the persona needs through the ingress (`allow {} -> {}: PORT`) instead of portforward",
                m.name_of(who),
                apps.first().copied().unwrap_or_default(),
            )
        } else {
            String::new()
        };
        f = f.help(format!(
            "a tunnel reaches every port of the pod, whatever the NetworkPolicies say: grant `logs` instead where reading is enough{ports}; if the tunnel is the break-glass path, accept it: `accept portforward-bypasses-network on {} -> {target} \"<reason>\"`",
            m.name_of(who),
        ));
        out.push(f);
    }
}

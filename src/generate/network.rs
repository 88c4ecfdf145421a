//! NetworkPolicies: per namespace `default-deny` and `allow-dns`, then one
//! policy per pod group with exactly its granted ingress and egress.

use super::flows::{Flows, GroupKey, Peer, Ports};
use super::{Cx, Object};
use crate::model::NsId;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const API: &str = "networking.k8s.io/v1";

/// `default-deny` and `allow-dns` for one namespace.
pub fn baseline(cx: &Cx<'_>, ns: NsId) -> Vec<Object> {
    let ns = cx.ns_name(ns);
    let deny = json!({ "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] } });
    let dns = &cx.model.platform.dns;
    let dns_peer = json!({
        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": dns.namespace } },
        "podSelector": { "matchLabels": dns.labels },
    });
    let allow_dns = json!({ "spec": {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{
            "to": [dns_peer],
            "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }],
        }],
    }});
    vec![
        cx.object("NetworkPolicy", API, ns, "default-deny", &[], deny),
        cx.object("NetworkPolicy", API, ns, "allow-dns", &[], allow_dns),
    ]
}

/// One policy per pod group that has any allowed traffic.
pub fn group_policies(cx: &Cx<'_>, flows: &Flows) -> Vec<Object> {
    let mut groups: Vec<&GroupKey> = flows.ingress.keys().chain(flows.egress.keys()).collect();
    groups.sort();
    groups.dedup();
    groups
        .into_iter()
        .map(|g| policy(cx, g, flows.ingress.get(g), flows.egress.get(g)))
        .collect()
}

fn policy(
    cx: &Cx<'_>,
    g: &GroupKey,
    ingress: Option<&BTreeMap<Peer, Ports>>,
    egress: Option<&BTreeMap<Peer, Ports>>,
) -> Object {
    let mut types = Vec::new();
    let mut spec = json!({ "podSelector": { "matchLabels": { &cx.pod_label: g.name } } });
    if let Some(rules) = ingress {
        types.push("Ingress");
        spec["ingress"] = rules
            .iter()
            .map(|(p, ports)| rule("from", cx, p, ports))
            .collect();
    }
    if let Some(rules) = egress {
        types.push("Egress");
        spec["egress"] = rules
            .iter()
            .map(|(p, ports)| rule("to", cx, p, ports))
            .collect();
    }
    spec["policyTypes"] = json!(types);
    cx.object(
        "NetworkPolicy",
        API,
        &g.ns,
        &g.name,
        &[],
        json!({ "spec": spec }),
    )
}

fn rule(direction: &str, cx: &Cx<'_>, peer: &Peer, ports: &Ports) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p)| json!({ "protocol": p.as_str(), "port": n }))
        .collect();
    json!({ direction: [peer_json(cx, peer)], "ports": ports })
}

fn peer_json(cx: &Cx<'_>, peer: &Peer) -> Value {
    match peer {
        Peer::Group(g) => json!({
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": g.ns } },
            "podSelector": { "matchLabels": { &cx.pod_label: g.name } },
        }),
        Peer::Ingress => {
            let ingress = cx
                .model
                .platform
                .ingress
                .as_ref()
                .expect("the resolver requires platform.ingress for persona → app port grants");
            json!({
                "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": ingress.namespace } },
                "podSelector": { "matchLabels": ingress.labels },
            })
        }
        Peer::Ip { cidr, except } => {
            let mut block = json!({ "cidr": cidr.to_string() });
            if !except.is_empty() {
                block["except"] = except.iter().map(|c| json!(c.to_string())).collect();
            }
            json!({ "ipBlock": block })
        }
    }
}

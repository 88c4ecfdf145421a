//! NetworkPolicies: per namespace `default-deny` and `allow-dns`, then one
//! policy per pod group with exactly its granted ingress and egress.

use super::flows::{Flows, GroupKey, Peer, Ports};
use super::Cx;
use crate::k8s::{
    IntOrString, IpBlock, LabelSelector, Labels, NetworkPolicy, NetworkPolicyEgressRule,
    NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec, Resource,
};
use crate::model::NsId;
use rayon::prelude::*;
use std::collections::BTreeMap;

const NS_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn policy(cx: &Cx<'_>, ns: &str, name: &str, spec: NetworkPolicySpec) -> Resource {
    Resource::NetworkPolicy(NetworkPolicy {
        metadata: cx.metadata(name, ns, &[]),
        spec,
    })
}

fn types(t: &[&str]) -> Option<Vec<String>> {
    Some(t.iter().map(|s| s.to_string()).collect())
}

/// A peer in the namespace called `ns` whose pods carry `labels`.
fn selector_peer(ns: &str, labels: Labels) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector::labels(Labels::from_iter([(
            NS_NAME_LABEL.into(),
            ns.into(),
        )]))),
        pod_selector: Some(LabelSelector::labels(labels)),
        ip_block: None,
    }
}

/// `default-deny` and `allow-dns` for one namespace.
pub fn baseline(cx: &Cx<'_>, ns: NsId) -> Vec<Resource> {
    let ns = cx.ns_name(ns);
    let deny = NetworkPolicySpec {
        policy_types: types(&["Ingress", "Egress"]),
        ..Default::default()
    };
    let dns = &cx.model.platform.dns;
    // The DNS pods' own ports (`platform.dns.ports`): a NetworkPolicy
    // matches the port the pod listens on, after the Service's translation.
    let ports = (cx.model.platform.dns_ports.iter())
        .flat_map(|&port| {
            ["UDP", "TCP"].map(|protocol| NetworkPolicyPort {
                protocol: Some(protocol.into()),
                port: Some(IntOrString::Int(port.into())),
                end_port: None,
            })
        })
        .collect();
    let allow_dns = NetworkPolicySpec {
        egress: Some(vec![NetworkPolicyEgressRule {
            to: Some(vec![selector_peer(&dns.namespace, dns.labels.clone())]),
            ports: Some(ports),
        }]),
        policy_types: types(&["Egress"]),
        ..Default::default()
    };
    vec![
        policy(cx, ns, "default-deny", deny),
        policy(cx, ns, "allow-dns", allow_dns),
    ]
}

/// One policy per pod group that has any allowed traffic.
pub fn group_policies<'a>(
    cx: &'a Cx<'_>,
    flows: &'a Flows,
) -> impl ParallelIterator<Item = Resource> + 'a {
    let mut groups: Vec<&GroupKey> = flows.ingress.keys().chain(flows.egress.keys()).collect();
    groups.sort();
    groups.dedup();
    groups
        .into_par_iter()
        .map(|g| group_policy(cx, g, flows.ingress.get(g), flows.egress.get(g)))
}

fn group_policy(
    cx: &Cx<'_>,
    g: &GroupKey,
    ingress: Option<&BTreeMap<Peer, Ports>>,
    egress: Option<&BTreeMap<Peer, Ports>>,
) -> Resource {
    let mut t = Vec::new();
    if ingress.is_some() {
        t.push("Ingress");
    }
    if egress.is_some() {
        t.push("Egress");
    }
    let spec = NetworkPolicySpec {
        pod_selector: LabelSelector::labels(cx.selector(&g.name)),
        ingress: ingress.map(|rules| {
            rules
                .iter()
                .map(|(p, ports)| NetworkPolicyIngressRule {
                    from: Some(vec![peer(cx, p)]),
                    ports: Some(policy_ports(ports)),
                })
                .collect()
        }),
        egress: egress.map(|rules| {
            rules
                .iter()
                .map(|(p, ports)| NetworkPolicyEgressRule {
                    to: Some(vec![peer(cx, p)]),
                    ports: Some(policy_ports(ports)),
                })
                .collect()
        }),
        policy_types: types(&t),
    };
    policy(cx, &g.ns, &g.name, spec)
}

fn policy_ports(ports: &Ports) -> Vec<NetworkPolicyPort> {
    ports
        .iter()
        .map(|(n, p)| NetworkPolicyPort {
            protocol: Some(p.as_str().into()),
            port: Some(IntOrString::Int(i32::from(*n))),
            end_port: None,
        })
        .collect()
}

fn peer(cx: &Cx<'_>, peer: &Peer) -> NetworkPolicyPeer {
    match peer {
        Peer::Group(g) => selector_peer(&g.ns, cx.selector(&g.name)),
        Peer::Ingress => {
            let ingress = cx
                .model
                .platform
                .ingress
                .as_ref()
                .expect("the resolver requires platform.ingress for persona → app port grants");
            selector_peer(&ingress.namespace, ingress.labels.clone())
        }
        Peer::Ip { cidr, except } => NetworkPolicyPeer {
            ip_block: Some(IpBlock {
                cidr: cidr.to_string(),
                except: except.iter().map(ToString::to_string).collect(),
            }),
            ..Default::default()
        },
    }
}

//! The mesh layer (`platform.mesh = istio`): per namespace a deny-by-default
//! `AuthorizationPolicy` and a STRICT mTLS `PeerAuthentication`, and per pod
//! group an ALLOW `AuthorizationPolicy` whose sources are the ServiceAccount
//! identities of exactly the granted peers, on exactly the granted TCP
//! ports (docs/kubernetes.md, "Layers"). Read from the same flows as the
//! NetworkPolicies, so the two layers enforce one model independently.

use super::flows::{Flows, GroupKey, Peer, Ports};
use super::Cx;
use crate::k8s::{
    AuthorizationPolicy, AuthorizationPolicySpec, AuthorizationRule, MutualTls, Operation,
    PeerAuthentication, PeerAuthenticationSpec, Resource, RuleFrom, RuleTo, Source,
    WorkloadSelector,
};
use crate::model::{Mesh, NsId, Protocol};
use std::collections::BTreeMap;

/// The principal of ServiceAccount `sa` in namespace `ns`:
/// `TRUST_DOMAIN/ns/NS/sa/SA`, what Istio puts in a workload's certificate.
pub fn principal(mesh: &Mesh, ns: &str, sa: &str) -> String {
    format!("{}/ns/{ns}/sa/{sa}", mesh.trust_domain)
}

/// `default-deny` (an ALLOW policy without rules: it admits nothing) and
/// `PeerAuthentication default` (STRICT mTLS) for one namespace.
pub fn baseline(cx: &Cx<'_>, ns: NsId) -> Vec<Resource> {
    let ns = cx.ns_name(ns);
    vec![
        Resource::AuthorizationPolicy(AuthorizationPolicy {
            metadata: cx.metadata("default-deny", ns, &[]),
            spec: AuthorizationPolicySpec::default(),
        }),
        Resource::PeerAuthentication(PeerAuthentication {
            metadata: cx.metadata("default", ns, &[]),
            spec: PeerAuthenticationSpec {
                selector: None,
                mtls: Some(MutualTls {
                    mode: "STRICT".into(),
                }),
            },
        }),
    ]
}

/// One ALLOW policy per pod group (app or in-cluster store) that some peer
/// may reach over TCP. Sources with the same ports share a rule.
pub fn group_policies(cx: &Cx<'_>, mesh: &Mesh, flows: &Flows) -> Vec<Resource> {
    flows
        .ingress
        .iter()
        .filter_map(|(g, peers)| group_policy(cx, mesh, g, peers))
        .collect()
}

fn group_policy(
    cx: &Cx<'_>,
    mesh: &Mesh,
    g: &GroupKey,
    peers: &BTreeMap<Peer, Ports>,
) -> Option<Resource> {
    // Istio's sidecar carries TCP only: UDP grants stay the NetworkPolicies'.
    let mut by_ports: BTreeMap<Vec<u16>, Vec<String>> = BTreeMap::new();
    for (peer, ports) in peers {
        let tcp: Vec<u16> = (ports.iter())
            .filter(|(_, p)| *p == Protocol::Tcp)
            .map(|(n, _)| *n)
            .collect();
        let Some(source) = source_principal(cx, mesh, peer) else {
            continue;
        };
        if !tcp.is_empty() {
            by_ports.entry(tcp).or_default().push(source);
        }
    }
    if by_ports.is_empty() {
        return None;
    }
    let rules = by_ports
        .into_iter()
        .map(|(ports, mut principals)| {
            principals.sort();
            principals.dedup();
            AuthorizationRule {
                from: Some(vec![RuleFrom {
                    source: Source {
                        principals: Some(principals),
                        ..Source::default()
                    },
                }]),
                to: Some(vec![RuleTo {
                    operation: Operation {
                        ports: Some(ports.iter().map(u16::to_string).collect()),
                        ..Operation::default()
                    },
                }]),
                when: Vec::new(),
            }
        })
        .collect();
    Some(Resource::AuthorizationPolicy(AuthorizationPolicy {
        metadata: cx.metadata(&g.name, &g.ns, &[]),
        spec: AuthorizationPolicySpec {
            selector: Some(WorkloadSelector {
                match_labels: cx.selector(&g.name),
            }),
            action: Some("ALLOW".into()),
            rules,
        },
    }))
}

/// The identity a peer's connections carry: a pod group's (or an
/// in-cluster store's) ServiceAccount, named after it; the ingress
/// controller's `platform.ingress.service_account`. Addresses have none.
fn source_principal(cx: &Cx<'_>, mesh: &Mesh, peer: &Peer) -> Option<String> {
    match peer {
        Peer::Group(g) => Some(principal(mesh, &g.ns, cx.service_account(&g.name))),
        Peer::Ingress => {
            let ing = cx.model.platform.ingress.as_ref()?;
            let sa = ing.service_account.as_deref()?;
            Some(principal(mesh, &ing.namespace, sa))
        }
        Peer::Ip { .. } => None,
    }
}

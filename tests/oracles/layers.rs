//! What the guardrails must keep closed, worked out from the model alone
//! (never from the generator): every `forbid` pair that is a network cut
//! (docs/kubernetes.md, "Layers") as a subject pod endpoint, a destination
//! (a pod endpoint or address ranges) and the connections it forbids; and
//! whether a connectivity row opens one.

use crate::connectivity::{group_of, internet_less, parse_ranges, IpRange, Row};
use palisade::model::{Access, Entity, EnvId, Model, Protocol, StoreLocation};

/// Where a forbidden connection goes.
#[derive(Debug)]
pub enum To {
    Pod(String),
    Addresses(Vec<IpRange>),
}

/// One forbidden connection.
#[derive(Debug)]
pub struct Cut {
    pub what: String,
    pub from: String,
    pub to: To,
    /// Empty: every protocol and port.
    pub conns: Vec<(Protocol, u16)>,
}

fn store_pod(model: &Model, s: palisade::model::StoreId) -> Option<String> {
    match model.stores[s.index()].location {
        StoreLocation::InCluster(ns) => Some(format!(
            "{}/{}",
            model.namespace(ns).name,
            model.stores[s.index()].name
        )),
        StoreLocation::Outside(_) => None,
    }
}

/// `internet` as the guardrail of `from`'s pod denies it: every address
/// but the private and never-internet ranges and those the pod is granted
/// outside the cluster in `env` (by any of its apps: an external's, an
/// outside store's, the API server's for a `kube` grant; never a
/// catch-all). `check` counts those as connections to their owners, so a
/// `forbid X -> internet` must not cut them; every other address, declared
/// or not, stays cut.
fn internet_of(model: &Model, env: Option<EnvId>, from: &str) -> Vec<IpRange> {
    let mut granted = Vec::new();
    for g in &model.grants {
        if let (Some(list), Some(e)) = (&g.envs, env) {
            if !list.contains(&e) {
                continue;
            }
        }
        let group = match g.subject {
            Entity::App(a) => group_of(model, a),
            Entity::Store(id) => match store_pod(model, id) {
                Some(p) => p,
                None => continue,
            },
            _ => continue,
        };
        if group != from {
            continue;
        }
        let addresses: Vec<palisade::model::Cidr> = match (g.target, &g.access) {
            (Entity::External(x), Access::Port { .. }) => {
                model.externals[x.index()].addresses.clone()
            }
            (Entity::Store(s), Access::Port { .. } | Access::Data(_)) => {
                match &model.stores[s.index()].location {
                    StoreLocation::Outside(c) => c.clone(),
                    StoreLocation::InCluster(_) => continue,
                }
            }
            (Entity::Kube, Access::Kube(_)) => model
                .platform
                .api_server
                .iter()
                .map(|a| a.address)
                .collect(),
            _ => continue,
        };
        granted.extend(addresses.iter().filter(|c| c.prefix > 0).map(IpRange::of));
    }
    internet_less(model, granted)
}

/// Every network cut of the forbids that apply in `env`.
pub fn cuts(model: &Model, env: Option<EnvId>) -> Vec<Cut> {
    let mut out = Vec::new();
    for f in &model.forbids {
        if let (Some(list), Some(e)) = (&f.envs, env) {
            if !list.contains(&e) {
                continue;
            }
        }
        let mut conns = Vec::new();
        let mut network = true;
        for a in &f.access {
            match a {
                Access::Port {
                    number, protocol, ..
                } => conns.push((*protocol, *number)),
                _ => network = false,
            }
        }
        if !network {
            continue;
        }
        for &s in &f.subjects {
            let from = match s {
                Entity::App(a) => group_of(model, a),
                Entity::Store(id) => match store_pod(model, id) {
                    Some(p) => p,
                    None => continue,
                },
                _ => continue,
            };
            for &t in &f.targets {
                let to = match t {
                    Entity::App(a) => To::Pod(group_of(model, a)),
                    Entity::Store(id) => match &model.stores[id.index()].location {
                        StoreLocation::InCluster(_) => To::Pod(store_pod(model, id).unwrap()),
                        StoreLocation::Outside(c) => {
                            To::Addresses(c.iter().map(IpRange::of).collect())
                        }
                    },
                    Entity::External(x) => To::Addresses(
                        model.externals[x.index()]
                            .addresses
                            .iter()
                            .map(IpRange::of)
                            .collect(),
                    ),
                    Entity::Internet => To::Addresses(internet_of(model, env, &from)),
                    _ => continue,
                };
                out.push(Cut {
                    what: format!("forbid {} -> {}", model.name_of(s), model.name_of(t)),
                    from: from.clone(),
                    to,
                    conns: conns.clone(),
                });
            }
        }
    }
    out
}

fn overlaps(a: &IpRange, b: &IpRange) -> bool {
    a.v6 == b.v6 && a.start <= b.end && b.start <= a.end
}

/// Whether `row` opens (some of) `cut`.
pub fn opens(cut: &Cut, row: &Row) -> bool {
    if row.src != cut.from {
        return false;
    }
    let dst = match &cut.to {
        To::Pod(p) => &row.dst == p,
        To::Addresses(ranges) => parse_ranges(&row.dst)
            .is_some_and(|got| got.iter().any(|g| ranges.iter().any(|r| overlaps(g, r)))),
    };
    if !dst {
        return false;
    }
    if cut.conns.is_empty() {
        return true;
    }
    cut.conns.iter().any(|(proto, port)| {
        let proto_ok = row.proto == "*" || row.proto == proto.as_str();
        let port_ok = row.ports == "*"
            || row.ports.split_once('-').map_or_else(
                || row.ports.parse::<u16>().ok() == Some(*port),
                |(a, b)| {
                    a.parse::<u16>().is_ok_and(|a| a <= *port)
                        && b.parse::<u16>().is_ok_and(|b| *port <= b)
                },
            );
        proto_ok && port_ok
    })
}

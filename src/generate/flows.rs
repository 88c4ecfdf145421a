//! The network flows and credential mounts an environment's grants imply,
//! per pod group: one pass over the grants, no pass over pairs of pods.

use super::Cx;
use crate::model::{Access, AppId, Cidr, DataLevel, Entity, Protocol, StoreId, StoreLocation};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A pod group's network identity: its namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    pub ns: String,
    pub name: String,
}

/// The other end of a flow.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Peer {
    Group(GroupKey),
    /// The ingress controller's pods (people come in through it).
    Ingress,
    /// Addresses outside the cluster.
    Ip {
        cidr: Cidr,
        except: Vec<Cidr>,
    },
}

/// (port, protocol), ordered by port.
pub type Ports = BTreeSet<(u16, Protocol)>;

#[derive(Debug, Default)]
pub struct Flows {
    pub ingress: BTreeMap<GroupKey, BTreeMap<Peer, Ports>>,
    pub egress: BTreeMap<GroupKey, BTreeMap<Peer, Ports>>,
    /// Ports of a group reached from another group or the ingress: its Service.
    pub exposed: BTreeMap<GroupKey, Ports>,
    /// Store credentials each app mounts: the highest level granted.
    pub mounts: BTreeMap<AppId, BTreeMap<StoreId, DataLevel>>,
    /// Apps with `kube` grants (they get the API token).
    pub kube_apps: BTreeSet<AppId>,
    /// Where each store's credentials Secret is mounted, per level.
    pub store_users: StoreUsers,
}

impl Flows {
    pub fn compute(cx: &Cx<'_>) -> Flows {
        let mut f = Flows::default();
        for g in cx.grants() {
            let Entity::App(app) = g.subject else {
                // A store in the cluster connecting to its own pods or to
                // other pods of the model.
                if let (
                    Entity::Store(s),
                    Access::Port {
                        number, protocol, ..
                    },
                ) = (g.subject, &g.access)
                {
                    if let StoreLocation::InCluster(ns) = cx.model.stores[s.index()].location {
                        let from = GroupKey {
                            ns: cx.ns_name(ns).to_string(),
                            name: cx.model.stores[s.index()].name.clone(),
                        };
                        f.connect(cx, None, &from, g.target, (*number, *protocol));
                    }
                    continue;
                }
                if let (
                    Entity::App(b),
                    Access::Port {
                        number, protocol, ..
                    },
                ) = (g.target, &g.access)
                {
                    // A person (or anyone) reaches the app through the ingress.
                    let gb = app_group(cx, b);
                    f.add_ingress(&gb, Peer::Ingress, (*number, *protocol));
                    f.expose(gb, (*number, *protocol));
                }
                continue;
            };
            let ga = app_group(cx, app);
            match (&g.access, g.target) {
                (
                    Access::Port {
                        number, protocol, ..
                    },
                    target,
                ) => {
                    f.connect(cx, Some(app), &ga, target, (*number, *protocol));
                }
                (Access::Data(level), Entity::Store(s)) => {
                    let store = &cx.model.stores[s.index()];
                    let level_slot = f.mounts.entry(app).or_default().entry(s).or_insert(*level);
                    *level_slot = (*level_slot).max(*level);
                    f.connect(cx, Some(app), &ga, g.target, (store.port, Protocol::Tcp));
                }
                (Access::Kube(_), _) => {
                    f.kube_apps.insert(app);
                    if let Some(api) = &cx.model.platform.api_server {
                        let peer = Peer::Ip {
                            cidr: api.address,
                            except: Vec::new(),
                        };
                        f.add_egress(&ga, peer, (api.port, Protocol::Tcp));
                    }
                }
                _ => {}
            }
        }
        f.store_users = store_users(cx);
        f
    }

    /// A connection from `app` (in group `from`; `None`: an in-cluster
    /// store's pods) to `target` on `port`.
    fn connect(
        &mut self,
        cx: &Cx<'_>,
        app: Option<AppId>,
        from: &GroupKey,
        target: Entity,
        port: (u16, Protocol),
    ) {
        match target {
            Entity::App(b) => {
                let gb = app_group(cx, b);
                if &gb == from && Some(b) != app {
                    return; // pod-mates talk over localhost
                }
                // (An app granted access to itself: its replicas reach each other.)
                self.add_egress(from, Peer::Group(gb.clone()), port);
                self.add_ingress(&gb, Peer::Group(from.clone()), port);
                self.expose(gb, port);
            }
            Entity::Store(s) => {
                let store = &cx.model.stores[s.index()];
                match &store.location {
                    StoreLocation::InCluster(ns) => {
                        let gs = GroupKey {
                            ns: cx.ns_name(*ns).to_string(),
                            name: store.name.clone(),
                        };
                        self.add_egress(from, Peer::Group(gs.clone()), port);
                        self.add_ingress(&gs, Peer::Group(from.clone()), port);
                    }
                    StoreLocation::Outside(cidrs) => self.add_cidrs(from, cidrs, port),
                }
            }
            Entity::External(x) => {
                self.add_cidrs(from, &cx.model.externals[x.index()].addresses, port)
            }
            Entity::Internet => {
                for peer in internet(&cx.model.platform.not_internet()) {
                    self.add_egress(from, peer, port);
                }
            }
            Entity::Persona(_) | Entity::Kube => {}
        }
    }

    fn add_cidrs(&mut self, from: &GroupKey, cidrs: &[Cidr], port: (u16, Protocol)) {
        for c in cidrs {
            let peer = Peer::Ip {
                cidr: *c,
                except: Vec::new(),
            };
            self.add_egress(from, peer, port);
        }
    }

    fn expose(&mut self, group: GroupKey, port: (u16, Protocol)) {
        self.exposed.entry(group).or_default().insert(port);
    }

    fn add_egress(&mut self, from: &GroupKey, to: Peer, port: (u16, Protocol)) {
        add(&mut self.egress, from, to, port);
    }

    fn add_ingress(&mut self, to: &GroupKey, from: Peer, port: (u16, Protocol)) {
        add(&mut self.ingress, to, from, port);
    }
}

/// `rules[group][peer] += port`, cloning `group` only when it is new.
fn add(
    rules: &mut BTreeMap<GroupKey, BTreeMap<Peer, Ports>>,
    group: &GroupKey,
    peer: Peer,
    port: (u16, Protocol),
) {
    let peers = match rules.get_mut(group) {
        Some(peers) => peers,
        None => rules.entry(group.clone()).or_default(),
    };
    peers.entry(peer).or_default().insert(port);
}

/// Where each credentials Secret `<store>-<level>` is mounted: the
/// namespaces of the apps whose container mounts it (an app mounts its
/// highest granted level). All that the Roles need of the flows (the
/// RBAC-only generation computes only this).
pub fn store_users(cx: &Cx<'_>) -> StoreUsers {
    let mut highest: BTreeMap<(AppId, StoreId), DataLevel> = BTreeMap::new();
    for g in cx.grants() {
        if let (Entity::App(app), Access::Data(level), Entity::Store(s)) =
            (g.subject, &g.access, g.target)
        {
            let slot = highest.entry((app, s)).or_insert(*level);
            *slot = (*slot).max(*level);
        }
    }
    let mut out = StoreUsers::new();
    for ((app, s), level) in highest {
        let ns = cx.ns_name(cx.model.pod_of(app).namespace);
        out.entry((s, level)).or_default().insert(ns.to_string());
    }
    out
}

/// (store, level) → the namespaces where an app mounts `<store>-<level>`.
pub type StoreUsers = BTreeMap<(StoreId, DataLevel), BTreeSet<String>>;

pub fn app_group(cx: &Cx<'_>, app: AppId) -> GroupKey {
    let pod = cx.model.pod_of(app);
    GroupKey {
        ns: cx.ns_name(pod.namespace).to_string(),
        name: pod.name.clone(),
    }
}

/// The internet: every address minus `excluded` (the private ranges and
/// the addresses that are never the internet, `Platform::not_internet`),
/// for IPv4 and IPv6.
pub fn internet(excluded: &[Cidr]) -> Vec<Peer> {
    let v4 = Cidr {
        addr: IpAddr::from([0u8; 4]),
        prefix: 0,
    };
    let v6 = Cidr {
        addr: IpAddr::from([0u16; 8]),
        prefix: 0,
    };
    [v4, v6]
        .into_iter()
        .filter_map(|all| {
            let except: Vec<Cidr> = (excluded.iter())
                .filter(|p| p.addr.is_ipv4() == all.addr.is_ipv4())
                .copied()
                .collect();
            // A family excluded whole (`0.0.0.0/0` among the private
            // ranges) has no internet at all.
            (!except.iter().any(|p| p.prefix == 0)).then_some(Peer::Ip { cidr: all, except })
        })
        .collect()
}

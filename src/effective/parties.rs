//! The parties effective access is about, and where they run: the nodes
//! and edges [`super::access`] reports ([`Node`], [`NetEdge`], [`IpEdge`]),
//! what an audit evaluates besides ([`Outside`], [`OutsideEdge`]), and
//! which workload each pod group and store runs as ([`Placement`]). Its own
//! file, so that the layers ([`super::mesh`], [`super::calico`]) and
//! [`super::access`], which calls them, share these types without importing
//! each other.

use super::network::{self, IpSet, PortSet};
use crate::model::{Model, PodId, StoreId};

/// Something a connection starts or ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    /// A pod group with apps (every app in it shares its network identity).
    Group(PodId),
    /// An in-cluster store's pods.
    Store(StoreId),
    /// The ingress controller: where personas' traffic comes in.
    Ingress,
    /// Cluster DNS.
    Dns,
}

/// An allowed network connection.
#[derive(Clone, Debug)]
pub struct NetEdge {
    pub from: Node,
    pub to: Node,
    pub ports: PortSet,
    /// What admits it on the source's side and on the destination's:
    /// [`EnvAccess::describe`] names the policy and rule.
    pub egress: Vec<network::Cause>,
    pub ingress: Vec<network::Cause>,
}

/// Egress from a pod group or an in-cluster store's pods to addresses
/// outside the cluster.
#[derive(Clone, Debug)]
pub struct IpEdge {
    pub from: Node,
    pub addresses: IpSet,
    pub ports: PortSet,
}

/// Where the model's parties run among the objects evaluated: the
/// workload of each pod group and in-cluster store, as `(namespace, name)`
/// (the cluster names a workload's pod after it). A store with none is a
/// stand-in pod carrying its selector.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    pub groups: Vec<Option<(String, String)>>,
    pub stores: Vec<Option<(String, String)>>,
    /// Also evaluate what the model does not name ([`NetPart::outside`]):
    /// the objects' other workloads, any pod of a namespace
    /// ([`Outside::AnyIn`]) and any pod anywhere ([`Outside::Anywhere`]).
    pub outside: bool,
}

/// A party the model does not name, in [`NetPart::outside`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outside {
    /// A model party.
    Node(Node),
    /// A workload of the objects that no party is placed on: (namespace,
    /// name).
    Pod(String, String),
    /// Any pod of a namespace that the objects hold no workload for:
    /// label-less, matched only by selectors that match every pod.
    AnyIn(String),
    /// Any pod of any other namespace.
    Anywhere,
}

/// The namespace [`Outside::Anywhere`] stands in.
pub const ELSEWHERE: &str = "palisade-audit-elsewhere";

/// A connection with at least one end the model does not name.
#[derive(Clone, Debug)]
pub struct OutsideEdge {
    pub from: Outside,
    pub to: Outside,
    pub ports: PortSet,
    pub egress: Vec<network::Cause>,
    pub ingress: Vec<network::Cause>,
}

impl Placement {
    /// The generator's: each pod group runs as its workload (bound, or
    /// named after it); stores are not deployed by palisade.
    pub fn generated(model: &Model) -> Placement {
        Placement {
            groups: (model.pods.iter())
                .map(|g| {
                    Some((
                        model.namespaces[g.namespace.index()].name.clone(),
                        g.workload().name,
                    ))
                })
                .collect(),
            stores: vec![None; model.stores.len()],
            outside: false,
        }
    }
}

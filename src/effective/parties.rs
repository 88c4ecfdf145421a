//! The parties effective access is about, and where they run: the nodes
//! and edges [`super::access`] reports ([`Node`], [`NetEdge`], [`IpEdge`]),
//! what an audit evaluates besides ([`Outside`], [`OutsideEdge`]), and
//! which workload each pod group and store runs as ([`Placement`]). Its own
//! file, so that the layers ([`super::mesh`], [`super::calico`]) and
//! [`super::access`], which calls them, share these types without importing
//! each other.

use super::network::{self, IpSet, PortSet};
use crate::model::{Model, PodId, StoreId};
use std::sync::Arc;

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
    /// What admits it in the layers beyond the NetworkPolicies: the mesh's
    /// ALLOW rules (empty without a mesh, or where no ALLOW policy applies;
    /// a guardrail admits by denying nothing).
    pub layers: Vec<LayerCause>,
}

/// A layer beyond the NetworkPolicies: a connection must pass each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Istio `AuthorizationPolicy` ([`super::mesh`]).
    Mesh,
    /// Calico `GlobalNetworkPolicy` ordered before the NetworkPolicies
    /// ([`super::calico`]).
    Guardrail,
}

/// What an object of a layer does to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// An ALLOW rule admits it.
    Allows,
    /// A deny rule denies it.
    Denies,
    /// An ALLOW policy applies to the destination, and none of its rules
    /// admits the source: without an ALLOW rule that does, it is denied.
    AdmitsOthers,
}

/// One object of a layer and what it does to a connection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LayerCause {
    pub layer: Layer,
    pub verdict: Verdict,
    /// The object's index among the evaluated objects.
    pub object: usize,
    /// `AuthorizationPolicy core/api`, `GlobalNetworkPolicy NAME`.
    pub name: Arc<str>,
    /// The rule: (`rules`, `ingress` or `egress`, its index); `None` for
    /// [`Verdict::AdmitsOthers`], the policy as a whole.
    pub rule: Option<(&'static str, usize)>,
    /// For [`Verdict::AdmitsOthers`]: the identity the source presents,
    /// `cluster.local/ns/web/sa/frontend`.
    pub principal: Option<Arc<str>>,
}

impl LayerCause {
    /// What it does, after the object's name: `rules[0] admits it`,
    /// `egress[1] denies it`, `admits no rule for cluster.local/ns/web/sa/x`.
    pub fn detail(&self) -> String {
        let rule = self.rule.map(|(list, i)| format!("{list}[{i}] "));
        match self.verdict {
            Verdict::Allows => format!("{}admits it", rule.unwrap_or_default()),
            Verdict::Denies => format!("{}denies it", rule.unwrap_or_default()),
            Verdict::AdmitsOthers => match &self.principal {
                Some(p) => format!("has no ALLOW rule for `{p}`"),
                None => "has no ALLOW rule for the source".into(),
            },
        }
    }

    /// `AuthorizationPolicy core/api rules[0] admits it`.
    pub fn text(&self) -> String {
        format!("{} {}", self.name, self.detail())
    }
}

/// A connection the NetworkPolicies admit and a layer cuts, in whole or in
/// part (what `query` and `audit` show as the reason it is not there).
#[derive(Clone, Debug)]
pub struct CutEdge {
    pub from: Node,
    pub to: Node,
    /// The ports cut.
    pub ports: PortSet,
    /// What admits them in the NetworkPolicies (as [`NetEdge`]'s).
    pub egress: Vec<network::Cause>,
    pub ingress: Vec<network::Cause>,
    /// The objects that cut them.
    pub by: Vec<LayerCause>,
}

/// Egress to addresses that the NetworkPolicies admit and a guardrail
/// denies.
#[derive(Clone, Debug)]
pub struct IpCut {
    pub from: Node,
    pub addresses: IpSet,
    pub ports: PortSet,
    pub by: Vec<LayerCause>,
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

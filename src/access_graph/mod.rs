//! The effective access graph: one per environment, the single answer to
//! "who can reach what" that every later stage reads — the lints and
//! invariants, `query`, the access view behind `review`, `graph
//! --effective` and `diff`, and `audit`.
//!
//! Input: the resolved [`Model`] and one environment's evaluated objects
//! ([`EnvAccess`], from [`crate::effective::access`]: ours or a user's).
//! Output: [`EnvGraph`], a petgraph directed graph whose nodes are every
//! party of the model ([`GNode`]: personas, apps, stores, externals, the
//! internet, the API server, the ingress controller) and whose edges are
//! effective access, one edge per (from, to, [`Class`]), each with the parts
//! that make it up and, per part, what causes it ([`Why`]: an index into the
//! evaluated connections, credentials or RBAC reach).
//!
//! | edge | from |
//! | --- | --- |
//! | app → app, store, ingress (`Net`) | the evaluated NetworkPolicies; every app of a pod group has the group's connections |
//! | persona, `internet` → app, store (`Net`) | a persona with any port grant reaches, through the ingress controller, everything the controller may reach ([`Why::Ingress`]); so does an app that may connect to the controller |
//! | app → external, outside store, `internet` (`Net`) | the policies' ipBlocks; `internet` is [`Addresses::internet`] |
//! | app → store (`Data`) | credentials mounted into the app's container |
//! | persona → store (`Data`) | a credentials Secret the persona may get; exec into the store's pods; exec into a pod that mounts credentials |
//! | persona → app, store (`Op`) | RBAC, every operation |
//! | persona → anything (`Net`, `Kube`) | exec into a pod group: the persona may open the group's connections and use its token |
//! | app → `kube` (`Kube`) | the app's container mounts a ServiceAccount token |
//!
//! Some parts are *derived*: they compose two steps that are also edges
//! (exec into a pod, then the pod's connection). Paths ([`EnvGraph::reach`])
//! follow only edges with a direct part, so a path shows each step; direct
//! questions (`forbid A -> B`, `query what-can`) see every edge.
//!
//! The graph is built once per environment, in time linear in the
//! effective edges; nothing else builds one.

mod addresses;
mod build;
mod paths;

pub use addresses::{ip_set, Addresses};
pub use build::build;
pub use paths::{Hop, Reach};

use crate::effective::access::EnvAccess;
use crate::effective::network::PortSet;
use crate::model::{DataLevel, Entity, EnvId, Model, Operation};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

/// A party: a model entity (including `internet` and `kube`, the API
/// server) or the ingress controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GNode {
    E(Entity),
    Ingress,
}

/// What an edge permits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Network connections on these ports.
    Net(PortSet),
    /// Store credentials of a level (the highest held).
    Data(DataLevel),
    /// A Kubernetes operation on a pod.
    Op(Operation),
    /// A ServiceAccount token: the app's `kube` rules.
    Token,
}

/// The class of an edge: one edge per (from, to, class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Net,
    Data,
    Op(Operation),
    Kube,
}

/// What one part of an edge gives ([`EnvGraph::part`]).
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Ports(&'a PortSet),
    Level(DataLevel),
    Unit,
}

/// Where one part of an edge comes from: indices into the environment's
/// evaluated lists ([`EnvAccess`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// `net[i]`: a connection the NetworkPolicies admit.
    Net(usize),
    /// `net[i]` from the ingress controller, for whoever stands there: a
    /// persona or `internet` with a port grant, or an app that may connect
    /// to the controller.
    Ingress(usize),
    /// `ip[i]`: egress to addresses outside the cluster.
    Ip(usize),
    /// `data[i]`: credentials held (mounted, a Secret readable, exec).
    Data(usize),
    /// `ops[i]`: an RBAC operation.
    Op(usize),
    /// The app's container mounts a ServiceAccount token.
    Token,
    /// Exec (`ops[op]`), then the group's connection `net[net]`.
    ExecNet { op: usize, net: usize },
    /// Exec, then the group's address egress `ip[ip]`.
    ExecIp { op: usize, ip: usize },
    /// Exec into a pod that mounts a token.
    ExecToken { op: usize },
}

/// A connection between two parties that the NetworkPolicies admit and
/// the mesh or guardrail layer cuts, in whole or in part: not access (no
/// edge, no path takes it), the reason access is not there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub from: GNode,
    pub to: GNode,
    pub why: CutWhy,
}

/// Where a [`Cut`] comes from: indices into the environment's evaluated
/// lists ([`EnvAccess::cut`], [`EnvAccess::ip_cut`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutWhy {
    /// `cut[i]`.
    Net(usize),
    /// `cut[i]` from the ingress controller, for whoever stands there.
    Ingress(usize),
    /// `ip_cut[i]`.
    Ip(usize),
}

/// An effective edge.
#[derive(Clone, Debug)]
pub struct Edge {
    pub class: Class,
    /// The union of the parts: network ports, the highest data level, the
    /// operation, or the token.
    pub access: Kind,
    /// Where its parts are in the graph's list ([`EnvGraph::parts`]).
    parts: std::ops::Range<u32>,
    /// Whether a path may take this edge (see [`EnvGraph::reach`]).
    pub moves: bool,
}

/// One environment's effective access graph.
pub struct EnvGraph {
    /// The evaluated objects the edges' causes point into.
    pub access: EnvAccess,
    graph: DiGraph<GNode, Edge>,
    /// Every edge's parts, edge after edge.
    parts: Vec<Why>,
    /// What the layers cut, sorted by (from, to) in model order.
    cuts: Vec<Cut>,
    /// Where apps, stores, externals and the three singletons start
    /// (nodes are numbered densely by kind: an index is arithmetic).
    base: [usize; 4],
}

impl EnvGraph {
    pub fn env(&self) -> Option<EnvId> {
        self.access.env
    }

    /// Every party of `model`, without edges.
    fn empty(model: &Model, access: EnvAccess, edges: usize) -> EnvGraph {
        use crate::model::{AppId, ExternalId, PersonaId, StoreId};
        let apps = model.personas.len();
        let stores = apps + model.apps.len();
        let externals = stores + model.stores.len();
        let singletons = externals + model.externals.len();
        let mut graph = DiGraph::with_capacity(singletons + 3, edges);
        for i in 0..model.personas.len() {
            graph.add_node(GNode::E(Entity::Persona(PersonaId(i as u32))));
        }
        for i in 0..model.apps.len() {
            graph.add_node(GNode::E(Entity::App(AppId(i as u32))));
        }
        for i in 0..model.stores.len() {
            graph.add_node(GNode::E(Entity::Store(StoreId(i as u32))));
        }
        for i in 0..model.externals.len() {
            graph.add_node(GNode::E(Entity::External(ExternalId(i as u32))));
        }
        graph.add_node(GNode::E(Entity::Internet));
        graph.add_node(GNode::E(Entity::Kube));
        graph.add_node(GNode::Ingress);
        EnvGraph {
            access,
            graph,
            parts: Vec::new(),
            cuts: Vec::new(),
            base: [apps, stores, externals, singletons],
        }
    }

    /// A party's node (`None`: an id from another model).
    fn index(&self, n: GNode) -> Option<NodeIndex> {
        let i = match n {
            GNode::E(Entity::Persona(p)) => p.index(),
            GNode::E(Entity::App(a)) => self.base[0] + a.index(),
            GNode::E(Entity::Store(s)) => self.base[1] + s.index(),
            GNode::E(Entity::External(x)) => self.base[2] + x.index(),
            GNode::E(Entity::Internet) => self.base[3],
            GNode::E(Entity::Kube) => self.base[3] + 1,
            GNode::Ingress => self.base[3] + 2,
        };
        let ix = NodeIndex::new(i);
        (self.graph.node_weight(ix) == Some(&n)).then_some(ix)
    }

    /// Every edge, sorted by (from, to, class) in model order.
    pub fn edges(&self) -> impl Iterator<Item = (GNode, GNode, &Edge)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (self.graph[e.source()], self.graph[e.target()], e.weight()))
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The edges from one party, sorted by (to, class).
    pub fn edges_from(&self, from: GNode) -> impl Iterator<Item = (GNode, &Edge)> + '_ {
        let mut v: Vec<(GNode, EdgeIndex, &Edge)> = match self.index(from) {
            Some(n) => (self.graph.edges(n))
                .map(|e| (self.graph[e.target()], e.id(), e.weight()))
                .collect(),
            None => Vec::new(),
        };
        // petgraph lists a node's edges newest first.
        v.sort_unstable_by_key(|(_, id, _)| *id);
        v.into_iter().map(|(to, _, e)| (to, e))
    }

    /// The edges into one party, sorted by (from, class).
    pub fn edges_to(&self, to: GNode) -> impl Iterator<Item = (GNode, &Edge)> + '_ {
        let mut v: Vec<(GNode, EdgeIndex, &Edge)> = match self.index(to) {
            Some(n) => (self.graph.edges_directed(n, petgraph::Direction::Incoming))
                .map(|e| (self.graph[e.source()], e.id(), e.weight()))
                .collect(),
            None => Vec::new(),
        };
        v.sort_unstable_by_key(|(_, id, _)| *id);
        v.into_iter().map(|(from, _, e)| (from, e))
    }

    /// The edge of this class between two parties.
    pub fn edge(&self, from: GNode, to: GNode, class: Class) -> Option<&Edge> {
        let (a, b) = (self.index(from)?, self.index(to)?);
        (self.graph.edges_connecting(a, b))
            .map(|e| e.weight())
            .find(|e| e.class == class)
    }
}

/// What the part caused by `why` gives, from the evaluated objects.
pub fn part(env: &EnvAccess, why: Why) -> Part<'_> {
    match why {
        Why::Net(i) | Why::Ingress(i) | Why::ExecNet { net: i, .. } => {
            Part::Ports(&env.net[i].ports)
        }
        Why::Ip(i) | Why::ExecIp { ip: i, .. } => Part::Ports(&env.ip[i].ports),
        Why::Data(i) => Part::Level(env.data[i].level),
        Why::Op(_) | Why::Token | Why::ExecToken { .. } => Part::Unit,
    }
}

/// Whether a part is a step of its own, rather than two composed (exec
/// into a pod, then the pod's access).
pub fn is_direct(env: &EnvAccess, why: Why) -> bool {
    match why {
        Why::ExecNet { .. } | Why::ExecIp { .. } | Why::ExecToken { .. } => false,
        Why::Data(i) => !matches!(env.data[i].via, crate::effective::access::Via::Exec(_)),
        _ => true,
    }
}

impl EnvGraph {
    /// An edge's parts, by their causes, in the order found
    /// ([`EnvGraph::part`] says what each gives).
    pub fn parts(&self, edge: &Edge) -> &[Why] {
        &self.parts[edge.parts.start as usize..edge.parts.end as usize]
    }

    /// What the part caused by `why` gives.
    pub fn part(&self, why: Why) -> Part<'_> {
        part(&self.access, why)
    }

    /// Every connection between parties that the mesh or guardrail layer
    /// cuts (none without them), sorted by (from, to) in model order.
    pub fn cuts(&self) -> &[Cut] {
        &self.cuts
    }

    /// The ports a cut takes away.
    pub fn cut_ports(&self, why: CutWhy) -> &PortSet {
        match why {
            CutWhy::Net(i) | CutWhy::Ingress(i) => &self.access.cut[i].ports,
            CutWhy::Ip(i) => &self.access.ip_cut[i].ports,
        }
    }
}

impl Kind {
    pub fn class(&self) -> Class {
        match self {
            Kind::Net(_) => Class::Net,
            Kind::Data(_) => Class::Data,
            Kind::Op(op) => Class::Op(*op),
            Kind::Token => Class::Kube,
        }
    }
}

/// A party as the model names it: `api`, `internet`, `kube`, `ingress`.
pub fn name(model: &Model, n: GNode) -> String {
    match n {
        GNode::E(e) => model.name_of(e).to_string(),
        GNode::Ingress => "ingress".into(),
    }
}

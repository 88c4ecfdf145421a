//! The effective access graph of one environment, for paths (`forbid A ~> B`,
//! `external-reaches-sensitive`) and direct access (`forbid A -> B`).
//!
//! Nodes are the model's entities plus the ingress controller. Edges, each
//! with the text of its cause:
//! - persona → ingress, for a persona that is granted any port of an app
//!   (who may reach the ingress is not in the objects; the model says it);
//! - ingress → app, app → app / store, from the evaluated NetworkPolicies
//!   (every app of a pod group has the group's edges: one network identity);
//! - app → external / internet, from the policies' ipBlocks;
//! - app → store, for mounted credentials;
//! - persona → app (exec, portforward, logs), persona → store (credentials
//!   Secrets read, exec into the store's pods), from RBAC.

use super::Cx;
use crate::effective::access::{EnvAccess, Holder, Node, Via};
use crate::effective::network::{IpSet, PortSet};
use crate::model::{Access, DataLevel, Entity, Operation};
use std::collections::{HashMap, VecDeque};

/// A graph node.
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
    /// Store credentials of a level.
    Data(DataLevel),
    /// A Kubernetes operation on a pod.
    Op(Operation),
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub to: GNode,
    pub kind: Kind,
    /// `--exec-->`-style label with the cause.
    pub label: String,
}

#[derive(Default)]
pub struct Graph {
    ids: HashMap<GNode, usize>,
    nodes: Vec<GNode>,
    adj: Vec<Vec<Edge>>,
}

/// A breadth-first search from one node: for every node reached, the node
/// before it and the index of the edge taken (shortest paths).
pub struct Reach {
    from: usize,
    prev: Vec<Option<(usize, usize)>>,
}

impl Graph {
    pub fn build(cx: &Cx<'_>, env: &EnvAccess) -> Graph {
        let m = cx.model;
        let mut g = Graph::default();
        // Personas (and `internet`) granted a port reach the ingress.
        for grant in m.grants.iter().filter(|gr| m.grant_applies(gr, env.env)) {
            if let (Entity::Persona(_) | Entity::Internet, Access::Port { .. }) =
                (grant.subject, &grant.access)
            {
                g.add(
                    GNode::E(grant.subject),
                    GNode::Ingress,
                    Kind::Net(PortSet::all()),
                    "--through the ingress-->".into(),
                );
            }
        }
        for e in &env.net {
            let froms: Vec<GNode> = match e.from {
                Node::Ingress => vec![GNode::Ingress],
                other => cx.entities(other).into_iter().map(GNode::E).collect(),
            };
            let tos: Vec<GNode> = match e.to {
                Node::Ingress => vec![GNode::Ingress],
                other => cx.entities(other).into_iter().map(GNode::E).collect(),
            };
            for &f in &froms {
                for &t in &tos {
                    if f != t {
                        let label = format!("--{}-->", e.ports);
                        g.add(f, t, Kind::Net(e.ports.clone()), label);
                    }
                }
            }
        }
        let private = ip_set(m.platform.private_ranges.iter().map(|c| c.to_string()));
        for ip in &env.ip {
            let apps = cx.entities(Node::Group(ip.from));
            let mut targets = Vec::new();
            for (x, ext) in m.externals.iter().enumerate() {
                let set = ip_set(ext.addresses.iter().map(|c| c.to_string()));
                if !set.intersection(&ip.addresses).is_empty() {
                    targets.push(Entity::External(crate::model::ExternalId(x as u32)));
                }
            }
            if !ip.addresses.difference(&private).is_empty() {
                targets.push(Entity::Internet);
            }
            for &a in &apps {
                for &t in &targets {
                    let label = format!("--{}-->", ip.ports);
                    g.add(GNode::E(a), GNode::E(t), Kind::Net(ip.ports.clone()), label);
                }
            }
        }
        for d in &env.data {
            let store = GNode::E(Entity::Store(d.store));
            let secret = format!("{}-{}", m.stores[d.store.index()].name, d.level.as_str());
            match (&d.holder, &d.via) {
                (Holder::Group(grp), _) => {
                    for a in cx.entities(Node::Group(*grp)) {
                        let label = format!("--mounts {secret}-->");
                        g.add(GNode::E(a), store, Kind::Data(d.level), label);
                    }
                }
                (Holder::Persona(p), Via::Secret(cause)) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    format!("--get secret {secret} ({cause})-->"),
                ),
                (Holder::Persona(p), Via::ExecStore) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    "--exec into the store's pods-->".into(),
                ),
                // Exec-inherited credentials are a two-hop path (persona
                // --exec--> app --mounts--> store), already in the graph.
                (Holder::Persona(_), _) => {}
            }
        }
        for o in &env.ops {
            if !matches!(
                o.op,
                Operation::Exec | Operation::Portforward | Operation::Logs
            ) {
                continue;
            }
            for t in cx.entities(o.target) {
                g.add(
                    GNode::E(Entity::Persona(o.persona)),
                    GNode::E(t),
                    Kind::Op(o.op),
                    format!("--{}-->", o.op.as_str()),
                );
            }
        }
        g
    }

    fn id(&mut self, n: GNode) -> usize {
        if let Some(&id) = self.ids.get(&n) {
            return id;
        }
        self.ids.insert(n, self.nodes.len());
        self.nodes.push(n);
        self.adj.push(Vec::new());
        self.nodes.len() - 1
    }

    fn add(&mut self, from: GNode, to: GNode, kind: Kind, label: String) {
        let f = self.id(from);
        self.id(to);
        self.adj[f].push(Edge { to, kind, label });
    }

    pub fn edges(&self, from: GNode) -> &[Edge] {
        self.ids.get(&from).map_or(&[], |&i| self.adj[i].as_slice())
    }

    /// Shortest paths from `from` to every node it reaches. Reading logs
    /// moves nobody: only exec and portforward let a person act from a pod.
    pub fn reach(&self, from: GNode) -> Reach {
        let mut prev = vec![None; self.nodes.len()];
        let Some(&start) = self.ids.get(&from) else {
            return Reach {
                from: usize::MAX,
                prev,
            };
        };
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            for (i, e) in self.adj[n].iter().enumerate() {
                if matches!(e.kind, Kind::Op(Operation::Logs)) {
                    continue;
                }
                let to = self.ids[&e.to];
                if to != start && prev[to].is_none() {
                    prev[to] = Some((n, i));
                    queue.push_back(to);
                }
            }
        }
        Reach { from: start, prev }
    }

    /// The path to `to` in a [`Graph::reach`] result, as
    /// `a --x--> b --y--> c`, and its number of hops.
    pub fn render_path(&self, cx: &Cx<'_>, reach: &Reach, to: GNode) -> Option<(String, usize)> {
        let mut at = *self.ids.get(&to)?;
        let mut steps = Vec::new();
        while at != reach.from {
            let (before, edge) = reach.prev.get(at).copied().flatten()?;
            steps.push((&self.adj[before][edge].label, self.nodes[at]));
            at = before;
        }
        steps.reverse();
        let mut text = name(cx, self.nodes[reach.from]);
        for (label, node) in &steps {
            text.push_str(&format!(" {label} {}", name(cx, *node)));
        }
        Some((text, steps.len()))
    }
}

pub fn name(cx: &Cx<'_>, n: GNode) -> String {
    match n {
        GNode::E(e) => cx.model.name_of(e).to_string(),
        GNode::Ingress => "ingress".into(),
    }
}

/// The union of CIDRs (each already validated by the resolver).
pub fn ip_set(cidrs: impl IntoIterator<Item = String>) -> IpSet {
    cidrs
        .into_iter()
        .filter_map(|c| IpSet::parse_cidr(&c))
        .fold(IpSet::empty(), |acc, s| acc.union(&s))
}

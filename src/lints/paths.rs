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
    adj: HashMap<GNode, Vec<Edge>>,
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

    fn add(&mut self, from: GNode, to: GNode, kind: Kind, label: String) {
        self.adj
            .entry(from)
            .or_default()
            .push(Edge { to, kind, label });
    }

    pub fn edges(&self, from: GNode) -> &[Edge] {
        self.adj.get(&from).map_or(&[], Vec::as_slice)
    }

    /// A shortest path from `from` to every node it reaches: node → (the
    /// node before it, the edge taken).
    pub fn reach(&self, from: GNode) -> HashMap<GNode, (GNode, Edge)> {
        let mut prev: HashMap<GNode, (GNode, Edge)> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for e in self.edges(n) {
                // Only exec and portforward let a person act from a pod;
                // reading logs moves nobody.
                if matches!(e.kind, Kind::Op(Operation::Logs)) {
                    continue;
                }
                if e.to != from && !prev.contains_key(&e.to) {
                    prev.insert(e.to, (n, e.clone()));
                    queue.push_back(e.to);
                }
            }
        }
        prev
    }

    /// The path to `to` in a [`Graph::reach`] result, as `a --x--> b --y--> c`.
    pub fn render_path(
        cx: &Cx<'_>,
        prev: &HashMap<GNode, (GNode, Edge)>,
        from: GNode,
        to: GNode,
    ) -> Option<(String, usize)> {
        let mut steps = Vec::new();
        let mut at = to;
        while at != from {
            let (before, edge) = prev.get(&at)?;
            steps.push((edge.label.clone(), at));
            at = *before;
        }
        steps.reverse();
        let mut text = name(cx, from);
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

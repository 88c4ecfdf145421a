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
//! - app → store, for credentials mounted into the app's container;
//! - persona → app (exec, portforward, logs, deploy, restart), persona →
//!   store (credentials Secrets read, exec into the store's pods), from
//!   RBAC;
//! - app → `kube`, for the app whose container mounts the pod's
//!   ServiceAccount token.

use super::Cx;
use crate::effective::access::{EnvAccess, Holder, Node, Via};
use crate::effective::network::{IpSet, PortSet};
use crate::model::{Access, DataLevel, Entity, Operation};
use foldhash::HashMap;
use std::collections::VecDeque;

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
    /// A ServiceAccount token: the app's `kube` rules.
    Token,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub to: GNode,
    pub kind: Kind,
    /// `--exec-->`-style label with the cause; `None`: made from `kind`
    /// when a path is shown (most edges never are).
    pub label: Option<String>,
}

impl Edge {
    pub fn label(&self) -> String {
        match (&self.label, &self.kind) {
            (Some(l), _) => l.clone(),
            (None, Kind::Net(ports)) => format!("--{ports}-->"),
            (None, Kind::Data(level)) => format!("--{}-->", level.as_str()),
            (None, Kind::Op(op)) => format!("--{}-->", op.as_str()),
            (None, Kind::Token) => "--token-->".into(),
        }
    }
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
                    Some("--through the ingress-->".into()),
                );
            }
        }
        for e in env.net.iter() {
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
                        g.add(f, t, Kind::Net(e.ports.clone()), None);
                    }
                }
            }
        }
        let private = ip_set(m.platform.private_ranges.iter().map(|c| c.to_string()));
        for ip in env.ip.iter() {
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
                    g.add(GNode::E(a), GNode::E(t), Kind::Net(ip.ports.clone()), None);
                }
            }
        }
        for d in &env.data {
            let store = GNode::E(Entity::Store(d.store));
            let secret = format!("{}-{}", m.stores[d.store.index()].name, d.level.as_str());
            match (&d.holder, &d.via) {
                (Holder::Group(grp), _) => {
                    // The app whose container mounts the Secret (all apps
                    // of the pod when the container is not one of ours).
                    let apps = match d.app {
                        Some(app) => vec![Entity::App(app)],
                        None => cx.entities(Node::Group(*grp)),
                    };
                    for a in apps {
                        let label = Some(format!("--mounts {secret}-->"));
                        g.add(GNode::E(a), store, Kind::Data(d.level), label);
                    }
                }
                (Holder::Persona(p), Via::Secret(cause)) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    Some(format!("--get secret {secret} ({cause})-->")),
                ),
                (Holder::Persona(p), Via::ExecStore) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    Some("--exec into the store's pods-->".into()),
                ),
                // Exec-inherited credentials are a two-hop path (persona
                // --exec--> app --mounts--> store), already in the graph.
                (Holder::Persona(_), _) => {}
            }
        }
        for &app in &env.token_apps {
            g.add(
                GNode::E(Entity::App(app)),
                GNode::E(Entity::Kube),
                Kind::Token,
                None,
            );
        }
        for o in &env.ops {
            if !matches!(
                o.op,
                Operation::Exec
                    | Operation::Portforward
                    | Operation::Logs
                    | Operation::Deploy
                    | Operation::Restart
            ) {
                continue;
            }
            for t in cx.entities(o.target) {
                g.add(
                    GNode::E(Entity::Persona(o.persona)),
                    GNode::E(t),
                    Kind::Op(o.op),
                    None,
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

    fn add(&mut self, from: GNode, to: GNode, kind: Kind, label: Option<String>) {
        let f = self.id(from);
        self.id(to);
        self.adj[f].push(Edge { to, kind, label });
    }

    pub fn edges(&self, from: GNode) -> &[Edge] {
        self.ids.get(&from).map_or(&[], |&i| self.adj[i].as_slice())
    }

    /// Shortest paths from `from` to every node it reaches. Reading logs
    /// moves nobody; exec, portforward, and `deploy`/`restart` (which may
    /// change the pod template: any image, the pod's credentials) do.
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

    /// The hops of the shortest path to `to` in a [`Graph::reach`] result:
    /// (from, edge taken); `None` when `to` is not reached.
    pub fn path(&self, reach: &Reach, to: GNode) -> Option<Vec<(GNode, &Edge)>> {
        let mut at = *self.ids.get(&to)?;
        let mut steps = Vec::new();
        while at != reach.from {
            let (before, edge) = reach.prev.get(at).copied().flatten()?;
            steps.push((self.nodes[before], &self.adj[before][edge]));
            at = before;
        }
        steps.reverse();
        Some(steps)
    }

    /// The path to `to` in a [`Graph::reach`] result, as
    /// `a --x--> b --y--> c`, and its number of hops.
    pub fn render_path(&self, cx: &Cx<'_>, reach: &Reach, to: GNode) -> Option<(String, usize)> {
        let mut at = *self.ids.get(&to)?;
        let mut steps = Vec::new();
        while at != reach.from {
            let (before, edge) = reach.prev.get(at).copied().flatten()?;
            steps.push((self.adj[before][edge].label(), self.nodes[at]));
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

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
use std::sync::Arc;

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
    /// The cause, when `kind` does not say it all; the `--exec-->`-style
    /// label is made only when a path is shown (most edges never are).
    pub why: Option<Why>,
}

/// What an edge's label says beyond its kind.
#[derive(Clone, Debug)]
pub enum Why {
    Text(&'static str),
    /// The app's container mounts this credentials Secret.
    Mounts(Arc<str>),
    /// `get` on this Secret, by this RBAC rule.
    GetSecret(Arc<str>, Arc<str>),
}

impl Edge {
    pub fn label(&self) -> String {
        match (&self.why, &self.kind) {
            (Some(Why::Text(t)), _) => (*t).to_string(),
            (Some(Why::Mounts(secret)), _) => format!("--mounts {secret}-->"),
            (Some(Why::GetSecret(secret, cause)), _) => {
                format!("--get secret {secret} ({cause})-->")
            }
            (None, Kind::Net(ports)) => format!("--{ports}-->"),
            (None, Kind::Data(level)) => format!("--{}-->", level.as_str()),
            (None, Kind::Op(op)) => format!("--{}-->", op.as_str()),
            (None, Kind::Token) => "--token-->".into(),
        }
    }
}

/// Nodes are numbered densely by kind (personas, apps, stores, externals,
/// then `internet`, `kube` and the ingress), so a node's index is
/// arithmetic, not a hash lookup.
pub struct Graph {
    /// Where apps, stores, externals and the three singletons start.
    base: [usize; 4],
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
        let mut g = Graph::new(m);
        // Personas (and `internet`) granted a port reach the ingress.
        for grant in m.grants.iter().filter(|gr| m.grant_applies(gr, env.env)) {
            if let (Entity::Persona(_) | Entity::Internet, Access::Port { .. }) =
                (grant.subject, &grant.access)
            {
                g.add(
                    GNode::E(grant.subject),
                    GNode::Ingress,
                    Kind::Net(PortSet::all()),
                    Some(Why::Text("--through the ingress-->")),
                );
            }
        }
        let gnodes = |node: Node| {
            let ingress = (node == Node::Ingress).then_some(GNode::Ingress);
            cx.entity_iter(node).map(GNode::E).chain(ingress)
        };
        for e in env.net.iter() {
            for f in gnodes(e.from) {
                for t in gnodes(e.to) {
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
        // Each credentials Secret's name once, shared by its edges.
        let mut secrets: HashMap<(crate::model::StoreId, DataLevel), Arc<str>> = HashMap::default();
        for d in &env.data {
            let store = GNode::E(Entity::Store(d.store));
            let secret = secrets
                .entry((d.store, d.level))
                .or_insert_with(|| {
                    format!("{}-{}", m.stores[d.store.index()].name, d.level.as_str()).into()
                })
                .clone();
            match (&d.holder, &d.via) {
                (Holder::Group(grp), _) => {
                    // The app whose container mounts the Secret (all apps
                    // of the pod when the container is not one of ours).
                    let apps = match d.app {
                        Some(app) => vec![Entity::App(app)],
                        None => cx.entities(Node::Group(*grp)),
                    };
                    for a in apps {
                        let why = Some(Why::Mounts(secret.clone()));
                        g.add(GNode::E(a), store, Kind::Data(d.level), why);
                    }
                }
                (Holder::Persona(p), Via::Secret(cause)) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    Some(Why::GetSecret(secret, cause.clone())),
                ),
                (Holder::Persona(p), Via::ExecStore) => g.add(
                    GNode::E(Entity::Persona(*p)),
                    store,
                    Kind::Data(d.level),
                    Some(Why::Text("--exec into the store's pods-->")),
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
            for t in cx.entity_iter(o.target) {
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

    /// Every entity of `model` and the ingress controller, without edges.
    fn new(model: &crate::model::Model) -> Graph {
        use crate::model::{AppId, ExternalId, PersonaId, StoreId};
        let apps = model.personas.len();
        let stores = apps + model.apps.len();
        let externals = stores + model.stores.len();
        let singletons = externals + model.externals.len();
        let mut nodes = Vec::with_capacity(singletons + 3);
        nodes.extend(
            (0..model.personas.len()).map(|i| GNode::E(Entity::Persona(PersonaId(i as u32)))),
        );
        nodes.extend((0..model.apps.len()).map(|i| GNode::E(Entity::App(AppId(i as u32)))));
        nodes.extend((0..model.stores.len()).map(|i| GNode::E(Entity::Store(StoreId(i as u32)))));
        nodes.extend(
            (0..model.externals.len()).map(|i| GNode::E(Entity::External(ExternalId(i as u32)))),
        );
        nodes.extend([
            GNode::E(Entity::Internet),
            GNode::E(Entity::Kube),
            GNode::Ingress,
        ]);
        Graph {
            base: [apps, stores, externals, singletons],
            adj: vec![Vec::new(); nodes.len()],
            nodes,
        }
    }

    /// A node's index (`None`: an id from another model).
    fn index(&self, n: GNode) -> Option<usize> {
        let i = match n {
            GNode::E(Entity::Persona(p)) => p.index(),
            GNode::E(Entity::App(a)) => self.base[0] + a.index(),
            GNode::E(Entity::Store(s)) => self.base[1] + s.index(),
            GNode::E(Entity::External(x)) => self.base[2] + x.index(),
            GNode::E(Entity::Internet) => self.base[3],
            GNode::E(Entity::Kube) => self.base[3] + 1,
            GNode::Ingress => self.base[3] + 2,
        };
        (self.nodes.get(i) == Some(&n)).then_some(i)
    }

    fn add(&mut self, from: GNode, to: GNode, kind: Kind, why: Option<Why>) {
        let f = self.index(from).expect("nodes of this model");
        self.adj[f].push(Edge { to, kind, why });
    }

    pub fn edges(&self, from: GNode) -> &[Edge] {
        self.index(from).map_or(&[], |i| self.adj[i].as_slice())
    }

    /// Shortest paths from `from` to every node it reaches. Reading logs
    /// moves nobody; exec, portforward, and `deploy`/`restart` (which may
    /// change the pod template: any image, the pod's credentials) do.
    pub fn reach(&self, from: GNode) -> Reach {
        let mut prev = vec![None; self.nodes.len()];
        let Some(start) = self.index(from) else {
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
                let to = self.index(e.to).expect("nodes of this model");
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
        let mut at = self.index(to)?;
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
        let mut at = self.index(to)?;
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

//! Building one environment's graph from its evaluated objects.

use super::{
    is_direct, part, Addresses, Class, Cut, CutWhy, Edge, EnvGraph, GNode, Kind, Part, Why,
};
use crate::effective::access::{EnvAccess, Holder, Node};
use crate::model::{Access, DataLevel, Entity, Model, Operation};
use foldhash::{HashMap, HashMapExt};
use petgraph::graph::NodeIndex;

/// The effective access graph of one environment's evaluated objects
/// (`addresses`: [`Addresses::new`] of `model`, shared by every
/// environment).
pub fn build(model: &Model, addresses: &Addresses, access: EnvAccess) -> EnvGraph {
    let mut g = EnvGraph::empty(model, EnvAccess::default(), 0);
    let mut b = Builder {
        model,
        env: &access,
        graph: &g,
        parts: Vec::new(),
        cuts: Vec::new(),
    };
    b.collect(addresses);
    let parts = b.parts;
    let mut cuts = b.cuts;
    cuts.sort_by_key(|c| (c.from, c.to));
    g.cuts = cuts;
    g.access = access;
    // One edge per (from, to, class), in model order (the nodes' indices
    // are in model order); parts in the order found. A counting sort by
    // `from` (linear), then a stable sort of each node's parts by (to,
    // class): each node has few.
    let mut start_of = vec![0u32; g.graph.node_count() + 1];
    for p in &parts {
        start_of[(p.0 >> 64) as usize + 1] += 1;
    }
    for i in 1..start_of.len() {
        start_of[i] += start_of[i - 1];
    }
    let mut order = vec![0u32; parts.len()];
    let mut next = start_of.clone();
    for (i, p) in parts.iter().enumerate() {
        let slot = &mut next[(p.0 >> 64) as usize];
        order[*slot as usize] = i as u32;
        *slot += 1;
    }
    for w in start_of.windows(2) {
        order[w[0] as usize..w[1] as usize].sort_by_key(|&i| parts[i as usize].0);
    }
    g.graph.reserve_edges(parts.len());
    g.parts.reserve_exact(parts.len());
    let mut i = 0;
    while i < order.len() {
        let (key, class, _) = parts[order[i] as usize];
        let start = g.parts.len();
        while i < order.len() && parts[order[i] as usize].0 == key {
            g.parts.push(parts[order[i] as usize].2);
            i += 1;
        }
        let whys = &g.parts[start..];
        let edge = Edge {
            class,
            access: union(&g.access, class, whys),
            moves: moves(&g.access, class, whys),
            parts: start as u32..g.parts.len() as u32,
        };
        let (from, to) = (
            (key >> 64) as usize,
            ((key >> 16) & 0xffff_ffff_ffff) as usize,
        );
        g.graph
            .add_edge(NodeIndex::new(from), NodeIndex::new(to), edge);
    }
    g
}

/// The sort key of a part: its edge's (from, to, class), in that order.
fn key(from: NodeIndex, to: NodeIndex, class: Class) -> u128 {
    let class = match class {
        Class::Net => 0u16,
        Class::Data => 1,
        Class::Op(op) => 2 + op as u16,
        Class::Kube => u16::MAX,
    };
    ((from.index() as u128) << 64) | ((to.index() as u128) << 16) | u128::from(class)
}

/// The access of an edge: the union of its parts.
fn union(env: &EnvAccess, class: Class, parts: &[Why]) -> Kind {
    match class {
        Class::Net => {
            let mut ports = parts.iter().filter_map(|&w| match part(env, w) {
                Part::Ports(p) => Some(p),
                _ => None,
            });
            let first = ports.next().cloned().unwrap_or_default();
            Kind::Net(ports.fold(
                first,
                |acc, p| if p.is_subset(&acc) { acc } else { acc.union(p) },
            ))
        }
        Class::Data => Kind::Data(
            (parts.iter())
                .filter_map(|&w| match part(env, w) {
                    Part::Level(l) => Some(l),
                    _ => None,
                })
                .max()
                .unwrap_or(DataLevel::Read),
        ),
        Class::Op(op) => Kind::Op(op),
        Class::Kube => Kind::Token,
    }
}

/// Whether a path may take the edge: it moves the one who holds it
/// (reading logs, viewing or scaling moves nobody; exec, portforward, and
/// `deploy`/`restart`, which may change the pod template, do), and one of
/// its parts is a step of its own rather than two steps composed (exec
/// into a pod, then the pod's access: the path shows both).
fn moves(env: &EnvAccess, class: Class, parts: &[Why]) -> bool {
    if matches!(
        class,
        Class::Op(Operation::Logs | Operation::View | Operation::Scale)
    ) {
        return false;
    }
    parts.iter().any(|&why| is_direct(env, why))
}

struct Builder<'a> {
    model: &'a Model,
    env: &'a EnvAccess,
    /// The graph without edges: its node indices.
    graph: &'a EnvGraph,
    parts: Vec<(u128, Class, Why)>,
    cuts: Vec<Cut>,
}

impl Builder<'_> {
    fn add(&mut self, from: GNode, to: GNode, class: Class, why: Why) {
        if from != to {
            let (f, t) = (self.graph.index(from), self.graph.index(to));
            let (f, t) = (
                f.expect("a node of this model"),
                t.expect("a node of this model"),
            );
            self.parts.push((key(f, t, class), class, why));
        }
    }

    /// The parties a node of the evaluated objects stands for.
    fn nodes(m: &Model, n: Node) -> impl Iterator<Item = GNode> + '_ {
        let (apps, one): (&[crate::model::AppId], _) = match n {
            Node::Group(g) => (&m.pods[g.index()].apps, None),
            Node::Store(s) => (&[], Some(GNode::E(Entity::Store(s)))),
            Node::Ingress => (&[], Some(GNode::Ingress)),
            Node::Dns => (&[], None),
        };
        apps.iter().map(|&a| GNode::E(Entity::App(a))).chain(one)
    }

    /// What the layers cut, between the parties each end stands for.
    fn collect_cuts(&mut self, addresses: &Addresses, at_ingress: &[GNode]) {
        let (env, m) = (self.env, self.model);
        let mut push = |from: GNode, to: GNode, why: CutWhy| {
            if from != to {
                self.cuts.push(Cut { from, to, why });
            }
        };
        for (i, c) in env.cut.iter().enumerate() {
            if c.to == Node::Dns || c.from == Node::Dns {
                continue;
            }
            for t in Self::nodes(m, c.to) {
                if c.from == Node::Ingress {
                    for &p in at_ingress {
                        push(p, t, CutWhy::Ingress(i));
                    }
                    continue;
                }
                for f in Self::nodes(m, c.from) {
                    push(f, t, CutWhy::Net(i));
                }
            }
        }
        for (i, c) in env.ip_cut.iter().enumerate() {
            for t in addresses.targets(&c.addresses) {
                for f in Self::nodes(m, c.from) {
                    push(f, GNode::E(t), CutWhy::Ip(i));
                }
            }
        }
    }

    fn collect(&mut self, addresses: &Addresses) {
        let env = self.env;
        let m = self.model;
        // Who stands at the ingress: personas (and `internet`) with a port
        // grant (the model says who may reach the controller; no object
        // does), and apps whose pods may connect to it.
        let mut at_ingress: Vec<GNode> = (m.grants.iter())
            .filter(|g| m.grant_applies(g, env.env))
            .filter(|g| matches!(g.subject, Entity::Persona(_) | Entity::Internet))
            .filter(|g| matches!(g.access, Access::Port { .. }))
            .map(|g| GNode::E(g.subject))
            .collect();
        for e in env.net.iter() {
            if e.to == Node::Ingress && e.from != Node::Ingress {
                at_ingress.extend(Self::nodes(m, e.from));
            }
        }
        at_ingress.sort_unstable();
        at_ingress.dedup();
        self.collect_cuts(addresses, &at_ingress);
        let mut net_from: HashMap<Node, Vec<usize>> = HashMap::new();
        for (i, e) in env.net.iter().enumerate() {
            net_from.entry(e.from).or_default().push(i);
            if e.to == Node::Dns || e.from == Node::Dns {
                continue;
            }
            if e.from == Node::Ingress {
                for t in Self::nodes(m, e.to) {
                    for &p in &at_ingress {
                        self.add(p, t, Class::Net, Why::Ingress(i));
                    }
                }
                continue;
            }
            for f in Self::nodes(m, e.from) {
                for t in Self::nodes(m, e.to) {
                    self.add(f, t, Class::Net, Why::Net(i));
                }
            }
        }
        let mut ip_from: HashMap<Node, Vec<usize>> = HashMap::new();
        let mut ip_targets: Vec<Vec<Entity>> = Vec::with_capacity(env.ip.len());
        for (i, ip) in env.ip.iter().enumerate() {
            ip_from.entry(ip.from).or_default().push(i);
            let targets = addresses.targets(&ip.addresses);
            for f in Self::nodes(m, ip.from) {
                for &t in &targets {
                    self.add(f, GNode::E(t), Class::Net, Why::Ip(i));
                }
            }
            ip_targets.push(targets);
        }
        for (i, d) in env.data.iter().enumerate() {
            let store = GNode::E(Entity::Store(d.store));
            let holders: Vec<GNode> = match (d.holder, d.app) {
                (Holder::Group(_), Some(app)) => vec![GNode::E(Entity::App(app))],
                (Holder::Group(g), None) => Self::nodes(m, Node::Group(g)).collect(),
                (Holder::Persona(p), _) => vec![GNode::E(Entity::Persona(p))],
            };
            for h in holders {
                self.add(h, store, Class::Data, Why::Data(i));
            }
        }
        for &app in &env.token_apps {
            let (f, t) = (GNode::E(Entity::App(app)), GNode::E(Entity::Kube));
            self.add(f, t, Class::Kube, Why::Token);
        }
        for (i, o) in env.ops.iter().enumerate() {
            let who = GNode::E(Entity::Persona(o.persona));
            for t in Self::nodes(m, o.target) {
                self.add(who, t, Class::Op(o.op), Why::Op(i));
            }
            // Exec: the persona acts as the pod — a pod group's or an
            // in-cluster store's — and opens its connections (its
            // credentials are `env.data` edges already).
            let (Operation::Exec, Node::Group(_) | Node::Store(_)) = (o.op, o.target) else {
                continue;
            };
            for &n in net_from.get(&o.target).into_iter().flatten() {
                let e = &env.net[n];
                if e.to == Node::Dns {
                    continue;
                }
                for t in Self::nodes(m, e.to) {
                    self.add(who, t, Class::Net, Why::ExecNet { op: i, net: n });
                }
            }
            for &n in ip_from.get(&o.target).into_iter().flatten() {
                for &t in &ip_targets[n] {
                    let why = Why::ExecIp { op: i, ip: n };
                    self.add(who, GNode::E(t), Class::Net, why);
                }
            }
            if matches!(o.target, Node::Group(g) if env.tokens.contains(&g)) {
                let t = GNode::E(Entity::Kube);
                self.add(who, t, Class::Kube, Why::ExecToken { op: i });
            }
        }
    }
}

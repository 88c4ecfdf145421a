//! Building one environment's graph from its evaluated objects.

use super::{is_direct, part, Addresses, Class, Edge, EnvGraph, GNode, Kind, Part, Why};
use crate::effective::access::{EnvAccess, Holder, Node};
use crate::model::{Access, DataLevel, Entity, Model, Operation, PodId};
use foldhash::{HashMap, HashMapExt};

/// An edge's key and its parts, while grouping.
type Grouped = (GNode, GNode, Class, Vec<Why>);

/// The effective access graph of one environment's evaluated objects
/// (`addresses`: [`Addresses::new`] of `model`, shared by every
/// environment).
pub fn build(model: &Model, addresses: &Addresses, access: EnvAccess) -> EnvGraph {
    let mut b = Builder {
        model,
        env: &access,
        parts: Vec::new(),
    };
    b.collect(addresses);
    let mut parts = b.parts;
    // One edge per (from, to, class), in model order; parts in the order
    // found.
    parts.sort_by_key(|p| (p.0, p.1, p.2));
    let mut edges: Vec<Grouped> = Vec::new();
    for (from, to, class, why) in parts {
        match edges.last_mut() {
            Some(e) if (e.0, e.1, e.2) == (from, to, class) => e.3.push(why),
            _ => edges.push((from, to, class, vec![why])),
        }
    }
    let mut g = EnvGraph::empty(model, access, edges.len());
    for (from, to, class, parts) in edges {
        let edge = Edge {
            class,
            access: union(&g.access, class, &parts),
            moves: moves(&g.access, class, &parts),
            parts,
        };
        let (a, b) = (g.index(from), g.index(to));
        g.graph.add_edge(
            a.expect("a node of this model"),
            b.expect("a node of this model"),
            edge,
        );
    }
    g
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
    parts: Vec<(GNode, GNode, Class, Why)>,
}

impl Builder<'_> {
    fn add(&mut self, from: GNode, to: GNode, class: Class, why: Why) {
        if from != to {
            self.parts.push((from, to, class, why));
        }
    }

    /// The parties a node of the evaluated objects stands for.
    fn nodes(&self, n: Node) -> Vec<GNode> {
        match n {
            Node::Group(g) => (self.model.pods[g.index()].apps.iter())
                .map(|&a| GNode::E(Entity::App(a)))
                .collect(),
            Node::Store(s) => vec![GNode::E(Entity::Store(s))],
            Node::Ingress => vec![GNode::Ingress],
            Node::Dns => Vec::new(),
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
                at_ingress.extend(self.nodes(e.from));
            }
        }
        at_ingress.sort_unstable();
        at_ingress.dedup();
        let mut net_from: HashMap<Node, Vec<usize>> = HashMap::new();
        for (i, e) in env.net.iter().enumerate() {
            net_from.entry(e.from).or_default().push(i);
            if e.to == Node::Dns || e.from == Node::Dns {
                continue;
            }
            if e.from == Node::Ingress {
                for t in self.nodes(e.to) {
                    for &p in &at_ingress {
                        self.add(p, t, Class::Net, Why::Ingress(i));
                    }
                }
                continue;
            }
            for f in self.nodes(e.from) {
                for t in self.nodes(e.to) {
                    self.add(f, t, Class::Net, Why::Net(i));
                }
            }
        }
        let mut ip_from: HashMap<PodId, Vec<usize>> = HashMap::new();
        let mut ip_targets: Vec<Vec<Entity>> = Vec::with_capacity(env.ip.len());
        for (i, ip) in env.ip.iter().enumerate() {
            ip_from.entry(ip.from).or_default().push(i);
            let targets = addresses.targets(&ip.addresses);
            for f in self.nodes(Node::Group(ip.from)) {
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
                (Holder::Group(g), None) => self.nodes(Node::Group(g)),
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
            for t in self.nodes(o.target) {
                self.add(who, t, Class::Op(o.op), Why::Op(i));
            }
            // Exec: the persona acts as the pod (its credentials are
            // `env.data` edges already).
            let (Operation::Exec, Node::Group(g)) = (o.op, o.target) else {
                continue;
            };
            for &n in net_from.get(&o.target).into_iter().flatten() {
                let e = &env.net[n];
                if e.to == Node::Dns {
                    continue;
                }
                for t in self.nodes(e.to) {
                    self.add(who, t, Class::Net, Why::ExecNet { op: i, net: n });
                }
            }
            for &n in ip_from.get(&g).into_iter().flatten() {
                for &t in &ip_targets[n] {
                    let why = Why::ExecIp { op: i, ip: n };
                    self.add(who, GNode::E(t), Class::Net, why);
                }
            }
            if env.tokens.contains(&g) {
                let t = GNode::E(Entity::Kube);
                self.add(who, t, Class::Kube, Why::ExecToken { op: i });
            }
        }
    }
}

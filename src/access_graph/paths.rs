//! Paths through the graph and how each step reads:
//! `customer --TCP/8080 through the ingress--> web --TCP/9000--> api`.

use super::{name, Edge, EnvGraph, GNode, Kind, Part, Why};
use crate::effective::access::{Node, Via};
use crate::effective::network::PortSet;
use crate::model::{Entity, Model};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeFiltered;

/// Shortest paths from one party (petgraph's SPFA with every step costing
/// one: a breadth-first search): for every party reached, the party before
/// it on a shortest path.
pub struct Reach {
    from: Option<NodeIndex>,
    prev: Vec<Option<NodeIndex>>,
}

/// One step of a path.
#[derive(Clone, Copy, Debug)]
pub struct Hop<'g> {
    pub from: GNode,
    pub to: GNode,
    pub edge: &'g Edge,
}

impl EnvGraph {
    /// Shortest paths from `from` to every party it reaches, over the
    /// edges that move ([`Edge::moves`]).
    pub fn reach(&self, from: GNode) -> Reach {
        let Some(start) = self.index(from) else {
            return Reach {
                from: None,
                prev: Vec::new(),
            };
        };
        let moving = EdgeFiltered::from_fn(&self.graph, |e| e.weight().moves);
        let paths =
            petgraph::algo::spfa(&moving, start, |_| 1u32).expect("unit costs: no negative cycle");
        Reach {
            from: Some(start),
            prev: paths.predecessors,
        }
    }

    /// Whether `to` is reached (and is not where the search started).
    pub fn reaches(&self, reach: &Reach, to: GNode) -> bool {
        self.index(to)
            .is_some_and(|i| reach.prev.get(i.index()).copied().flatten().is_some())
    }

    /// The hops of the shortest path to `to` in a [`EnvGraph::reach`]
    /// result; `None` when `to` is not reached.
    pub fn path(&self, reach: &Reach, to: GNode) -> Option<Vec<Hop<'_>>> {
        let start = reach.from?;
        let mut at = self.index(to)?;
        let mut hops = Vec::new();
        while at != start {
            let a = reach.prev.get(at.index()).copied().flatten()?;
            // Of the edges from `a` to `at`, the first that moves (the
            // one a breadth-first search takes).
            let edge = (self.graph.edges_connecting(a, at))
                .map(|e| e.weight())
                .find(|e| e.moves)?;
            hops.push(Hop {
                from: self.graph[a],
                to: self.graph[at],
                edge,
            });
            at = a;
        }
        hops.reverse();
        Some(hops)
    }

    /// The path to `to` as `a --x--> b --y--> c`.
    pub fn render_path(&self, model: &Model, reach: &Reach, to: GNode) -> Option<String> {
        let hops = self.path(reach, to)?;
        let first = hops.first().map_or(to, |h| h.from);
        let mut text = name(model, first);
        for h in &hops {
            text.push_str(&format!(
                " {} {}",
                self.label(model, h.edge),
                name(model, h.to)
            ));
        }
        Some(text)
    }

    /// How a step that moves reads: `--TCP/8080-->`, `--TCP/8080 through
    /// the ingress-->`, `--mounts main-db-write-->`, `--exec-->`.
    pub fn label(&self, model: &Model, edge: &Edge) -> String {
        let env = &self.access;
        let direct: Vec<Why> = (self.parts(edge).iter().copied())
            .filter(|&why| super::is_direct(env, why))
            .collect();
        match &edge.access {
            Kind::Net(all) => {
                let ports = (direct.iter()).fold(PortSet::empty(), |acc, &w| match self.part(w) {
                    Part::Ports(p) => acc.union(p),
                    _ => acc,
                });
                let ports = if direct.is_empty() {
                    all.clone()
                } else {
                    ports
                };
                let ingress =
                    !direct.is_empty() && direct.iter().all(|w| matches!(w, Why::Ingress(_)));
                if ingress {
                    format!("--{ports} through the ingress-->")
                } else {
                    format!("--{ports}-->")
                }
            }
            Kind::Data(level) => {
                let Some(Why::Data(i)) = direct.first() else {
                    return format!("--{}-->", level.as_str());
                };
                let d = &env.data[*i];
                let secret = format!(
                    "{}-{}",
                    model.stores[d.store.index()].name,
                    d.level.as_str()
                );
                match &d.via {
                    Via::Mount => format!("--mounts {secret}-->"),
                    Via::Secret(cause) => format!("--get secret {secret} ({cause})-->"),
                    Via::ExecStore => "--exec into the store's pods-->".into(),
                    Via::Exec(_) => format!("--{}-->", level.as_str()),
                }
            }
            Kind::Op(op) => format!("--{}-->", op.as_str()),
            Kind::Token => "--token-->".into(),
        }
    }

    /// One edge as steps: `a --x--> b` for an edge that moves, else its
    /// first part composed of two steps, `sre --exec--> api --TCP/5432--> db`.
    pub fn render_edge(&self, model: &Model, from: GNode, to: GNode, edge: &Edge) -> String {
        let (a, b) = (name(model, from), name(model, to));
        if edge.moves {
            return format!("{a} {} {b}", self.label(model, edge));
        }
        let env = &self.access;
        let group_app = |node: Node| match node {
            Node::Group(g) => (model.pods[g.index()].apps.first())
                .map_or_else(String::new, |&x| model.name_of(Entity::App(x)).to_string()),
            Node::Store(s) => model.name_of(Entity::Store(s)).to_string(),
            _ => String::new(),
        };
        for &why in self.parts(edge) {
            let text = match why {
                Why::ExecNet { op, .. } | Why::ExecIp { op, .. } => {
                    let ports = match self.part(why) {
                        Part::Ports(p) => p.to_string(),
                        _ => String::new(),
                    };
                    let via = group_app(env.ops[op].target);
                    format!("{a} --exec--> {via} --{ports}--> {b}")
                }
                Why::ExecToken { op } => {
                    let via = group_app(env.ops[op].target);
                    format!("{a} --exec--> {via} --token--> {b}")
                }
                Why::Data(i) => {
                    let d = &env.data[i];
                    let Via::Exec(g) = d.via else { continue };
                    let via = match d.app {
                        Some(x) => model.name_of(Entity::App(x)).to_string(),
                        None => group_app(Node::Group(g)),
                    };
                    let secret = format!(
                        "{}-{}",
                        model.stores[d.store.index()].name,
                        d.level.as_str()
                    );
                    format!("{a} --exec--> {via} --mounts {secret}--> {b}")
                }
                _ => continue,
            };
            return text;
        }
        let what = match &edge.access {
            Kind::Net(p) => p.to_string(),
            Kind::Data(l) => l.as_str().to_string(),
            Kind::Op(op) => op.as_str().to_string(),
            Kind::Token => "token".into(),
        };
        format!("{a} --{what}--> {b}")
    }
}

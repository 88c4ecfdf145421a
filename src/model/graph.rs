//! The model as a petgraph graph: entities are nodes, grants are edges.
//! petgraph stays behind this module's API.

use super::{Entity, Model};
use foldhash::{HashMap, HashMapExt};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};

/// A directed graph of declared access: one edge per grant.
pub struct ModelGraph {
    graph: StableDiGraph<Entity, usize>,
    index: HashMap<Entity, NodeIndex>,
}

impl ModelGraph {
    /// Build the graph in one pass over the grants (linear in their number).
    pub fn build(model: &Model) -> ModelGraph {
        let mut g = ModelGraph {
            graph: StableDiGraph::new(),
            index: HashMap::new(),
        };
        for (i, grant) in model.grants.iter().enumerate() {
            let a = g.node(grant.subject);
            let b = g.node(grant.target);
            g.graph.add_edge(a, b, i);
        }
        g
    }

    fn node(&mut self, e: Entity) -> NodeIndex {
        *self
            .index
            .entry(e)
            .or_insert_with(|| self.graph.add_node(e))
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Indices into `model.grants` of the grants `e` holds.
    pub fn grants_from(&self, e: Entity) -> Vec<usize> {
        let Some(&n) = self.index.get(&e) else {
            return Vec::new();
        };
        let mut v: Vec<usize> = self.graph.edges(n).map(|edge| *edge.weight()).collect();
        v.sort_unstable();
        v
    }

    /// Entities reachable from `e` by following declared access.
    pub fn reachable(&self, e: Entity) -> Vec<Entity> {
        let Some(&start) = self.index.get(&e) else {
            return Vec::new();
        };
        let mut dfs = petgraph::visit::Dfs::new(&self.graph, start);
        let mut out = Vec::new();
        while let Some(n) = dfs.next(&self.graph) {
            if n != start {
                out.push(self.graph[n]);
            }
        }
        out.sort();
        out
    }
}

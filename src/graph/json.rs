//! The documented JSON form of the graph (schema version 1, docs/review.md).
//!
//! Unlike the pictures, the JSON never merges edges into a namespace edge:
//! every (subject, target, kind) pair is one edge.
//!
//! ```json
//! {
//!   "version": 1,
//!   "system": "marketing", "description": "Marketing analytics SaaS",
//!   "environment": null, "focus": null, "effective": false,
//!   "environments": ["dev", "prod"],
//!   "clusters": [
//!     { "id": "namespace:product", "kind": "namespace", "name": "product",
//!       "description": "Customer-facing SaaS", "parent": null }
//!   ],
//!   "nodes": [
//!     { "id": "app:web", "kind": "app", "name": "web",
//!       "description": "Public web front end", "cluster": "namespace:product",
//!       "external": null, "classification": null, "detail": null }
//!   ],
//!   "edges": [
//!     { "from": "persona:sre", "to": "app:web", "kind": "operation",
//!       "access": [ { "access": "logs", "environments": null },
//!                   { "access": "exec", "environments": ["dev"] } ],
//!       "causes": [] }
//!   ]
//! }
//! ```

use super::{GraphOptions, NodeKind, ReviewGraph};
use crate::model::Model;
use serde::Serialize;

/// The schema version in [`JsonGraph::version`]: bumped when a field is
/// removed or changes meaning (adding a field keeps it).
pub const SCHEMA_VERSION: u32 = 1;

/// The model's graph as pretty-printed JSON, with a final newline.
pub fn json(model: &Model, opts: &GraphOptions) -> String {
    render(&ReviewGraph::build(model, opts))
}

/// A built graph as pretty-printed JSON, with a final newline.
pub fn render(g: &ReviewGraph) -> String {
    let mut s = serde_json::to_string_pretty(&JsonGraph::new(g)).unwrap_or_default();
    s.push('\n');
    s
}

#[derive(Serialize)]
pub struct JsonGraph<'a> {
    /// Schema version, 1.
    pub version: u32,
    /// The `system` name and description.
    pub system: &'a str,
    pub description: Option<&'a str>,
    /// The environment drawn (`--env`), or `null`: every environment.
    pub environment: Option<&'a str>,
    /// `--focus`: `{ "name": ..., "depth": ... }`, or `null`.
    pub focus: Option<JsonFocus<'a>>,
    /// Whether widened edges were asked for (`--effective`).
    pub effective: bool,
    /// The model's environments, in declaration order.
    pub environments: &'a [String],
    pub clusters: Vec<JsonCluster<'a>>,
    pub nodes: Vec<JsonNode<'a>>,
    pub edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
pub struct JsonFocus<'a> {
    pub name: &'a str,
    pub depth: usize,
}

#[derive(Serialize)]
pub struct JsonCluster<'a> {
    /// `namespace:NAME` or `pod:NAME`.
    pub id: String,
    /// `namespace` or `pod`.
    pub kind: &'static str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    /// The enclosing cluster's id (a pod's namespace), or `null`.
    pub parent: Option<String>,
}

#[derive(Serialize)]
pub struct JsonNode<'a> {
    /// `KIND:NAME`, e.g. `app:web`.
    pub id: String,
    /// `persona`, `app`, `store`, `external`, `internet` or `kube`.
    pub kind: &'static str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    /// The innermost cluster's id, or `null`.
    pub cluster: Option<String>,
    /// Personas: whether they come from outside the cluster; else `null`.
    pub external: Option<bool>,
    /// Stores: `public`, `internal`, `confidential` or `restricted`; else `null`.
    pub classification: Option<&'static str>,
    /// The second line of the node's picture (a store's engine and
    /// classification, addresses), or `null`.
    pub detail: Option<&'a str>,
}

#[derive(Serialize)]
pub struct JsonEdge<'a> {
    pub from: String,
    pub to: String,
    /// `network`, `data`, `operation`, `kube` or `widened`.
    pub kind: &'static str,
    pub access: Vec<JsonAccess<'a>>,
    /// Widened edges: what widens them; `[]` for declared edges.
    pub causes: &'a [String],
}

#[derive(Serialize)]
pub struct JsonAccess<'a> {
    /// As written in a model: `http`, `read`, `create jobs.batch`.
    pub access: &'a str,
    /// The environments it applies in, or `null`: every one (or the one drawn).
    pub environments: Option<Vec<&'a str>>,
}

impl<'a> JsonGraph<'a> {
    pub fn new(g: &'a ReviewGraph) -> JsonGraph<'a> {
        let clusters = (g.clusters.iter())
            .map(|c| JsonCluster {
                id: c.id(),
                kind: c.kind.as_str(),
                name: &c.name,
                description: c.description.as_deref(),
                parent: c.parent.map(|p| g.clusters[p].id()),
            })
            .collect();
        let nodes = (g.nodes.iter())
            .map(|n| JsonNode {
                id: n.id(),
                kind: n.kind.as_str(),
                name: &n.name,
                description: n.description.as_deref(),
                cluster: n.cluster.map(|c| g.clusters[c].id()),
                external: match n.kind {
                    NodeKind::Persona { external } => Some(external),
                    _ => None,
                },
                classification: match n.kind {
                    NodeKind::Store { classification } => Some(classification.as_str()),
                    _ => None,
                },
                detail: n.detail.as_deref(),
            })
            .collect();
        let edges = (g.edges.iter())
            .map(|e| JsonEdge {
                from: g.nodes[e.from].id(),
                to: g.nodes[e.to].id(),
                kind: e.kind.as_str(),
                access: (e.access.iter())
                    .map(|a| JsonAccess {
                        access: &a.text,
                        environments: a.envs.as_ref().map(|envs| {
                            (envs.iter())
                                .filter_map(|e| g.env_names.get(e.index()).map(String::as_str))
                                .collect()
                        }),
                    })
                    .collect(),
                causes: &e.causes,
            })
            .collect();
        JsonGraph {
            version: SCHEMA_VERSION,
            system: &g.system,
            description: g.description.as_deref(),
            environment: g.env.as_deref(),
            focus: g.focus.as_ref().map(|(name, depth)| JsonFocus {
                name,
                depth: *depth,
            }),
            effective: g.effective,
            environments: &g.env_names,
            clusters,
            nodes,
            edges,
        }
    }
}

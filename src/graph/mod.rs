//! The model as a graph for design review (`palisade graph`, docs/review.md):
//! namespaces and explicit pods as nested clusters; personas, apps, stores,
//! externals, `internet` and `kube` as nodes of distinct kinds; one edge per
//! (subject, target, kind of access) labelled with its access items.
//!
//! [`ReviewGraph::build`] turns a resolved [`Model`] into a [`ReviewGraph`]
//! in time linear in the model (one pass over the grants, a breadth-first
//! search for `--focus`). The renderers read only that graph:
//! [`dot()`] (Graphviz), [`mermaid()`] (Mermaid flowcharts, for Markdown
//! reports that GitHub and GitLab render) and [`json()`] (schema version 1,
//! docs/review.md). Output is deterministic: declaration order, then
//! statement order.
//!
//! The pictures ([`dot()`], [`mermaid()`]) draw one simplification that the
//! JSON does not make (see [`Drawing`]): when a subject has the same access
//! to every app of a namespace (`allow sre -> *: logs`), that access is one
//! edge to an `every app` node in the namespace's cluster, instead of one
//! edge per app.
//!
//! `--effective` adds [`Widened`] edges: access that the generated objects
//! give beyond the model, each with its cause. The graph does not compute
//! them; the caller passes them in [`GraphOptions::widened`].

pub mod dot;
pub mod json;
pub mod mermaid;

pub use dot::dot;
pub use json::json;
pub use mermaid::mermaid;

use crate::model::Entity;
use crate::model::{Access, Classification, EnvId, Model, NsId, PodId, StoreLocation};
use std::collections::{HashMap, VecDeque};

/// What to draw.
#[derive(Clone, Debug, Default)]
pub struct GraphOptions {
    /// Only the grants that apply in this environment. `None`: every grant;
    /// access limited to some environments is labelled `in ENV`.
    pub env: Option<EnvId>,
    /// Cut the graph down to one neighbourhood (`--focus NAME --depth N`).
    pub focus: Option<Focus>,
    /// `--effective`: access that the generated objects give beyond the
    /// model, drawn apart with its cause. `None`: not asked for.
    pub widened: Option<Vec<Widened>>,
}

/// One access that Kubernetes grants beyond the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widened {
    pub from: Entity,
    pub to: Entity,
    /// What is widened, in the model's words (`logs`, `admin`, `http`,
    /// `postgres` for a connection to a store's port).
    pub access: String,
    /// Why, in full: the mechanism and the object that admits it, e.g.
    /// ``exec into `api`, whose container mounts main-db-write``.
    pub causes: Vec<String>,
    /// The environments where it exists; `None`: all.
    pub envs: Option<Vec<EnvId>>,
}

/// The widened edges of a checked model, from the access view
/// ([`crate::view`]) of every environment, or of `env` alone.
/// Edges to the ingress controller (not a model entity) are left out.
pub fn widened(model: &Model, view: &crate::view::AccessView, env: Option<EnvId>) -> Vec<Widened> {
    use crate::view::{kind_text, GNode};
    let mut out = Vec::new();
    for ev in &view.envs {
        if env.is_some() && ev.env != env {
            continue;
        }
        for e in &ev.edges {
            let (Some(w), GNode::E(from), GNode::E(to)) = (&e.widened, e.from, e.to) else {
                continue;
            };
            out.push(Widened {
                from,
                to,
                access: kind_text(model, e.to, &w.undeclared),
                causes: w.causes.clone(),
                envs: ev.env.map(|e| vec![e]),
            });
        }
    }
    out
}

/// `s` on one line (newlines and tabs become spaces) with the characters
/// `escape` names replaced: each output format has its own table.
fn one_line(s: &str, escape: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match (c, escape(c)) {
            (_, Some(e)) => out.push_str(e),
            ('\n' | '\r' | '\t', None) => out.push(' '),
            (c, None) => out.push(c),
        }
    }
    out
}

/// A cause as a picture's label shows it: the mechanism without the
/// evaluator's detail (the RoleBinding and rule, the policy), which stays
/// in the JSON and in DOT's edge tooltips. ``exec into `api`, whose
/// container mounts main-db-write`` → `exec into api`; ``... reaches every
/// pod of namespace `product` (RBAC cannot name pods): RoleBinding ...`` →
/// `namespace-wide RBAC in product`; ``shares pod `etl-pod` with `etl` ...``
/// → `shares pod etl-pod`.
pub fn short_cause(cause: &str) -> String {
    let plain = cause.replace('`', "");
    let head = plain.split(": ").next().unwrap_or(&plain).trim();
    const WIDE: &str = "reaches every pod of namespace ";
    if let Some(i) = head.find(WIDE) {
        let ns = head[i + WIDE.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        return format!("namespace-wide RBAC in {ns}");
    }
    if let Some(rest) = head.strip_prefix("exec into ") {
        let who = rest.split([',', '(']).next().unwrap_or(rest).trim();
        return format!("exec into {who}");
    }
    const EGRESS: &str = "NetworkPolicies admit egress to ";
    if let Some(i) = head.find(EGRESS) {
        let to = &head[i + EGRESS.len()..];
        let to = to.split(" on ").next().unwrap_or(to);
        if to.contains(" except ") {
            // `(0.0.0.0/0 except …), (::/0 except …)` (IpSet::describe):
            // the whole families, then "with exceptions".
            let wholes: Vec<&str> = (to.split(['(', ' ', ',']))
                .filter(|w| w.ends_with("/0"))
                .collect();
            return format!("egress rule to {}, with exceptions", wholes.join(", "));
        }
        let ranges: Vec<&str> = to.split(", ").collect();
        return match ranges.len() {
            1 | 2 => format!("egress rule to {}", ranges.join(", ")),
            n => format!("egress rule to {n} address ranges"),
        };
    }
    if let Some(rest) = head.strip_prefix("shares pod ") {
        let pod = rest.split_whitespace().next().unwrap_or(rest);
        return format!("shares pod {}", pod.trim_end_matches(','));
    }
    match head.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &head[..i]),
        None => head.to_string(),
    }
}

/// Where `--focus` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FocusTarget {
    Entity(Entity),
    /// Every app of an explicit `pod`.
    Pod(PodId),
    /// Every app and in-cluster store of a namespace.
    Namespace(NsId),
}

/// `--focus NAME --depth N`: the named thing and everything within `depth`
/// edges of it, in either direction, with their enclosing clusters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Focus {
    pub target: FocusTarget,
    pub depth: usize,
}

/// Why `--focus NAME` names nothing to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FocusError {
    /// The model declares nothing of that name.
    Unknown {
        name: String,
        /// The closest declared name, if one is close enough to be a typo.
        suggestion: Option<String>,
    },
    /// `internet` or `kube`, which no statement of the model names.
    Unused(&'static str),
}

impl FocusError {
    /// What to do about it, for a `help:` line.
    pub fn help(&self) -> String {
        match self {
            FocusError::Unknown {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            FocusError::Unknown { .. } => "`--focus` takes the name of a persona, app, store, \
                 external, pod or namespace"
                .into(),
            FocusError::Unused(_) => "draw the whole model, or focus on something else".into(),
        }
    }
}

impl std::fmt::Display for FocusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FocusError::Unknown { name, .. } => write!(
                f,
                "the model declares no persona, app, store, external, pod or namespace `{name}`"
            ),
            FocusError::Unused(name) => write!(
                f,
                "no statement of the model names `{name}`: there is nothing around it to draw"
            ),
        }
    }
}

impl std::error::Error for FocusError {}

impl Focus {
    /// Looks `name` up: an entity (including `internet` and `kube`), then a
    /// pod, then a namespace (namespaces have names of their own).
    pub fn resolve(model: &Model, name: &str, depth: usize) -> Result<Focus, FocusError> {
        let builtin = |e: Entity, name: &'static str| match (model.grants.iter())
            .any(|g| g.subject == e || g.target == e)
        {
            true => Ok(Some(FocusTarget::Entity(e))),
            false => Err(FocusError::Unused(name)),
        };
        let target = if let Some(e) = model.lookup(name) {
            Some(FocusTarget::Entity(e))
        } else if name == "internet" {
            builtin(Entity::Internet, "internet")?
        } else if name == "kube" {
            builtin(Entity::Kube, "kube")?
        } else if let Some(i) = model.pods.iter().position(|p| p.explicit && p.name == name) {
            Some(FocusTarget::Pod(PodId(i as u32)))
        } else {
            (model.namespaces.iter().position(|n| n.name == name))
                .map(|i| FocusTarget::Namespace(NsId(i as u32)))
        };
        match target {
            Some(target) => Ok(Focus { target, depth }),
            None => {
                let candidates = (model.personas.iter().map(|p| p.name.as_str()))
                    .chain(model.apps.iter().map(|a| a.name.as_str()))
                    .chain(model.stores.iter().map(|s| s.name.as_str()))
                    .chain(model.externals.iter().map(|x| x.name.as_str()))
                    .chain(
                        model
                            .pods
                            .iter()
                            .filter(|p| p.explicit)
                            .map(|p| p.name.as_str()),
                    )
                    .chain(model.namespaces.iter().map(|n| n.name.as_str()))
                    .chain(["internet", "kube"]);
                Err(FocusError::Unknown {
                    name: name.to_string(),
                    suggestion: crate::suggest::closest(name, candidates).map(str::to_string),
                })
            }
        }
    }
}

/// What a node is; each kind is drawn in its own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `external`: comes in from outside the cluster.
    Persona {
        external: bool,
    },
    App,
    Store {
        classification: Classification,
    },
    External,
    Internet,
    Kube,
}

impl NodeKind {
    /// The kind as JSON and ids spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Persona { .. } => "persona",
            NodeKind::App => "app",
            NodeKind::Store { .. } => "store",
            NodeKind::External => "external",
            NodeKind::Internet => "internet",
            NodeKind::Kube => "kube",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub entity: Entity,
    pub kind: NodeKind,
    pub name: String,
    pub description: Option<String>,
    /// A short second line: a store's engine and classification, an
    /// external's or out-of-cluster store's addresses.
    pub detail: Option<String>,
    /// The innermost cluster that holds it (index into `clusters`).
    pub cluster: Option<usize>,
}

impl Node {
    /// `app:web`: unique in a graph; the JSON id.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterKind {
    Namespace,
    /// An explicit `pod` (apps that share one pod).
    Pod,
}

impl ClusterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterKind::Namespace => "namespace",
            ClusterKind::Pod => "pod",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub kind: ClusterKind,
    pub name: String,
    pub description: Option<String>,
    /// The enclosing cluster (a pod's namespace).
    pub parent: Option<usize>,
}

impl Cluster {
    /// `namespace:product`, `pod:etl-pod`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.name)
    }
}

/// What kind of access an edge carries; each is drawn in its own colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// Network connections to ports (app → app/external/internet, persona →
    /// app through the ingress).
    Network,
    /// Store credentials (and, for apps, the connection to the store).
    Data,
    /// Kubernetes API operations of a persona on an app's workload.
    Operation,
    /// An app's ServiceAccount calling the Kubernetes API.
    Kube,
    /// Access the generated objects give beyond the model (`--effective`).
    Widened,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Network => "network",
            EdgeKind::Data => "data",
            EdgeKind::Operation => "operation",
            EdgeKind::Kube => "kube",
            EdgeKind::Widened => "widened",
        }
    }

    fn of(access: &Access) -> EdgeKind {
        match access {
            Access::Port { .. } => EdgeKind::Network,
            Access::Data(_) => EdgeKind::Data,
            Access::Op(_) => EdgeKind::Operation,
            Access::Kube(_) => EdgeKind::Kube,
        }
    }
}

/// One access item on an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessItem {
    /// As written in a model: `http`, `read`, `create jobs.batch`.
    pub text: String,
    /// The environments it applies in; `None`: all (or the one drawn).
    pub envs: Option<Vec<EnvId>>,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// In statement order, each access once.
    pub access: Vec<AccessItem>,
    /// Widened edges: why, one cause per distinct cause.
    pub causes: Vec<String>,
}

/// The graph the renderers draw.
#[derive(Clone, Debug)]
pub struct ReviewGraph {
    pub system: String,
    pub description: Option<String>,
    /// The environment drawn (`--env`), by name.
    pub env: Option<String>,
    /// Every environment's name, indexed by `EnvId`.
    pub env_names: Vec<String>,
    pub focus: Option<(String, usize)>,
    pub effective: bool,
    pub clusters: Vec<Cluster>,
    /// Personas, then in-cluster apps and stores by namespace, then
    /// out-of-cluster stores, externals, `internet` and `kube`.
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl ReviewGraph {
    /// The graph of `model` as `opts` ask, in time linear in the model.
    pub fn build(model: &Model, opts: &GraphOptions) -> ReviewGraph {
        let mut g = ReviewGraph {
            system: model.system.name.clone(),
            description: model.system.description.clone(),
            env: opts
                .env
                .and_then(|e| model.environments.get(e.index()))
                .map(|e| e.name.clone()),
            env_names: model.environments.iter().map(|e| e.name.clone()).collect(),
            focus: opts.focus.map(|f| (focus_name(model, f.target), f.depth)),
            effective: opts.widened.is_some(),
            clusters: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let mut index: HashMap<Entity, usize> = HashMap::new();
        g.nodes_and_clusters(model, &mut index);

        // Edges: one per (subject, target, kind), items merged.
        let mut edge_of: HashMap<(usize, usize, EdgeKind), usize> = HashMap::new();
        let all_envs = model.environments.len();
        for grant in &model.grants {
            if opts.env.is_some() && !model.grant_applies(grant, opts.env) {
                continue;
            }
            let from = g.node_index(&mut index, grant.subject);
            let to = g.node_index(&mut index, grant.target);
            let kind = EdgeKind::of(&grant.access);
            let e = *edge_of.entry((from, to, kind)).or_insert_with(|| {
                g.edges.push(Edge {
                    from,
                    to,
                    kind,
                    access: Vec::new(),
                    causes: Vec::new(),
                });
                g.edges.len() - 1
            });
            let envs = match opts.env {
                Some(_) => None,
                None => grant.envs.clone(),
            };
            add_item(
                &mut g.edges[e].access,
                grant.access.to_string(),
                envs,
                all_envs,
            );
        }
        for w in opts.widened.iter().flatten() {
            let envs = match opts.env {
                Some(_) => None,
                None => w.envs.clone(),
            };
            let from = g.node_index(&mut index, w.from);
            let to = g.node_index(&mut index, w.to);
            let e = *edge_of
                .entry((from, to, EdgeKind::Widened))
                .or_insert_with(|| {
                    g.edges.push(Edge {
                        from,
                        to,
                        kind: EdgeKind::Widened,
                        access: Vec::new(),
                        causes: Vec::new(),
                    });
                    g.edges.len() - 1
                });
            let edge = &mut g.edges[e];
            add_item(&mut edge.access, w.access.clone(), envs, all_envs);
            for c in &w.causes {
                if !edge.causes.contains(c) {
                    edge.causes.push(c.clone());
                }
            }
        }
        if let Some(focus) = opts.focus {
            g.cut_to(model, &index, focus);
        }
        g
    }

    /// Every declared persona, app, store and external; clusters for every
    /// namespace and explicit pod. `internet` and `kube` are added when an
    /// edge needs them.
    fn nodes_and_clusters(&mut self, model: &Model, index: &mut HashMap<Entity, usize>) {
        for (i, p) in model.personas.iter().enumerate() {
            index.insert(
                Entity::Persona(crate::model::PersonaId(i as u32)),
                self.nodes.len(),
            );
            self.nodes.push(Node {
                entity: Entity::Persona(crate::model::PersonaId(i as u32)),
                kind: NodeKind::Persona {
                    external: p.external,
                },
                name: p.name.clone(),
                description: p.description.clone(),
                detail: None,
                cluster: None,
            });
        }
        // Namespaces, each with its pods, apps and stores.
        let mut ns_cluster = Vec::with_capacity(model.namespaces.len());
        for ns in &model.namespaces {
            ns_cluster.push(self.clusters.len());
            self.clusters.push(Cluster {
                kind: ClusterKind::Namespace,
                name: ns.name.clone(),
                description: ns.description.clone(),
                parent: None,
            });
        }
        let mut pod_cluster: Vec<Option<usize>> = vec![None; model.pods.len()];
        for (i, pod) in model.pods.iter().enumerate() {
            if pod.explicit {
                pod_cluster[i] = Some(self.clusters.len());
                self.clusters.push(Cluster {
                    kind: ClusterKind::Pod,
                    name: pod.name.clone(),
                    description: None,
                    parent: Some(ns_cluster[pod.namespace.index()]),
                });
            }
        }
        // Apps and in-cluster stores grouped by namespace (a counting sort:
        // linear), in declaration order within each.
        let mut members: Vec<Vec<Entity>> = vec![Vec::new(); model.namespaces.len()];
        for (i, app) in model.apps.iter().enumerate() {
            members[app.namespace.index()].push(Entity::App(crate::model::AppId(i as u32)));
        }
        for (i, store) in model.stores.iter().enumerate() {
            if let StoreLocation::InCluster(ns) = store.location {
                members[ns.index()].push(Entity::Store(crate::model::StoreId(i as u32)));
            }
        }
        for (ns, list) in members.iter().enumerate() {
            for &e in list {
                let cluster = match e {
                    Entity::App(a) => {
                        pod_cluster[model.apps[a.index()].pod.index()].unwrap_or(ns_cluster[ns])
                    }
                    _ => ns_cluster[ns],
                };
                let node = self.entity_node(model, e, Some(cluster));
                index.insert(e, self.nodes.len());
                self.nodes.push(node);
            }
        }
        for (i, store) in model.stores.iter().enumerate() {
            if let StoreLocation::Outside(_) = store.location {
                let e = Entity::Store(crate::model::StoreId(i as u32));
                let node = self.entity_node(model, e, None);
                index.insert(e, self.nodes.len());
                self.nodes.push(node);
            }
        }
        for i in 0..model.externals.len() {
            let e = Entity::External(crate::model::ExternalId(i as u32));
            let node = self.entity_node(model, e, None);
            index.insert(e, self.nodes.len());
            self.nodes.push(node);
        }
    }

    fn entity_node(&self, model: &Model, e: Entity, cluster: Option<usize>) -> Node {
        let (kind, description, detail) = match e {
            Entity::Persona(p) => {
                let p = &model.personas[p.index()];
                (
                    NodeKind::Persona {
                        external: p.external,
                    },
                    p.description.clone(),
                    None,
                )
            }
            Entity::App(a) => (
                NodeKind::App,
                model.apps[a.index()].description.clone(),
                None,
            ),
            Entity::Store(s) => {
                let s = &model.stores[s.index()];
                let mut detail = format!("{} · {}", s.engine.as_str(), s.classification.as_str());
                if let StoreLocation::Outside(cidrs) = &s.location {
                    detail.push_str(" · ");
                    detail.push_str(&join_cidrs(cidrs));
                }
                (
                    NodeKind::Store {
                        classification: s.classification,
                    },
                    s.description.clone(),
                    Some(detail),
                )
            }
            Entity::External(x) => {
                let x = &model.externals[x.index()];
                (
                    NodeKind::External,
                    x.description.clone(),
                    Some(join_cidrs(&x.addresses)),
                )
            }
            Entity::Internet => (
                NodeKind::Internet,
                Some("anyone outside the cluster".into()),
                None,
            ),
            Entity::Kube => (NodeKind::Kube, Some("the Kubernetes API".into()), None),
        };
        Node {
            entity: e,
            kind,
            name: model.name_of(e).to_string(),
            description,
            detail,
            cluster,
        }
    }

    /// The node of `e`, added (for `internet` and `kube`) on first use.
    fn node_index(&mut self, index: &mut HashMap<Entity, usize>, e: Entity) -> usize {
        if let Some(&i) = index.get(&e) {
            return i;
        }
        let (kind, description) = match e {
            Entity::Internet => (NodeKind::Internet, "anyone outside the cluster"),
            _ => (NodeKind::Kube, "the Kubernetes API"),
        };
        let name = if kind == NodeKind::Internet {
            "internet"
        } else {
            "kube"
        };
        self.nodes.push(Node {
            entity: e,
            kind,
            name: name.into(),
            description: Some(description.into()),
            detail: None,
            cluster: None,
        });
        index.insert(e, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    /// Keeps the nodes within `focus.depth` edges of the focus (either
    /// direction), the edges that lead to them and the clusters that hold
    /// them.
    /// Node and edge order is kept. Breadth-first: linear in the graph.
    fn cut_to(&mut self, model: &Model, index: &HashMap<Entity, usize>, focus: Focus) {
        let n = self.nodes.len();
        let mut adjacent: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in &self.edges {
            adjacent[e.from].push(e.to);
            adjacent[e.to].push(e.from);
        }
        let starts: Vec<usize> = match focus.target {
            FocusTarget::Entity(e) => index.get(&e).copied().into_iter().collect(),
            FocusTarget::Pod(p) => (model.pods[p.index()].apps.iter())
                .filter_map(|&a| index.get(&Entity::App(a)).copied())
                .collect(),
            FocusTarget::Namespace(ns) => (0..n)
                .filter(|&i| match self.nodes[i].entity {
                    Entity::App(a) => model.apps[a.index()].namespace == ns,
                    Entity::Store(s) => {
                        model.stores[s.index()].location == StoreLocation::InCluster(ns)
                    }
                    _ => false,
                })
                .collect(),
        };
        let mut dist: Vec<Option<usize>> = vec![None; n];
        let mut queue = VecDeque::new();
        for s in starts {
            if dist[s].is_none() {
                dist[s] = Some(0);
                queue.push_back(s);
            }
        }
        while let Some(v) = queue.pop_front() {
            let d = dist[v].unwrap_or(0);
            if d >= focus.depth {
                continue;
            }
            for &w in &adjacent[v] {
                if dist[w].is_none() {
                    dist[w] = Some(d + 1);
                    queue.push_back(w);
                }
            }
        }
        // Renumber nodes, edges and clusters.
        let mut new_node = vec![usize::MAX; n];
        let mut nodes = Vec::new();
        for (i, node) in std::mem::take(&mut self.nodes).into_iter().enumerate() {
            if dist[i].is_some() {
                new_node[i] = nodes.len();
                nodes.push(node);
            }
        }
        // Edges between two nodes on the rim (both at exactly `depth`) are
        // not within `depth` of the focus: left out, so that a hub on the
        // rim (a deployer, a metrics scraper) does not bring its whole
        // fan-out in. Edges inside the focus itself (a namespace) stay.
        let depth = focus.depth;
        self.edges.retain(|e| match (dist[e.from], dist[e.to]) {
            (Some(a), Some(b)) => a.min(b) < depth || (a == 0 && b == 0),
            _ => false,
        });
        for e in &mut self.edges {
            e.from = new_node[e.from];
            e.to = new_node[e.to];
        }
        let mut used = vec![false; self.clusters.len()];
        for node in &nodes {
            let mut c = node.cluster;
            while let Some(i) = c {
                if used[i] {
                    break;
                }
                used[i] = true;
                c = self.clusters[i].parent;
            }
        }
        let mut new_cluster = vec![usize::MAX; self.clusters.len()];
        let mut clusters = Vec::new();
        for (i, mut c) in std::mem::take(&mut self.clusters).into_iter().enumerate() {
            if used[i] {
                new_cluster[i] = clusters.len();
                c.parent = c.parent.map(|p| new_cluster[p]);
                clusters.push(c);
            }
        }
        for node in &mut nodes {
            node.cluster = node.cluster.map(|c| new_cluster[c]);
        }
        self.nodes = nodes;
        self.clusters = clusters;
    }

    /// The namespace cluster a node lies in (through its pod cluster).
    pub fn namespace_of(&self, node: usize) -> Option<usize> {
        let mut c = self.nodes[node].cluster?;
        while let Some(p) = self.clusters[c].parent {
            c = p;
        }
        Some(c)
    }

    /// An edge's label, one line per set of environments: the items that
    /// apply everywhere first, then `ITEMS in ENV, ENV` lines; `VERB RESOURCE`
    /// items with the same resource share it (`create, get jobs.batch`).
    pub fn label_lines(&self, items: &[AccessItem]) -> Vec<String> {
        let mut groups: Vec<(Option<&Vec<EnvId>>, Vec<&str>)> = Vec::new();
        for item in items {
            match groups.iter_mut().find(|(e, _)| *e == item.envs.as_ref()) {
                Some((_, list)) => list.push(&item.text),
                None => groups.push((item.envs.as_ref(), vec![&item.text])),
            }
        }
        groups.sort_by_key(|(e, _)| e.is_some());
        groups
            .into_iter()
            .map(|(envs, list)| {
                let mut line = join_verbs(&list);
                if let Some(envs) = envs {
                    let names: Vec<&str> = envs
                        .iter()
                        .filter_map(|e| self.env_names.get(e.index()).map(String::as_str))
                        .collect();
                    line.push_str(" in ");
                    line.push_str(&names.join(", "));
                }
                line
            })
            .collect()
    }

    /// The edges as the pictures draw them ([`Drawing`]).
    pub fn drawing(&self, model: &Model) -> Drawing {
        Drawing::new(self, model)
    }
}

/// `create jobs.batch, get jobs.batch` → `create, get jobs.batch`: items of
/// the form `VERB RESOURCE` that follow each other with the same resource
/// share it.
fn join_verbs(list: &[&str]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < list.len() {
        if !out.is_empty() {
            out.push_str(", ");
        }
        match list[i].split_once(' ') {
            Some((verb, resource)) => {
                out.push_str(verb);
                let mut j = i + 1;
                while let Some((v, r)) = list.get(j).and_then(|s| s.split_once(' ')) {
                    if r != resource {
                        break;
                    }
                    out.push_str(", ");
                    out.push_str(v);
                    j += 1;
                }
                out.push(' ');
                out.push_str(resource);
                i = j;
            }
            None => {
                out.push_str(list[i]);
                i += 1;
            }
        }
    }
    out
}

fn join_cidrs(cidrs: &[crate::model::Cidr]) -> String {
    let list: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
    list.join(", ")
}

/// Adds an access item, or widens the environments of the same item.
fn add_item(list: &mut Vec<AccessItem>, text: String, envs: Option<Vec<EnvId>>, all: usize) {
    match list.iter_mut().find(|i| i.text == text) {
        None => list.push(AccessItem { text, envs }),
        Some(item) => {
            item.envs = match (item.envs.take(), envs) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    a.sort_unstable();
                    a.dedup();
                    (a.len() < all).then_some(a)
                }
                _ => None,
            };
        }
    }
}

fn focus_name(model: &Model, target: FocusTarget) -> String {
    match target {
        FocusTarget::Entity(e) => model.name_of(e).to_string(),
        FocusTarget::Pod(p) => model.pods[p.index()].name.clone(),
        FocusTarget::Namespace(ns) => model.namespace(ns).name.clone(),
    }
}

/// Where a drawn edge ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawTarget {
    Node(usize),
    /// Every app of a namespace cluster.
    Cluster(usize),
}

/// One edge as drawn.
#[derive(Clone, Debug)]
pub struct DrawEdge {
    pub from: usize,
    pub to: DrawTarget,
    pub kind: EdgeKind,
    pub lines: Vec<String>,
    /// Widened edges: every cause in full (DOT shows them as a tooltip).
    pub causes: Vec<String>,
}

/// The edges of a [`ReviewGraph`] as the pictures draw them: the same
/// edges, except that access a subject outside a namespace has to every app
/// of that namespace (two or more apps, all in view) is drawn once, to the
/// namespace's `every app` node; each app's edge keeps the rest
/// of its items, or goes when none is left. Widened edges are never merged.
#[derive(Clone, Debug)]
pub struct Drawing {
    pub edges: Vec<DrawEdge>,
}

impl Drawing {
    fn new(g: &ReviewGraph, model: &Model) -> Drawing {
        // Apps per namespace in the whole model and in view.
        let mut apps_in_model = vec![0usize; model.namespaces.len()];
        for app in &model.apps {
            apps_in_model[app.namespace.index()] += 1;
        }
        let mut ns_of_cluster: HashMap<usize, NsId> = HashMap::new();
        for (i, c) in g.clusters.iter().enumerate() {
            if c.kind == ClusterKind::Namespace {
                if let Some(ns) = model.namespaces.iter().position(|n| n.name == c.name) {
                    ns_of_cluster.insert(i, NsId(ns as u32));
                }
            }
        }
        // Candidate groups: (subject, kind, namespace cluster) → app edges.
        let mut groups: HashMap<(usize, EdgeKind, usize), Vec<usize>> = HashMap::new();
        for (i, e) in g.edges.iter().enumerate() {
            if e.kind == EdgeKind::Widened || g.nodes[e.to].kind != NodeKind::App {
                continue;
            }
            let Some(ns) = g.namespace_of(e.to) else {
                continue;
            };
            if g.namespace_of(e.from) == Some(ns) {
                continue;
            }
            groups.entry((e.from, e.kind, ns)).or_default().push(i);
        }
        // Which edges give some items to a namespace edge.
        let mut merged_into: HashMap<usize, (usize, Vec<AccessItem>)> = HashMap::new();
        for ((_, _, ns), list) in &groups {
            let Some(model_ns) = ns_of_cluster.get(ns) else {
                continue;
            };
            if list.len() < 2 || list.len() != apps_in_model[model_ns.index()] {
                continue;
            }
            let first = &g.edges[list[0]].access;
            let common: Vec<AccessItem> = (first.iter())
                .filter(|item| list[1..].iter().all(|&e| g.edges[e].access.contains(item)))
                .cloned()
                .collect();
            if common.is_empty() {
                continue;
            }
            for &e in list {
                merged_into.insert(e, (list[0], common.clone()));
            }
        }
        let mut edges = Vec::with_capacity(g.edges.len());
        for (i, e) in g.edges.iter().enumerate() {
            match merged_into.get(&i) {
                None => edges.push(DrawEdge {
                    from: e.from,
                    to: DrawTarget::Node(e.to),
                    kind: e.kind,
                    lines: edge_lines(g, e),
                    causes: e.causes.clone(),
                }),
                Some((first, common)) => {
                    if *first == i {
                        let ns = g.namespace_of(e.to).unwrap_or_default();
                        let lines = g.label_lines(common);
                        edges.push(DrawEdge {
                            from: e.from,
                            to: DrawTarget::Cluster(ns),
                            kind: e.kind,
                            lines,
                            causes: Vec::new(),
                        });
                    }
                    let rest: Vec<AccessItem> = (e.access.iter())
                        .filter(|item| !common.contains(item))
                        .cloned()
                        .collect();
                    if !rest.is_empty() {
                        edges.push(DrawEdge {
                            from: e.from,
                            to: DrawTarget::Node(e.to),
                            kind: e.kind,
                            lines: g.label_lines(&rest),
                            causes: Vec::new(),
                        });
                    }
                }
            }
        }
        Drawing { edges }
    }
}

/// An edge's label lines; a widened edge's causes, shortened
/// ([`short_cause`]), follow its access, one `via` line each.
fn edge_lines(g: &ReviewGraph, e: &Edge) -> Vec<String> {
    let mut lines = g.label_lines(&e.access);
    let mut short: Vec<String> = Vec::new();
    for c in &e.causes {
        let s = short_cause(c);
        if !short.contains(&s) {
            short.push(s);
        }
    }
    lines.extend(short.into_iter().map(|s| format!("via {s}")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        let c = crate::compile_str("t.sec", text);
        assert!(!c.has_errors(), "{:?}", c.diagnostics.iter().next());
        c.model
    }

    const SHOP: &str = r#"
        system shop
        platform { ingress = { namespace = "ingress", pods = { app = "nginx" } }
                   api_server = { address = "10.0.0.1/32" } }
        environment dev
        environment prod
        namespace web
        namespace data
        persona dev { group = "devs" }
        persona customer { external }
        app front in web { image = "i:1" ports = { http = 8080 } }
        app api in web { image = "i:1" ports = { http = 9000 } }
        app side in web { image = "i:1" }
        pod api-pod = [api, side]
        store db in data { engine = postgres classification = restricted }
        allow customer -> front: http
        allow front -> api: http
        allow api -> db: read, write
        allow api -> kube: create jobs.batch, get jobs.batch
        allow dev -> [front, api, side]: logs in prod
        allow dev -> [front, api, side]: logs, exec in dev
    "#;

    #[test]
    fn edges_merge_items_and_environments() {
        let m = model(SHOP);
        let g = ReviewGraph::build(&m, &GraphOptions::default());
        let labels: Vec<(String, String, Vec<String>)> = (g.edges.iter())
            .map(|e| {
                (
                    g.nodes[e.from].name.clone(),
                    g.nodes[e.to].name.clone(),
                    g.label_lines(&e.access),
                )
            })
            .collect();
        let get = |a: &str, b: &str| {
            labels
                .iter()
                .find(|(x, y, _)| x == a && y == b)
                .map(|(_, _, l)| l.join(" / "))
        };
        assert_eq!(get("api", "db").as_deref(), Some("read, write"));
        assert_eq!(
            get("api", "kube").as_deref(),
            Some("create, get jobs.batch")
        );
        // logs in prod ∪ logs in dev = logs everywhere.
        assert_eq!(get("dev", "front").as_deref(), Some("logs / exec in dev"));
        assert_eq!(g.nodes.iter().filter(|n| n.name == "kube").count(), 1);
        assert!(g.nodes.iter().all(|n| n.kind != NodeKind::Internet));
    }

    #[test]
    fn env_filters_grants() {
        let m = model(SHOP);
        let prod = Some(EnvId(1));
        let g = ReviewGraph::build(
            &m,
            &GraphOptions {
                env: prod,
                ..Default::default()
            },
        );
        let dev_front = (g.edges.iter())
            .find(|e| g.nodes[e.from].name == "dev" && g.nodes[e.to].name == "front")
            .unwrap();
        assert_eq!(g.label_lines(&dev_front.access), vec!["logs"]);
        assert_eq!(g.env.as_deref(), Some("prod"));
    }

    #[test]
    fn focus_cuts_to_the_neighbourhood() {
        let m = model(SHOP);
        let focus = Focus::resolve(&m, "db", 1).unwrap();
        let g = ReviewGraph::build(
            &m,
            &GraphOptions {
                focus: Some(focus),
                ..Default::default()
            },
        );
        let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["api", "db"]);
        assert_eq!(g.edges.len(), 1);
        // api's pod and both namespaces stay, renumbered.
        let clusters: Vec<String> = g.clusters.iter().map(Cluster::id).collect();
        assert_eq!(clusters, ["namespace:web", "namespace:data", "pod:api-pod"]);
        assert_eq!(g.clusters[2].parent, Some(0));
        let focus = Focus::resolve(&m, "db", 2).unwrap();
        let g = ReviewGraph::build(
            &m,
            &GraphOptions {
                focus: Some(focus),
                ..Default::default()
            },
        );
        assert_eq!(g.nodes.len(), 5); // + dev, front, kube
                                      // front -> api and dev -> api lead to the rim; nothing runs along it.
        let ends = |e: &Edge| (g.nodes[e.from].name.as_str(), g.nodes[e.to].name.as_str());
        let edges: Vec<(&str, &str)> = g.edges.iter().map(ends).collect();
        assert_eq!(
            edges,
            [
                ("front", "api"),
                ("api", "db"),
                ("api", "kube"),
                ("dev", "api")
            ]
        );
        let err = Focus::resolve(&m, "dbb", 1).unwrap_err();
        assert_eq!(err.help(), "did you mean `db`?");
        assert!(matches!(
            Focus::resolve(&m, "zzzzzz", 1),
            Err(FocusError::Unknown {
                suggestion: None,
                ..
            })
        ));
        assert!(Focus::resolve(&m, "kube", 1).is_ok());
        assert_eq!(
            Focus::resolve(&m, "internet", 1),
            Err(FocusError::Unused("internet"))
        );
        assert!(matches!(
            Focus::resolve(&m, "data", 0).unwrap().target,
            FocusTarget::Namespace(_)
        ));
    }

    #[test]
    fn causes_are_shortened_for_pictures() {
        let cases = [
            ("exec into `api`, whose container mounts main-db-write", "exec into api"),
            ("exec into `web`, which may connect to `api` on TCP/8080", "exec into web"),
            (
                "exec into pod `indexer-pod` (indexer, indexer-exporter), which may connect to x",
                "exec into pod indexer-pod",
            ),
            (
                "exec into pod `indexer-pod`, whose container `indexer` mounts feed-read",
                "exec into pod indexer-pod",
            ),
            (
                "its pod's NetworkPolicies admit egress to 203.0.113.0/24 on TCP/443",
                "egress rule to 203.0.113.0/24",
            ),
            (
                "its pod's NetworkPolicies admit egress to 0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8 on TCP/443",
                "egress rule to 3 address ranges",
            ),
            (
                "its pod's NetworkPolicies admit egress to (0.0.0.0/0 except 10.0.0.0/8, 169.254.0.0/16), (::/0 except fc00::/7) on TCP/443",
                "egress rule to 0.0.0.0/0, ::/0, with exceptions",
            ),
            (
                "exec into the store's own pods: RoleBinding \"a/b\" of Role \"c\"",
                "exec into the store's own pods",
            ),
            (
                "`view` on `web`, `api` reaches every pod of namespace `product` (RBAC cannot name pods): RoleBinding",
                "namespace-wide RBAC in product",
            ),
            ("shares pod `etl-pod` with `etl` (one network identity)", "shares pod etl-pod"),
            (
                "shares pod `p`, on which `exec` is granted: RoleBinding",
                "shares pod p",
            ),
        ];
        for (cause, short) in cases {
            assert_eq!(short_cause(cause), short, "{cause}");
        }
        let long = "x".repeat(80);
        assert_eq!(short_cause(&long).chars().count(), 61);
    }

    #[test]
    fn widened_edges_merge_and_keep_their_environments() {
        let m = model(SHOP);
        let w = |access: &str, env: u32| Widened {
            from: m.lookup("dev").unwrap(),
            to: m.lookup("db").unwrap(),
            access: access.into(),
            causes: vec![format!(
                "exec into `api`, whose container mounts db-{access}"
            )],
            envs: Some(vec![EnvId(env)]),
        };
        let opts = GraphOptions {
            widened: Some(vec![w("admin", 0), w("view", 0), w("view", 1)]),
            ..Default::default()
        };
        let g = ReviewGraph::build(&m, &opts);
        assert!(g.effective);
        let e = g
            .edges
            .iter()
            .find(|e| e.kind == EdgeKind::Widened)
            .unwrap();
        assert_eq!(g.label_lines(&e.access), ["view", "admin in dev"]);
        assert_eq!(e.causes.len(), 2);
        let d = g.drawing(&m);
        let drawn = d
            .edges
            .iter()
            .find(|e| e.kind == EdgeKind::Widened)
            .unwrap();
        assert_eq!(drawn.lines, ["view", "admin in dev", "via exec into api"]);
    }

    #[test]
    fn access_to_every_app_of_a_namespace_is_drawn_once() {
        let m = model(SHOP);
        let g = ReviewGraph::build(&m, &GraphOptions::default());
        let d = g.drawing(&m);
        let dev: Vec<&DrawEdge> = (d.edges.iter())
            .filter(|e| g.nodes[e.from].name == "dev")
            .collect();
        assert_eq!(dev.len(), 1, "{dev:?}");
        assert_eq!(dev[0].to, DrawTarget::Cluster(0));
        assert_eq!(dev[0].lines, ["logs", "exec in dev"]);
    }
}

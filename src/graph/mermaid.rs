//! Mermaid flowcharts: what `palisade review` embeds in Markdown, where
//! GitHub and GitLab render it.
//!
//! Ids are the kind and the name with every character but ASCII letters,
//! digits and `_` replaced by `_` (`a_main_db`; the prefix keeps Mermaid's
//! keywords such as `end` from ever being an id), made unique with a
//! numeric suffix. Every label is quoted, with `"`, `#`, `<`, `>`, `&` and
//! backticks written as Mermaid entity codes. Shapes: personas are
//! stadiums, apps rounded boxes, stores cylinders, externals hexagons,
//! `internet` a circle and `kube` a subroutine box. Widened edges are dotted
//! (`-.->`) and red.
//!
//! Mermaid refuses diagrams over 500 edges or 50,000 characters by default:
//! for a large model, draw one neighbourhood ([`super::Focus`]).

use super::{ClusterKind, DrawTarget, EdgeKind, GraphOptions, NodeKind, ReviewGraph};
use crate::model::Model;
use std::collections::HashSet;
use std::fmt::Write;

/// The model as a Mermaid flowchart (the text of a ```` ```mermaid ```` block).
///
/// ```
/// let c = palisade::compile_str("shop.sec", r#"
///     system shop
///     namespace web
///     app front in web { image = "ghcr.io/acme/front:1.0" ports = { http = 8080 } }
///     app api in web { image = "ghcr.io/acme/api:1.0" ports = { http = 9000 } }
///     allow front -> api: http
/// "#);
/// let text = palisade::graph::mermaid(&c.model, &Default::default());
/// assert!(text.starts_with("flowchart LR\n"));
/// assert!(text.contains(r#"a_front -->|"http"| a_api"#));
/// ```
/// Mermaid's default limits (GitHub keeps them): diagrams over these do not
/// render.
pub const MAX_EDGES: usize = 500;
pub const MAX_TEXT: usize = 50_000;

/// `Err((edges, characters))` when `text` (a rendered diagram) is over
/// Mermaid's default limits.
pub fn within_limits(text: &str) -> Result<(), (usize, usize)> {
    // Labels escape `>`, so only edges contain `-->|` or `-.->|`.
    let edges = (text.lines())
        .filter(|l| l.contains(" -->|") || l.contains(" -.->|"))
        .count();
    match edges > MAX_EDGES || text.len() > MAX_TEXT {
        true => Err((edges, text.len())),
        false => Ok(()),
    }
}

pub fn mermaid(model: &Model, opts: &GraphOptions) -> String {
    render(&ReviewGraph::build(model, opts), model)
}

/// A built graph as a Mermaid flowchart.
pub fn render(g: &ReviewGraph, model: &Model) -> String {
    let drawing = g.drawing(model);
    let mut used = HashSet::new();
    let node_ids: Vec<String> = (g.nodes.iter())
        .map(|n| unique(&mut used, prefix(n.kind), &n.name))
        .collect();
    let cluster_ids: Vec<String> = (g.clusters.iter())
        .map(|c| {
            let p = match c.kind {
                ClusterKind::Namespace => "ns",
                ClusterKind::Pod => "pod",
            };
            unique(&mut used, p, &c.name)
        })
        .collect();
    // The `every app` node of each namespace that an edge points at.
    let mut every: Vec<Option<String>> = vec![None; g.clusters.len()];
    for e in &drawing.edges {
        if let DrawTarget::Cluster(c) = e.to {
            if every[c].is_none() {
                every[c] = Some(unique(&mut used, "every", &g.clusters[c].name));
            }
        }
    }

    let mut out = String::with_capacity(64 + 80 * (g.nodes.len() + drawing.edges.len()));
    out.push_str("flowchart LR\n");
    let mut title = g.system.clone();
    if let Some(d) = &g.description {
        title.push_str(": ");
        title.push_str(d);
    }
    // A comment: no `%%` inside, no line breaks.
    let _ = writeln!(
        out,
        "  %% {}",
        title.replace('%', " ").replace(['\n', '\r'], " ")
    );

    let mut children: Vec<Vec<usize>> = vec![Vec::new(); g.clusters.len()];
    let mut sub: Vec<Vec<usize>> = vec![Vec::new(); g.clusters.len()];
    for (i, c) in g.clusters.iter().enumerate() {
        if let Some(p) = c.parent {
            sub[p].push(i);
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        match n.cluster {
            Some(c) => children[c].push(i),
            None if matches!(n.kind, NodeKind::Persona { .. }) => {
                node(&mut out, g, &node_ids, i, 1)
            }
            None => {}
        }
    }
    for (i, c) in g.clusters.iter().enumerate() {
        if c.parent.is_none() {
            let ids = Ids {
                nodes: &node_ids,
                clusters: &cluster_ids,
                every: &every,
            };
            subgraph(&mut out, g, &ids, &children, &sub, i, 1);
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        if n.cluster.is_none() && !matches!(n.kind, NodeKind::Persona { .. }) {
            node(&mut out, g, &node_ids, i, 1);
        }
    }

    // Edges, then one linkStyle per kind (links are numbered in order).
    let mut by_kind: Vec<(EdgeKind, Vec<usize>)> = Vec::new();
    for (i, e) in drawing.edges.iter().enumerate() {
        let to = match e.to {
            DrawTarget::Node(n) => &node_ids[n],
            DrawTarget::Cluster(c) => every[c].as_ref().unwrap_or(&cluster_ids[c]),
        };
        let arrow = match e.kind {
            EdgeKind::Widened => "-.->",
            _ => "-->",
        };
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{}\"| {to}",
            node_ids[e.from],
            text_lines(&e.lines)
        );
        match by_kind.iter_mut().find(|(k, _)| *k == e.kind) {
            Some((_, list)) => list.push(i),
            None => by_kind.push((e.kind, vec![i])),
        }
    }

    // Styles: node classes, cluster fills, edge colours.
    let classes: [(&str, &str); 13] = [
        ("persona", "fill:#dbe9fb,stroke:#5c7ea8"),
        ("externalPersona", "fill:#ffe3c2,stroke:#b07a3a"),
        ("app", "fill:#ffffff,stroke:#546e7a"),
        ("storePublic", "fill:#e3f4e4,stroke:#5b8a5e"),
        ("storeInternal", "fill:#eef1f3,stroke:#78909c"),
        ("storeConfidential", "fill:#fff1c6,stroke:#b39430"),
        ("storeRestricted", "fill:#fbd9d6,stroke:#b5524a"),
        ("external", "fill:#ece4f7,stroke:#7e6aa6"),
        ("internet", "fill:#eeeeee,stroke:#757575"),
        ("kube", "fill:#d4e0fb,stroke:#326ce5"),
        ("namespace", "fill:#f5f7fa,stroke:#90a4ae"),
        ("every", "fill:#f5f7fa,stroke:#78909c,stroke-dasharray:4 3"),
        ("pod", "fill:#ffffff,stroke:#78909c,stroke-dasharray:4 3"),
    ];
    let mut members: Vec<Vec<&str>> = vec![Vec::new(); classes.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        let class = match n.kind {
            NodeKind::Persona { external: false } => 0,
            NodeKind::Persona { external: true } => 1,
            NodeKind::App => 2,
            NodeKind::Store { classification } => 3 + classification as usize,
            NodeKind::External => 7,
            NodeKind::Internet => 8,
            NodeKind::Kube => 9,
        };
        members[class].push(&node_ids[i]);
    }
    for (i, c) in g.clusters.iter().enumerate() {
        match c.kind {
            ClusterKind::Namespace => members[10].push(&cluster_ids[i]),
            ClusterKind::Pod => members[12].push(&cluster_ids[i]),
        }
    }
    for id in every.iter().flatten() {
        members[11].push(id);
    }
    for ((name, style), list) in classes.iter().zip(&members) {
        if !list.is_empty() {
            let _ = writeln!(out, "  classDef {name} {style}");
            let _ = writeln!(out, "  class {} {name}", list.join(","));
        }
    }
    for (kind, list) in &by_kind {
        let (color, _) = super::dot::edge_style(*kind);
        let list: Vec<String> = list.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:{color},color:{color}",
            list.join(",")
        );
    }
    out
}

fn prefix(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Persona { .. } => "p",
        NodeKind::App => "a",
        NodeKind::Store { .. } => "s",
        NodeKind::External => "x",
        NodeKind::Internet => "internet",
        NodeKind::Kube => "kube",
    }
}

/// `PREFIX_NAME` with every character but `[A-Za-z0-9_]` as `_`; a numeric
/// suffix when that is taken (`a-b` and `a_b` are different names).
fn unique(used: &mut HashSet<String>, prefix: &str, name: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + name.len());
    id.push_str(prefix);
    if !matches!(prefix, "internet" | "kube") || name != prefix {
        id.push('_');
        id.extend(name.chars().map(|c| match c.is_ascii_alphanumeric() {
            true => c,
            false => '_',
        }));
    }
    if used.insert(id.clone()) {
        return id;
    }
    (2..)
        .map(|n| format!("{id}_{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .unwrap_or(id)
}

/// The Mermaid ids of nodes, clusters and `every app` nodes.
struct Ids<'a> {
    nodes: &'a [String],
    clusters: &'a [String],
    every: &'a [Option<String>],
}

fn subgraph(
    out: &mut String,
    g: &ReviewGraph,
    ids: &Ids,
    children: &[Vec<usize>],
    sub: &[Vec<usize>],
    c: usize,
    depth: usize,
) {
    let pad = "  ".repeat(depth);
    let cl = &g.clusters[c];
    let label = format!("{} {}", cl.kind.as_str(), cl.name);
    let _ = writeln!(
        out,
        "{pad}subgraph {}[\"{}\"]",
        ids.clusters[c],
        text(&label)
    );
    for &s in &sub[c] {
        subgraph(out, g, ids, children, sub, s, depth + 1);
    }
    if let Some(every) = &ids.every[c] {
        let _ = writeln!(out, "{pad}  {every}(\"<i>every app</i>\")");
    }
    for &n in &children[c] {
        node(out, g, ids.nodes, n, depth + 1);
    }
    let _ = writeln!(out, "{pad}end");
}

fn node(out: &mut String, g: &ReviewGraph, node_ids: &[String], i: usize, depth: usize) {
    let n = &g.nodes[i];
    let pad = "  ".repeat(depth);
    let mut label = text(&n.name);
    if let Some(d) = &n.detail {
        label.push_str("<br/><small>");
        label.push_str(&text(d));
        label.push_str("</small>");
    }
    let (open, close) = match n.kind {
        NodeKind::Persona { .. } => ("([", "])"),
        NodeKind::App => ("(", ")"),
        NodeKind::Store { .. } => ("[(", ")]"),
        NodeKind::External => ("{{", "}}"),
        NodeKind::Internet => ("((", "))"),
        NodeKind::Kube => ("[[", "]]"),
    };
    let _ = writeln!(out, "{pad}{}{open}\"{label}\"{close}", node_ids[i]);
}

/// Label lines joined with `<br/>`.
fn text_lines(lines: &[String]) -> String {
    let lines: Vec<String> = lines.iter().map(|l| text(l)).collect();
    lines.join("<br/>")
}

/// Text inside a quoted Mermaid label: the characters that Mermaid or its
/// HTML labels would read as syntax become entity codes.
pub fn text(s: &str) -> String {
    super::one_line(s, |c| match c {
        '"' => Some("#quot;"),
        '#' => Some("#35;"),
        '<' => Some("#lt;"),
        '>' => Some("#gt;"),
        '&' => Some("#amp;"),
        '`' => Some("#96;"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sanitized_and_unique() {
        let mut used = HashSet::new();
        assert_eq!(unique(&mut used, "a", "main-db"), "a_main_db");
        assert_eq!(unique(&mut used, "a", "main_db"), "a_main_db_2");
        assert_eq!(unique(&mut used, "a", "end"), "a_end");
        assert_eq!(unique(&mut used, "kube", "kube"), "kube");
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            text(r#"a "b" <i>#1 & `c`"#),
            "a #quot;b#quot; #lt;i#gt;#35;1 #amp; #96;c#96;"
        );
    }
}

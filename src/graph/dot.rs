//! Graphviz DOT: `palisade graph --format dot | dot -Tsvg > model.svg`.
//!
//! Left to right: personas, then the namespaces (clusters, with explicit
//! pods as dashed clusters inside), then what is outside the cluster.
//! Node labels are HTML-like labels (escaped as such), everything else is a
//! quoted string (escaped as one); ids are `"kind:name"`. Descriptions are
//! tooltips in SVG output.

use super::{ClusterKind, DrawTarget, EdgeKind, GraphOptions, NodeKind, ReviewGraph};
use crate::model::{Classification, Model};
use std::fmt::Write;

/// The model as a DOT digraph.
pub fn dot(model: &Model, opts: &GraphOptions) -> String {
    render(&ReviewGraph::build(model, opts), model)
}

/// A built graph as a DOT digraph.
pub fn render(g: &ReviewGraph, model: &Model) -> String {
    let drawing = g.drawing(model);
    let mut out = String::with_capacity(256 + 160 * (g.nodes.len() + drawing.edges.len()));
    let _ = writeln!(out, "digraph {} {{", quote(&g.system));
    out.push_str(
        "  graph [rankdir=LR, newrank=true, nodesep=0.25, ranksep=0.8, \
         fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, \
         margin=0.2, pad=0.2];\n",
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, margin=\"0.12,0.05\"];\n");
    out.push_str(
        "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7, color=\"#455a64\", \
         fontcolor=\"#37474f\"];\n",
    );
    let _ = writeln!(out, "  label=<{}>;", title(g, &drawing));

    // Nodes outside every cluster, by kind: personas first (leftmost).
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
            None if matches!(n.kind, NodeKind::Persona { .. }) => node(&mut out, g, i, 1),
            None => {}
        }
    }
    let mut every = vec![false; g.clusters.len()];
    for e in &drawing.edges {
        if let DrawTarget::Cluster(c) = e.to {
            every[c] = true;
        }
    }
    for (i, c) in g.clusters.iter().enumerate() {
        if c.parent.is_none() {
            cluster(&mut out, g, i, &children, &sub, &every, 1);
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        if n.cluster.is_none() && !matches!(n.kind, NodeKind::Persona { .. }) {
            node(&mut out, g, i, 1);
        }
    }

    for e in &drawing.edges {
        let from = g.nodes[e.from].id();
        let (to, _) = match e.to {
            DrawTarget::Node(n) => (g.nodes[n].id(), None),
            DrawTarget::Cluster(c) => (every_id(g, c), None::<String>),
        };
        let (color, style) = edge_style(e.kind);
        let _ = write!(
            out,
            "  {} -> {} [label={}, color=\"{color}\", fontcolor=\"{color}\"",
            quote(&from),
            quote(&to),
            quote(&e.lines.join("\n"))
        );
        if let Some(style) = style {
            let _ = write!(out, ", style={style}, penwidth=1.4");
        }
        if !e.causes.is_empty() {
            let _ = write!(out, ", tooltip={}", quote(&e.causes.join("\n")));
        }
        out.push_str("];\n");
    }
    out.push_str("}\n");
    out
}

/// The node that stands for every app of a namespace cluster.
fn every_id(g: &ReviewGraph, c: usize) -> String {
    format!("every-app:{}", g.clusters[c].name)
}

fn cluster_id(g: &ReviewGraph, c: usize) -> String {
    format!("cluster_{}", g.clusters[c].id())
}

fn cluster(
    out: &mut String,
    g: &ReviewGraph,
    c: usize,
    children: &[Vec<usize>],
    sub: &[Vec<usize>],
    every: &[bool],
    depth: usize,
) {
    let pad = "  ".repeat(depth);
    let cl = &g.clusters[c];
    let _ = writeln!(out, "{pad}subgraph {} {{", quote(&cluster_id(g, c)));
    let mut label = format!("<B>{} {}</B>", cl.kind.as_str(), html(&cl.name));
    if let Some(d) = &cl.description {
        let _ = write!(label, "<BR/><FONT POINT-SIZE=\"9\">{}</FONT>", html(d));
    }
    let _ = writeln!(out, "{pad}  label=<{label}>;");
    match cl.kind {
        ClusterKind::Namespace => {
            let _ = writeln!(
                out,
                "{pad}  style=\"rounded,filled\"; fillcolor=\"#f5f7fa\"; color=\"#90a4ae\"; fontsize=11; margin=12;"
            );
        }
        ClusterKind::Pod => {
            let _ = writeln!(
                out,
                "{pad}  style=\"rounded,dashed\"; color=\"#78909c\"; fontsize=10;"
            );
        }
    }
    if let Some(d) = &cl.description {
        let _ = writeln!(out, "{pad}  tooltip={};", quote(d));
    }
    for &s in &sub[c] {
        cluster(out, g, s, children, sub, every, depth + 1);
    }
    if every[c] {
        let _ = writeln!(
            out,
            "{pad}  {} [label=<<I>every app</I>>, shape=box, style=\"rounded,dashed\", \
             color=\"#78909c\", fontcolor=\"#455a64\", fontsize=10, \
             tooltip={}];",
            quote(&every_id(g, c)),
            quote(&format!("every app in namespace {}", cl.name))
        );
    }
    for &n in &children[c] {
        node(out, g, n, depth + 1);
    }
    let _ = writeln!(out, "{pad}}}");
}

fn node(out: &mut String, g: &ReviewGraph, i: usize, depth: usize) {
    let n = &g.nodes[i];
    let pad = "  ".repeat(depth);
    let mut label = format!("<B>{}</B>", html(&n.name));
    if let Some(d) = &n.detail {
        let _ = write!(label, "<BR/><FONT POINT-SIZE=\"9\">{}</FONT>", html(d));
    }
    let (shape, style, fill) = match n.kind {
        NodeKind::Persona { external: false } => ("ellipse", "filled", "#dbe9fb"),
        NodeKind::Persona { external: true } => ("ellipse", "filled", "#ffe3c2"),
        NodeKind::App => ("box", "rounded,filled", "#ffffff"),
        NodeKind::Store { classification } => ("cylinder", "filled", store_fill(classification)),
        NodeKind::External => ("hexagon", "filled", "#ece4f7"),
        NodeKind::Internet => ("doubleoctagon", "filled", "#eeeeee"),
        NodeKind::Kube => ("septagon", "filled", "#d4e0fb"),
    };
    let _ = write!(
        out,
        "{pad}{} [label=<{label}>, shape={shape}, style=\"{style}\", fillcolor=\"{fill}\"",
        quote(&n.id())
    );
    let who = match n.kind {
        NodeKind::Internet | NodeKind::Kube => n.name.clone(),
        kind => format!("{} {}", kind_name(kind), n.name),
    };
    let tooltip = match &n.description {
        Some(d) => format!("{who}: {d}"),
        None => who,
    };
    let _ = writeln!(out, ", tooltip={}];", quote(&tooltip));
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Persona { external: true } => "external persona",
        other => other.as_str(),
    }
}

/// Store fill by classification: the more sensitive, the warmer.
pub(crate) fn store_fill(c: Classification) -> &'static str {
    match c {
        Classification::Public => "#e3f4e4",
        Classification::Internal => "#eef1f3",
        Classification::Confidential => "#fff1c6",
        Classification::Restricted => "#fbd9d6",
    }
}

/// Edge colour and line style by kind.
pub(crate) fn edge_style(k: EdgeKind) -> (&'static str, Option<&'static str>) {
    match k {
        EdgeKind::Network => ("#455a64", None),
        EdgeKind::Data => ("#2e7d32", None),
        EdgeKind::Operation => ("#1565c0", None),
        EdgeKind::Kube => ("#6a1b9a", None),
        EdgeKind::Widened => ("#d32f2f", Some("dashed")),
    }
}

/// The graph's title and a legend of the edge colours in use.
fn title(g: &ReviewGraph, drawing: &super::Drawing) -> String {
    let mut t = format!("<B>{}</B>", html(&g.system));
    if let Some(d) = &g.description {
        let _ = write!(t, " — {}", html(d));
    }
    let mut scope = Vec::new();
    if let Some(env) = &g.env {
        scope.push(format!("environment {}", html(env)));
    }
    if let Some((name, depth)) = &g.focus {
        scope.push(format!("around {}, depth {depth}", html(name)));
    }
    if g.effective {
        scope.push("effective access".into());
    }
    if !scope.is_empty() {
        let _ = write!(t, " <FONT POINT-SIZE=\"10\">({})</FONT>", scope.join(", "));
    }
    let kinds = [
        (EdgeKind::Network, "network"),
        (EdgeKind::Data, "credentials"),
        (EdgeKind::Operation, "operations (RBAC)"),
        (EdgeKind::Kube, "Kubernetes API"),
        (EdgeKind::Widened, "widened by Kubernetes (dashed)"),
    ];
    let used: Vec<String> = kinds
        .iter()
        .filter(|(k, _)| drawing.edges.iter().any(|e| e.kind == *k))
        .map(|(k, name)| {
            format!(
                "<FONT COLOR=\"{}\">&#9472;&#9472; {name}</FONT>",
                edge_style(*k).0
            )
        })
        .collect();
    if !used.is_empty() {
        let _ = write!(
            t,
            "<BR/><FONT POINT-SIZE=\"9\">{}</FONT>",
            used.join("&#160;&#160;&#160;")
        );
    }
    t
}

/// A DOT quoted string: `"` and `\` escaped (a backslash would otherwise
/// start an escape such as `\N`), line breaks as `\n`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside an HTML-like label: markup characters as entities, line
/// breaks as spaces.
pub fn html(s: &str) -> String {
    super::one_line(s, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(quote(r#"a "b" \N"#), r#""a \"b\" \\N""#);
        assert_eq!(quote("x\ny"), r#""x\ny""#);
        assert_eq!(html("<b>&\"x\"\n"), "&lt;b&gt;&amp;&quot;x&quot; ");
    }
}

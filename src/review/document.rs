//! `palisade review`: the design-review report in Markdown, written to
//! read well as a pull-request comment — a summary, the access matrix
//! (declared versus effective), the findings (accepted ones with their
//! reasons), every invariant with its status and a Mermaid diagram of the
//! model with its widened edges (GitHub and GitLab render it).

use crate::lints::INVARIANT_VIOLATED;
use crate::model::{EnvId, ForbidKind, Level};
use crate::view::report::{one_line, statement_ref};
use crate::view::{AccessView, GNode};
use crate::Compilation;
use std::collections::BTreeMap;

/// The report of a checked model (`view`: [`crate::view::access_view`] of it).
pub fn review_markdown(comp: &Compilation, view: &AccessView) -> String {
    let m = &comp.model;
    let mut out = String::new();
    let title = match &m.system.description {
        Some(d) => format!("`{}` — {}", m.system.name, md(d)),
        None => format!("`{}`", m.system.name),
    };
    out.push_str(&format!("# Design review: {title}\n\n"));

    // Summary.
    let edges: usize = view.envs.iter().map(|e| e.edges.len()).sum();
    let widened: usize = (view.envs.iter())
        .map(|e| e.edges.iter().filter(|x| x.widened.is_some()).count())
        .sum();
    let reported: Vec<_> = comp
        .findings
        .iter()
        .filter(|o| o.accepted.is_empty())
        .collect();
    let errors = reported.iter().filter(|o| o.level == Level::Deny).count();
    let warnings = reported.len() - errors;
    let accepted = comp.findings.len() - reported.len();
    let failing = invariant_failures(comp);
    let envs = if m.environments.is_empty() {
        "no environments".to_string()
    } else {
        let names: Vec<String> = m
            .environments
            .iter()
            .map(|e| format!("`{}`", e.name))
            .collect();
        format!("environments {}", names.join(", "))
    };
    out.push_str(&format!(
        "{} personas, {} apps in {} pods, {} stores, {} externals in {} namespaces; {envs}.\n\n",
        m.personas.len(),
        m.apps.len(),
        m.pods.len(),
        m.stores.len(),
        m.externals.len(),
        m.namespaces.len(),
    ));
    out.push_str("| | |\n| --- | --- |\n");
    out.push_str(&format!(
        "| effective access | {edges} edges over all environments, **{widened} wider than declared** |\n"
    ));
    out.push_str(&format!(
        "| findings | {} {errors} errors, {warnings} warnings, {accepted} accepted |\n",
        if errors > 0 {
            "❌"
        } else if warnings > 0 {
            "⚠️"
        } else {
            "✅"
        }
    ));
    out.push_str(&format!(
        "| invariants | {} {} hold, {} fail |\n",
        if failing.is_empty() { "✅" } else { "❌" },
        m.forbids.len() - failing.len(),
        failing.len()
    ));
    let cuts = cut_rows(comp, view);
    if let Some(layers) = layers(m) {
        out.push_str(&format!(
            "| layers | {layers}: {} connections the NetworkPolicies admit are cut |\n",
            if cuts.is_empty() {
                "✅ no".to_string()
            } else {
                format!("⚠️ {}", cuts.len())
            }
        ));
    }
    out.push('\n');

    // The access matrix.
    out.push_str("## Access matrix\n\n");
    out.push_str(
        "Who can do what to what: what the model declares, and what the generated objects \
         effectively permit. ⚠️ marks access wider than declared (see the findings for why; \
         `palisade query -m MODEL what-can WHO` gives every cause).\n\n",
    );
    out.push_str("| who | to | declared | effective | in |\n| --- | --- | --- | --- | --- |\n");
    for row in matrix(comp, view) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(&row.from),
            cell(&row.to),
            if row.declared.is_empty() {
                "—".to_string()
            } else {
                cell(&row.declared)
            },
            if row.effective.is_empty() {
                "— (none)".to_string()
            } else {
                cell(&row.effective)
            },
            cell(&row.envs)
        ));
    }
    out.push('\n');
    cut_section(m, view.envs.len(), &cuts, &mut out);

    // Findings.
    out.push_str("## Findings\n\n");
    if reported.is_empty() {
        out.push_str("None reported.\n\n");
    }
    for o in &reported {
        let f = &o.finding;
        if f.lint == INVARIANT_VIOLATED {
            continue; // under Invariants
        }
        let at = statement_ref(comp, f.span);
        out.push_str(&format!(
            "- {} **{}** `{}` ({}:{}): {}\n",
            if o.level == Level::Deny {
                "❌"
            } else {
                "⚠️"
            },
            if o.level == Level::Deny {
                "error"
            } else {
                "warning"
            },
            f.lint,
            at.file,
            at.line,
            md(&f.message)
        ));
        for n in &f.notes {
            out.push_str(&format!("  - `{}`\n", n.replace('`', "'")));
        }
    }
    if accepted > 0 {
        out.push_str("\n### Accepted\n\n");
        for o in comp.findings.iter().filter(|o| !o.accepted.is_empty()) {
            let reasons: Vec<String> = (o.accepted.iter())
                .map(|&a| {
                    let acc = &m.accepts[a];
                    let at = statement_ref(comp, acc.span);
                    format!("\"{}\" ({}:{})", md(&acc.reason), at.file, at.line)
                })
                .collect();
            out.push_str(&format!(
                "- `{}`: {} — accepted: {}\n",
                o.finding.lint,
                md(&o.finding.message),
                reasons.join("; ")
            ));
        }
    }
    out.push('\n');

    invariants(comp, &failing, &mut out);
    diagram(comp, view, &mut out);
    out
}

/// The model as a Mermaid diagram, widened edges dashed and labelled with
/// their cause (`palisade graph --effective --format mermaid`); a note
/// instead when the model is over what Mermaid draws.
fn diagram(comp: &Compilation, view: &AccessView, out: &mut String) {
    use crate::graph::{self, mermaid, GraphOptions};
    out.push_str("\n## Diagram\n\n");
    let opts = GraphOptions {
        widened: Some(graph::widened(&comp.model, view, None)),
        ..GraphOptions::default()
    };
    let text = mermaid::mermaid(&comp.model, &opts);
    match mermaid::within_limits(&text) {
        Ok(()) => {
            out.push_str(
                "Solid edges are declared; dashed red edges are access Kubernetes grants beyond \
                 the model, labelled with their cause.\n\n",
            );
            out.push_str("```mermaid\n");
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("```\n");
        }
        Err((edges, chars)) => out.push_str(&format!(
            "The whole model ({edges} edges, {chars} characters) is more than a Mermaid \
             diagram can show ({} edges, {} characters). Draw one neighbourhood with \
             `palisade graph --effective --format mermaid --focus NAME`, or the whole model \
             with `--format dot`.\n",
            mermaid::MAX_EDGES,
            mermaid::MAX_TEXT
        )),
    }
}

/// Every `forbid` and whether it holds.
fn invariants(
    comp: &Compilation,
    failing: &BTreeMap<crate::span::Span, Vec<String>>,
    out: &mut String,
) {
    let m = &comp.model;
    out.push_str("## Invariants\n\n");
    if m.forbids.is_empty() {
        out.push_str("The model states no `forbid` invariants.\n");
    }
    for f in &m.forbids {
        let text = one_line(comp.sources.snippet(f.span));
        let kind = match f.kind {
            ForbidKind::Direct => "no direct access",
            ForbidKind::Path => "no path",
        };
        match failing.get(&f.span) {
            None => out.push_str(&format!("- ✅ holds ({kind}): `{text}`\n")),
            Some(notes) => {
                out.push_str(&format!("- ❌ **fails** ({kind}): `{text}`\n"));
                for n in notes {
                    out.push_str(&format!("  - `{}`\n", n.replace('`', "'")));
                }
            }
        }
    }
}

/// The failing `forbid`s by span, with the finding's notes (the paths).
fn invariant_failures(comp: &Compilation) -> BTreeMap<crate::span::Span, Vec<String>> {
    (comp.findings.iter())
        .filter(|o| o.finding.lint == INVARIANT_VIOLATED)
        .map(|o| (o.finding.span, o.finding.notes.clone()))
        .collect()
}

/// The layers beyond the NetworkPolicies the model turns on, in words.
fn layers(m: &crate::model::Model) -> Option<String> {
    let mesh = m.platform.mesh.as_ref().map(|_| "mesh (Istio)");
    let guardrails = m.platform.guardrails.map(|_| "guardrails (Calico)");
    match (mesh, guardrails) {
        (Some(a), Some(b)) => Some(format!("{a} and {b}")),
        (Some(a), None) | (None, Some(a)) => Some(a.to_string()),
        (None, None) => None,
    }
}

/// One connection a layer cuts, with the environments where it does.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CutRow {
    from: String,
    to: String,
    access: String,
    causes: Vec<String>,
    envs: Vec<Option<EnvId>>,
}

/// Every cut of the view, environments with the same cut together.
fn cut_rows(comp: &Compilation, view: &AccessView) -> Vec<CutRow> {
    let m = &comp.model;
    let mut rows: Vec<CutRow> = Vec::new();
    for ev in &view.envs {
        for c in &ev.cut {
            let r = crate::view::report::CutReport::new(m, c);
            let same = |row: &&mut CutRow| {
                (row.from == r.from && row.to == r.to)
                    && (row.access == r.access && row.causes == r.causes)
            };
            match rows.iter_mut().find(|row| same(row)) {
                Some(row) => row.envs.push(ev.env),
                None => rows.push(CutRow {
                    from: r.from,
                    to: r.to,
                    access: r.access,
                    causes: r.causes,
                    envs: vec![ev.env],
                }),
            }
        }
    }
    rows
}

/// Connections the NetworkPolicies admit and a layer cuts: often a grant
/// the model declares, taken away by a guardrail that selects its pod.
fn cut_section(m: &crate::model::Model, all: usize, rows: &[CutRow], out: &mut String) {
    if rows.is_empty() {
        return;
    }
    out.push_str("### Cut by the mesh or guardrail layer\n\n");
    out.push_str(
        "Connections the NetworkPolicies admit that an AuthorizationPolicy or a \
         GlobalNetworkPolicy takes away; they are not in the matrix above.\n\n",
    );
    for r in rows {
        let names: Vec<&str> = (r.envs.iter().flatten())
            .map(|e| m.environments[e.index()].name.as_str())
            .collect();
        let envs = if r.envs.len() == all || names.is_empty() {
            String::new()
        } else {
            format!(" (in {})", names.join(", "))
        };
        out.push_str(&format!(
            "- `{}` → `{}`: {}{envs}\n",
            md(&r.from),
            md(&r.to),
            md(&r.access)
        ));
        for c in &r.causes {
            out.push_str(&format!("  - `{}`\n", c.replace('`', "'")));
        }
    }
    out.push('\n');
}

/// One row of the access matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    from: String,
    to: String,
    declared: String,
    effective: String,
    envs: String,
}

/// One environment's (environment, declared, effective) of a pair.
type Cell = (Option<EnvId>, String, String);

/// (from, to) pairs with a grant or an effective edge; environments with
/// the same declared and effective access on a pair share one row.
fn matrix(comp: &Compilation, view: &AccessView) -> Vec<Row> {
    let m = &comp.model;
    // (from, to) → per environment (declared, effective)
    let mut cells: BTreeMap<(GNode, GNode), Vec<Cell>> = BTreeMap::new();
    for ev in &view.envs {
        let mut here: BTreeMap<(GNode, GNode), (Vec<String>, Vec<String>)> = BTreeMap::new();
        for g in m.grants.iter().filter(|g| m.grant_applies(g, ev.env)) {
            let d = &mut here
                .entry((GNode::E(g.subject), GNode::E(g.target)))
                .or_default()
                .0;
            let a = g.access.to_string();
            if !d.contains(&a) {
                d.push(a);
            }
        }
        for e in &ev.edges {
            let mut a = view.access_text(m, e);
            if e.widened.is_some() {
                a.push_str(" ⚠️");
            }
            here.entry((e.from, e.to)).or_default().1.push(a);
        }
        for (pair, (d, e)) in here {
            cells
                .entry(pair)
                .or_default()
                .push((ev.env, d.join(", "), e.join(", ")));
        }
    }
    let all = view.envs.len();
    let mut rows = Vec::new();
    for ((from, to), per_env) in cells {
        let (from, to) = (view.name(m, from), view.name(m, to));
        // Group environments with equal cells, in model order.
        let mut groups: Vec<(Vec<Option<EnvId>>, String, String)> = Vec::new();
        for (env, d, e) in per_env {
            match groups.iter_mut().find(|(_, gd, ge)| *gd == d && *ge == e) {
                Some(g) => g.0.push(env),
                None => groups.push((vec![env], d, e)),
            }
        }
        for (envs, declared, effective) in groups {
            let envs = if envs.len() == all {
                if m.environments.is_empty() {
                    "—".to_string()
                } else {
                    "all".to_string()
                }
            } else {
                let names: Vec<&str> = (envs.iter())
                    .filter_map(|e| e.map(|e| m.environments[e.index()].name.as_str()))
                    .collect();
                names.join(", ")
            };
            rows.push(Row {
                from: from.clone(),
                to: to.clone(),
                declared,
                effective,
                envs,
            });
        }
    }
    rows
}

fn cell(s: &str) -> String {
    md(s).replace('|', "\\|")
}

/// Model text inside a Markdown line: no HTML, and no line break, which a
/// lone CR is too in CommonMark (a string may hold one: it would start a
/// line of its own, a heading or a table row).
fn md(s: &str) -> String {
    s.replace('<', "&lt;").replace(['\r', '\n'], " ")
}

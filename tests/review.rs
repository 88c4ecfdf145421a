//! The access view (src/review/access.rs) on every example: golden
//! snapshots of every effective edge, its declaration and its widening.

use palisade::review::access_view;
use std::fmt::Write;
use std::path::Path;

fn dump(model: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(model);
    let mut comp = palisade::compile_path(&path).expect("example loads");
    let envs = palisade::check(&mut comp);
    let view = access_view(&comp, &envs);
    let m = &comp.model;
    let mut out = String::new();
    for env in &view.envs {
        let name = env.env.map_or("(no environments)".to_string(), |e| {
            m.environments[e.index()].name.clone()
        });
        writeln!(out, "== {name}").unwrap();
        for e in &env.edges {
            let mark = if e.widened.is_some() { "+" } else { " " };
            write!(
                out,
                "{mark} {} -> {}: {}",
                view.name(m, e.from),
                view.name(m, e.to),
                view.access_text(m, e)
            )
            .unwrap();
            let decl: Vec<String> = e
                .declared
                .iter()
                .map(|&g| {
                    let span = m.grants[g].span;
                    let (l, c) = comp.sources.get(span.file).line_col(span.start);
                    format!("{l}:{c}")
                })
                .collect();
            if !decl.is_empty() {
                write!(out, "  [declared {}]", decl.join(" ")).unwrap();
            }
            writeln!(out).unwrap();
            if let Some(w) = &e.widened {
                let what = palisade::review::access::kind_text(m, e.to, &w.undeclared);
                writeln!(out, "    undeclared: {what}").unwrap();
                for c in &w.causes {
                    writeln!(out, "    because {c}").unwrap();
                }
            }
            for &f in &e.findings {
                let o = &comp.findings[f];
                let acc = if o.accepted.is_empty() {
                    ""
                } else {
                    " (accepted)"
                };
                writeln!(
                    out,
                    "    lint {}{acc}: {}",
                    o.finding.lint, o.finding.message
                )
                .unwrap();
            }
        }
    }
    out
}

#[test]
fn access_view_marketing() {
    insta::assert_snapshot!(dump("examples/marketing.sec"));
}

#[test]
fn access_view_webshop() {
    insta::assert_snapshot!(dump("examples/webshop.sec"));
}

#[test]
fn access_view_platform() {
    insta::assert_snapshot!(dump("examples/platform"));
}

/// Every `query` answer type on an example, as text and JSON: what every
/// persona can do, who can do anything to every store, and the path from
/// every external persona (and `internet`) to every store.
fn queries(model: &str) -> (String, String) {
    use palisade::review::query::{answer, render_text, Question};
    // Relative to the package root (cargo's working directory for tests),
    // as a user would name it.
    let mut comp = palisade::compile_path(Path::new(model)).expect("example loads");
    let envs = palisade::check(&mut comp);
    let view = access_view(&comp, &envs);
    let m = &comp.model;
    let mut questions = Vec::new();
    for p in &m.personas {
        questions.push(Question::WhatCan {
            subject: p.name.clone(),
        });
    }
    for s in &m.stores {
        questions.push(Question::WhoCan {
            access: "any".into(),
            target: s.name.clone(),
        });
    }
    let sources = (m
        .personas
        .iter()
        .filter(|p| p.external)
        .map(|p| p.name.clone()))
    .chain(["internet".to_string()]);
    for from in sources {
        for s in &m.stores {
            questions.push(Question::Path {
                from: from.clone(),
                to: s.name.clone(),
            });
        }
    }
    let (mut text, mut json) = (String::new(), String::new());
    for q in &questions {
        let a = answer(&comp, &envs, &view, q, None).expect("names exist");
        text.push_str(&render_text(q, &a));
        text.push('\n');
        json.push_str(&serde_json::to_string_pretty(&a).unwrap());
        json.push('\n');
    }
    (text, json)
}

#[test]
fn query_examples() {
    for (name, model) in [
        ("marketing", "examples/marketing.sec"),
        ("webshop", "examples/webshop.sec"),
        ("platform", "examples/platform"),
    ] {
        let (text, json) = queries(model);
        insta::assert_snapshot!(format!("query_{name}_text"), text);
        insta::assert_snapshot!(format!("query_{name}_json"), json);
    }
}

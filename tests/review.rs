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

//! The access view (src/view/mod.rs) on every example: golden
//! snapshots of every effective edge, its declaration and its widening,
//! and of what the mesh and guardrail layers cut (tests/review/layers.sec
//! turns both on).

use palisade::view::access_view;
use std::fmt::Write;
use std::path::Path;

fn dump(model: &str) -> String {
    // Relative to the package root (cargo's working directory for tests):
    // causes that locate a statement name its file so.
    let checked = palisade::check(palisade::compile_path(Path::new(model)).expect("example loads"));
    let view = access_view(&checked);
    let comp = &checked.comp;
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
                let what = palisade::view::kind_text(m, e.to, &w.undeclared);
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
        for c in &env.cut {
            let what = palisade::view::kind_text(m, c.to, &c.access);
            let (from, to) = (view.name(m, c.from), view.name(m, c.to));
            writeln!(out, "x {from} -> {to}: {what} (cut)").unwrap();
            for cause in &c.causes {
                writeln!(out, "    because {cause}").unwrap();
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

/// Both layers: causes name the AuthorizationPolicy that admits a widened
/// connection, and the GlobalNetworkPolicy that cuts a declared one.
#[test]
fn access_view_layers() {
    insta::assert_snapshot!(dump("tests/review/layers.sec"));
}

/// Every `query` answer type on an example, as text and JSON: what every
/// persona can do, who can do anything to every store, and the path from
/// every external persona (and `internet`) to every store.
fn queries(model: &str) -> (String, String) {
    use palisade::review::query::{answer, render_text, Question};
    // Relative to the package root (cargo's working directory for tests),
    // as a user would name it.
    let checked = palisade::check(palisade::compile_path(Path::new(model)).expect("example loads"));
    let view = access_view(&checked);
    let m = checked.model();
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
        let a = answer(&checked, &view, q, None).expect("names exist");
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
        ("layers", "tests/review/layers.sec"),
    ] {
        let (text, json) = queries(model);
        insta::assert_snapshot!(format!("query_{name}_text"), text);
        insta::assert_snapshot!(format!("query_{name}_json"), json);
    }
}

/// `palisade diff` of two model sources, as Markdown and JSON.
fn diff_of(old: &str, new: &str) -> (String, String, palisade::review::diff::Diff) {
    use palisade::review::diff::{diff, render_markdown, Side};
    use palisade::source::Spec;
    let load = |spec: &str| {
        let comp = palisade::compile(Spec::parse(spec).load().expect("loads"));
        assert!(!comp.has_errors(), "{spec} must compile");
        let checked = palisade::check(comp);
        let view = access_view(&checked);
        (checked.comp, view)
    };
    let ((oc, ov), (nc, nv)) = (load(old), load(new));
    let d = diff(
        &Side {
            comp: &oc,
            view: &ov,
        },
        &Side {
            comp: &nc,
            view: &nv,
        },
        (old, new),
    );
    let json = serde_json::to_string_pretty(&d).unwrap();
    (render_markdown(&d), json, d)
}

/// Every case of `tests/corpus/diff/<case>/` (old.sec → new.sec): a new
/// case is a new folder. The first line of new.sec may say what the diff
/// must show; the whole report is snapshotted.
#[test]
fn diff_corpus() {
    insta::glob!("corpus/diff/*", |dir| {
        let rel = dir
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (old, new) = (format!("{rel}/old.sec"), format!("{rel}/new.sec"));
        let (md, json, d) = diff_of(&old, &new);
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        // What each kind of change must show, beyond the snapshot.
        let s = &d.summary;
        match case.as_str() {
            "new-allow" => {
                assert!(d.access.added.iter().any(|a| a.from == "front"
                    && a.to == "orders"
                    && a.access == "metrics"
                    && a.edge.widened.is_none()));
                assert_eq!(s.access_removed, 0);
            }
            "removed-allow" => {
                assert!(d
                    .access
                    .removed
                    .iter()
                    .any(|a| a.from == "front" && a.to == "orders"));
                assert_eq!(s.access_added, 0);
            }
            "new-app-in-shared-namespace" => {
                let wide = d
                    .access
                    .added
                    .iter()
                    .find(|a| a.from == "dev" && a.to == "payments" && a.access == "exec");
                let wide = wide.expect("dev's exec widens to the new app");
                assert!(wide.edge.widened.as_ref().unwrap().causes[0]
                    .contains("reaches every pod of namespace `web`"));
                assert!(s.access_added_widened > 0);
            }
            "new-accept" => {
                assert_eq!(s.findings_accepted, 1);
                assert_eq!(s.findings_introduced + s.findings_resolved, 0);
                assert_eq!(s.access_added + s.access_removed, 0);
            }
            "new-forbid-cuts-by-guardrail" => {
                // The guardrail of the new forbid selects the whole pod: the
                // declared etl -> raw connection goes too, and says why.
                let gone = d
                    .access
                    .removed
                    .iter()
                    .find(|a| a.from == "etl" && a.to == "raw" && a.access == "postgres");
                let gone = gone.expect("etl's connection to raw is removed");
                assert!(
                    gone.cut[0].contains(
                        "GlobalNetworkPolicy layered-forbid-etl-pod-raw-50695331d6-egress egress[0] denies it"
                    ),
                    "{:?}",
                    gone.cut
                );
                assert!(md.contains("✂️ cut now: "), "{md}");
                assert_eq!(s.access_added, 0);
            }
            other => panic!("add the expectations of diff case `{other}` here"),
        }
        insta::assert_snapshot!("diff_markdown", md);
        insta::assert_snapshot!("diff_json", json);
    });
}

/// An example against itself: nothing changes.
#[test]
fn diff_examples_against_themselves() {
    for model in [
        "examples/marketing.sec",
        "examples/webshop.sec",
        "examples/platform",
    ] {
        let (md, _, d) = diff_of(model, model);
        assert_eq!(d.summary, Default::default(), "{model}");
        insta::assert_snapshot!(
            format!(
                "diff_self_{}",
                model
                    .trim_start_matches("examples/")
                    .trim_end_matches(".sec")
            ),
            md
        );
    }
}

/// `palisade review` on every example.
#[test]
fn review_examples() {
    for (name, model) in [
        ("marketing", "examples/marketing.sec"),
        ("webshop", "examples/webshop.sec"),
        ("platform", "examples/platform"),
        ("layers", "tests/review/layers.sec"),
    ] {
        let checked =
            palisade::check(palisade::compile_path(Path::new(model)).expect("example loads"));
        let view = access_view(&checked);
        let md = palisade::review::document::review_markdown(&checked.comp, &view);
        insta::assert_snapshot!(format!("review_{name}"), md);
    }
}

/// A failing invariant shows as failing, with its path.
#[test]
fn review_shows_failing_invariants() {
    let comp = palisade::compile_str(
        "m.sec",
        r#"system m
namespace p
persona ops { group = "g" }
app api in p { image = "ghcr.io/a/api:1" ports = { http = 8080 } }
store db in p { engine = postgres }
allow api -> db: write
allow ops -> api: exec
forbid ops -> db "people never hold database credentials"
"#,
    );
    let checked = palisade::check(comp);
    let md = palisade::review::document::review_markdown(&checked.comp, &access_view(&checked));
    assert!(md.contains("| invariants | ❌ 0 hold, 1 fail |"), "{md}");
    assert!(
        md.contains("- ❌ **fails** (no direct access): `forbid ops -> db \"people never hold database credentials\"`"),
        "{md}"
    );
    assert!(md.contains("--exec-->"), "the path is shown: {md}");
    assert!(md.contains("| ops | db | — | "), "{md}");
}

/// No path because a layer cut the last step: `query path` says which
/// NetworkPolicy rules would admit it and which guardrail, from which
/// `forbid`, denies it — in text and in JSON.
#[test]
fn query_path_names_the_layer_that_cuts() {
    use palisade::review::query::{answer, render_text, Question};
    let checked = palisade::check(
        palisade::compile_path(Path::new("tests/review/layers.sec")).expect("model loads"),
    );
    let view = access_view(&checked);
    let q = Question::Path {
        from: "shipper".into(),
        to: "raw".into(),
    };
    let a = answer(&checked, &view, &q, None).expect("names exist");
    let text = render_text(&q, &a);
    assert!(text.contains("no path"), "{text}");
    assert!(
        text.contains("shipper -> raw: postgres\n")
            && text.contains("NetworkPolicy admits TCP/5432: egress pipeline/etl-pod egress[0]")
            && text.contains(
                "GlobalNetworkPolicy layered-forbid-etl-pod-raw-50695331d6-egress egress[0] denies it"
            )
            && text.contains("(forbid at tests/review/layers.sec:49:1)"),
        "{text}"
    );
    let json = serde_json::to_value(&a).unwrap();
    let cut = &json["environments"][0]["cut"];
    assert_eq!(cut[0]["from"], "shipper", "{json}");
    assert_eq!(cut[0]["access"], "postgres", "{json}");
    // With a path, nothing is cut on the way: no `cut` to show.
    let q = Question::Path {
        from: "customer".into(),
        to: "admin".into(),
    };
    let a = answer(&checked, &view, &q, None).expect("names exist");
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(
        json["environments"][0]["cut"],
        serde_json::json!([]),
        "{json}"
    );
}

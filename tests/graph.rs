//! `palisade graph` (src/graph, docs/review.md).
//!
//! Every output of every example is a reviewed snapshot
//! (`tests/snapshots/graph__*.snap`). Every DOT output is laid out by
//! Graphviz (`dot -Tsvg`, which must succeed without a word on stderr) and
//! every Mermaid output is rendered by the mermaid package in a headless
//! Chromium, on Mermaid's CLI's page (`tests/oracles/bin/mermaid-validate`).
//! Both oracles are installed once per run by `scripts/install-oracles.sh
//! target/oracles graphviz mermaid` (Debian's graphviz and chromium, npm's
//! mermaid-cli pinned by `tests/oracles/mermaid/package-lock.json`); when
//! that fails, the tests that need them fail with the installer's output.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use support::{install_oracles, repo, text};

/// Installs the graph oracles once; panics with the installer's output
/// when that fails: never a silent skip.
fn oracles() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| install_oracles(&["graphviz", "mermaid"]));
    match result {
        Ok(dir) => dir,
        Err(e) => panic!("the graph oracles could not be installed, so nothing was checked:\n{e}"),
    }
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("palisade runs")
}

/// `palisade graph ARGS`, which must succeed silently.
fn graph(args: &[&str]) -> String {
    let mut all = vec!["graph"];
    all.extend(args);
    let out = palisade(&all);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "palisade {} failed ({}):\n{}",
        all.join(" "),
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

const EXAMPLES: &[(&str, &str)] = &[
    ("marketing", "examples/marketing.sec"),
    ("webshop", "examples/webshop.sec"),
    ("platform", "examples/platform"),
];

/// Every case drawn: (snapshot name, arguments after the format).
fn cases() -> Vec<(String, Vec<&'static str>)> {
    let mut v: Vec<(String, Vec<&'static str>)> = Vec::new();
    for (name, path) in EXAMPLES {
        v.push((name.to_string(), vec![path]));
        v.push((format!("{name}-effective"), vec![path, "--effective"]));
    }
    v.push((
        "marketing-prod".into(),
        vec!["examples/marketing.sec", "--env", "prod"],
    ));
    v.push((
        "marketing-focus-raw".into(),
        vec!["examples/marketing.sec", "--focus", "raw", "--depth", "2"],
    ));
    v.push((
        "platform-focus-payments-db".into(),
        vec![
            "examples/platform",
            "--focus",
            "payments-db",
            "--depth",
            "2",
        ],
    ));
    v.push((
        "webshop-effective-prod-focus-users-db".into(),
        vec![
            "examples/webshop.sec",
            "--effective",
            "--env",
            "prod",
            "--focus",
            "users-db",
        ],
    ));
    v.push((
        "platform-focus-search-staging".into(),
        vec!["examples/platform", "--focus", "search", "--env", "staging"],
    ));
    v
}

fn output(format: &str, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--format", format]);
    graph(&all)
}

#[test]
fn snapshots_of_every_format() {
    for (name, args) in cases() {
        for format in ["dot", "mermaid", "json"] {
            let out = output(format, &args);
            insta::assert_snapshot!(format!("{name}.{format}"), out);
        }
    }
}

#[test]
fn output_is_deterministic_and_dot_is_the_default() {
    for (_, args) in cases() {
        let a = output("dot", &args);
        assert_eq!(a, graph(&args), "{args:?}: --format dot is the default");
        assert_eq!(a, output("dot", &args), "{args:?}: two runs differ");
        assert_eq!(output("mermaid", &args), output("mermaid", &args));
    }
}

/// Lays DOT out with Graphviz; panics on failure or any warning.
fn dot_svg(name: &str, dot: &str) -> String {
    oracles();
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dot runs (installed by scripts/install-oracles.sh graphviz)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(dot.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{name}: dot -Tsvg failed or warned ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    let svg = text(&out.stdout);
    assert!(svg.contains("<svg"), "{name}: no SVG:\n{svg}");
    svg
}

#[test]
fn graphviz_lays_out_every_dot_output() {
    for (name, args) in cases() {
        let dot = output("dot", &args);
        let svg = dot_svg(&name, &dot);
        // Every node and cluster is drawn, under its own name.
        let json: Value = serde_json::from_str(&output("json", &args)).unwrap();
        for node in json["nodes"].as_array().unwrap() {
            // Graphviz writes `-` as `&#45;` in SVG.
            let id = node["id"].as_str().unwrap().replace('-', "&#45;");
            let title = format!("<title>{id}</title>");
            assert!(svg.contains(&title), "{name}: {title} is not in the SVG");
        }
        for c in json["clusters"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap().replace('-', "&#45;");
            let title = format!("<title>cluster_{id}</title>");
            assert!(svg.contains(&title), "{name}: {title} is not in the SVG");
        }
    }
}

/// Renders Mermaid files with Mermaid's CLI; panics on any failure.
fn mermaid_render(files: &[(String, String)]) {
    let dir = oracles();
    let tmp = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, body)| {
            let p = tmp.path().join(format!("{name}.mmd"));
            std::fs::write(&p, body).unwrap();
            p
        })
        .collect();
    let out = Command::new("bash")
        .arg(repo().join("tests/oracles/bin/mermaid-validate"))
        .args(&paths)
        .env("ORACLES_DIR", dir)
        .output()
        .expect("mermaid-validate runs");
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "Mermaid rejected a diagram ({}):\n{report}",
        out.status
    );
    let summary = format!("mermaid-validate: {} ok, 0 failed", files.len());
    assert!(report.contains(&summary), "{report}");
}

#[test]
fn mermaid_renders_every_mermaid_output() {
    let files: Vec<(String, String)> = cases()
        .into_iter()
        .map(|(name, args)| (name, output("mermaid", &args)))
        .collect();
    mermaid_render(&files);
}

/// Every other valid model the repository holds (the language corpus, the
/// lint corpus, the oracles' models) in every format, with `--effective`:
/// nothing fails, Graphviz takes every DOT without a warning and Mermaid
/// renders every diagram.
#[test]
fn every_valid_model_of_the_repository_is_drawn() {
    let mut models: Vec<PathBuf> = Vec::new();
    for dir in [
        "tests/corpus/valid",
        "tests/corpus/lints",
        "tests/oracles/models",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "sec"))
            .collect();
        found.sort();
        models.extend(found);
    }
    assert!(models.len() > 50, "{} models", models.len());
    let mut diagrams = Vec::new();
    for m in &models {
        let path = m.to_str().unwrap();
        let name = m.file_stem().unwrap().to_str().unwrap().to_string();
        dot_svg(&name, &output("dot", &[path, "--effective"]));
        let json: Value = serde_json::from_str(&output("json", &[path, "--effective"])).unwrap();
        assert_eq!(json["version"], 1, "{name}");
        diagrams.push((name, output("mermaid", &[path, "--effective"])));
    }
    mermaid_render(&diagrams);
}

#[test]
fn the_mermaid_oracle_rejects_broken_diagrams() {
    // The oracle itself: a dangling edge label and an unquoted label with
    // a bracket must fail, a good diagram must pass.
    let dir = oracles();
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.mmd");
    let bad = tmp.path().join("bad.mmd");
    let bad2 = tmp.path().join("bad2.mmd");
    std::fs::write(&good, "flowchart LR\n  a(\"x\") -->|\"y\"| b\n").unwrap();
    std::fs::write(&bad, "flowchart LR\n  a -->|y b\n").unwrap();
    std::fs::write(&bad2, "flowchart LR\n  a[x]] --> b\n").unwrap();
    let out = Command::new("bash")
        .arg(repo().join("tests/oracles/bin/mermaid-validate"))
        .args([&good, &bad, &bad2])
        .env("ORACLES_DIR", dir)
        .output()
        .unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("mermaid-validate: 1 ok, 2 failed"),
        "{report}"
    );
    assert!(
        report.contains("bad.mmd") && report.contains("bad2.mmd"),
        "{report}"
    );
    assert!(!report.contains("good.mmd"), "{report}");
}

/// A model whose names and texts need every escape: Mermaid keywords as
/// names, names with `-`, quotes, `#`, `<`, `&`, `\` and backticks in
/// descriptions.
const AWKWARD: &str = r#"
system end "a \"quoted\" <b>system</b> & #1 \\N `tick`"
platform { ingress = { namespace = "ingress", pods = { app = "nginx" } } }
namespace subgraph "ns <with> \"quotes\" \\ and #hash"
namespace graph
persona style "style \"persona\"" { external }
persona class { group = "x" }
app end in subgraph { image = "i:1" ports = { http = 8080 } }
app a-b in subgraph { image = "i:1" ports = { http = 8081 } }
app b-a in graph { image = "i:1" ports = { http = 8082 } }
pod click = [a-b]
store flowchart "db & <b>\"x\"</b>" in graph { engine = postgres classification = restricted }
external direction "`x` #35; &amp;" { address = "203.0.113.0/24" ports = { https = 443 } }
allow style -> end: http
allow end -> [a-b, b-a]: http
allow a-b -> flowchart: read
allow b-a -> direction: https
allow class -> [end, a-b]: logs
"#;

#[test]
fn awkward_names_and_texts_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("awkward.sec");
    std::fs::write(&model, AWKWARD).unwrap();
    let model = model.to_str().unwrap();
    let check = palisade(&["check", model]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let dot = output("dot", &[model]);
    let svg = dot_svg("awkward", &dot);
    // The description survives as text (SVG escapes it its own way).
    assert!(
        svg.contains("db &amp; &lt;b&gt;&quot;x&quot;&lt;/b&gt;"),
        "the store's description is not in the SVG:\n{svg}"
    );
    assert!(
        svg.contains("\\N"),
        "a backslash in a text must stay one:\n{svg}"
    );
    let mermaid = output("mermaid", &[model]);
    let tokens: BTreeSet<&str> = mermaid
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for id in [
        "a_end",
        "a_a_b",
        "a_b_a",
        "ns_subgraph",
        "pod_click",
        "s_flowchart",
    ] {
        assert!(tokens.contains(id), "no id {id}:\n{mermaid}");
    }
    mermaid_render(&[("awkward".into(), mermaid)]);
    let json: Value = serde_json::from_str(&output("json", &[model])).unwrap();
    assert_eq!(
        json["description"].as_str(),
        Some("a \"quoted\" <b>system</b> & #1 \\N `tick`")
    );
}

#[test]
fn json_has_every_grant_and_consistent_ids() {
    for (name, path) in EXAMPLES {
        let v: Value = serde_json::from_str(&output("json", &[path])).unwrap();
        assert_eq!(v["version"], 1);
        let clusters: BTreeSet<&str> = (v["clusters"].as_array().unwrap().iter())
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let mut nodes = BTreeSet::new();
        for n in v["nodes"].as_array().unwrap() {
            assert!(
                nodes.insert(n["id"].as_str().unwrap()),
                "{name}: duplicate node {n}"
            );
            if let Some(c) = n["cluster"].as_str() {
                assert!(clusters.contains(c), "{name}: {n} in an unknown cluster");
            }
        }
        // The grants, from the resolved model, must be exactly the edges'
        // access items (environments aside).
        let comp = palisade::compile_path(&repo().join(path)).unwrap();
        let m = &comp.model;
        let id = |e| {
            let kind = match m.kind_of(e) {
                "external persona" => "persona",
                k => k,
            };
            format!("{kind}:{}", m.name_of(e))
        };
        let expected: BTreeSet<(String, String, String)> = (m.grants.iter())
            .map(|g| (id(g.subject), id(g.target), g.access.to_string()))
            .collect();
        let mut actual = BTreeSet::new();
        let mut pairs = BTreeMap::new();
        for e in v["edges"].as_array().unwrap() {
            let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
            assert!(nodes.contains(from) && nodes.contains(to), "{name}: {e}");
            let kind = e["kind"].as_str().unwrap();
            assert!(
                pairs.insert((from, to, kind), ()).is_none(),
                "{name}: two {kind} edges {from} -> {to}"
            );
            for a in e["access"].as_array().unwrap() {
                actual.insert((
                    from.to_string(),
                    to.to_string(),
                    a["access"].as_str().unwrap().to_string(),
                ));
            }
        }
        assert_eq!(actual, expected, "{name}: edges differ from the grants");
    }
}

/// `--effective` draws exactly the access view's widened edges (the other
/// engineer's `view`, computed from the generated objects), with
/// their environments and causes; declared edges stay as they are.
#[test]
fn effective_adds_exactly_the_widened_edges() {
    for (name, path) in EXAMPLES {
        let checked = palisade::check(palisade::compile_path(&repo().join(path)).unwrap());
        let view = palisade::view::access_view(&checked);
        let comp = &checked.comp;
        let m = &comp.model;
        let env_name = |e: Option<palisade::model::EnvId>| {
            e.map_or("*".to_string(), |e| m.environments[e.index()].name.clone())
        };
        let mut expected: BTreeSet<(String, String, String, String)> = BTreeSet::new();
        let mut causes: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for ev in &view.envs {
            for e in &ev.edges {
                let Some(w) = &e.widened else { continue };
                let (from, to) = (view.name(m, e.from), view.name(m, e.to));
                if from == "ingress" || to == "ingress" {
                    continue;
                }
                let access = palisade::view::kind_text(m, e.to, &w.undeclared);
                expected.insert((from.clone(), to.clone(), access, env_name(ev.env)));
                causes
                    .entry((from, to))
                    .or_default()
                    .extend(w.causes.iter().cloned());
            }
        }
        assert!(
            !expected.is_empty(),
            "{name}: the examples all widen something"
        );
        let v: Value = serde_json::from_str(&output("json", &[path, "--effective"])).unwrap();
        assert_eq!(v["effective"], true);
        let all_envs: Vec<String> = (v["environments"].as_array().unwrap().iter())
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
        let mut actual = BTreeSet::new();
        let node_name = |id: &str| id.split_once(':').unwrap().1.to_string();
        for e in v["edges"].as_array().unwrap() {
            if e["kind"] != "widened" {
                assert_eq!(e["causes"], serde_json::json!([]), "{name}: {e}");
                continue;
            }
            let (from, to) = (
                node_name(e["from"].as_str().unwrap()),
                node_name(e["to"].as_str().unwrap()),
            );
            let got: BTreeSet<String> = (e["causes"].as_array().unwrap().iter())
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                Some(&got),
                causes.get(&(from.clone(), to.clone())),
                "{name}: {e}"
            );
            for a in e["access"].as_array().unwrap() {
                let access = a["access"].as_str().unwrap().to_string();
                let envs: Vec<String> = match a["environments"].as_array() {
                    Some(list) => list
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                    None if all_envs.is_empty() => vec!["*".into()],
                    None => all_envs.clone(),
                };
                for env in envs {
                    actual.insert((from.clone(), to.clone(), access.clone(), env));
                }
            }
        }
        assert_eq!(
            actual, expected,
            "{name}: widened edges differ from the access view"
        );
        // Declared edges are the same with and without --effective.
        let plain: Value = serde_json::from_str(&output("json", &[path])).unwrap();
        let declared: Vec<&Value> = (v["edges"].as_array().unwrap().iter())
            .filter(|e| e["kind"] != "widened")
            .collect();
        let plain: Vec<&Value> = plain["edges"].as_array().unwrap().iter().collect();
        assert_eq!(declared, plain, "{name}");
    }
}

#[test]
fn env_keeps_only_that_environments_grants() {
    let all: Value = serde_json::from_str(&output("json", &["examples/marketing.sec"])).unwrap();
    let prod: Value = serde_json::from_str(&output(
        "json",
        &["examples/marketing.sec", "--env", "prod"],
    ))
    .unwrap();
    assert_eq!(prod["environment"], "prod");
    let sre_web = |v: &Value| -> Vec<String> {
        (v["edges"].as_array().unwrap().iter())
            .find(|e| e["from"] == "persona:sre" && e["to"] == "app:web")
            .map(|e| {
                (e["access"].as_array().unwrap().iter())
                    .map(|a| a.to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        sre_web(&all),
        [
            r#"{"access":"logs","environments":null}"#,
            r#"{"access":"exec","environments":["dev"]}"#
        ]
    );
    assert_eq!(sre_web(&prod), [r#"{"access":"logs","environments":null}"#]);
}

#[test]
fn focus_keeps_the_neighbourhood() {
    let ids = |args: &[&str]| -> Vec<String> {
        let v: Value = serde_json::from_str(&output("json", args)).unwrap();
        (v["nodes"].as_array().unwrap().iter())
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect()
    };
    let m = "examples/marketing.sec";
    assert_eq!(
        ids(&[m, "--focus", "raw"]),
        ["persona:analyst", "app:etl", "store:raw"]
    );
    // Depth 0: the node alone; a pod: its apps; depth 2 reaches further.
    assert_eq!(ids(&[m, "--focus", "raw", "--depth", "0"]), ["store:raw"]);
    assert_eq!(
        ids(&[m, "--focus", "etl-pod", "--depth", "0"]),
        ["app:etl", "app:shipper"]
    );
    let two = ids(&[m, "--focus", "raw", "--depth", "2"]);
    assert!(two.contains(&"store:results".to_string()) && !two.contains(&"app:web".into()));
    let ns = ids(&[m, "--focus", "data", "--depth", "0"]);
    assert_eq!(ns, ["store:raw", "store:results"]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["graph", "examples/marketing.sec", "--focus", "rwa"],
            2,
            "error: the model declares no persona, app, store, external, pod or namespace `rwa`\n  = help: did you mean `raw`?",
        ),
        (
            &["graph", "examples/marketing.sec", "--focus", "nothing-like-it"],
            2,
            "`--focus` takes the name of a persona, app, store, external, pod or namespace",
        ),
        (
            &["graph", "examples/marketing.sec", "--focus", "internet"],
            2,
            "error: no statement of the model names `internet`: there is nothing around it to draw",
        ),
        (
            &["graph", "examples/marketing.sec", "--env", "prdo"],
            2,
            "error: the model declares no environment `prdo`\n  = help: did you mean `prod`?",
        ),
        (
            &["graph", "examples/marketing.sec", "--depth", "2"],
            2,
            "--focus",
        ),
        (
            &["graph", "examples/marketing.sec", "--format", "png"],
            2,
            "invalid value 'png'",
        ),
        (
            &["graph", "examples/marketing.sec", "--focus", "raw", "--depth", "x"],
            2,
            "invalid value 'x' for '--depth <N>'",
        ),
        (&["graph", "no/such/model.sec"], 2, "error:"),
        (
            &["graph", "tests/corpus/invalid/duplicate-app.sec"],
            1,
            "error[E0102]",
        ),
    ];
    for (args, code, message) in cases {
        let out = palisade(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{args:?}:\n{err}");
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in:\n{err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: something on stdout");
    }
}

/// docs/review.md embeds the Mermaid of marketing.sec verbatim, and every
/// picture it shows exists and stays small.
#[test]
fn the_review_doc_is_current() {
    let doc = std::fs::read_to_string(repo().join("docs/review.md")).unwrap();
    let mermaid = output("mermaid", &["examples/marketing.sec"]);
    assert!(
        doc.contains(&format!("```mermaid\n{mermaid}```\n")),
        "docs/review.md's Mermaid block is not the output of \
         `palisade graph examples/marketing.sec --format mermaid`:\n{mermaid}"
    );
    let mut pictures = 0;
    for part in doc.split("](img/").skip(1) {
        let name = part.split(')').next().unwrap();
        let path = repo().join("docs/img").join(name);
        let size = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(size < 300_000, "{}: {size} bytes", path.display());
        pictures += 1;
    }
    assert!(pictures >= 6, "{pictures} pictures");
}

#[test]
fn mermaid_over_its_limits_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("big.sec");
    let source = palisade::synth::generate(&palisade::synth::SynthOptions::new(300));
    std::fs::write(&model, source).unwrap();
    let model = model.to_str().unwrap();
    let out = palisade(&["graph", model, "--format", "mermaid"]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("warning: the diagram has ") && err.contains("--focus NAME"),
        "{err}"
    );
    assert!(text(&out.stdout).starts_with("flowchart LR\n"));
    // Within the limits, or -q: nothing on stderr.
    let out = palisade(&["graph", model, "--format", "mermaid", "-q"]);
    assert!(out.status.success() && out.stderr.is_empty());
    let out = palisade(&[
        "graph", model, "--format", "mermaid", "--focus", "customer", "--depth", "0",
    ]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_has_an_example() {
    let out = palisade(&["graph", "--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success());
    for want in [
        "--format",
        "--env",
        "--focus",
        "--depth",
        "Examples:",
        "dot -Tsvg",
    ] {
        assert!(help.contains(want), "no {want} in:\n{help}");
    }
}

/// `palisade review` embeds the `--effective` Mermaid diagram (which
/// `mermaid_renders_every_mermaid_output` renders) in a fenced block GitHub
/// renders; a model too large for Mermaid gets a note pointing at `--focus`.
#[test]
fn the_review_report_embeds_the_effective_diagram() {
    for (name, path) in EXAMPLES {
        let out = palisade(&["review", path]);
        assert!(out.status.success(), "review {name}: {}", text(&out.stderr));
        let report = text(&out.stdout);
        let start = report
            .find("```mermaid\n")
            .unwrap_or_else(|| panic!("{name}: no Mermaid block in the review"))
            + "```mermaid\n".len();
        let end = start + report[start..].find("```\n").expect("closed block");
        assert_eq!(
            &report[start..end],
            output("mermaid", &[path, "--effective"]),
            "{name}: the review's diagram is not `graph --effective`"
        );
    }
    let big = palisade::synth::generate(&palisade::synth::SynthOptions::new(300));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("big.sec");
    std::fs::write(&model, big).unwrap();
    let out = palisade(&["review", model.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        !report.contains("```mermaid"),
        "an oversized diagram was embedded"
    );
    assert!(report.contains("--focus NAME"), "no pointer to --focus");
}

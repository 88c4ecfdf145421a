//! Language tests as files. Adding a case means adding a file (or a
//! directory of files) under `tests/corpus/`, never Rust code:
//!
//! - `invalid/*`: must fail; the first line says `# expect: CODE ...` and
//!   that code must be among the errors; the rendered diagnostics (plain,
//!   no colour) are snapshotted.
//! - `valid/*` and every model in `examples/`: must have no errors; the
//!   resolved grants are snapshotted so that expansion is reviewed too.
//! - `lints/*`: checked models (`palisade check`); the first line says
//!   `# lint: NAME fires` or `# lint: NAME quiet`. A firing case must have a
//!   finding of that lint (snapshotted, the lint's findings only); a quiet
//!   one none. Neither may have a compiler error.
//!
//! Review new snapshots with `cargo insta review`.

use palisade::model::{Entity, Model};
use std::path::Path;

fn corpus_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Rendered diagnostics with machine-specific path prefixes removed.
fn rendered(path: &Path) -> (String, palisade::Compilation) {
    let comp = palisade::compile_path(path).expect("corpus case loads");
    let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
    let text = palisade::diagnostics::render::render(&diags, &comp.sources, false);
    let prefix = format!("{}/", corpus_dir().display());
    (text.replace(&prefix, ""), comp)
}

/// The `# expect: CODE` line of a case (its first file for a directory).
fn expected_code(path: &Path) -> String {
    let file = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sec"))
            .collect();
        files.sort();
        files.remove(0)
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let code = first
        .strip_prefix("# expect:")
        .unwrap_or_else(|| {
            panic!(
                "{}: first line must be `# expect: CODE ...`",
                file.display()
            )
        })
        .split_whitespace()
        .next()
        .expect("a code after `# expect:`");
    code.to_string()
}

#[test]
fn invalid_models_fail_with_their_diagnostics() {
    insta::glob!("corpus/invalid/*", |path| {
        let (text, comp) = rendered(path);
        assert!(
            comp.has_errors(),
            "{} must not check cleanly",
            path.display()
        );
        let code = expected_code(path);
        assert!(
            text.contains(&format!("error[{code}]")),
            "{}: expected an error {code}, got:\n{text}",
            path.display()
        );
        insta::assert_snapshot!(text);
    });
}

#[test]
fn valid_models_resolve_cleanly() {
    insta::glob!("corpus/valid/*", |path| {
        let (text, comp) = rendered(path);
        assert!(
            !comp.has_errors(),
            "{} must check cleanly:\n{text}",
            path.display()
        );
        insta::assert_snapshot!(summary(&comp.model, &text));
    });
}

#[test]
fn examples_resolve_cleanly() {
    let dir = corpus_dir().join("examples");
    let mut models: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| is_model(p))
        .collect();
    models.sort();
    assert!(models.len() >= 3, "the three examples of issue 2");
    for path in models {
        let (text, comp) = rendered(&path);
        assert!(
            !comp.has_errors(),
            "{} must check cleanly:\n{text}",
            path.display()
        );
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("example-{name}"), summary(&comp.model, &text));
    }
}

/// A `.sec` file, or a directory holding some (not e.g. `examples/deploy-repo`).
fn is_model(p: &Path) -> bool {
    let sec = |p: &Path| p.extension().is_some_and(|x| x == "sec");
    if p.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .any(|e| sec(&e.unwrap().path()))
    } else {
        sec(p)
    }
}

/// `selector app=x workload statefulset/x service_account x`
fn binding(b: &palisade::model::Binding) -> String {
    let mut parts = Vec::new();
    if !b.selector.is_empty() {
        let labels: Vec<String> = b.selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("selector {}", labels.join(",")));
    }
    if let Some(w) = &b.workload {
        parts.push(format!("workload {}/{}", w.kind.as_str(), w.name));
    }
    if let Some(sa) = &b.service_account {
        parts.push(format!("service_account {sa}"));
    }
    parts.join(" ")
}

/// A reviewable digest of the resolved model: pod groups and every grant.
fn summary(m: &Model, diagnostics: &str) -> String {
    let mut out = String::new();
    let ns = |id: palisade::model::NsId| m.namespace(id).name.clone();
    out.push_str(&format!("system {}\n", m.system.name));
    for p in &m.pods {
        let apps: Vec<&str> = p
            .apps
            .iter()
            .map(|a| m.apps[a.index()].name.as_str())
            .collect();
        out.push_str(&format!(
            "pod {} in {} = [{}]\n",
            p.name,
            ns(p.namespace),
            apps.join(", ")
        ));
        if !p.binding.is_empty() {
            out.push_str(&format!("  bound {}\n", binding(&p.binding)));
        }
    }
    for s in m.stores.iter().filter(|s| !s.binding.is_empty()) {
        out.push_str(&format!("store {} bound {}\n", s.name, binding(&s.binding)));
    }
    for g in &m.grants {
        let envs = match &g.envs {
            None => String::new(),
            Some(list) => {
                let names: Vec<&str> = list
                    .iter()
                    .map(|e| m.environments[e.index()].name.as_str())
                    .collect();
                format!(" in {}", names.join(", "))
            }
        };
        out.push_str(&format!(
            "grant {} -> {}: {}{envs}\n",
            entity(m, g.subject),
            entity(m, g.target),
            g.access
        ));
    }
    for f in &m.forbids {
        let s: Vec<String> = f.subjects.iter().map(|e| entity(m, *e)).collect();
        let t: Vec<String> = f.targets.iter().map(|e| entity(m, *e)).collect();
        let envs = f.envs.as_ref().map_or(String::new(), |l| {
            let names: Vec<&str> = l
                .iter()
                .map(|e| m.environments[e.index()].name.as_str())
                .collect();
            format!(" in {}", names.join(", "))
        });
        let access: Vec<String> = f.access.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "forbid {:?} [{}] -> [{}]: [{}]{envs}\n",
            f.kind,
            s.join(", "),
            t.join(", "),
            access.join(", ")
        ));
    }
    for a in &m.accepts {
        out.push_str(&format!(
            "accept {} ({} subjects, {} targets)\n",
            a.lint,
            a.subjects.len(),
            a.targets.len()
        ));
    }
    for l in &m.lint_levels {
        out.push_str(&format!("lint {} = {}\n", l.lint, l.level.as_str()));
    }
    if !diagnostics.is_empty() {
        out.push_str("\ndiagnostics:\n");
        out.push_str(diagnostics);
    }
    out
}

fn entity(m: &Model, e: Entity) -> String {
    match e {
        Entity::Internet | Entity::Kube => m.name_of(e).to_string(),
        _ => format!("{} {}", m.kind_of(e), m.name_of(e)),
    }
}

/// `# lint: NAME fires|quiet` of a lint case.
fn lint_expectation(path: &Path) -> (String, bool) {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("# lint:").unwrap_or_else(|| {
        panic!(
            "{}: first line must be `# lint: NAME fires|quiet`",
            path.display()
        )
    });
    let mut words = rest.split_whitespace();
    let name = words.next().expect("a lint name").to_string();
    assert!(
        palisade::lints::find(&name).is_some(),
        "{}: unknown lint {name}",
        path.display()
    );
    let fires = match words.next() {
        Some("fires") => true,
        Some("quiet") => false,
        other => panic!("{}: `fires` or `quiet`, not {other:?}", path.display()),
    };
    (name, fires)
}

#[test]
fn lints_fire_and_stay_quiet_as_their_cases_say() {
    insta::glob!("corpus/lints/*.sec", |path| {
        let (name, fires) = lint_expectation(path);
        let comp = palisade::compile_path(path).expect("case loads");
        assert!(
            !comp.has_errors(),
            "{}: the model itself must be valid",
            path.display()
        );
        let comp = palisade::check(comp).comp;
        let code =
            palisade::diagnostics::Code::Lint(palisade::lints::find(&name).expect("known").name);
        let own: Vec<_> = comp
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .cloned()
            .collect();
        let others: Vec<_> = comp
            .diagnostics
            .iter()
            .filter(|d| !matches!(d.code, palisade::diagnostics::Code::Lint(_)))
            .collect();
        assert!(others.is_empty(), "{}: {others:?}", path.display());
        let text = palisade::diagnostics::render::render(&own, &comp.sources, false);
        let prefix = format!("{}/", corpus_dir().display());
        let text = text.replace(&prefix, "");
        if fires {
            assert!(!own.is_empty(), "{}: `{name}` must fire", path.display());
            insta::assert_snapshot!(text);
        } else {
            assert!(
                own.is_empty(),
                "{}: `{name}` must stay quiet:\n{text}",
                path.display()
            );
        }
    });
}

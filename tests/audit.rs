//! `palisade audit` end to end, as a user drives it (docs/brownfield.md).
//!
//! - Every case of `tests/audit/` (a folder: `model.sec`, `manifests/`
//!   written the way charts, kustomize and `kubectl get` write them, and an
//!   optional `args` file of extra arguments): the exit code and the human
//!   report are snapshotted, and so is the JSON report, which is also held
//!   to the documented schema. A new case is a new folder.
//! - `audit` of `build`'s own output against its model, for every example
//!   and environment: exit 0, nothing wider, unenforced or violated.
//! - The brownfield flow: bind a model to a chart's workloads, generate the
//!   security layer with `build --no-workloads`, audit chart and layer
//!   together: clean; then a hand-written allow-all policy added to the
//!   chart is reported, with its file and line.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{palisade, repo, text};

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(out.len() >= 3, "the audit cases are missing");
    out
}

/// `palisade audit` of a case, from the repository root, with `format`.
fn audit(case: &Path, format: &str) -> std::process::Output {
    let rel = |p: PathBuf| {
        p.strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let model = rel(case.join("model.sec"));
    let manifests = rel(case.join("manifests"));
    let extra = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let mut args = vec!["audit", "-m", &model, &manifests, "--format", format];
    args.extend(extra.split_whitespace());
    std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(&args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("palisade runs")
}

/// The documented shape of the JSON report (schema version 1).
fn check_schema(v: &Value) {
    assert_eq!(v["version"], 1);
    for key in [
        "bindings",
        "unbound",
        "unmodelled",
        "wider",
        "unenforced",
        "invariants",
    ] {
        assert!(v[key].is_array(), "`{key}` is not a list: {v}");
    }
    for b in v["bindings"].as_array().unwrap() {
        for key in ["entity", "kind", "workload", "by"] {
            assert!(b[key].is_string(), "binding without `{key}`: {b}");
        }
    }
    for list in ["wider", "unenforced"] {
        for item in v[list].as_array().unwrap() {
            for key in ["layer", "subject", "target", "access"] {
                assert!(item[key].is_string(), "{list} item without `{key}`: {item}");
            }
            for c in item["causes"].as_array().unwrap() {
                if c.get("object").is_some() {
                    assert!(c["file"].is_string() && c["line"].is_u64(), "{c}");
                }
            }
        }
    }
    for i in v["unenforced"].as_array().unwrap() {
        assert!(i["declared"]["line"].is_u64(), "{i}");
    }
    let clean = v["wider"].as_array().unwrap().is_empty()
        && v["unenforced"].as_array().unwrap().is_empty()
        && v["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["holds"] == true);
    assert_eq!(v["clean"], clean, "{v}");
}

#[test]
fn every_case_reports_what_its_snapshot_says() {
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let out = audit(&case, "human");
        let code = out.status.code();
        let report = format!("exit: {code:?}\n{}", text(&out.stderr));
        assert!(
            out.stdout.is_empty(),
            "{name}: stdout: {}",
            text(&out.stdout)
        );
        insta::assert_snapshot!(format!("audit-{name}"), report);
        if code == Some(2) {
            continue;
        }
        let out = audit(&case, "json");
        assert_eq!(out.status.code(), code, "{name}: json exits as human");
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: no JSON ({e}): {}", text(&out.stdout)));
        check_schema(&v);
        insta::assert_snapshot!(
            format!("audit-{name}-json"),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }
}

/// Examples and oracle models with their environments, as `build` lays
/// them out.
fn example_builds() -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut models: Vec<String> = [
        "examples/marketing.sec",
        "examples/webshop.sec",
        "examples/platform",
    ]
    .map(String::from)
    .to_vec();
    // The oracle models too: shared pods, self-grants, no workloads, …
    let mut oracle_models: Vec<String> = std::fs::read_dir(repo().join("tests/oracles/models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sec"))
        .map(|p| {
            format!(
                "tests/oracles/models/{}",
                p.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    oracle_models.sort();
    models.extend(oracle_models);
    for model in &models {
        let comp = palisade::compile_path(&repo().join(model)).unwrap();
        // Without workloads, `build`'s output has nothing to bind: the
        // user's own workloads complete it (the brownfield test below).
        if !comp.model.platform.workloads {
            continue;
        }
        if comp.model.environments.is_empty() {
            out.push((model.to_string(), None));
        }
        for e in &comp.model.environments {
            out.push((model.to_string(), Some(e.name.clone())));
        }
    }
    out
}

#[test]
fn audit_of_builds_own_output_is_clean() {
    for (model, env) in example_builds() {
        let tmp = tempfile::tempdir().unwrap();
        let out_dir = tmp.path().join("out");
        let o = out_dir.to_str().unwrap();
        let m = repo().join(&model);
        let m = m.to_str().unwrap();
        let built = palisade(&["build", m, "-o", o, "-q"]);
        assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
        let tree = match &env {
            Some(e) => out_dir.join(e),
            None => out_dir.clone(),
        };
        let mut args = vec!["audit", "-m", m, tree.to_str().unwrap(), "--format", "json"];
        if let Some(e) = &env {
            args.extend(["--env", e]);
        }
        let out = palisade(&args);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{model} {env:?}: {e}: {}", text(&out.stderr)));
        check_schema(&v);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{model} {env:?}: {}",
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert!(
            !v["bindings"].as_array().unwrap().is_empty(),
            "{model}: nothing bound"
        );
        assert!(v["unmodelled"].as_array().unwrap().is_empty(), "{v}");
    }
}

const CHART: &str = r#"# Source: shop/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
  namespace: web
spec:
  selector:
    matchLabels: { app.kubernetes.io/name: api }
  template:
    metadata:
      labels: { app.kubernetes.io/name: api, app.kubernetes.io/instance: shop }
    spec:
      serviceAccountName: shop-api
      automountServiceAccountToken: false
      containers:
        - name: api
          image: ghcr.io/acme/api@sha256:44dd
          ports: [{ name: http, containerPort: 8080 }]
---
# Source: shop/templates/front.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-front
  namespace: web
spec:
  selector:
    matchLabels: { app.kubernetes.io/name: front }
  template:
    metadata:
      labels: { app.kubernetes.io/name: front, app.kubernetes.io/instance: shop }
    spec:
      serviceAccountName: shop-front
      automountServiceAccountToken: false
      containers:
        - name: front
          image: ghcr.io/acme/front@sha256:55ee
"#;

const MODEL: &str = r#"system shop
namespace web
persona dev { group = "devs" }
app api in web {
  image = "ghcr.io/acme/api@sha256:44dd"
  ports = { http = 8080 }
  selector = { "app.kubernetes.io/name" = "api" }
  workload = "deployment/shop-api"
  service_account = "shop-api"
}
app front in web {
  image = "ghcr.io/acme/front@sha256:55ee"
  selector = { "app.kubernetes.io/name" = "front" }
  workload = "deployment/shop-front"
  service_account = "shop-front"
}
allow front -> api: http
allow dev -> [api, front]: logs, restart
forbid front ~> internet
"#;

const ALLOW_ALL: &str = r#"# added by hand "to debug"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-all
  namespace: web
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{}]
  egress: [{}]
"#;

#[test]
fn a_chart_with_the_generated_security_layer_is_clean_until_someone_opens_it() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("shop.sec");
    std::fs::write(&model, MODEL).unwrap();
    let chart = tmp.path().join("chart");
    std::fs::create_dir(&chart).unwrap();
    std::fs::write(chart.join("rendered.yaml"), CHART).unwrap();
    let layer = tmp.path().join("layer");
    let m = model.to_str().unwrap();
    let built = palisade(&[
        "build",
        m,
        "-o",
        layer.to_str().unwrap(),
        "--no-workloads",
        "-q",
    ]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
    // The layer names the chart's workloads and ServiceAccounts, and writes
    // no workload of its own.
    let role = std::fs::read_to_string(layer.join("web/role-persona-dev.yaml")).unwrap();
    assert!(
        role.contains("shop-api") && role.contains("shop-front"),
        "{role}"
    );
    assert!(!layer.join("web/deployment-api.yaml").exists());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "audit".to_string(),
            "-m".into(),
            m.into(),
            chart.to_str().unwrap().into(),
            layer.to_str().unwrap().into(),
            "--format".into(),
            "json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = palisade(&a);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
        check_schema(&v);
        (out.status.code(), v)
    };
    let (code, v) = run(args(&[]));
    assert_eq!(
        code,
        Some(0),
        "{}",
        serde_json::to_string_pretty(&v).unwrap()
    );
    let by: Vec<&str> = (v["bindings"].as_array().unwrap().iter())
        .map(|b| b["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["selector", "selector"]);

    // Someone adds an allow-all policy to the chart.
    std::fs::write(chart.join("zz-debug.yaml"), ALLOW_ALL).unwrap();
    let (code, v) = run(args(&[]));
    assert_eq!(code, Some(1));
    let wider = v["wider"].as_array().unwrap();
    let to_internet = wider
        .iter()
        .find(|w| w["subject"] == "front" && w["target"] == "internet")
        .unwrap_or_else(|| panic!("front -> internet not reported: {v}"));
    let cause = &to_internet["causes"][0];
    assert_eq!(cause["object"], "NetworkPolicy web/allow-all", "{cause}");
    assert!(cause["file"].as_str().unwrap().ends_with("zz-debug.yaml"));
    assert_eq!(cause["line"], 3, "the `kind:` line: {cause}");
    assert!(
        wider
            .iter()
            .any(|w| w["subject"] == "*/*" && w["target"] == "api"),
        "any pod -> api not reported: {v}"
    );
    let violated: Vec<&Value> = (v["invariants"].as_array().unwrap().iter())
        .filter(|i| i["holds"] == false)
        .collect();
    assert_eq!(violated.len(), 1, "forbid front ~> internet: {v}");
}

#[test]
fn unreadable_input_is_exit_2_and_audits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.sec");
    std::fs::write(&model, "system s\nnamespace web\n").unwrap();
    let m = model.to_str().unwrap();
    let missing = tmp.path().join("nope.yaml");
    let out = palisade(&["audit", "-m", m, missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = palisade(&["audit", "-m", m, empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no `.yaml`"),
        "{}",
        text(&out.stderr)
    );
    // Valid YAML of kinds that do not matter for access: nothing to audit.
    let cm = tmp.path().join("cm.yaml");
    std::fs::write(
        &cm,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    )
    .unwrap();
    let out = palisade(&["audit", "-m", m, cm.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // A wrongly typed field names its line.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n",
    )
    .unwrap();
    let out = palisade(&["audit", "-m", m, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("E0502") && err.contains("bad.yaml:6:"),
        "{err}"
    );
}

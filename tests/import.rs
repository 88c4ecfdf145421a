//! `palisade import` on manifests as files. Adding a case means adding a
//! folder under `tests/import/`, never Rust code: its YAML/JSON files are
//! the manifests (read as a directory, the way a user points `import` at a
//! rendered chart), and an optional `args` file holds further arguments
//! (`-n boutique`). Each case must import (exit 0), its draft is
//! snapshotted, and the draft must be in `palisade fmt` layout, check with
//! no errors and build. Then `palisade audit` of the draft against the same
//! manifests must find nothing wider between the draft's parties but what
//! the language cannot name (port ranges, every port, other protocols —
//! the draft lists those at its top) and the lines of an optional
//! `audit-wider` file of the case (`SUBJECT -> TARGET ACCESS`, `#`
//! comments), which records known departures with their reason.

mod support;

use std::path::Path;
use std::process::Command;
use support::{palisade, text};

fn import_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("import")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("palisade runs")
}

#[test]
fn drafts_check_and_build() {
    let root = support::repo().join("tests/import");
    insta::glob!("import/*", |case| {
        if !case.is_dir() {
            return;
        }
        let name = case.file_name().unwrap().to_str().unwrap();
        let extra = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let tmp = tempfile::tempdir().unwrap();
        let draft = tmp.path().join("draft.sec");
        let draft_arg = draft.to_str().unwrap();
        let mut args: Vec<&str> = extra.split_whitespace().collect();
        args.extend([name, "-o", draft_arg]);
        let out = import_in(&root, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: import failed:\n{}",
            text(&out.stderr)
        );
        let model = std::fs::read_to_string(&draft).unwrap();
        insta::assert_snapshot!(model);

        let out = palisade(&["fmt", "--check", draft_arg]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: the draft is not in fmt layout"
        );
        let out = palisade(&["check", draft_arg]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: the draft does not check:\n{}",
            text(&out.stderr)
        );
        let mut audit: Vec<&str> = vec!["audit"];
        audit.extend(extra.split_whitespace());
        audit.extend(["-m", draft_arg, name, "--format", "json"]);
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(&audit)
            .current_dir(&root)
            .output()
            .expect("palisade runs");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: audit failed:\n{}",
            text(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let expected: std::collections::BTreeSet<String> =
            std::fs::read_to_string(case.join("audit-wider"))
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect();
        assert_eq!(
            wider_between_parties(&report),
            expected,
            "{name}: audit of the draft finds access between its parties that the draft does not state"
        );
        let deploy = tmp.path().join("deploy");
        let out = palisade(&["build", draft_arg, "-o", deploy.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: the draft does not build:\n{}",
            text(&out.stderr)
        );
    });
}

/// `SUBJECT -> TARGET ACCESS` of each wider item between two parties of the
/// model (not `internet`, the ingress, `kube`, a namespace or a workload
/// the model does not name) whose access the language can name: a single
/// port, or an RBAC verb and resource.
fn wider_between_parties(report: &serde_json::Value) -> std::collections::BTreeSet<String> {
    let outside = |p: &str| {
        p.contains('/') || p.contains(' ') || matches!(p, "internet" | "ingress" | "kube" | "dns")
    };
    // `TCP/8080` (every part a single port) or an RBAC item; not a
    // range, `*/*` (every port) or `other protocols`.
    let nameable = |a: &str| {
        a.split(", ").all(|part| match part.split_once('/') {
            Some((proto, port)) if proto.chars().all(|c| c.is_ascii_uppercase()) => {
                !port.is_empty() && port.chars().all(|c| c.is_ascii_digit())
            }
            _ => !part.contains("other protocols") && part != "*/*",
        })
    };
    report["wider"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| {
            let (s, t, a) = (
                w["subject"].as_str()?,
                w["target"].as_str()?,
                w["access"].as_str()?,
            );
            (!outside(s) && !outside(t) && nameable(a)).then(|| format!("{s} -> {t} {a}"))
        })
        .collect()
}

/// The draft on standard output is the one `-o` writes.
#[test]
fn stdout_and_file_agree() {
    let root = support::repo().join("tests/import");
    let stdout = import_in(&root, &["helm-shop"]);
    assert_eq!(stdout.status.code(), Some(0), "{}", text(&stdout.stderr));
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("d.sec");
    let out = import_in(&root, &["helm-shop", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&stdout.stdout),
        std::fs::read_to_string(&file).unwrap()
    );
    assert!(text(&out.stderr).contains("palisade check"));
    // Never replaced.
    let again = import_in(&root, &["helm-shop", "-o", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists"));
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn invalid_yaml_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\nkind: Deployment\nmetadata:\n  name: [unclosed\n",
    );
    let out = palisade(&["import", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error[E0501]"), "{err}");
    assert!(
        err.contains("bad.yaml:9:1") || err.contains("bad.yaml:8:"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn empty_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "empty.yaml", "# nothing here\n---\n");
    let out = palisade(&["import", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("nothing to import"), "{err}");
    assert!(err.contains("no Kubernetes objects"), "{err}");

    let f = write(
        tmp.path(),
        "cm.yaml",
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c, namespace: n}\n",
    );
    let out = palisade(&["import", &f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only ConfigMap (1)"));

    let dir = tmp.path().join("none");
    std::fs::create_dir(&dir).unwrap();
    let out = palisade(&["import", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).is_empty());
}

#[test]
fn objects_without_namespace_need_n() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "app.yaml",
        "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
    );
    let out = palisade(&["import", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("app.yaml:1:1: Deployment web"), "{err}");
    assert!(err.contains("-n NAMESPACE"), "{err}");
    let out = palisade(&["import", "-n", "shop", &f]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("app web in shop"));
    // A namespace the model cannot declare.
    let out = palisade(&["import", "-n", "kube-system", &f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot be a namespace of the model"));
}

/// `build`'s own output of every example imports into a draft that checks,
/// and that `audit` finds nothing wider in (between its parties) against
/// that output: the draft recovers the apps, the stores (from the policies
/// that reach them), every connection and every operation.
#[test]
fn build_output_round_trips() {
    let examples = support::repo().join("examples");
    for model in ["webshop.sec", "marketing.sec", "platform"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deploy");
        let built = palisade(&[
            "build",
            "-q",
            examples.join(model).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            built.status.code(),
            Some(0),
            "{model}: {}",
            text(&built.stderr)
        );
        let mut envs: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        envs.sort();
        assert!(!envs.is_empty());
        for env in envs {
            let env_arg = env.to_str().unwrap();
            let draft = tmp.path().join(format!(
                "{}.sec",
                env.file_name().unwrap().to_str().unwrap()
            ));
            let draft_arg = draft.to_str().unwrap();
            let out = palisade(&["import", env_arg, "-o", draft_arg]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{model} {env_arg}: {}",
                text(&out.stderr)
            );
            let text_draft = std::fs::read_to_string(&draft).unwrap();
            assert!(
                text_draft.contains("\nstore "),
                "{model}: no store recovered"
            );
            let out = palisade(&["check", draft_arg]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{model} {env_arg}: {}",
                text(&out.stderr)
            );
            let out = palisade(&["audit", "-m", draft_arg, env_arg, "--format", "json"]);
            let report: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{model}: {e}: {}", text(&out.stderr)));
            assert_eq!(
                wider_between_parties(&report),
                Default::default(),
                "{model} {env_arg}: the draft states less than its build output allows"
            );
        }
    }
}

/// `-` reads the manifests from standard input (`helm template … |
/// palisade import -`); a syntax error there is located in `<stdin>`.
#[test]
fn standard_input() {
    use std::io::Write;
    let run = |input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["import", "-"])
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let yaml = std::fs::read(support::repo().join("tests/import/helm-shop/rendered.yaml")).unwrap();
    let out = run(&yaml);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let draft = text(&out.stdout);
    assert!(draft.contains("from standard input"), "{draft}");
    assert!(
        draft.contains("\nsystem shop "),
        "the chart names the system: {draft}"
    );
    let out = run(b"kind: [\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--> <stdin>:2:1"),
        "{}",
        text(&out.stderr)
    );
}

/// The draft does not depend on the order of documents (a chart rendered
/// again, a dump sorted otherwise): reversed, the same declarations and
/// statements come out; only the comments' places differ.
#[test]
fn document_order_does_not_matter() {
    let original = support::repo().join("tests/import/helm-shop/rendered.yaml");
    let text_in = std::fs::read_to_string(&original).unwrap();
    let docs: Vec<&str> = text_in
        .split("\n---\n")
        .map(|d| d.strip_prefix("---\n").unwrap_or(d))
        .filter(|d| !d.trim().is_empty())
        .collect();
    assert!(docs.len() > 20);
    let tmp = tempfile::tempdir().unwrap();
    let reversed = tmp.path().join("rendered.yaml");
    let body: Vec<&str> = docs.into_iter().rev().collect();
    std::fs::write(&reversed, format!("---\n{}\n", body.join("\n---\n"))).unwrap();
    let code = |path: &Path| {
        let out = palisade(&["import", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.starts_with("system "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(code(&original), code(&reversed));
}

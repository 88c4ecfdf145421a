//! The checker on the examples: findings a careful reviewer lists by hand.
//!
//! The marketing list was written before the checker existed, from reading
//! examples/marketing.sec against docs/checks.md; the checker must produce
//! exactly it — nothing more, nothing less.

use std::collections::BTreeSet;
use std::path::Path;

fn findings(model: &str) -> BTreeSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(model);
    let comp = palisade::compile_path(&path).expect("example loads");
    assert!(!comp.has_errors(), "{model} must compile");
    let comp = palisade::check(comp).comp;
    comp.diagnostics
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect()
}

#[test]
fn marketing_findings_are_the_reviewers_list() {
    let expected: BTreeSet<(String, String)> = [
        // sre may exec into web and api in dev; exec is namespace-wide, so
        // it reaches the product database's own pods, and logs (dev and
        // prod) reach the database's logs. (analyst's logs reach the
        // scheduler: accepted in the model, so not listed.)
        (
            "namespace-wide-grant",
            "`exec` for sre reaches every pod of namespace `product`, not only the named apps",
        ),
        (
            "namespace-wide-grant",
            "`logs` for sre reaches every pod of namespace `product`, not only the named apps",
        ),
        // exec into api = api's write credentials for main-db and its
        // connections (main-db, stripe); exec into web = web's connection to api.
        ("exec-inherits-identity", "exec lets sre act as api in dev"),
        ("exec-inherits-identity", "exec lets sre act as web in dev"),
        // ... so a person can write the restricted database in dev.
        (
            "human-write-restricted",
            "sre can write restricted store `main-db` in dev",
        ),
        // shipper shares etl's pod: it can reach raw and results.
        (
            "shared-pod-widening",
            "`shipper` shares pod `etl-pod`, and with it network access it was not granted",
        ),
        // customer -> web -> api -> main-db (restricted) is there, but every
        // hop is a statement: the declared design, so no
        // `external-reaches-sensitive`.
        // creating Jobs runs any image with the namespace's Secrets.
        (
            "dangerous-kube-grant",
            "`create jobs.batch` is a dangerous grant",
        ),
        // restart is RBAC patch on etl-pod's Deployment: the analyst can
        // rewrite its pod template to run as the scheduler's ServiceAccount
        // (create jobs) or take the scheduler's pod label (issue 15).
        (
            "workload-rewrite",
            "`restart` lets analyst rewrite `etl-pod`'s Deployment: any image, ServiceAccount, Secret or pod label of namespace `pipeline`",
        ),
        // no image is pinned by digest.
        (
            "unpinned-image",
            "the image of `web` is not pinned by digest",
        ),
        (
            "unpinned-image",
            "the image of `api` is not pinned by digest",
        ),
        (
            "unpinned-image",
            "the image of `etl` is not pinned by digest",
        ),
        (
            "unpinned-image",
            "the image of `shipper` is not pinned by digest",
        ),
        (
            "unpinned-image",
            "the image of `scheduler` is not pinned by digest",
        ),
        // Both invariants hold: analysts never reach main-db; no path from
        // customers to raw. The accept is used, so it is not stale.
    ]
    .into_iter()
    .map(|(l, m)| (l.to_string(), m.to_string()))
    .collect();
    let got = findings("examples/marketing.sec");
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
}

/// The other examples check without errors (their findings are warnings).
#[test]
fn examples_have_no_denied_findings() {
    for model in ["examples/webshop.sec", "examples/platform"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(model);
        let comp = palisade::compile_path(&path).expect("example loads");
        let comp = palisade::check(comp).comp;
        let errors: Vec<_> = comp
            .diagnostics
            .iter()
            .filter(|d| d.severity == palisade::diagnostics::Severity::Error)
            .map(|d| format!("{}: {}", d.code.as_str(), d.message))
            .collect();
        assert!(errors.is_empty(), "{model}: {errors:#?}");
    }
}

/// Lint findings in the JSON form: `code` is the lint's name, the cause
/// chain is in `notes`, and a denied finding makes the exit code 1.
#[test]
fn json_carries_lint_findings() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["check", "--format", "json", "examples/marketing.sec"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    let exec = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| {
            d["code"] == "exec-inherits-identity"
                && d["message"] == "exec lets sre act as api in dev"
        })
        .expect("the exec finding");
    assert_eq!(exec["severity"], "warning");
    let notes: Vec<&str> = exec["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        notes.contains(&"sre --exec--> api --mounts--> main-db-write"),
        "{notes:?}"
    );
    let denied = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "check",
            "--format",
            "json",
            "--deny",
            "warnings",
            "examples/marketing.sec",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert_eq!(denied.status.code(), Some(1));
}

/// With `guardrails = calico`, `check` names each `forbid` (pair) that no
/// network guardrail enforces, and why, and the `~>` whose guardrail cuts
/// only the direct connection — as notes (N0501), which never fail a check.
#[test]
fn layers_name_the_forbids_no_guardrail_enforces() {
    let got: BTreeSet<(String, String)> = findings("tests/oracles/models/layers.sec")
        .into_iter()
        .filter(|(code, _)| code == "N0501")
        .collect();
    let want: BTreeSet<(String, String)> = [
        "no network guardrail for `visitor -> orders`: `check` alone enforces it",
        "no network guardrail for `sre -> worker`: `check` alone enforces it",
        "the guardrail of this `~>` denies only the direct connection",
    ]
    .into_iter()
    .map(|m| ("N0501".to_string(), m.to_string()))
    .collect();
    assert_eq!(got, want);
    // Without guardrails there is nothing to say.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/models/layers.sec"),
    )
    .unwrap()
    .replace("  guardrails = calico\n", "");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layers.sec");
    std::fs::write(&path, text).unwrap();
    let comp = palisade::check(palisade::compile_path(&path).unwrap()).comp;
    assert!(!comp.has_errors());
    assert!(comp.diagnostics.iter().all(|d| d.code.as_str() != "N0501"));
}

//! `palisade query` and `palisade diff` as a user runs them: exit codes
//! (0 answered, 1 model errors or widening with --fail-on-widening, 2 bad
//! usage or unknown names), results on stdout, errors on stderr.

use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("palisade runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const M: &str = "examples/marketing.sec";

#[test]
fn query_answers_with_exit_0() {
    let out = palisade(&[
        "query", "-m", M, "who-can", "read", "main-db", "--env", "prod",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("in prod:"), "{s}");
    assert!(s.contains("api -> main-db: write"), "{s}");
    assert!(!s.contains("sre"), "sre has no read in prod: {s}");
    assert!(out.stderr.is_empty());
}

#[test]
fn query_json_is_versioned() {
    let out = palisade(&[
        "query", "-m", M, "path", "customer", "main-db", "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["query"]["kind"], "path");
    let hops = doc["environments"][0]["path"]["hops"]
        .as_array()
        .expect("a path");
    assert_eq!(hops.last().unwrap()["to"], "main-db");
}

#[test]
fn unknown_names_exit_2_with_a_suggestion() {
    for (args, want) in [
        (
            vec!["who-can", "read", "mian-db"],
            "did you mean `main-db`?",
        ),
        (vec!["who-can", "raed", "main-db"], "did you mean `read`?"),
        (
            vec!["what-can", "sre", "--env", "prd"],
            "did you mean `prod`?",
        ),
        (vec!["path", "custmer", "raw"], "did you mean `customer`?"),
        (vec!["what-can", "etl-pod"], "is a pod"),
    ] {
        let mut all = vec!["query", "-m", M];
        all.extend(args.iter().copied());
        let out = palisade(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn query_on_a_broken_model_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.sec");
    std::fs::write(&p, "system s\nallow a -> b: read\n").unwrap();
    let out = palisade(&["query", "-m", p.to_str().unwrap(), "what-can", "a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("E0101"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let missing = palisade(&["query", "-m", "no/such/model.sec", "what-can", "a"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(M).exists());
}

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

/// Both layers on (tests/review/layers.sec): no path from `shipper` to
/// `raw`, and the answer says which guardrail, from which `forbid`, cut
/// the connection the NetworkPolicies admit; `who-can` lists the cut
/// declared connection of `etl` too. An answer, so exit 0 (the finding
/// that reports the cut grant is `check`'s).
#[test]
fn query_says_which_layer_cut_a_connection() {
    let model = "tests/review/layers.sec";
    let out = palisade(&[
        "query", "-m", model, "path", "shipper", "raw", "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let env = &doc["environments"][0];
    assert_eq!(env["path"], serde_json::Value::Null);
    let cause = env["cut"][0]["causes"][0].as_str().expect("a cause");
    assert!(
        cause.starts_with("NetworkPolicy admits TCP/5432")
            && cause.contains(
                "GlobalNetworkPolicy layered-forbid-etl-pod-raw-50695331d6-ingress ingress[0] denies it"
            )
            && cause.ends_with("(forbid at tests/review/layers.sec:49:1)"),
        "{cause}"
    );
    let out = palisade(&["query", "-m", model, "who-can", "connect", "raw"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("  (nothing)\n  cut by the mesh or guardrail layer (the NetworkPolicies admit it):\n    etl -> raw: postgres\n"),
        "{s}"
    );
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

const CASES: &str = "tests/corpus/diff";

#[test]
fn diff_fails_on_widening_only_when_asked_and_only_when_added() {
    let allow = [
        "diff",
        "tests/corpus/diff/new-allow/old.sec",
        "tests/corpus/diff/new-allow/new.sec",
    ];
    let out = palisade(&allow);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("## Palisade: access changes"));
    let mut strict = allow.to_vec();
    strict.push("--fail-on-widening");
    let out = palisade(&strict);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--fail-on-widening"));
    // Removing an allow adds nothing.
    let out = palisade(&[
        "diff",
        &format!("{CASES}/removed-allow/old.sec"),
        &format!("{CASES}/removed-allow/new.sec"),
        "--fail-on-widening",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["access_added"], 0);
}

#[test]
fn diff_reports_both_sides_errors_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad_old = dir.path().join("old.sec");
    let bad_new = dir.path().join("new.sec");
    std::fs::write(&bad_old, "system s\nallow a -> b: read\n").unwrap();
    std::fs::write(&bad_new, "system s\nallow c -> d: read\n").unwrap();
    let out = palisade(&["diff", bad_old.to_str().unwrap(), bad_new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("`a`") && err.contains("`c`"), "{err}");
    assert!(out.stdout.is_empty());
    let missing = palisade(&["diff", "no/such.sec", M]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("does not exist"));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// `git:REV:PATH` reads a file or a directory's `.sec` files at a revision,
/// PATH relative to the working directory.
#[test]
fn diff_reads_models_from_git_revisions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    std::fs::create_dir(repo.join("models")).unwrap();
    let old = std::fs::read(root.join(CASES).join("new-allow/old.sec")).unwrap();
    let new = std::fs::read(root.join(CASES).join("new-allow/new.sec")).unwrap();
    std::fs::write(repo.join("models/shop.sec"), &old).unwrap();
    std::fs::write(repo.join("models/README"), "not a model").unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "old"]);
    std::fs::write(repo.join("models/shop.sec"), &new).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .current_dir(repo)
            .output()
            .expect("palisade runs")
    };
    for (old, new) in [
        ("git:HEAD:models", "models"),
        ("git:HEAD:models/shop.sec", "models/shop.sec"),
        ("git:HEAD:./models/", "models"),
    ] {
        let out = run(&["diff", old, new, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{old}: {}", text(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let added = doc["access"]["added"].as_array().unwrap();
        assert!(
            added
                .iter()
                .any(|a| a["from"] == "front" && a["to"] == "orders" && a["access"] == "metrics"),
            "{old}: {added:?}"
        );
    }
    // Both sides at revisions: no change.
    let out = run(&["diff", "git:HEAD:models", "git:HEAD:models"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("No change"));
    // Unknown revision or path: exit 2 with git's reason.
    for bad in ["git:nosuchrev:models", "git:HEAD:nothing-here"] {
        let out = run(&["diff", bad, "models"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(text(&out.stderr).starts_with("error:"), "{bad}");
    }
}

#[test]
fn review_writes_markdown_to_stdout_or_a_file() {
    let out = palisade(&["review", M]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    assert!(md.starts_with("# Design review: `marketing`"), "{md}");
    for section in [
        "## Access matrix",
        "## Findings",
        "### Accepted",
        "## Invariants",
    ] {
        assert!(md.contains(section), "{section}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("review.md");
    let out = palisade(&["review", M, "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), md);
    let bad = dir.path().join("bad.sec");
    std::fs::write(&bad, "system s\nallow a -> b: read\n").unwrap();
    assert_eq!(
        palisade(&["review", bad.to_str().unwrap()]).status.code(),
        Some(1)
    );
    let unwritable = dir.path().join("no/such/dir/review.md");
    let out = palisade(&["review", M, "-o", unwritable.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

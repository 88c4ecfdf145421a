//! `palisade check --format sarif` (src/diagnostics/sarif.rs, docs/language.md).
//!
//! The logs are judged by `tests/oracles/bin/sarif-validate`: Microsoft's
//! reference SARIF Multitool (schema and SARIF1xxx rules as errors, SARIF2xxx
//! best practices as warnings) plus a strict JSON-schema check against the
//! SARIF 2.1.0 schema shipped in the Multitool's package. Both are installed
//! once per run by `scripts/install-oracles.sh target/oracles sarif` (npm and
//! PyPI, pinned); when that fails, the tests fail with its output.
//!
//! Validated: every example, and a set of invalid models from
//! `tests/corpus/invalid/` chosen so that between them they show every
//! feature of a result that occurs (related locations, help, notes, empty
//! regions, several files, several results; the Multitool needs about a
//! quarter of a second per log). Every invalid model is also checked here
//! for exit code 1, error results and consistent `ruleIndex`es.

mod support;

use palisade::diagnostics::sarif::{information_uri, FINGERPRINT_KEY};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use support::{install_oracles, repo, text};

/// Installs the SARIF oracle once; panics with the installer's output when
/// that fails: never a silent skip.
fn oracle() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| install_oracles(&["sarif"]));
    match result {
        Ok(dir) => dir,
        Err(e) => panic!("the SARIF oracle could not be installed, so nothing was checked:\n{e}"),
    }
}

/// Runs the validator on `logs` (name, SARIF text); panics on any error,
/// and on any warning but the one a missing `informationUri` earns while
/// Cargo.toml declares neither `homepage` nor `repository`.
fn validate(logs: &[(String, String)]) {
    let dir = oracle();
    let tmp = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = logs
        .iter()
        .map(|(name, log)| {
            let p = tmp.path().join(format!("{}.sarif", name.replace('/', "_")));
            std::fs::write(&p, log).unwrap();
            p
        })
        .collect();
    let out = Command::new("bash")
        .arg(repo().join("tests/oracles/bin/sarif-validate"))
        .args(&files)
        .env("ORACLES_DIR", dir)
        .output()
        .expect("sarif-validate runs");
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "sarif-validate rejected the logs ({}):\n{report}",
        out.status
    );
    let unexpected: Vec<&str> = report
        .lines()
        .filter(|l| !l.starts_with("sarif-validate: "))
        .filter(|l| {
            !(information_uri().is_none()
                && l.contains("\tSARIF2005\t")
                && l.contains("'informationUri'"))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "sarif-validate warns:\n{}",
        unexpected.join("\n")
    );
    let summary = report
        .lines()
        .find(|l| l.starts_with("sarif-validate: "))
        .unwrap_or_default();
    assert!(summary.starts_with("sarif-validate: 0 errors"), "{report}");
}

fn palisade_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("palisade runs")
}

/// `palisade check MODEL --format sarif` from the repository root (so that
/// URIs are relative to it): the exit code and the parsed log.
fn check(model: &str, extra: &[&str]) -> (Option<i32>, String, Value) {
    let mut args = vec!["check", model, "--format", "sarif"];
    args.extend(extra);
    let out = palisade_in(repo(), &args);
    let log = text(&out.stdout);
    let v = serde_json::from_str(&log).unwrap_or_else(|e| {
        panic!(
            "{model}: no JSON on stdout ({e}):\n{log}{}",
            text(&out.stderr)
        )
    });
    (out.status.code(), log, v)
}

fn results(v: &Value) -> &Vec<Value> {
    v["runs"][0]["results"].as_array().expect("results")
}

fn models(dir: &str, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| keep(p))
        .map(|p| {
            p.strip_prefix(repo())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// What a log shows, for choosing a covering set of models.
fn features(v: &Value) -> BTreeSet<&'static str> {
    let mut f = BTreeSet::new();
    let rs = results(v);
    if rs.len() > 1 {
        f.insert("several results");
    }
    let mut uris = BTreeSet::new();
    for r in rs {
        let msg = r["message"]["text"].as_str().unwrap_or_default();
        if msg.contains("\nhelp: ") {
            f.insert("help");
        }
        if msg.contains("\nnote: ") {
            f.insert("note");
        }
        if r.get("relatedLocations").is_some() {
            f.insert("related locations");
        }
        let related = r["relatedLocations"].as_array().into_iter().flatten();
        for l in r["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(related)
        {
            let region = &l["physicalLocation"]["region"];
            uris.insert(l["physicalLocation"]["artifactLocation"]["uri"].to_string());
            if region["startLine"] != region["endLine"] {
                f.insert("multi-line region");
            }
            if region["startLine"] == region["endLine"]
                && region["startColumn"] == region["endColumn"]
            {
                f.insert("empty region");
            }
            if l.get("message").is_some() {
                f.insert("location message");
            }
        }
    }
    if uris.len() > 1 {
        f.insert("several files");
    }
    f
}

#[test]
fn invalid_models_and_examples_give_valid_sarif() {
    let mut chosen: Vec<(String, String)> = Vec::new();
    let mut covered = BTreeSet::new();
    let invalid = models("tests/corpus/invalid", |_| true);
    assert!(invalid.len() > 50, "the corpus is missing: {invalid:?}");
    for model in &invalid {
        let (code, log, v) = check(model, &[]);
        assert_eq!(code, Some(1), "{model}: a model with errors exits 1\n{log}");
        let rs = results(&v);
        assert!(
            rs.iter().any(|r| r["level"] == "error"),
            "{model}: its errors are results\n{log}"
        );
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for r in rs {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"], "{model}: ruleIndex\n{log}");
            assert!(r["partialFingerprints"][FINGERPRINT_KEY].is_string());
        }
        let new: BTreeSet<_> = features(&v).difference(&covered).copied().collect();
        if chosen.is_empty() || !new.is_empty() {
            covered.extend(new);
            chosen.push((model.clone(), log));
        }
    }
    for feature in [
        "several results",
        "help",
        "related locations",
        "several files",
        "location message",
    ] {
        assert!(
            covered.contains(feature),
            "no invalid model shows {feature}: {covered:?}"
        );
    }
    let examples = models("examples", |p| {
        p.extension().is_some_and(|e| e == "sec")
            || (p.is_dir()
                && std::fs::read_dir(p)
                    .unwrap()
                    .flatten()
                    .any(|e| e.path().extension().is_some_and(|x| x == "sec")))
    });
    assert!(examples.len() >= 3, "{examples:?}");
    for model in &examples {
        let (code, log, v) = check(model, &[]);
        let errors = results(&v).iter().filter(|r| r["level"] == "error").count();
        assert_eq!(code, Some(i32::from(errors > 0)), "{model}\n{log}");
        chosen.push((model.clone(), log));
    }
    eprintln!(
        "validating {} logs: {}",
        chosen.len(),
        chosen
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    validate(&chosen);
}

#[test]
fn deny_warnings_and_quiet() {
    for model in [
        "examples/marketing.sec",
        "examples/platform",
        "examples/webshop.sec",
    ] {
        let (_, _, plain) = check(model, &[]);
        let (code, log, denied) = check(model, &["--deny", "warnings"]);
        let rs = results(&denied);
        assert_eq!(rs.len(), results(&plain).len(), "{model}");
        assert!(rs.iter().all(|r| r["level"] == "error"), "{model}\n{log}");
        assert_eq!(code, Some(i32::from(!rs.is_empty())), "{model}\n{log}");
        let (_, log, quiet) = check(model, &["-q"]);
        assert!(
            results(&quiet).iter().all(|r| r["level"] == "error"),
            "{model}\n{log}"
        );
    }
}

#[test]
fn unreadable_model_is_a_usage_error_with_nothing_on_stdout() {
    let out = palisade_in(repo(), &["check", "no/such/model.sec", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).starts_with("error: "),
        "{}",
        text(&out.stderr)
    );
}

/// An error after multi-byte characters on its line, in a file whose path
/// has a space and a non-ASCII letter, given relative to the current
/// directory.
const MODEL: &str = "system shop \"Café → 𝄞\"\nnamespace web\napp api in web { image = \"é→𝄞\" replicas = \"2\" }\n";

#[test]
fn uris_are_relative_and_encoded_columns_count_code_points() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("my models")).unwrap();
    std::fs::write(tmp.path().join("my models/modèle.sec"), MODEL).unwrap();
    let out = palisade_in(
        tmp.path(),
        &["check", "my models/modèle.sec", "--format", "sarif"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let log = text(&out.stdout);
    let v: Value = serde_json::from_str(&log).unwrap();
    assert_eq!(v["runs"][0]["columnKind"], "unicodeCodePoints");
    let r = results(&v)
        .iter()
        .find(|r| r["ruleId"] == "E0202")
        .unwrap_or_else(|| panic!("no E0202 for `replicas = \"2\"`:\n{log}"));
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "my%20models/mod%C3%A8le.sec"
    );
    let line = MODEL.lines().nth(2).unwrap();
    let byte = line.find("\"2\"").unwrap();
    let column = line[..byte].chars().count() + 1;
    assert_ne!(
        column,
        byte + 1,
        "the line has multi-byte characters before the error"
    );
    assert_eq!(loc["region"]["startLine"], 3, "{log}");
    assert_eq!(loc["region"]["startColumn"], column, "{log}");
    assert_eq!(loc["region"]["endColumn"], column + 3, "{log}");
    validate(&[("modèle".to_string(), log)]);
}

#[test]
fn output_is_deterministic_and_fingerprints_survive_edits_above() {
    let tmp = tempfile::tempdir().unwrap();
    let model = "system shop\nnamespace web\napp api in webb { image = \"x:1\" }\napp web in web { image = \"x:1\" replicas = \"2\" }\n";
    std::fs::write(tmp.path().join("m.sec"), model).unwrap();
    let run = || {
        let out = palisade_in(tmp.path(), &["check", "m.sec", "--format", "sarif"]);
        assert_eq!(out.status.code(), Some(1));
        text(&out.stdout)
    };
    let first = run();
    assert_eq!(first, run(), "two runs give the same log");
    let prints = |log: &str| -> Vec<(String, u64)> {
        let v: Value = serde_json::from_str(log).unwrap();
        results(&v)
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"][FINGERPRINT_KEY]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect()
    };
    let before = prints(&first);
    assert!(before.len() >= 2, "{first}");
    let distinct: BTreeSet<_> = before.iter().map(|(p, _)| p).collect();
    assert_eq!(distinct.len(), before.len(), "{first}");
    std::fs::write(tmp.path().join("m.sec"), format!("# a\n# b\n\n{model}")).unwrap();
    let after = prints(&run());
    assert_eq!(
        after,
        before
            .iter()
            .map(|(p, l)| (p.clone(), l + 3))
            .collect::<Vec<_>>(),
        "same fingerprints, lines moved by 3"
    );
}

/// `palisade audit --format sarif` of every audit case (tests/audit/):
/// valid for the Multitool, results pointing into the manifests' YAML and
/// the model, exit codes as in human form.
#[test]
fn audit_gives_valid_sarif() {
    let mut logs = Vec::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut yaml_results = 0;
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let rel = |f: &str| format!("tests/audit/{name}/{f}");
        let extra = std::fs::read_to_string(case.join("args")).unwrap_or_default();
        let (model, manifests) = (rel("model.sec"), rel("manifests"));
        let mut args = vec!["audit", "-m", &model, &manifests, "--format", "sarif"];
        args.extend(extra.split_whitespace());
        let out = palisade_in(repo(), &args);
        if out.status.code() == Some(2) {
            assert!(
                out.stdout.is_empty(),
                "{name}: unreadable input prints no log"
            );
            continue;
        }
        let log = text(&out.stdout);
        let v: Value = serde_json::from_str(&log)
            .unwrap_or_else(|e| panic!("{name}: no SARIF ({e}): {}", text(&out.stderr)));
        let errors = results(&v).iter().filter(|r| r["level"] == "error").count();
        assert_eq!(
            out.status.code(),
            Some(i32::from(errors > 0)),
            "{name}\n{log}"
        );
        yaml_results += results(&v)
            .iter()
            .filter(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with(".yaml") || u.ends_with(".json"))
            })
            .count();
        logs.push((format!("audit-{name}"), log));
    }
    assert!(yaml_results > 0, "no result points into a manifest");
    validate(&logs);
}

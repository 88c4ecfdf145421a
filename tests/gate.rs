//! `palisade build` is a gate (issue 13): it runs the whole check — every
//! lint and invariant — before writing, and a deny-level finding or a
//! failing invariant stops it with the diagnostics `check` prints, exit 1,
//! and nothing in OUT changed. Warnings are printed rustc-style with a
//! summary line; `-q` hides them.

use std::collections::BTreeMap;
use std::path::Path;
mod support;

use support::{palisade, text};

const PINNED: &str = "@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// A clean model: an API and its database.
fn clean() -> String {
    format!(
        "system shop\nnamespace web\n\
         app api in web {{ image = \"ghcr.io/acme/api{PINNED}\" ports = {{ http = 8080 }} }}\n\
         store db in web {{ engine = postgres }}\n\
         persona ops {{ group = \"oidc:ops\" }}\n\
         allow api -> db: write\n"
    )
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let meta = std::fs::metadata(&p).unwrap();
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, (std::fs::read(&p).unwrap(), meta.modified().unwrap()));
            }
        }
    }
    out
}

/// Builds `clean()` into OUT, then `bad` into the same OUT: the second
/// build must fail with `code` and leave OUT exactly as it was.
fn refused(bad: &str, code: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.sec");
    let out = dir.path().join("out");
    std::fs::write(&model, clean()).unwrap();
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let first = palisade(&["build", m, "-o", o]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = snapshot(&out);
    std::fs::write(&model, bad).unwrap();
    for extra in [&[][..], &["--check"][..]] {
        let mut args = vec!["build", m, "-o", o];
        args.extend_from_slice(extra);
        let r = palisade(&args);
        let err = text(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&format!("error[{code}]")), "{args:?}: {err}");
        assert!(err.contains("nothing was written to"), "{args:?}: {err}");
        // The diagnostics are `check`'s.
        let check = palisade(&["check", m]);
        assert_eq!(check.status.code(), Some(1));
        let diag = text(&check.stderr);
        let first_diag = diag.split("\n\n").next().unwrap();
        assert!(err.contains(first_diag), "{err}\n---\n{diag}");
        assert_eq!(before, snapshot(&out), "{args:?}: OUT changed");
    }
}

#[test]
fn a_failing_invariant_stops_the_build() {
    let mut bad = clean();
    bad.push_str(
        "allow ops -> api: exec\nforbid ops -> db \"people never hold database credentials\"\n",
    );
    refused(&bad, "invariant-violated");
}

#[test]
fn a_deny_level_finding_stops_the_build() {
    let bad = clean()
        + "app worker in web { image = \"docker.io/someone/worker:latest\" }\n\
           allow worker -> db: read\n\
           platform { registries = [\"ghcr.io/acme/\"] }\n\
           lint untrusted-registry = deny\n";
    refused(&bad, "untrusted-registry");
}

#[test]
fn deny_warnings_stops_the_build_on_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.sec");
    let out = dir.path().join("out");
    std::fs::write(&model, clean() + "allow ops -> api: exec\n").unwrap();
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let r = palisade(&["build", m, "-o", o, "--deny", "warnings"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stderr));
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn warnings_are_printed_with_a_summary_and_q_hides_them() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.sec");
    let out = dir.path().join("out");
    // exec into the api: `exec-inherits-identity`, a warning.
    std::fs::write(&model, clean() + "allow ops -> api: exec\n").unwrap();
    let (m, o) = (model.to_str().unwrap(), out.to_str().unwrap());
    let r = palisade(&["build", m, "-o", o]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert!(err.contains("warning[exec-inherits-identity]"), "{err}");
    assert!(err.contains("m.sec:"), "file:line:col: {err}");
    assert!(
        err.contains("warning emitted") || err.contains("warnings emitted"),
        "{err}"
    );
    assert!(out.join("kustomization.yaml").exists() || out.read_dir().unwrap().next().is_some());
    let q = palisade(&["-q", "build", m, "-o", o]);
    assert_eq!(q.status.code(), Some(0));
    assert!(text(&q.stderr).is_empty(), "-q: {}", text(&q.stderr));
}

/// The quick start's build shows the marketing example's findings.
#[test]
fn the_quick_start_build_reports_the_examples_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("out");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/marketing.sec");
    let r = palisade(&["build", model.to_str().unwrap(), "-o", o.to_str().unwrap()]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert!(err.contains("warning[shared-pod-widening]"), "{err}");
    assert!(err.contains("warnings emitted"), "{err}");
}

/// `build` reports exactly what `check` reports, for every example and
/// every oracle model, with environments or without.
#[test]
fn build_reports_what_check_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut models: Vec<std::path::PathBuf> = vec![
        root.join("examples/marketing.sec"),
        root.join("examples/webshop.sec"),
        root.join("examples/platform"),
    ];
    for e in std::fs::read_dir(root.join("tests/oracles/models")).unwrap() {
        models.push(e.unwrap().path());
    }
    for model in models {
        let dir = tempfile::tempdir().unwrap();
        let m = model.to_str().unwrap();
        let check = palisade(&["check", m]);
        let build = palisade(&["build", m, "-o", dir.path().join("out").to_str().unwrap()]);
        assert_eq!(check.status.code(), build.status.code(), "{m}");
        let keep = |s: &[u8]| -> String {
            text(s)
                .lines()
                .filter(|l| !l.starts_with("built `") && !l.starts_with("nothing was written"))
                .filter(|l| !l.starts_with("checked `"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(keep(&check.stderr), keep(&build.stderr), "{m}");
    }
}

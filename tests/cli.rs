//! The binary's contract (CLI.md): exit codes 0/1/2, results on stdout,
//! diagnostics on stderr, colour only when asked for or on a terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("palisade runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// A valid model without findings: pinned image, used, no wider access.
const VALID: &str = "system shop\nnamespace web\napp front in web { image = \"ghcr.io/a/front@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\" ports = { http = 8080 } }\nallow front -> internet: 443\nlint egress-to-internet = allow\n";
const INVALID: &str =
    "system shop\nnamespace web\napp front in webb { image = \"ghcr.io/a/front:1\" }\n";

#[test]
fn clean_model_exits_0_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.sec", VALID.as_bytes());
    let out = palisade(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("no problems"));
}

#[test]
fn model_errors_exit_1_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.sec", INVALID.as_bytes());
    let out = palisade(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("error[E0101]"), "{err}");
    assert!(err.contains("bad.sec:3:14"), "{err}");
    assert!(err.contains("did you mean `web`?"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn json_goes_to_stdout_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.sec", INVALID.as_bytes());
    let out = palisade(&["check", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(v["version"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0101");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 14);
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn colour_always_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.sec", INVALID.as_bytes());
    let out = palisade(&["check", p.to_str().unwrap(), "--color", "always"]);
    assert!(text(&out.stderr).contains('\x1b'));
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["check", p.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!text(&out.stderr).contains('\x1b'));
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // missing path
    let out = palisade(&["check", dir.path().join("nope.sec").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"));
    // a directory without .sec files
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    write(&empty, "notes.txt", b"hello");
    let out = palisade(&["check", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no `.sec` files"));
    // not UTF-8
    let p = write(dir.path(), "latin1.sec", b"system caf\xe9\n");
    let out = palisade(&["check", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not valid UTF-8"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_usage_exits_2() {
    let out = palisade(&["check", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = palisade(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = palisade(&["explain", "no-such-lint"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_has_examples_and_exits_0() {
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["explain", "--help"],
    ] {
        let out = palisade(args);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{args:?}");
    }
}

#[test]
fn warnings_only_exit_0_and_deny_warnings_exit_1() {
    // A multi-file directory model; the second file's store is unused.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.sec", VALID.as_bytes());
    write(
        dir.path(),
        "b.sec",
        b"persona dev { group = \"devs\" }\nallow dev -> front: logs\nstore old in web { engine = postgres }\n",
    );
    let out = palisade(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning[unused-declaration]: store `old`"));
    let out = palisade(&["check", dir.path().to_str().unwrap(), "--deny", "warnings"]);
    assert_eq!(out.status.code(), Some(1), "warnings become errors");
    // A denied lint is an error without `--deny warnings`.
    write(dir.path(), "c.sec", b"lint unused-declaration = deny\n");
    let out = palisade(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("error[unused-declaration]"));
}

#[test]
fn explain_lists_and_explains() {
    let out = palisade(&["explain"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("namespace-wide-grant"));
    let out = palisade(&["explain", "wildcard-grant"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("wildcard-grant"));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = palisade(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("palisade"), "{shell}");
    }
    let out = palisade(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(".TH palisade 1"));
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    for args in [&["man"][..], &["completions", "bash"], &["explain"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(status.code(), Some(101), "{args:?}");
    }
}

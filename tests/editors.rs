//! The editor grammar `editors/vscode/syntaxes/sec.tmLanguage.json`
//! (docs/editors.md), judged by vscode-tmgrammar-test, which tokenizes with
//! VS Code's own vscode-textmate and vscode-oniguruma. Installed once per
//! run by `scripts/install-oracles.sh target/oracles tmgrammar` (npm,
//! pinned by `tests/oracles/tmgrammar/package-lock.json`); when that fails,
//! the tests fail with its output.
//!
//! - `tests/editors/grammar/scopes.sec` asserts the scope of each kind of
//!   token (`# ^^^ scope` lines, vscode-tmgrammar-test's unit format);
//! - every example and `tests/editors/grammar/every-keyword.sec` (every
//!   keyword, value form and access form) are compared with their committed
//!   snapshots in `tests/editors/snapshots/`. After a deliberate change to the
//!   grammar: `PALISADE_GRAMMAR_SNAPSHOTS=update cargo test --test editors`,
//!   then review `git diff tests/editors/snapshots`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::{install_oracles, repo, text};

/// `target/oracles/tmgrammar`; installs it on first use, and panics with
/// the installer's output when that fails: never a silent skip.
fn tool() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(|| install_oracles(&["tmgrammar"])) {
        Ok(dir) => dir,
        Err(e) => {
            panic!("vscode-tmgrammar-test could not be installed, so nothing was checked:\n{e}")
        }
    }
}

/// `node …/vscode-tmgrammar-test/dist/SCRIPT.js` with the extension's
/// package.json as the configuration (so its `contributes.grammars` entry is
/// what finds the grammar).
fn tmgrammar(script: &str, package_json: &Path) -> Command {
    let mut c = Command::new("node");
    c.arg(
        tool()
            .join("tmgrammar/node_modules/vscode-tmgrammar-test/dist")
            .join(format!("{script}.js")),
    )
    .arg("--config")
    .arg(package_json);
    c
}

fn extension() -> PathBuf {
    repo().join("editors/vscode")
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"));
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn grammar_assigns_the_asserted_scopes() {
    let scopes = repo().join("tests/editors/grammar/scopes.sec");
    let (ok, report) = run(tmgrammar("unit", &extension().join("package.json"))
        .arg("--compact")
        .arg(&scopes));
    assert!(
        ok,
        "scopes.sec: the grammar fails its assertions:\n{report}"
    );
}

/// The unit test must notice a broken grammar: a copy of the extension whose
/// statements' keywords lost their scope fails `scopes.sec`.
#[test]
fn a_broken_grammar_fails_the_assertions() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = tmp.path().join("vscode");
    std::fs::create_dir_all(ext.join("syntaxes")).unwrap();
    for f in ["package.json", "language-configuration.json"] {
        std::fs::copy(extension().join(f), ext.join(f)).unwrap();
    }
    let grammar =
        std::fs::read_to_string(extension().join("syntaxes/sec.tmLanguage.json")).unwrap();
    assert!(grammar.contains("keyword.control.$1.sec"));
    std::fs::write(
        ext.join("syntaxes/sec.tmLanguage.json"),
        grammar.replace("keyword.control.$1.sec", "keyword.other.$1.sec"),
    )
    .unwrap();
    let (ok, report) = run(tmgrammar("unit", &ext.join("package.json"))
        .arg("--compact")
        .arg(repo().join("tests/editors/grammar/scopes.sec")));
    assert!(!ok, "a broken grammar passed scopes.sec:\n{report}");
    assert!(
        report.contains("keyword.control.allow.sec"),
        "the failure does not name the missing scope:\n{report}"
    );
}

/// Every `.sec` file of `examples/` (recursively), as `(path under the
/// repository, file)`.
fn examples() -> Vec<(PathBuf, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "sec") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo().join("examples"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| (p.strip_prefix(repo()).unwrap().to_path_buf(), p))
        .collect()
}

#[test]
fn grammar_snapshots_of_every_example_and_every_keyword() {
    let snapshots = repo().join("tests/editors/snapshots");
    // (name of the snapshot under tests/editors/snapshots, input)
    let mut inputs = examples();
    assert!(inputs.len() >= 3, "no examples found");
    inputs.push((
        PathBuf::from("every-keyword.sec"),
        repo().join("tests/editors/grammar/every-keyword.sec"),
    ));
    let update = std::env::var("PALISADE_GRAMMAR_SNAPSHOTS").is_ok_and(|v| v == "update");

    // vscode-tmgrammar-snap keeps FILE.snap beside FILE: stage the inputs
    // and their committed snapshots in a scratch directory.
    let tmp = tempfile::tempdir().unwrap();
    let mut missing = Vec::new();
    for (name, file) in &inputs {
        let staged = tmp.path().join(name);
        std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
        std::fs::copy(file, &staged).unwrap();
        let snap = snapshots.join(format!("{}.snap", name.display()));
        if snap.exists() {
            std::fs::copy(&snap, tmp.path().join(format!("{}.snap", name.display()))).unwrap();
        } else {
            missing.push(snap);
        }
    }
    let mut cmd = tmgrammar("snapshot", &extension().join("package.json"));
    if update {
        cmd.arg("--updateSnapshot");
    }
    let (ok, report) = run(cmd
        .arg("--expandDiff")
        .arg(format!("{}/**/*.sec", tmp.path().display())));
    if update {
        assert!(
            ok,
            "vscode-tmgrammar-snap --updateSnapshot failed:\n{report}"
        );
        for (name, _) in &inputs {
            let snap = format!("{}.snap", name.display());
            std::fs::create_dir_all(snapshots.join(&snap).parent().unwrap()).unwrap();
            std::fs::copy(tmp.path().join(&snap), snapshots.join(&snap)).unwrap();
        }
        eprintln!(
            "updated {} snapshots in {}",
            inputs.len(),
            snapshots.display()
        );
        return;
    }
    assert!(
        missing.is_empty(),
        "no committed snapshot for {} (PALISADE_GRAMMAR_SNAPSHOTS=update cargo test --test editors writes them):\n{:#?}",
        missing.len(),
        missing
    );
    assert!(
        ok,
        "the grammar tokenizes differently from the committed snapshots (a deliberate change: \
         PALISADE_GRAMMAR_SNAPSHOTS=update cargo test --test editors, then review git diff):\n{report}"
    );
}

/// The keywords of `grammar/sec.pest`'s `keyword` rule.
fn pest_keywords() -> Vec<String> {
    let pest = std::fs::read_to_string(repo().join("grammar/sec.pest")).unwrap();
    let rule = pest
        .split("keyword = @{")
        .nth(1)
        .expect("a `keyword` rule in grammar/sec.pest");
    let rule = &rule[..rule.find('}').unwrap()];
    rule.split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase()) && !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The snapshot inputs are real `.sec`: `every-keyword.sec` compiles with no
/// syntax or resolution error (lint findings are fine) and holds every
/// keyword of the language; `scopes.sec` parses, its one deliberate error
/// (an unknown escape) aside.
#[test]
fn grammar_test_files_are_the_language() {
    let keywords = pest_keywords();
    assert!(keywords.len() >= 15, "keywords: {keywords:?}");
    let path = repo().join("tests/editors/grammar/every-keyword.sec");
    let src = std::fs::read_to_string(&path).unwrap();
    let comp = palisade::compile_str("every-keyword.sec", &src);
    let errors: Vec<String> = comp
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    assert!(errors.is_empty(), "every-keyword.sec: {errors:#?}");
    let code: String = src
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let words: std::collections::BTreeSet<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .collect();
    let absent: Vec<&String> = keywords
        .iter()
        .filter(|k| !words.contains(k.as_str()))
        .collect();
    assert!(absent.is_empty(), "every-keyword.sec lacks {absent:?}");
    for word in [
        "view",
        "logs",
        "exec",
        "portforward",
        "restart",
        "scale",
        "deploy",
        "read",
        "write",
        "admin",
        "internet",
        "kube",
        "~>",
        "*",
    ] {
        assert!(code.contains(word), "every-keyword.sec lacks `{word}`");
    }

    let scopes = std::fs::read_to_string(repo().join("tests/editors/grammar/scopes.sec")).unwrap();
    let mut diags = palisade::diagnostics::Diagnostics::new();
    palisade::syntax::parse_file(palisade::span::FileId(0), &scopes, &mut diags);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0004"], "scopes.sec should parse but for `\\t`");
}

/// The extension's manifest holds together, checked with Node.js (which
/// the grammar's judge needs anyway): its language's configuration file
/// and grammar exist and parse, their regular expressions compile as
/// VS Code compiles them (JavaScript), a word is a `.sec` name (`a->b` is
/// two words, `orders-db` one), and the client script is valid JavaScript.
#[test]
fn the_extension_manifest_holds_together() {
    tool();
    const CHECK: &str = r##"
const fs = require("fs"), path = require("path"), assert = require("assert");
const dir = process.argv[1];
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
const pkg = read("package.json");
const [lang] = pkg.contributes.languages;
assert.deepStrictEqual(lang.extensions, [".sec"]);
const conf = read(lang.configuration);
assert.strictEqual(conf.comments.lineComment, "#");
const word = new RegExp(conf.wordPattern);
assert.strictEqual("front->api".match(word)[0], "front");
assert.strictEqual("orders-db: read".match(word)[0], "orders-db");
assert.ok(new RegExp(conf.indentationRules.increaseIndentPattern).test("app a in web {  # x"));
assert.ok(new RegExp(conf.indentationRules.decreaseIndentPattern).test("  }"));
for (const g of pkg.contributes.grammars) {
  assert.strictEqual(g.language, lang.id);
  assert.strictEqual(read(g.path).scopeName, g.scopeName);
}
assert.ok(fs.existsSync(path.join(dir, pkg.main)), pkg.main);
assert.ok(pkg.activationEvents.includes("onLanguage:" + lang.id));
console.log("manifest ok");
"##;
    let (ok, report) = run(Command::new("node").arg("-e").arg(CHECK).arg(extension()));
    assert!(ok && report.contains("manifest ok"), "{report}");
    let (ok, report) = run(Command::new("node")
        .arg("--check")
        .arg(extension().join("extension.js")));
    assert!(ok, "extension.js: {report}");
}

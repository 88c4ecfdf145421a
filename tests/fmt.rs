//! `palisade fmt` and `palisade init` (docs/language.md, section 7).
//!
//! For every `.sec` file of tests/corpus and examples/, and for random
//! models written in random layouts with random comments: formatting is
//! idempotent, keeps every comment in order, and never changes meaning —
//! the resolved model (spans aside), every diagnostic and every checked
//! finding are the same before and after. Files with syntax errors are
//! refused. Then the command line: `--check`, exit codes, writing only what
//! changes, and `init`.

#[allow(dead_code)]
#[path = "support/random_model.rs"]
mod random_model;
mod support;

use palisade::diagnostics::Diagnostics;
use palisade::source::{SourceFile, SourceMap};
use palisade::span::FileId;
use palisade::syntax::format::{comments, format, FormatError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fmt(text: &str) -> Result<String, FormatError> {
    format(FileId(0), text, &mut Diagnostics::new())
}

/// `Debug` text with every span reduced to `Span` (positions move when the
/// layout changes; nothing else may).
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { file: FileId(";
    let mut out = String::new();
    let mut rest = debug;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i..];
        let close = rest.find(" }").map_or(rest.len(), |c| c + 2);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// What a model means: the resolved model, every diagnostic of `check`
/// (code, severity, message, help, notes) — all without positions.
fn meaning(files: &[(String, String)]) -> String {
    let mut sources = SourceMap::new();
    for (name, text) in files {
        sources.add(SourceFile::new(
            name.clone(),
            PathBuf::from(name),
            text.clone(),
        ));
    }
    let comp = palisade::compile(sources);
    let checked = palisade::check(comp);
    let comp = checked.comp;
    // `names` (a hash map: its order varies) is the model's last field and
    // is derived from the declarations before it.
    let model = format!("{:?}", comp.model);
    let model = model.split(", names: {").next().unwrap_or_default();
    let mut out = without_spans(model);
    for d in comp.diagnostics.iter() {
        out.push_str(&format!(
            "\n{} {:?} {} {:?} {:?}",
            d.code.as_str(),
            d.severity,
            d.message,
            d.help,
            d.notes
        ));
    }
    out
}

/// Every model under tests/corpus and examples/: a `.sec` file, or a
/// directory of them (its files together).
fn models() -> Vec<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<PathBuf>>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        let secs: Vec<PathBuf> = (entries.iter())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sec"))
            .cloned()
            .collect();
        let is_model_dir = ["platform", "multi-file"]
            .iter()
            .any(|n| dir.file_name().is_some_and(|f| f == *n))
            || dir.parent().is_some_and(|p| p.ends_with("corpus/invalid"))
            || dir.parent().is_some_and(|p| p.ends_with("corpus/valid"));
        if is_model_dir {
            out.push(secs);
        } else {
            out.extend(secs.into_iter().map(|p| vec![p]));
        }
        for p in entries.iter().filter(|p| p.is_dir()) {
            walk(p, out);
        }
    }
    let mut out = Vec::new();
    walk(&root().join("tests/corpus"), &mut out);
    walk(&root().join("examples"), &mut out);
    out.retain(|m| !m.is_empty());
    out
}

#[test]
fn every_corpus_file_and_example_formats_idempotently_keeping_comments_and_meaning() {
    let models = models();
    assert!(
        models.len() > 150,
        "the corpus and the examples: {}",
        models.len()
    );
    let (mut formatted, mut refused, mut changed) = (0, 0, 0);
    for files in models {
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut syntax_error = false;
        for path in &files {
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            let text = std::fs::read_to_string(path).unwrap();
            match fmt(&text) {
                Ok(out) => {
                    assert_eq!(
                        fmt(&out).unwrap(),
                        out,
                        "{name}: formatting twice changes it:\n{out}"
                    );
                    assert_eq!(comments(&out), comments(&text), "{name}: comments");
                    // No trailing whitespace, one final newline, no tab.
                    assert!(
                        out.lines().all(|l| l == l.trim_end() && !l.contains('\t')),
                        "{name}:\n{out}"
                    );
                    assert!(out.is_empty() || out.ends_with('\n') && !out.ends_with("\n\n"));
                    changed += usize::from(out != text);
                    formatted += 1;
                    before.push((name.clone(), text));
                    after.push((name, out));
                }
                Err(FormatError::Syntax) => {
                    // Only files the parser rejects: every one of them is an
                    // `invalid/` case whose expected code is a syntax error.
                    let first = text.lines().next().unwrap_or_default();
                    assert!(
                        name.contains("corpus/invalid/")
                            && ["E0001", "E0002", "E0003", "E0004"]
                                .iter()
                                .any(|c| first.contains(c)),
                        "{name} was refused: {first}"
                    );
                    refused += 1;
                    syntax_error = true;
                }
                Err(FormatError::Internal(why)) => panic!("{name}: {why}"),
            }
        }
        if !syntax_error {
            assert_eq!(
                meaning(&before),
                meaning(&after),
                "{:?}: formatting changed the model",
                files
            );
        }
    }
    assert!(formatted > 150 && refused >= 10 && changed > 20);
}

/// The syntax corpus cases are refused with their diagnostics.
#[test]
fn a_file_with_syntax_errors_is_refused_with_its_diagnostics() {
    for case in [
        "syntax-missing-colon",
        "syntax-unclosed-brace",
        "invalid-escape",
    ] {
        let path = root().join(format!("tests/corpus/invalid/{case}.sec"));
        let text = std::fs::read_to_string(path).unwrap();
        let mut d = Diagnostics::new();
        assert!(matches!(
            format(FileId(0), &text, &mut d),
            Err(FormatError::Syntax)
        ));
        assert!(d.has_errors(), "{case}");
    }
}

/// A few layouts, written out: what the documentation promises.
#[test]
fn the_documented_layout() {
    let messy = concat!(
        "# shop\nsystem shop   \"Shop\"\n\n\n",
        "platform {ingress = {namespace = \"ingress-nginx\",pods={\"app.kubernetes.io/name\"=\"ingress-nginx\"}}}\n",
        "namespace web \"Storefront\"\nnamespace data\n",
        "persona customer{external}\n",
        "app front \"Front end\" in web{\n\timage=\"ghcr.io/a/front:1.0\"\n ports={http=8080,metrics=9090},\nreplicas=2\n# a note\n}\n",
        "app api in web { image = \"ghcr.io/a/api:1.0\", ports = { http = 8080 } }   # the API\n",
        "store db in data {engine=postgres classification=confidential}\n",
        "pod p=[ front ,api, ]\n",
        "allow customer->front:http \"the shop\"\nallow front -> api : http\nallow api->db:read,write   in prod\n",
        "forbid customer ~> db\n\"never\"\n",
        "lint   unused-declaration=allow\n\n\n# end\n",
    );
    let want = concat!(
        "# shop\nsystem shop \"Shop\"\n\n",
        "platform { ingress = { namespace = \"ingress-nginx\", pods = { \"app.kubernetes.io/name\" = \"ingress-nginx\" } } }\n",
        "namespace web \"Storefront\"\nnamespace data\n",
        "persona customer { external }\n",
        "app front \"Front end\" in web {\n  image    = \"ghcr.io/a/front:1.0\"\n  ports    = { http = 8080, metrics = 9090 }\n  replicas = 2\n  # a note\n}\n",
        "app api in web { image = \"ghcr.io/a/api:1.0\"  ports = { http = 8080 } }  # the API\n",
        "store db in data { engine = postgres  classification = confidential }\n",
        "pod p = [front, api]\n",
        "allow customer -> front: http \"the shop\"\nallow front -> api: http\nallow api -> db: read, write in prod\n",
        "forbid customer ~> db \"never\"\n",
        "lint unused-declaration = allow\n\n# end\n",
    );
    assert_eq!(fmt(messy).unwrap(), want);
    assert_eq!(fmt(want).unwrap(), want);
    // CRLF files stay CRLF; an empty file stays empty.
    let crlf = fmt("system s\r\n\r\n\r\nnamespace  n # c\r\n").unwrap();
    assert_eq!(crlf, "system s\r\n\r\nnamespace n  # c\r\n");
    assert_eq!(fmt("").unwrap(), "");
    assert_eq!(fmt("\n\n# only\n\n").unwrap(), "# only\n");
}

/// The `sec` code blocks of a Markdown text, in order.
fn sec_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match (&mut cur, line) {
            (None, "```sec") => cur = Some(String::new()),
            (Some(_), "```") => out.push(cur.take().unwrap()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// docs/language.md: its complete model is in canonical layout, and its
/// "before and after" example is what `fmt` does.
#[test]
fn the_documentation_shows_what_fmt_does() {
    let md = std::fs::read_to_string(root().join("docs/language.md")).unwrap();
    let complete = &sec_blocks(&md)[0];
    assert_eq!(&fmt(complete).unwrap(), complete);
    let (_, tail) = md.split_once("Before and after:").expect("the example");
    let blocks = sec_blocks(tail);
    assert_eq!(fmt(&blocks[0]).unwrap(), blocks[1]);
}

// ------------------------------------------------------------------ random

/// The tokens of a model's text (comments dropped), for laying it out
/// anew. `VERB RESOURCE` of a kube grant is one token: it must stay on one
/// line (an access item followed, on its line, by a word that is not a
/// keyword, as the grammar says; joining more than that is harmless).
fn tokens(text: &str) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "allow",
        "forbid",
        "accept",
        "lint",
        "in",
        "on",
        "system",
        "platform",
        "environment",
        "namespace",
        "persona",
        "app",
        "pod",
        "store",
        "external",
    ];
    let is_word = |c: u8| !c.is_ascii_whitespace() && !b"{}[],=:\"#".contains(&c);
    let b = text.as_bytes();
    let word_end = |mut i: usize| {
        while i < b.len() && is_word(b[i]) && !text[i..].starts_with("->") {
            i += 1;
        }
        i
    };
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || text[i..].starts_with('\u{FEFF}') {
            i += if c.is_ascii() { 1 } else { 3 };
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' {
            let s = i;
            i += 1;
            while b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(text[s..i].to_string());
        } else if text[i..].starts_with("->") || text[i..].starts_with("~>") {
            out.push(text[i..i + 2].to_string());
            i += 2;
        } else if b"{}[],=:".contains(&c) {
            out.push((c as char).to_string());
            i += 1;
        } else {
            let s = i;
            i = word_end(i);
            let mut word = text[s..i].to_string();
            if matches!(out.last().map(String::as_str), Some(":" | ",")) {
                let mut j = i;
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                    j += 1;
                }
                let e = word_end(j);
                if j > i && e > j && !KEYWORDS.contains(&&text[j..e]) {
                    word = format!("{word} {}", &text[j..e]);
                    i = e;
                }
            }
            out.push(word);
        }
    }
    out
}

/// The text of a model in a random layout: between every two tokens a
/// space, spaces and tabs, a newline, a blank line, or a comment; and the
/// optional commas varied: a comma between map entries dropped or added, a
/// trailing comma added to a list.
fn relayout(text: &str, seps: &[u8]) -> String {
    let tokens = tokens(text);
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let r = seps[i % seps.len()] % 16;
        let in_map = open.last() == Some(&"{");
        let prev = if i > 0 { tokens[i - 1].as_str() } else { "" };
        if t == "," && in_map && r == 5 {
            continue; // optional between map entries
        }
        if t == "]" && r == 6 && !matches!(prev, "[" | ",") {
            out.push(','); // a trailing comma
        }
        // A map entry's key that follows a value, without a comma: add one.
        let next = tokens.get(i + 1).map(String::as_str);
        if in_map && r == 7 && next == Some("=") && !matches!(prev, "{" | ",") {
            out.push(',');
        }
        if i > 0 {
            let sep = match r {
                0 => "\n".to_string(),
                1 => "\n\n".to_string(),
                2 => " \t ".to_string(),
                3 => format!(" # comment {i}\n"),
                4 => format!("\n# comment {i} on its own line\n  "),
                _ => " ".to_string(),
            };
            out.push_str(&sep);
        }
        match t.as_str() {
            "{" | "[" => open.push(t),
            "}" | "]" => {
                open.pop();
            }
            _ => {}
        }
        out.push_str(t);
    }
    out.push('\n');
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random models, as written and in random layouts with comments between
    /// tokens: formatting is idempotent, keeps the comments in order and the
    /// model's meaning.
    #[test]
    fn random_models_in_random_layouts(spec in random_model::spec(), seps in proptest::collection::vec(any::<u8>(), 1..64)) {
        let plain = spec.render();
        for text in [plain.clone(), relayout(&plain, &seps)] {
            let out = fmt(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
            prop_assert_eq!(&fmt(&out).unwrap(), &out, "not idempotent:\n{}", out);
            prop_assert_eq!(comments(&out), comments(&text));
            let one = |t: &str| meaning(&[("random.sec".to_string(), t.to_string())]);
            prop_assert_eq!(one(&text), one(&out), "meaning changed:\n{}\n---\n{}", text, out);
        }
    }
}

/// The single-file models of the corpus and the examples that parse.
fn corpus_files() -> Vec<PathBuf> {
    (models().into_iter())
        .filter(|m| m.len() == 1)
        .map(|mut m| m.remove(0))
        .filter(|p| fmt(&std::fs::read_to_string(p).unwrap()).is_ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every construct of the corpus, in random layouts with comments
    /// between tokens: the same three promises.
    #[test]
    fn corpus_files_in_random_layouts(file in proptest::sample::select(corpus_files()), seps in proptest::collection::vec(any::<u8>(), 1..64)) {
        let original = std::fs::read_to_string(&file).unwrap();
        let text = relayout(&original, &seps);
        let out = fmt(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert_eq!(&fmt(&out).unwrap(), &out, "not idempotent:\n{}", out);
        prop_assert_eq!(comments(&out), comments(&text));
        let one = |t: &str| meaning(&[("case.sec".to_string(), t.to_string())]);
        prop_assert_eq!(one(&text), one(&out), "meaning changed:\n{}\n---\n{}", text, out);
        // And the layout did not change what the file says.
        prop_assert_eq!(one(&original), one(&text), "the test's relayout changed the model");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Corpus files with a few characters inserted at random places
    /// (whitespace, `#`, `\r`, a byte-order mark, brackets, commas, quotes):
    /// whenever the result still parses, `fmt` formats it — it never
    /// refuses a file that parses — idempotently, keeping comments and
    /// meaning.
    #[test]
    fn mutated_corpus_files_that_still_parse(
        file in proptest::sample::select(corpus_files()),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0..12usize), 1..6),
    ) {
        const INSERT: &[&str] = &[" ", "\n", "\t", "#", "\r\n", "\u{FEFF}", ",", "\"", "{", "}", "[ ]", "\n\n# c\n"];
        let mut text = std::fs::read_to_string(&file).unwrap();
        for (at, what) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert_str(i, INSERT[what]);
        }
        let mut d = Diagnostics::new();
        match format(FileId(0), &text, &mut d) {
            Err(FormatError::Syntax) => {} // it no longer parses
            Err(FormatError::Internal(why)) => {
                return Err(TestCaseError::fail(format!("{why}\n{text}")));
            }
            Ok(out) => {
                prop_assert_eq!(&fmt(&out).unwrap(), &out, "not idempotent:\n{}", out);
                prop_assert_eq!(comments(&out), comments(&text));
                let one = |t: &str| meaning(&[("case.sec".to_string(), t.to_string())]);
                prop_assert_eq!(one(&text), one(&out), "meaning changed:\n{}\n---\n{}", text, out);
            }
        }
    }
}

// ------------------------------------------------------------ command line

use support::{palisade, text};

const CANONICAL: &str = "system shop\nnamespace web\n";
const MESSY: &str = "system   shop\nnamespace web # the web\n";

#[test]
fn check_lists_files_not_in_canonical_layout_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sec"), CANONICAL).unwrap();
    std::fs::write(dir.path().join("b.sec"), MESSY).unwrap();
    let d = dir.path().to_str().unwrap();
    let out = palisade(&["fmt", d, "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains("b.sec") && !listed.contains("a.sec"),
        "{listed}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b.sec")).unwrap(),
        MESSY
    );
    // A canonical file: exit 0, nothing listed.
    let a = dir.path().join("a.sec");
    let out = palisade(&["fmt", a.to_str().unwrap(), "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_writes_only_files_whose_bytes_change() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sec");
    let b = dir.path().join("b.sec");
    std::fs::write(&a, CANONICAL).unwrap();
    std::fs::write(&b, MESSY).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    for p in [&a, &b] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let out = palisade(&["fmt", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 of 2 file(s) changed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::metadata(&a).unwrap().modified().unwrap(),
        old,
        "a.sec was rewritten"
    );
    assert_eq!(
        std::fs::read_to_string(&b).unwrap(),
        "system shop\nnamespace web  # the web\n"
    );
    // Now everything is canonical.
    let out = palisade(&["fmt", dir.path().to_str().unwrap(), "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sec");
    let good = dir.path().join("good.sec");
    let broken = "system   shop\nallow a -> b http\n";
    std::fs::write(&bad, broken).unwrap();
    std::fs::write(&good, MESSY).unwrap();
    for check in [true, false] {
        let mut args = vec!["fmt", dir.path().to_str().unwrap()];
        if check {
            args.push("--check");
        }
        let out = palisade(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("error[E0001]") && err.contains("bad.sec:2:"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&bad).unwrap(), broken);
    }
    // The file that parses was formatted (like gofmt, file by file).
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "system shop\nnamespace web  # the web\n"
    );
}

/// `palisade fmt -`: standard input to standard output.
fn fmt_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("palisade runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn standard_input_to_standard_output() {
    let out = fmt_stdin(&["fmt", "-"], MESSY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "system shop\nnamespace web  # the web\n");
    assert_eq!(
        fmt_stdin(&["fmt", "-", "--check"], MESSY).status.code(),
        Some(1)
    );
    let out = fmt_stdin(&["fmt", "-", "--check"], CANONICAL);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let out = fmt_stdin(&["fmt", "-"], "allow a b\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("<stdin>:1:9"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unreadable_input_exits_2() {
    let out = palisade(&["fmt", "/definitely/not/here.sec"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"));
    let out = palisade(&["fmt", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_has_examples() {
    for cmd in ["fmt", "init"] {
        let out = palisade(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(
            text(&out.stdout).contains(&format!("palisade {cmd}")),
            "{cmd}"
        );
    }
}

#[test]
fn init_writes_a_starter_model_that_checks_builds_and_is_formatted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("payments");
    let d = dir.to_str().unwrap();
    let out = palisade(&["init", d]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let model = std::fs::read_to_string(dir.join("model.sec")).unwrap();
    assert!(model.contains("\nsystem payments \""), "{model}");
    // Every construct is explained: more comment lines than a few.
    assert!(model.lines().filter(|l| l.starts_with('#')).count() > 20);
    for kw in [
        "persona",
        "app",
        "store",
        "namespace",
        "forbid",
        "allow",
        "platform",
        "accept",
    ] {
        assert!(model.contains(&format!("\n{kw} ")), "{kw}");
    }
    let out = palisade(&["check", d]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no problems"),
        "{}",
        text(&out.stderr)
    );
    let deploy = tmp.path().join("deploy");
    let out = palisade(&["build", d, "-o", deploy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(deploy.join("prod").is_dir() && deploy.join("dev").is_dir());
    let out = palisade(&["fmt", d, "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    // A second init refuses, and leaves the model alone.
    std::fs::write(dir.join("model.sec"), "# mine\n").unwrap();
    let out = palisade(&["init", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already holds a model (model.sec)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("model.sec")).unwrap(),
        "# mine\n"
    );
    // Any .sec file counts, and a file is not a directory.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("x.sec"), "").unwrap();
    assert_eq!(
        palisade(&["init", other.to_str().unwrap()]).status.code(),
        Some(2)
    );
    assert!(!other.join("model.sec").exists());
    let file = other.join("x.sec");
    assert_eq!(
        palisade(&["init", file.to_str().unwrap()]).status.code(),
        Some(2)
    );
}

/// A rewritten file keeps its permissions, and a symbolic link stays a
/// link to the rewritten file.
#[cfg(unix)]
#[test]
fn fmt_keeps_permissions_and_symbolic_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.sec");
    std::fs::write(&real, MESSY).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.sec");
    std::os::unix::fs::symlink("real.sec", &link).unwrap();
    let out = palisade(&["fmt", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        "system shop\nnamespace web  # the web\n"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

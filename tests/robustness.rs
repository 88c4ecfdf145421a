//! No input may make the front end panic, overflow its stack or hang. These
//! tests assert outcomes, never timings (speed lives in `benches/`).

use palisade::compile_str;

fn codes(c: &palisade::Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn empty_file_reports_missing_system() {
    let c = compile_str("empty.sec", "");
    assert_eq!(codes(&c), ["E0401"]);
    let c = compile_str("blank.sec", "\n\n   # only a comment\n");
    assert_eq!(codes(&c), ["E0401"]);
}

#[test]
fn deep_nesting_is_rejected_without_recursion() {
    for (open, close) in [("[", "]"), ("{", "}")] {
        let text = format!(
            "system s\nplatform {{ registries = {}{} }}\n",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        let c = compile_str("deep.sec", &text);
        assert!(codes(&c).contains(&"E0002"), "{:?}", codes(&c));
    }
    // Unbalanced, too.
    let c = compile_str("deep.sec", &"[".repeat(100_000));
    assert!(codes(&c).contains(&"E0002"));
}

#[test]
fn nesting_at_the_limit_parses() {
    let depth = palisade::syntax::MAX_DEPTH - 1; // the platform block is one level
    let value = format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth));
    let c = compile_str(
        "ok.sec",
        &format!("system s\nplatform {{ registries = {value} }}\n"),
    );
    assert!(!codes(&c).contains(&"E0002"));
    assert!(!codes(&c).contains(&"E0001"), "{:?}", codes(&c));
}

#[test]
fn ten_megabyte_model() {
    let mut text = String::from("system big\nnamespace ns\n");
    let mut i = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "app a{i} in ns {{ image = \"ghcr.io/acme/a:1\" ports = {{ http = 8080 }} }}  # app number {i}\n"
        ));
        i += 1;
    }
    let c = compile_str("big.sec", &text);
    assert!(!c.has_errors(), "{:?}", codes(&c).first());
    assert_eq!(c.model.apps.len(), i);
}

#[test]
fn ten_megabytes_of_garbage() {
    let text = "}{ ][ -> ~> \" \\ ".repeat(700_000);
    let c = compile_str("garbage.sec", &text);
    assert!(c.has_errors());
}

#[test]
fn name_of_ten_thousand_characters() {
    let name = "a".repeat(10_000);
    let text = format!("system s\nnamespace ns\napp {name} in ns {{ image = \"x\" }}\nallow {name}x -> {name}: http\n");
    let c = compile_str("long.sec", &text);
    assert!(codes(&c).contains(&"E0103"));
    assert!(codes(&c).contains(&"E0101"));
    let rendered = palisade::diagnostics::render::render(
        &c.diagnostics.iter().cloned().collect::<Vec<_>>(),
        &c.sources,
        false,
    );
    assert!(
        rendered.len() < 20_000,
        "messages shorten long names: {}",
        rendered.len()
    );
}

#[test]
fn every_prefix_of_a_model_is_handled() {
    // Truncating a valid model anywhere must give diagnostics, never a panic.
    let text = include_str!("corpus_seed.sec");
    for end in (0..text.len()).filter(|i| text.is_char_boundary(*i)) {
        let _ = compile_str("prefix.sec", &text[..end]);
    }
}

#[test]
fn odd_characters() {
    for text in [
        "\u{FEFF}system s\n",
        "system s\r\nnamespace n\r\n",
        "system s\n\0\n",
        "system s\nnamespace ñandú\n",
        "system s\napp \u{202E}evil in n {}\n",
        "system \"unterminated\n",
        "system s\nallow a -> b: 99999999999999999999999999\n",
        "system s\nallow a -> b: 70000/tcp, 0, 53/icmp\n",
    ] {
        let c = compile_str("odd.sec", text);
        let _ = palisade::diagnostics::render::render(
            &c.diagnostics.iter().cloned().collect::<Vec<_>>(),
            &c.sources,
            false,
        );
    }
}

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_targets;

/// Every minimized fuzz crasher (tests/corpus/fuzz-regressions/) through
/// all three fuzz targets' code, and every pipeline seed (fuzz/seeds/,
/// models that compile) through the pipeline: no panic, and the promises
/// the targets check hold (docs/fuzzing.md).
#[test]
fn fuzz_regressions_and_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = |dir: &str| -> Vec<std::path::PathBuf> {
        let mut out: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
            .collect();
        out.sort();
        out
    };
    let run = |path: &std::path::Path, targets: &[fn(&[u8])]| {
        let data = std::fs::read(path).expect("readable");
        for target in targets {
            let result = std::panic::catch_unwind(|| target(&data));
            assert!(result.is_ok(), "{} panics", path.display());
        }
    };
    for path in files("tests/corpus/fuzz-regressions") {
        run(
            &path,
            &[
                fuzz_targets::parse,
                fuzz_targets::resolve,
                fuzz_targets::pipeline,
            ],
        );
    }
    // `PALISADE_FUZZ_REPLAY=DIR[:DIR...]`: also every file there, through
    // all three (a fuzz corpus against the current code; docs/fuzzing.md);
    // a directory named `tree` or `modeldir` (fuzz/corpus/TARGET) holds
    // scripts, and goes through that target only.
    let replay = std::env::var("PALISADE_FUZZ_REPLAY").unwrap_or_default();
    for dir in replay.split(':').filter(|d| !d.is_empty()) {
        let paths = files(dir);
        eprintln!("replaying {} files of {dir}", paths.len());
        let targets: &[fn(&[u8])] = match std::path::Path::new(dir).file_name() {
            Some(n) if n == "tree" => &[fuzz_targets::tree],
            Some(n) if n == "modeldir" => &[fuzz_targets::modeldir],
            _ => &[
                fuzz_targets::parse,
                fuzz_targets::resolve,
                fuzz_targets::pipeline,
            ],
        };
        for path in paths {
            run(&path, targets);
        }
    }
    let seeds = files("fuzz/seeds/pipeline");
    assert!(seeds.len() >= 50, "pipeline seeds missing: {}", seeds.len());
    for path in seeds {
        run(&path, &[fuzz_targets::pipeline]);
    }
    // The writer's target: its seeds and minimized finds (scripts, not models).
    let seeds = files("fuzz/seeds/tree");
    assert!(seeds.len() >= 5, "tree seeds missing: {}", seeds.len());
    for path in seeds
        .into_iter()
        .chain(files("tests/corpus/fuzz-regressions-tree"))
    {
        run(&path, &[fuzz_targets::tree]);
    }
    // The model-directory reader's target: its seeds and minimized finds.
    let seeds = files("fuzz/seeds/modeldir");
    assert!(seeds.len() >= 10, "modeldir seeds missing: {}", seeds.len());
    for path in seeds
        .into_iter()
        .chain(files("tests/corpus/fuzz-regressions-modeldir"))
    {
        run(&path, &[fuzz_targets::modeldir]);
    }
}

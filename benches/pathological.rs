//! Pathological input must cost time linear in its size (issue 16): many
//! syntax errors, many diagnostics pointing far back in their file, large
//! files without item keywords. `cargo bench --bench pathological` times
//! the same work at n and 4n (or 16n) and compares the two, never against a
//! clock: linear work takes about 4 (16) times as long, quadratic work 16
//! (256) times. It prints each ratio and exits 1 when one is above its
//! limit. A benchmark, not a test: timing does not belong in `cargo test`
//! (docs/performance.md).

use palisade::diagnostics::render;
use std::time::{Duration, Instant};

/// The fastest of three runs (the machine is shared).
fn time(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// Compiles `text` and renders its diagnostics as `check` prints them.
fn check_human(text: &str) -> usize {
    let comp = palisade::compile_str("scale.sec", text);
    let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
    render::render(&diags, &comp.sources, false).len() + diags.len()
}

/// `big` is `factor` times `small`'s size: its time must stay below
/// `limit` times `small`'s.
fn assert_linear(what: &str, small: &str, big: &str, factor: u32, limit: u32) {
    let _ = check_human(small); // warm up
    let t_small = time(|| {
        std::hint::black_box(check_human(small));
    });
    let t_big = time(|| {
        std::hint::black_box(check_human(big));
    });
    eprintln!("{what}: {t_small:?} at 1x, {t_big:?} at {factor}x");
    if t_big >= t_small * limit {
        eprintln!("{what}: more than linear (limit {limit}x)");
        FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

static FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() {
    many_syntax_errors_cost_linear_time();
    many_statements_cut_short_cost_linear_time();
    many_diagnostics_pointing_back_cost_linear_time();
    a_large_file_without_item_keywords_costs_linear_time();
    if FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        std::process::exit(1);
    }
}

fn syntax_errors(n: usize) -> String {
    let mut text = String::from("system s\nnamespace n\n");
    for i in 0..n {
        text.push_str(&format!("app a{i} in n {{ image = }}\n"));
    }
    text
}

fn duplicates(n: usize) -> String {
    let mut text = String::from("system s\nnamespace n\n");
    for _ in 0..n {
        text.push_str("app a in n { image = \"ghcr.io/acme/a:1\" }\n");
    }
    text
}

fn comments(bytes: usize) -> String {
    let mut text = String::from("system s\n");
    let line = format!("# {}\n", "x".repeat(78));
    text.push_str(&line.repeat(bytes / line.len()));
    text
}

fn many_syntax_errors_cost_linear_time() {
    let (small, big) = (syntax_errors(2_000), syntax_errors(8_000));
    assert_eq!(
        palisade::compile_str("s.sec", &big)
            .diagnostics
            .error_count(),
        8_000
    );
    assert_linear("syntax errors", &small, &big, 4, 9);
}

/// Statements cut short at the end of their line: each item's parse fails
/// at the end of its window, so the parser must look further.
fn many_statements_cut_short_cost_linear_time() {
    let cut = |n: usize| {
        let mut text = String::from("system s\nnamespace n\n");
        for i in 0..n {
            text.push_str(&format!("allow a{i} ->\n"));
        }
        text
    };
    let big = cut(8_000);
    assert_eq!(
        palisade::compile_str("s.sec", &big)
            .diagnostics
            .error_count(),
        8_000
    );
    assert_linear("statements cut short", &cut(2_000), &big, 4, 9);
}

fn many_diagnostics_pointing_back_cost_linear_time() {
    let (small, big) = (duplicates(2_000), duplicates(8_000));
    assert_linear("duplicates", &small, &big, 4, 9);
}

fn a_large_file_without_item_keywords_costs_linear_time() {
    let (small, big) = (comments(1 << 20), comments(16 << 20));
    assert_linear("comments", &small, &big, 16, 40);
    let line = |n: usize| format!("system s\n# {}\n", "x".repeat(n));
    assert_linear("one long line", &line(1 << 20), &line(16 << 20), 16, 40);
}

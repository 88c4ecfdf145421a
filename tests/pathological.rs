//! Pathological input (issue 16) gets every diagnostic it should: many
//! syntax errors, statements cut short at the end of their line. How long
//! it takes is measured by `cargo bench --bench pathological`, not here.

fn syntax_errors(n: usize) -> String {
    let mut text = String::from("system s\nnamespace n\n");
    for i in 0..n {
        text.push_str(&format!("app a{i} in n {{ image = }}\n"));
    }
    text
}

#[test]
fn every_syntax_error_is_reported() {
    let comp = palisade::compile_str("s.sec", &syntax_errors(8_000));
    assert_eq!(comp.diagnostics.error_count(), 8_000);
}

/// Each item's parse fails at the end of its window, so the parser must
/// look further, and still report each.
#[test]
fn every_statement_cut_short_is_reported() {
    let mut text = String::from("system s\nnamespace n\n");
    for i in 0..8_000 {
        text.push_str(&format!("allow a{i} ->\n"));
    }
    let comp = palisade::compile_str("s.sec", &text);
    assert_eq!(comp.diagnostics.error_count(), 8_000);
}

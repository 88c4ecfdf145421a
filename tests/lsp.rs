//! `palisade lsp` end to end (docs/editors.md): `tests/lsp/test_lsp.py`
//! drives the binary over its standard input and output with pytest-lsp, a
//! real LSP client (pygls) that also checks the server's messages against
//! the protocol, using VS Code's client capabilities. Diagnostics are
//! compared with `palisade check --format json`, formatting with
//! `palisade fmt -`; go to definition, references, hover (declaration and
//! effective access) and document symbols on the examples.
//!
//! pytest-lsp is installed once per run into `target/oracles/venv-lsp` by
//! `scripts/install-oracles.sh target/oracles lsp` (PyPI, pinned by
//! `tests/oracles/requirements-lsp.txt`); when that fails, the test fails
//! with the installer's output.

mod support;

use support::{install_oracles, repo, text};

#[test]
fn a_real_lsp_client_drives_palisade_lsp() {
    let dir = match install_oracles(&["lsp"]) {
        Ok(dir) => dir,
        Err(e) => panic!("pytest-lsp could not be installed, so nothing was checked:\n{e}"),
    };
    let out = std::process::Command::new(dir.join("venv-lsp/bin/python"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"])
        .arg(repo().join("tests/lsp"))
        .current_dir(repo().join("tests/lsp"))
        .env("PALISADE_BIN", env!("CARGO_BIN_EXE_palisade"))
        .env("PALISADE_REPO", repo())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("pytest runs");
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "tests/lsp/test_lsp.py failed ({}):\n{report}",
        out.status
    );
    // Every test ran and passed (none skipped or deselected).
    let summary = report.lines().last().unwrap_or_default();
    assert!(
        summary.contains(" passed") && !summary.contains("skipped") && !summary.contains("failed"),
        "unexpected summary: {summary}\n{report}"
    );
    eprintln!("{summary}");
}

//! `palisade lsp` end to end (docs/editors.md): `tests/lsp/test_lsp.py`
//! drives the binary over its standard input and output with pytest-lsp, a
//! real LSP client (pygls) that also checks the server's messages against
//! the protocol, using VS Code's client capabilities. Diagnostics are
//! compared with `palisade check --format json`, formatting with
//! `palisade fmt -`; go to definition, references, hover (declaration and
//! effective access) and document symbols on the examples.
//!
//! A second client, Neovim's built-in one, runs `tests/lsp/nvim.lua`
//! headless (`neovim_drives_palisade_lsp`).
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

/// A second real client: Neovim's built-in one (`tests/lsp/nvim.lua`, run
/// headless), on a model with an error. Its diagnostics are `palisade
/// check`'s, completion offers the access words of a persona on an app,
/// and the rename it applies leaves a model that checks as before.
#[test]
fn neovim_drives_palisade_lsp() {
    if let Err(e) = install_oracles(&["nvim"]) {
        panic!("Neovim could not be installed, so nothing was checked:\n{e}");
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let model = dir.path().join("shop.sec");
    std::fs::write(&model, NVIM_MODEL).expect("the model is written");
    let result = dir.path().join("result");
    let out = std::process::Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            repo().join("tests/lsp/nvim.lua").display()
        ))
        .env("PALISADE_BIN", env!("CARGO_BIN_EXE_palisade"))
        .env("MODEL", &model)
        .env("RESULT", &result)
        // `allow dev-team -> front: |logs`, `app |front`
        .env("COMPLETE_AT", "7:25")
        .env("RENAME_AT", "4:5")
        .env("RENAME_TO", "web-front")
        .output()
        .expect("nvim runs");
    let answers = std::fs::read_to_string(&result).unwrap_or_else(|_| {
        panic!(
            "nvim wrote no answers ({}):\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    assert!(answers.ends_with("status ok\n"), "{answers}");
    let lines = |kind: &str| -> Vec<String> {
        (answers.lines())
            .filter_map(|l| l.strip_prefix(&format!("{kind} ")))
            .map(str::to_string)
            .collect()
    };

    let json = |path: &std::path::Path| -> Vec<serde_json::Value> {
        let out = support::palisade(&["check", "--format", "json", path.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        v["diagnostics"].as_array().unwrap().clone()
    };
    let expected: Vec<String> = (json(&model).iter())
        .map(|d| {
            format!(
                "{} {} {} {}",
                d["code"].as_str().unwrap(),
                d["line"].as_u64().unwrap() - 1,
                d["column"].as_u64().unwrap() - 1,
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(!expected.is_empty());
    let mut got = lines("diagnostic");
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want, "{answers}");

    assert_eq!(
        lines("completion"),
        [
            "view",
            "logs",
            "exec",
            "portforward",
            "restart",
            "scale",
            "deploy",
            "http",
            "metrics"
        ],
        "{answers}"
    );

    let file = model.display().to_string();
    assert_eq!(
        lines("rename"),
        [
            format!("{file} 4 4 web-front"),
            format!("{file} 7 18 web-front")
        ],
        "{answers}"
    );
    let renamed = std::fs::read_to_string(&model).expect("the model");
    assert_eq!(renamed, NVIM_MODEL.replace("front", "web-front"));
    let after: Vec<String> = (json(&model).iter())
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    let before: Vec<String> = (expected.iter())
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(after, before);
}

const NVIM_MODEL: &str = r#"system shop
platform { ingress = { namespace = "ingress", pods = { app = "ingress" } } }
namespace web
persona dev-team { group = "devs" }
app front in web { image = "x@sha256:1"  ports = { http = 8080, metrics = 9090 } }
app api in web { image = "x@sha256:1"  ports = { grpc = 9000 } }
allow frnt -> api: grpc
allow dev-team -> front: logs
"#;

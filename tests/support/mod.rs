//! Helpers shared by the integration tests (`mod support;` in each test
//! file): running the binary, and installing the independent oracles.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/oracles` of this build (respects `CARGO_TARGET_DIR`).
pub fn oracles_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("oracles")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The `palisade` binary with `args`, without colour; its output.
pub fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("palisade runs")
}

/// Runs `scripts/install-oracles.sh target/oracles PARTS...`; the oracles'
/// directory, or the installer's output when it failed. Callers keep the
/// result in a `OnceLock` (one install per test binary) and panic on an
/// error: an oracle that cannot be installed fails the tests, never skips
/// them.
pub fn install_oracles(parts: &[&str]) -> Result<PathBuf, String> {
    use std::io::{BufRead, Write};
    let dir = oracles_dir();
    let script = repo().join("scripts/install-oracles.sh");
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .args(parts)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    // The installer's progress goes to the real stderr as it comes (the test
    // harness captures only `eprintln!`), so a first install that takes
    // minutes is visible; it is also kept for the error message.
    let mut progress = String::new();
    for line in std::io::BufReader::new(child.stderr.take().expect("piped stderr")).lines() {
        let line = line.unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "{line}");
        progress.push_str(&line);
        progress.push('\n');
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if out.status.success() {
        Ok(dir)
    } else {
        Err(format!(
            "`bash {} {} {}` failed ({}):\n{}{}",
            script.display(),
            dir.display(),
            parts.join(" "),
            out.status,
            text(&out.stdout),
            progress
        ))
    }
}

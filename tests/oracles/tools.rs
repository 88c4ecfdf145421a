//! The oracles themselves: installed once per test run by
//! `scripts/install-oracles.sh` into `target/oracles`, run through the
//! wrappers in `tests/oracles/bin/` (copied from shared/oracles/bin).

use crate::connectivity::Row;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `nca_rows.compute_rows` (the function behind `nca_rows.py`, with the
/// flags `connectivity` passes: `--ipv6 --self-loops`) on each `{dir, extra}`
/// of the JSON list on stdin; prints `[{"rows": [...]} | {"error": "..."}]`.
/// NCA's own output goes to stderr. `compute_rows` resets NCA's peer
/// registry itself, so trees do not leak into one another.
#[allow(dead_code)] // tests/mutation.rs
const NCA_BATCH: &str = r#"
import contextlib, json, sys
sys.path.insert(0, sys.argv[1])
import nca_rows
jobs = json.load(sys.stdin)
out = []
with contextlib.redirect_stdout(sys.stderr):
    for j in jobs:
        try:
            out.append({"rows": nca_rows.compute_rows([j["dir"]], [j["extra"]], "workload", True, True, [])})
        except (Exception, SystemExit) as exc:  # NCA rejects bad input with either
            out.append({"error": str(exc)})
print(json.dumps(out))
"#;

fn rows_of(rows: &[serde_json::Value]) -> BTreeSet<Row> {
    let field = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    rows.iter()
        .map(|r| Row {
            src: field(r, "src"),
            dst: field(r, "dst"),
            proto: field(r, "proto"),
            ports: field(r, "ports"),
        })
        .collect()
}

/// Where the installed oracles are.
pub struct Oracles {
    /// network-config-analyzer + kubernetes-validate
    venv: PathBuf,
    /// checkov (its pins clash with NCA's)
    checkov_venv: PathBuf,
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    repo().join("tests/oracles/bin")
}

fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// `target/` of this build (respects `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    cmd.output()
        .map_err(|e| format!("could not run {cmd:?}: {e}"))
}

/// The installed oracles; installs them on first use. Panics with the
/// installer's output when installation fails: never a silent skip.
pub fn oracles() -> &'static Oracles {
    static INSTALLED: OnceLock<Result<Oracles, String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        // Every part; the installer's progress is shown as it comes.
        let dir = crate::support::install_oracles(&[])?;
        Ok(Oracles {
            venv: dir.join("venv"),
            checkov_venv: dir.join("venv-checkov"),
        })
    });
    match result {
        Ok(o) => o,
        Err(e) => panic!("the oracles could not be installed, so nothing was checked:\n{e}"),
    }
}

impl Oracles {
    fn python(&self) -> Command {
        let mut c = Command::new(self.venv.join("bin/python"));
        c.env("PYTHONDONTWRITEBYTECODE", "1");
        c
    }

    /// kubernetes-validate, strict, every version: `Err` lists each problem.
    pub fn validate(&self, files: &[PathBuf], versions: &[String]) -> Result<(), String> {
        if files.is_empty() {
            return Err("no Kubernetes objects to validate".into());
        }
        let out = run(self
            .python()
            .arg(bin("k8s_validate.py"))
            .arg(versions.join(","))
            .args(files))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
        }
    }

    /// The CRD check (tests/oracles/bin/crd_validate.py): every Istio and
    /// Calico object under `paths` against the vendored upstream CRD of its
    /// kind (tests/oracles/crds), strictly, CEL rules included; other kinds
    /// are skipped. `Ok`: its summary line; `Err`: every problem, or that
    /// no such object was found (a check of nothing proves nothing).
    pub fn crds(&self, paths: &[PathBuf], kubernetes: &str) -> Result<String, String> {
        if paths.is_empty() {
            return Err("no files for the CRD check".into());
        }
        let out = run(self
            .python()
            .arg(bin("crd_validate.py"))
            .args(["--kubernetes", kubernetes])
            .args(paths))?;
        if out.status.success() {
            Ok(text(&out.stderr).trim().to_string())
        } else {
            Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
        }
    }

    /// network-config-analyzer's connectivity rows for `dir` plus `extra` topology.
    pub fn connectivity(&self, dir: &Path, extra: &Path) -> Result<BTreeSet<Row>, String> {
        let out = run(self
            .python()
            .arg(bin("nca_rows.py"))
            .arg(dir)
            .arg("--extra")
            .arg(extra)
            .args(["--ipv6", "--self-loops", "--json"]))?;
        Ok(rows_of(&json_output(&out, "nca_rows.py")?))
    }

    /// [`Oracles::connectivity`] of many `(dir, extra)` pairs in one Python
    /// process (NCA's import costs about as much as one small tree): one
    /// result per pair, in order. `Err` when the process itself fails.
    #[allow(dead_code)] // tests/mutation.rs
    pub fn connectivity_batch(
        &self,
        jobs: &[(PathBuf, PathBuf)],
    ) -> Result<Vec<Result<BTreeSet<Row>, String>>, String> {
        use std::io::Write;
        let input: Vec<serde_json::Value> = jobs
            .iter()
            .map(|(dir, extra)| serde_json::json!({ "dir": dir, "extra": extra }))
            .collect();
        let mut child = self
            .python()
            .arg("-c")
            .arg(NCA_BATCH)
            .arg(bin_dir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run the NCA batch: {e}"))?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(serde_json::Value::Array(input).to_string().as_bytes())
            .map_err(|e| format!("could not feed the NCA batch: {e}"))?;
        let out = child
            .wait_with_output()
            .map_err(|e| format!("NCA batch: {e}"))?;
        let results = json_output(&out, "the NCA batch")?;
        if results.len() != jobs.len() {
            return Err(format!(
                "the NCA batch answered {} of {} trees:\n{}",
                results.len(),
                jobs.len(),
                text(&out.stderr)
            ));
        }
        Ok(results
            .iter()
            .map(|r| match (r["rows"].as_array(), r["error"].as_str()) {
                (Some(rows), _) => Ok(rows_of(rows)),
                (None, e) => Err(format!("nca_rows: ERROR: {}", e.unwrap_or("no rows"))),
            })
            .collect())
    }

    /// checkov's kubernetes framework: `Err` lists every failed check.
    pub fn checkov(&self, dir: &Path) -> Result<String, String> {
        let out = run(Command::new(self.checkov_venv.join("bin/checkov"))
            .arg("-d")
            .arg(dir)
            .args([
                "--framework",
                "kubernetes",
                "--skip-download",
                "--quiet",
                "-o",
                "json",
            ])
            .env("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")
            .env_remove("BC_API_KEY")
            .env_remove("PRISMA_API_URL"))?;
        let mut summary = self.python();
        summary
            .arg(bin("checkov_summary.py"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = summary
            .spawn()
            .map_err(|e| format!("could not run checkov_summary.py: {e}"))?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(&out.stdout).map_err(|e| {
                format!("could not feed checkov's report to checkov_summary.py: {e}")
            })?;
        }
        let s = child
            .wait_with_output()
            .map_err(|e| format!("checkov_summary.py: {e}"))?;
        let report = format!("{}{}", text(&s.stdout), text(&s.stderr));
        if s.status.success() {
            Ok(report)
        } else {
            let stderr = text(&out.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            Err(if tail.is_empty() {
                report
            } else {
                format!("{report}(last lines of checkov's stderr:)\n{tail}\n")
            })
        }
    }

    /// API-server name rules (tests/oracles/bin/names_check.py): `Err` lists each problem.
    pub fn names(&self, files: &[PathBuf]) -> Result<(), String> {
        let out = run(self.python().arg(bin("names_check.py")).args(files))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
        }
    }

    /// The layout check (tests/oracles/bin/layout_check.py): `Err` lists each problem.
    pub fn layout(&self, tree: &Path) -> Result<(), String> {
        let out = run(self.python().arg(bin("layout_check.py")).arg(tree))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
        }
    }
}

/// Copy a directory tree (test fixtures, models) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The JSON list a Python oracle printed, or why there is none.
fn json_output(out: &Output, what: &str) -> Result<Vec<serde_json::Value>, String> {
    let stderr = text(&out.stderr);
    if !out.status.success() {
        return Err(format!("{what} failed ({}):\n{stderr}", out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{what} printed no JSON ({e}):\n{}{stderr}",
            text(&out.stdout)
        )
    })
}

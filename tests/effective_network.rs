//! The NetworkPolicy evaluator (`palisade::effective::network`) on the
//! fixtures of `tests/effective/` (README.md there): the classic recipes
//! and hand-written cases, each a directory of manifests (Namespaces, Pods,
//! Deployments, NetworkPolicies) with
//! - `EXPECTED.conn`: the allowed connections, in the row format of
//!   network-config-analyzer's `nca_rows.py` (IPv4 only, no pod → itself
//!   rows); the evaluator's connectivity, printed the same way, must equal
//!   it;
//! - `INTENT`: allow/deny claims (`tests/oracles/bin`'s `nca_assert.py`
//!   format); they must hold, except in a directory with a
//!   `KNOWN_DISCREPANCY` (the recipe's text contradicts its own policy),
//!   where some must fail, as they do for NCA.
//!
//! Live: network-config-analyzer itself (installed once per run by
//! `scripts/install-oracles.sh`, as for `tests/oracles.rs`) computes every
//! directory's connectivity, IPv6 and pod → itself rows included, and the
//! evaluator must print exactly the same rows — but for the rows a
//! directory's `NCA_DISCREPANCY` lists, where NCA departs from Kubernetes.

#[allow(dead_code)]
#[path = "oracles/connectivity.rs"]
mod connectivity;
#[allow(dead_code)]
#[path = "oracles/evaluator_rows.rs"]
mod evaluator_rows;
mod support;
#[allow(dead_code)]
#[path = "oracles/tools.rs"]
mod tools;

use connectivity::Row;
use evaluator_rows::rows;
use palisade::effective::network::{evaluate, Cluster};
use palisade::k8s::NetworkPolicy;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tools::{oracles, repo};

/// Every fixture directory, recipes first.
fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in ["recipes", "cases"] {
        let dir = repo().join("tests/effective").join(group);
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    assert!(out.len() >= 20, "fixtures missing: {out:?}");
    out
}

fn name(dir: &Path) -> String {
    let group = dir
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let leaf = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{group}/{leaf}")
}

/// The cluster and policies of a fixture: every `*.yaml` file's documents,
/// read by `palisade::k8s::parse_manifests` and evaluated by
/// `Cluster::from_resources` (Namespaces, workloads, bare Pods, policies).
fn load(dir: &Path) -> (Cluster, Vec<NetworkPolicy>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut resources = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let docs = palisade::k8s::parse_manifests(&text)
            .unwrap_or_else(|(i, e)| panic!("{} document {i}: {e}", f.display()));
        resources.extend(docs);
    }
    let (cluster, policies) = Cluster::from_resources(&resources);
    let policies = policies.into_iter().cloned().collect();
    (cluster, policies)
}

fn read_rows(path: &Path) -> BTreeSet<Row> {
    let text = std::fs::read_to_string(path).expect("rows file");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_row(l).unwrap_or_else(|| panic!("{}: bad row {l:?}", path.display())))
        .collect()
}

fn parse_row(line: &str) -> Option<Row> {
    let (pair, conn) = line.split_once(" : ")?;
    let (src, dst) = pair.split_once(" -> ")?;
    let (proto, ports) = conn.split_once('/')?;
    Some(Row {
        src: src.trim().into(),
        dst: dst.trim().into(),
        proto: proto.trim().into(),
        ports: ports.trim().into(),
    })
}

fn diff(want: &BTreeSet<Row>, got: &BTreeSet<Row>) -> String {
    let mut s = String::new();
    for r in want.difference(got) {
        s.push_str(&format!("    missing:    {r}\n"));
    }
    for r in got.difference(want) {
        s.push_str(&format!("    unexpected: {r}\n"));
    }
    s
}

/// nca_assert.py's `covers`: whether a row covers `proto`/`port`
/// (`*` = all; a port may be a range `a-b`).
fn covers(row: &Row, proto: &str, port: &str) -> bool {
    if row.proto == "*" {
        return true;
    }
    if proto == "*" || row.proto != proto {
        return false;
    }
    if row.ports == "*" {
        return true;
    }
    if port == "*" {
        return false;
    }
    let bounds = |s: &str| -> (u32, u32) {
        let (lo, hi) = s.split_once('-').unwrap_or((s, s));
        (lo.parse().unwrap_or(0), hi.parse().unwrap_or(0))
    };
    let ((lo, hi), (plo, phi)) = (bounds(&row.ports), bounds(port));
    lo <= plo && phi <= hi
}

/// The INTENT lines of `dir` that fail on `rows`, each with the rows of its pair.
fn failed_intents(dir: &Path, rows: &BTreeSet<Row>) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("INTENT")).expect("INTENT");
    let mut failed = Vec::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with("exact ") {
            continue; // `exact` is the EXPECTED.conn comparison
        }
        let (kind, rest) = line.split_once(' ').expect("allow|deny ...");
        let (pair, conn) = match rest.split_once(" : ") {
            Some((p, c)) => (p, Some(c)),
            None => (rest, None),
        };
        let (src, dst) = pair.split_once(" -> ").expect("SRC -> DST");
        let (src, dst) = (src.trim(), dst.trim());
        let of_pair: Vec<&Row> = rows
            .iter()
            .filter(|r| r.src == src && r.dst == dst)
            .collect();
        let covered = match conn.map(|c| c.trim().split_once('/').expect("PROTO/PORT")) {
            None => !of_pair.is_empty(),
            Some((proto, port)) => of_pair.iter().any(|r| covers(r, proto, port)),
        };
        let ok = match kind {
            "allow" => covered,
            "deny" => !covered,
            other => panic!("{}: bad INTENT line {line:?} ({other})", dir.display()),
        };
        if !ok {
            let got: Vec<String> = of_pair
                .iter()
                .map(|r| format!("{}/{}", r.proto, r.ports))
                .collect();
            failed.push(format!("{line}    [got: {}]", got.join(", ")));
        }
    }
    failed
}

#[test]
fn connectivity_equals_expected_conn() {
    let mut failures = String::new();
    let mut checked = 0;
    for dir in fixtures() {
        let expected = dir.join("EXPECTED.conn");
        if !expected.exists() {
            continue;
        }
        checked += 1;
        let (cluster, policies) = load(&dir);
        let access = evaluate(&cluster, &policies);
        let (want, got) = (read_rows(&expected), rows(&access, false, false));
        if want != got {
            failures.push_str(&format!("{}:\n{}", name(&dir), diff(&want, &got)));
        }
    }
    assert!(checked >= 14, "only {checked} EXPECTED.conn files");
    assert!(failures.is_empty(), "connectivity differs:\n{failures}");
}

#[test]
fn intents_hold() {
    let mut failures = String::new();
    for dir in fixtures() {
        if !dir.join("INTENT").exists() {
            continue;
        }
        let (cluster, policies) = load(&dir);
        let access = evaluate(&cluster, &policies);
        let failed = failed_intents(&dir, &rows(&access, false, false));
        let known = dir.join("KNOWN_DISCREPANCY").exists();
        match (known, failed.is_empty()) {
            (false, false) => failures.push_str(&format!(
                "{}:\n    {}\n",
                name(&dir),
                failed.join("\n    ")
            )),
            (true, true) => failures.push_str(&format!(
                "{}: every INTENT line holds, yet KNOWN_DISCREPANCY says the recipe's text contradicts its policy\n",
                name(&dir)
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "INTENT:\n{failures}");
}

#[test]
fn fixtures_are_valid_policies() {
    for dir in fixtures() {
        let (cluster, policies) = load(&dir);
        assert!(!policies.is_empty(), "{}: no NetworkPolicy", name(&dir));
        let access = evaluate(&cluster, &policies);
        assert!(
            access.problems().is_empty(),
            "{}: {:?}",
            name(&dir),
            access.problems()
        );
    }
}

/// `missing:` / `extra:` rows of an `NCA_DISCREPANCY` file: what NCA's
/// rows lack, or have besides, compared with Kubernetes'.
fn nca_discrepancy(dir: &Path) -> (BTreeSet<Row>, BTreeSet<Row>) {
    let (mut missing, mut extra) = (BTreeSet::new(), BTreeSet::new());
    let Ok(text) = std::fs::read_to_string(dir.join("NCA_DISCREPANCY")) else {
        return (missing, extra);
    };
    for line in text.lines().map(str::trim) {
        let (set, row) = if let Some(r) = line.strip_prefix("missing:") {
            (&mut missing, r)
        } else if let Some(r) = line.strip_prefix("extra:") {
            (&mut extra, r)
        } else {
            continue;
        };
        set.insert(parse_row(row.trim()).unwrap_or_else(|| panic!("bad row {row:?}")));
    }
    assert!(
        !missing.is_empty() || !extra.is_empty(),
        "{}: NCA_DISCREPANCY lists no row",
        dir.display()
    );
    (missing, extra)
}

#[test]
fn agrees_with_network_config_analyzer() {
    let dirs = fixtures();
    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("effective-network-no-extra.yaml");
    std::fs::write(&empty, "").expect("writable target dir");
    let jobs: Vec<(PathBuf, PathBuf)> = dirs.iter().map(|d| (d.clone(), empty.clone())).collect();
    let results = oracles()
        .connectivity_batch(&jobs)
        .unwrap_or_else(|e| panic!("network-config-analyzer did not run:\n{e}"));
    let mut failures = String::new();
    for (dir, nca) in dirs.iter().zip(results) {
        let nca = nca.unwrap_or_else(|e| panic!("{}: {e}", name(dir)));
        let (cluster, policies) = load(dir);
        let access = evaluate(&cluster, &policies);
        let ours = rows(&access, true, true);
        let (missing, extra) = nca_discrepancy(dir);
        let want: BTreeSet<Row> = ours.difference(&missing).cloned().chain(extra).collect();
        if nca != want {
            failures.push_str(&format!(
                "{} (missing: in NCA only; unexpected: ours only):\n{}",
                name(dir),
                diff(&nca, &want)
            ));
        }
        for r in &missing {
            assert!(
                ours.contains(r),
                "{}: NCA_DISCREPANCY row {r} is not ours",
                name(dir)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "the evaluator and network-config-analyzer disagree:\n{failures}"
    );
}

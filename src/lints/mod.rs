//! Lints and invariants (CHECKS.md): findings on the model and on its
//! effective access, each lint in a file of its own with its `explain` text.
//!
//! Input: the resolved [`Model`] and every environment's
//! [`EnvAccess`](crate::effective::access::EnvAccess). Output: diagnostics,
//! after `lint NAME = level`, `accept LINT on A -> B` and `--deny warnings`
//! are applied. An `accept` silences a finding when every (subject, target)
//! pair of the finding is one of its pairs; a lint about one declaration
//! (an app's image, a namespace) takes `accept LINT on X -> X`.

mod clearance_exceeded;
mod dangerous_kube_grant;
mod duplicate_statement;
mod egress_to_internet;
mod exec_inherits_identity;
mod external_reaches_sensitive;
mod human_write_restricted;
mod invariant_violated;
mod namespace_wide_grant;
pub mod paths;
mod portforward_bypasses_network;
mod privileged_namespace;
mod shared_pod_widening;
pub mod shared_rbac_subject;
mod stale_accept;
mod unenforced_grant;
mod unpinned_image;
mod untrusted_registry;
mod unused_declaration;
mod wildcard_grant;
mod workload_rewrite;

pub use paths::Graph;

use crate::diagnostics::{Code, Diagnostic, Label, Severity};
use crate::effective::access::{EnvAccess, Node};
use crate::model::{Access, DataLevel, Entity, EnvId, Grant, Level, Model, Operation};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;

/// A lint's identity and documentation.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    pub name: &'static str,
    pub default: Level,
    pub summary: &'static str,
    /// `palisade explain NAME`: what it finds, why it matters, what to do.
    pub explain: &'static str,
}

/// A lint: its identity and its check.
pub struct Lint {
    pub info: &'static LintInfo,
    pub check: fn(&Cx<'_>, &mut Vec<Finding>),
}

/// Every lint, in the order of CHECKS.md (then palisade's own additions).
pub const LINTS: &[LintInfo] = &[
    namespace_wide_grant::INFO,
    shared_pod_widening::INFO,
    exec_inherits_identity::INFO,
    portforward_bypasses_network::INFO,
    external_reaches_sensitive::INFO,
    clearance_exceeded::INFO,
    human_write_restricted::INFO,
    wildcard_grant::INFO,
    egress_to_internet::INFO,
    unused_declaration::INFO,
    privileged_namespace::INFO,
    unpinned_image::INFO,
    untrusted_registry::INFO,
    stale_accept::INFO,
    invariant_violated::INFO,
    dangerous_kube_grant::INFO,
    shared_rbac_subject::INFO,
    unenforced_grant::INFO,
    duplicate_statement::INFO,
    workload_rewrite::INFO,
];

/// The checks, run in this order (`stale-accept` is applied last, by [`check`]).
const CHECKS: &[Lint] = &[
    Lint {
        info: &namespace_wide_grant::INFO,
        check: namespace_wide_grant::check,
    },
    Lint {
        info: &shared_pod_widening::INFO,
        check: shared_pod_widening::check,
    },
    Lint {
        info: &exec_inherits_identity::INFO,
        check: exec_inherits_identity::check,
    },
    Lint {
        info: &portforward_bypasses_network::INFO,
        check: portforward_bypasses_network::check,
    },
    Lint {
        info: &external_reaches_sensitive::INFO,
        check: external_reaches_sensitive::check,
    },
    Lint {
        info: &clearance_exceeded::INFO,
        check: clearance_exceeded::check,
    },
    Lint {
        info: &human_write_restricted::INFO,
        check: human_write_restricted::check,
    },
    Lint {
        info: &wildcard_grant::INFO,
        check: wildcard_grant::check,
    },
    Lint {
        info: &egress_to_internet::INFO,
        check: egress_to_internet::check,
    },
    Lint {
        info: &unused_declaration::INFO,
        check: unused_declaration::check,
    },
    Lint {
        info: &privileged_namespace::INFO,
        check: privileged_namespace::check,
    },
    Lint {
        info: &unpinned_image::INFO,
        check: unpinned_image::check,
    },
    Lint {
        info: &untrusted_registry::INFO,
        check: untrusted_registry::check,
    },
    Lint {
        info: &invariant_violated::INFO,
        check: invariant_violated::check,
    },
    Lint {
        info: &dangerous_kube_grant::INFO,
        check: dangerous_kube_grant::check,
    },
    Lint {
        info: &shared_rbac_subject::INFO,
        check: shared_rbac_subject::check,
    },
    Lint {
        info: &unenforced_grant::INFO,
        check: unenforced_grant::check,
    },
    Lint {
        info: &duplicate_statement::INFO,
        check: duplicate_statement::check,
    },
    Lint {
        info: &workload_rewrite::INFO,
        check: workload_rewrite::check,
    },
];

/// The lint of that name.
pub fn find(name: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.name == name)
}

/// The lint whose level can never be lowered and that cannot be accepted.
pub const INVARIANT_VIOLATED: &str = "invariant-violated";

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
    /// Every environment's effective access (one, `env: None`, when the
    /// model declares no environment).
    pub envs: &'a [EnvAccess],
    /// Per environment (same order): the grants that apply, indexed.
    pub declared: Vec<Declared<'a>>,
    /// Per environment: the effective access graph.
    pub graphs: Vec<Graph>,
    /// Every grant (any environment) by subject, in model order.
    pub by_subject: HashMap<Entity, Vec<&'a Grant>>,
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

    /// The entities a node stands for, without collecting them.
    pub fn entity_iter(&self, node: Node) -> impl Iterator<Item = Entity> + '_ {
        let (apps, store): (&[crate::model::AppId], _) = match node {
            Node::Group(g) => (&self.model.pods[g.index()].apps, None),
            Node::Store(s) => (&[], Some(Entity::Store(s))),
            Node::Ingress | Node::Dns => (&[], None),
        };
        apps.iter().map(|&a| Entity::App(a)).chain(store)
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
    /// The lints' view of a checked model: grants indexed per environment,
    /// every environment's effective access graph.
    pub fn new(model: &'a Model, envs: &'a [EnvAccess]) -> Cx<'a> {
        let mut cx = Cx::bare(model, envs);
        cx.graphs = envs.par_iter().map(|e| Graph::build(&cx, e)).collect();
        cx
    }

    /// [`Cx::new`] without the graphs (`graphs` is empty): for naming
    /// nodes and looking up grants.
    pub fn bare(model: &'a Model, envs: &'a [EnvAccess]) -> Cx<'a> {
        let mut cx = Cx {
            model,
            envs,
            declared: envs
                .par_iter()
                .map(|e| Declared::new(model, e.env))
                .collect(),
            graphs: Vec::new(),
            by_subject: HashMap::new(),
        };
        for g in &model.grants {
            cx.by_subject.entry(g.subject).or_default().push(g);
        }
        cx
    }
}

/// Run every lint and invariant; apply levels, accepts and `stale-accept`.
pub fn check(model: &Model, envs: &[EnvAccess]) -> Vec<Diagnostic> {
    run(model, envs).1
}

/// [`check`], also returning every finding with its level and the
/// `accept`s that silence it (accepted findings included, `allow`ed ones
/// not), in the order of the diagnostics.
pub fn run(model: &Model, envs: &[EnvAccess]) -> (Vec<Outcome>, Vec<Diagnostic>) {
    let cx = Cx::new(model, envs);
    // Lints are independent: each on any core, their findings in CHECKS
    // order.
    let findings: Vec<Finding> = (CHECKS.par_iter())
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
    if level(model, &stale_accept::INFO) != Level::Allow {
        let mut stale = Vec::new();
        stale_accept::check(&cx, &used, &mut stale);
        outcomes.extend(stale.into_iter().map(|f| Outcome {
            level: level(model, &stale_accept::INFO),
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

//! `palisade diff OLD NEW`: what a model change does to access — effective
//! edges added and removed per environment, findings introduced and
//! resolved, generated files added, changed and removed.
//!
//! Both sides are checked models; things are matched by name (entities,
//! environments), findings by lint, pairs and message (not by position,
//! since lines move).

use crate::diagnostics::Severity;
use crate::effective::network::PortSet;
use crate::model::{DataLevel, Level, Operation};
use crate::view::report::{env_name, statement_ref, EdgeReport, StatementRef, SCHEMA_VERSION};
use crate::view::{kind_text, node_name, AccessEdge, AccessView, CutAccess, Kind};
use crate::Compilation;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One side of a diff, checked.
pub struct Side<'a> {
    pub comp: &'a Compilation,
    pub view: &'a AccessView,
}

/// The documented JSON form (docs/review.md).
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    pub version: u32,
    pub old: String,
    pub new: String,
    pub summary: Summary,
    pub access: AccessChanges,
    pub findings: FindingChanges,
    pub files: FileChanges,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub access_added: usize,
    /// Added edges (or parts) that are wider than declared.
    pub access_added_widened: usize,
    pub access_removed: usize,
    pub findings_introduced: usize,
    pub findings_resolved: usize,
    pub findings_accepted: usize,
    pub findings_unaccepted: usize,
    pub files_added: usize,
    pub files_changed: usize,
    pub files_removed: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AccessChanges {
    pub added: Vec<AccessChange>,
    pub removed: Vec<AccessChange>,
}

/// Access that one side has and the other lacks.
#[derive(Clone, Debug, Serialize)]
pub struct AccessChange {
    /// `null` in a model without environments.
    pub environment: Option<String>,
    pub from: String,
    pub to: String,
    /// The part added or removed: ports (`TCP/5432`), a level (`write`),
    /// an operation, `kube`.
    pub access: String,
    /// The whole edge on the side that has it (the new side for an
    /// addition, the old for a removal), with its derivation.
    pub edge: EdgeReport,
    /// For a removal the new side's NetworkPolicies still admit: why the
    /// mesh or guardrail layer cuts it (as `query` words it); else empty.
    pub cut: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FindingChanges {
    /// Findings the new model has and the old one does not.
    pub introduced: Vec<FindingChange>,
    /// Findings the old model had and the new one does not.
    pub resolved: Vec<FindingChange>,
    /// Reported before, silenced by an `accept` now.
    pub accepted: Vec<FindingChange>,
    /// Silenced before, reported now.
    pub unaccepted: Vec<FindingChange>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FindingChange {
    pub lint: String,
    /// `error` or `warning` (its level in that model).
    pub severity: String,
    pub message: String,
    /// Where, on the side that has it (the new side unless resolved).
    pub location: StatementRef,
    pub notes: Vec<String>,
    /// The reason of the `accept` that silences it; `null`: reported.
    pub accepted: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FileChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// Compare two checked models. `names`: how to call them (`old`, `new`).
pub fn diff(old: &Side<'_>, new: &Side<'_>, names: (&str, &str)) -> Diff {
    let (added, removed) = access_changes(old, new);
    let findings = finding_changes(old.comp, new.comp);
    let files = file_changes(old.comp, new.comp);
    let summary = Summary {
        access_added: added.len(),
        access_added_widened: added.iter().filter(|a| a.edge.widened.is_some()).count(),
        access_removed: removed.len(),
        findings_introduced: findings.introduced.len(),
        findings_resolved: findings.resolved.len(),
        findings_accepted: findings.accepted.len(),
        findings_unaccepted: findings.unaccepted.len(),
        files_added: files.added.len(),
        files_changed: files.changed.len(),
        files_removed: files.removed.len(),
    };
    Diff {
        version: SCHEMA_VERSION,
        old: names.0.to_string(),
        new: names.1.to_string(),
        summary,
        access: AccessChanges { added, removed },
        findings,
        files,
    }
}

/// An edge's identity across models: environment, names, kind of access.
type EdgeKey = (Option<String>, String, String, u8, Option<Operation>);

fn edge_key(comp: &Compilation, env: Option<String>, e: &AccessEdge) -> EdgeKey {
    let m = &comp.model;
    let (class, op) = match &e.access {
        Kind::Net(_) => (0, None),
        Kind::Data(_) => (1, None),
        Kind::Op(op) => (2, Some(*op)),
        Kind::Token => (3, None),
    };
    (env, node_name(m, e.from), node_name(m, e.to), class, op)
}

fn index<'a>(side: &'a Side<'_>) -> BTreeMap<EdgeKey, &'a AccessEdge> {
    let mut out = BTreeMap::new();
    for ev in &side.view.envs {
        let env = env_name(&side.comp.model, ev.env);
        for e in &ev.edges {
            out.insert(edge_key(side.comp, env.clone(), e), e);
        }
    }
    out
}

/// What `a` has beyond `b` (`None`: nothing).
fn beyond(a: &Kind, b: Option<&Kind>) -> Option<Kind> {
    match (a, b) {
        (_, None) => Some(a.clone()),
        (Kind::Net(x), Some(Kind::Net(y))) => {
            let d: PortSet = x.difference(y);
            (!d.is_empty()).then_some(Kind::Net(d))
        }
        (Kind::Data(x), Some(Kind::Data(y))) => (x > y).then_some(Kind::Data(*x)),
        _ => None,
    }
}

/// A side's cuts by (environment, from, to).
fn cuts<'a>(side: &'a Side<'_>) -> BTreeMap<(Option<String>, String, String), &'a CutAccess> {
    let m = &side.comp.model;
    let mut out = BTreeMap::new();
    for ev in &side.view.envs {
        for c in &ev.cut {
            let key = (
                env_name(m, ev.env),
                node_name(m, c.from),
                node_name(m, c.to),
            );
            out.insert(key, c);
        }
    }
    out
}

fn access_changes(old: &Side<'_>, new: &Side<'_>) -> (Vec<AccessChange>, Vec<AccessChange>) {
    let (o, n) = (index(old), index(new));
    let new_cuts = cuts(new);
    let change = |side: &Side<'_>, key: &EdgeKey, e: &AccessEdge, part: Kind| AccessChange {
        environment: key.0.clone(),
        from: key.1.clone(),
        to: key.2.clone(),
        access: match (&part, &e.access) {
            (Kind::Data(l), _) => level_text(*l),
            _ => kind_text(&side.comp.model, e.to, &part),
        },
        edge: EdgeReport::new(side.comp, e),
        cut: Vec::new(),
    };
    let mut added = Vec::new();
    for (key, e) in &n {
        if let Some(part) = beyond(&e.access, o.get(key).map(|x| &x.access)) {
            added.push(change(new, key, e, part));
        }
    }
    let mut removed = Vec::new();
    for (key, e) in &o {
        let part = match (&e.access, n.get(key).map(|x| &x.access)) {
            // A lower level now: what is gone is the higher one.
            (Kind::Data(x), Some(Kind::Data(y))) if x > y => Some(Kind::Data(*x)),
            (a, b) => beyond(a, b),
        };
        if let Some(part) = part {
            // Ports the new side's NetworkPolicies admit and a layer cuts.
            let cut = new_cuts.get(&(key.0.clone(), key.1.clone(), key.2.clone()));
            let cut_by = match (cut, &part) {
                (Some(cut), Kind::Net(gone)) => match &cut.access {
                    Kind::Net(ports) if !gone.intersection(ports).is_empty() => cut.causes.clone(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let mut c = change(old, key, e, part);
            c.cut = cut_by;
            removed.push(c);
        }
    }
    (added, removed)
}

fn level_text(l: DataLevel) -> String {
    l.as_str().to_string()
}

/// A finding's identity across models.
type FindingKey = (&'static str, Vec<(String, String)>, String);

fn findings_of(comp: &Compilation) -> BTreeMap<FindingKey, usize> {
    let m = &comp.model;
    let mut out = BTreeMap::new();
    for (i, o) in comp.findings.iter().enumerate() {
        let mut pairs: Vec<(String, String)> = (o.finding.pairs.iter())
            .map(|&(s, t)| (m.name_of(s).to_string(), m.name_of(t).to_string()))
            .collect();
        pairs.sort();
        out.entry((o.finding.lint, pairs, o.finding.message.clone()))
            .or_insert(i);
    }
    out
}

fn finding_change(comp: &Compilation, i: usize) -> FindingChange {
    let o = &comp.findings[i];
    FindingChange {
        lint: o.finding.lint.to_string(),
        severity: match o.level {
            Level::Deny => Severity::Error,
            _ => Severity::Warning,
        }
        .as_str()
        .to_string(),
        message: o.finding.message.clone(),
        location: statement_ref(comp, o.finding.span),
        notes: o.finding.notes.clone(),
        accepted: (o.accepted.first()).map(|&a| comp.model.accepts[a].reason.clone()),
    }
}

fn finding_changes(old: &Compilation, new: &Compilation) -> FindingChanges {
    let (o, n) = (findings_of(old), findings_of(new));
    let mut out = FindingChanges::default();
    for (key, &i) in &n {
        match o.get(key) {
            None => out.introduced.push(finding_change(new, i)),
            Some(&j) => {
                let (was, is) = (
                    old.findings[j].accepted.is_empty(),
                    new.findings[i].accepted.is_empty(),
                );
                match (was, is) {
                    (true, false) => out.accepted.push(finding_change(new, i)),
                    (false, true) => out.unaccepted.push(finding_change(new, i)),
                    _ => {}
                }
            }
        }
    }
    for (key, &j) in &o {
        if !n.contains_key(key) {
            out.resolved.push(finding_change(old, j));
        }
    }
    out
}

/// Both models' deploy trees, built in memory. The header comment naming
/// the model's files is made the same on both sides, so that renaming a
/// model file does not show as every file changed.
fn file_changes(old: &Compilation, new: &Compilation) -> FileChanges {
    let names: Vec<String> = (new.sources.files())
        .map(|(_, f)| {
            Path::new(&f.name)
                .file_name()
                .map_or(f.name.clone(), |n| n.to_string_lossy().into_owned())
        })
        .collect();
    let build = |c: &Compilation| {
        let opts = crate::generate::Options {
            workloads: c.model.platform.workloads,
        };
        // A model two of whose objects would share a file does not build
        // (`build` says so); its tree counts as empty here.
        crate::output::build(&c.model, &opts, None, &names).unwrap_or_default()
    };
    let (a, b) = rayon::join(|| build(old), || build(new));
    let mut out = FileChanges::default();
    for (path, bytes) in &b {
        match a.get(path) {
            None => out.added.push(path.clone()),
            Some(x) if x != bytes => out.changed.push(path.clone()),
            Some(_) => {}
        }
    }
    out.removed = a.keys().filter(|p| !b.contains_key(*p)).cloned().collect();
    out
}

/// Markdown for a pull-request comment.
pub fn render_markdown(d: &Diff) -> String {
    let s = &d.summary;
    let mut out = format!(
        "## Palisade: access changes from `{}` to `{}`\n\n",
        d.old, d.new
    );
    let widened = match s.access_added_widened {
        0 => String::new(),
        n => format!(" ({n} wider than declared)"),
    };
    out.push_str(&format!(
        "**Effective access:** {} added{widened}, {} removed · **Findings:** {} introduced, {} resolved{}{} · **Generated files:** {} added, {} changed, {} removed\n\n",
        s.access_added,
        s.access_removed,
        s.findings_introduced,
        s.findings_resolved,
        if s.findings_accepted > 0 { format!(", {} newly accepted", s.findings_accepted) } else { String::new() },
        if s.findings_unaccepted > 0 { format!(", {} no longer accepted", s.findings_unaccepted) } else { String::new() },
        s.files_added,
        s.files_changed,
        s.files_removed,
    ));
    let envs = (d.access.added.iter().chain(&d.access.removed)).any(|c| c.environment.is_some());
    for (title, list) in [
        ("Effective access added", &d.access.added),
        ("Effective access removed", &d.access.removed),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        out.push_str(if envs {
            "| environment | who | to | access | why |\n| --- | --- | --- | --- | --- |\n"
        } else {
            "| who | to | access | why |\n| --- | --- | --- | --- |\n"
        });
        for c in list {
            let mut why = why_cell(&c.edge);
            if !c.cut.is_empty() {
                let causes: Vec<String> = c.cut.iter().map(|x| md_text(x)).collect();
                why = format!("{}<br>✂️ cut now: {}", why, cell(&causes.join("; ")));
            }
            let env = match (&c.environment, envs) {
                (Some(e), true) => format!("{} | ", cell(e)),
                (None, true) => "— | ".to_string(),
                _ => String::new(),
            };
            out.push_str(&format!(
                "| {env}{} | {} | {} | {why} |\n",
                cell(&c.from),
                cell(&c.to),
                cell(&c.access)
            ));
        }
        out.push('\n');
    }
    for (title, list) in [
        ("Findings introduced", &d.findings.introduced),
        ("Findings resolved", &d.findings.resolved),
        ("Findings newly accepted", &d.findings.accepted),
        ("Findings no longer accepted", &d.findings.unaccepted),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        for f in list {
            let accepted = match &f.accepted {
                Some(r) => format!(" — accepted: \"{r}\""),
                None => String::new(),
            };
            out.push_str(&format!(
                "- **{}** `{}` ({}:{}:{}): {}{accepted}\n",
                f.severity,
                f.lint,
                f.location.file,
                f.location.line,
                f.location.column,
                md_text(&f.message)
            ));
            for n in &f.notes {
                out.push_str(&format!("  - `{}`\n", n.replace('`', "'")));
            }
        }
        out.push('\n');
    }
    let files = &d.files;
    if !(files.added.is_empty() && files.changed.is_empty() && files.removed.is_empty()) {
        out.push_str("### Generated files\n\n");
        for (what, list) in [
            ("added", &files.added),
            ("changed", &files.changed),
            ("removed", &files.removed),
        ] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "<details><summary>{} {what}</summary>\n\n",
                list.len()
            ));
            for p in list {
                out.push_str(&format!("- `{p}`\n"));
            }
            out.push_str("\n</details>\n\n");
        }
    }
    if s == &Summary::default() {
        out.push_str("No change to effective access, findings or generated files.\n");
    }
    out
}

/// The derivation of an edge, in one table cell.
fn why_cell(e: &EdgeReport) -> String {
    let mut parts = Vec::new();
    if let Some(w) = &e.widened {
        let causes: Vec<String> = w.causes.iter().map(|c| md_text(c)).collect();
        parts.push(format!(
            "⚠️ wider than declared ({}): {}",
            cell(&w.undeclared),
            causes.join("; ")
        ));
    }
    for d in &e.declared {
        parts.push(format!(
            "`{}` ({}:{})",
            d.statement.replace('`', "'"),
            d.file,
            d.line
        ));
    }
    let lints: BTreeSet<String> = (e.findings.iter())
        .map(|f| match &f.accepted {
            Some(_) => format!("`{}` (accepted)", f.lint),
            None => format!("`{}`", f.lint),
        })
        .collect();
    if !lints.is_empty() {
        parts.push(format!(
            "lint {}",
            lints.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    cell(&parts.join("<br>"))
}

/// Text safe in a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text safe in Markdown prose: no HTML tags.
fn md_text(s: &str) -> String {
    s.replace('<', "&lt;")
}

/// Whether anything effective was added (`--fail-on-widening`).
pub fn widens(d: &Diff) -> bool {
    !d.access.added.is_empty()
}

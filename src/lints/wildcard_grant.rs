//! `wildcard-grant`: a statement whose target is `*` or `namespace X`.

use super::{Cx, Finding, LintInfo};
use crate::model::Level;
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "wildcard-grant",
    default: Level::Warn,
    summary: "a statement uses `*` or `namespace X` as its target",
    explain: "\
A statement like `allow sre -> namespace payments: logs` or `allow x -> *: ...`
grants access to whatever the target set holds today *and to everything
added to it later*: a new app in `payments` is readable by `sre` the day it
is declared, without anyone deciding so. The model's purpose is that every
access is a decision someone made and reviewed.

Fires on every `allow` whose target is `*` or `namespace X`, at the target.

Fix: list the targets by name. If the wildcard is deliberate (a platform
team really owns everything in a namespace), keep it and record why:
`accept wildcard-grant on sre -> [a, b, c] \"platform team owns payments\"`
(the accept names the pairs it covers, so a new app still shows up).",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let mut by_stmt: BTreeMap<usize, Vec<(crate::model::Entity, crate::model::Entity)>> =
        BTreeMap::new();
    for g in &cx.model.grants {
        if cx.model.statements[g.stmt.index()].wildcard_target {
            by_stmt
                .entry(g.stmt.index())
                .or_default()
                .push((g.subject, g.target));
        }
    }
    for (stmt, mut pairs) in by_stmt {
        pairs.sort();
        pairs.dedup();
        let s = &cx.model.statements[stmt];
        let mut targets: Vec<&str> = pairs.iter().map(|(_, t)| cx.model.name_of(*t)).collect();
        targets.sort();
        targets.dedup();
        let mut f = Finding::new(&INFO, s.targets_span, "this target is a wildcard")
            .note(format!("today it means: {}", targets.join(", ")))
            .help("name the targets; a wildcard also grants whatever is added later");
        f.pairs = pairs;
        out.push(f);
    }
}

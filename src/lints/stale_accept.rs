//! `stale-accept`: an `accept` that silences nothing.

use super::{Cx, Finding, LintInfo};
use crate::model::Level;

pub const INFO: LintInfo = LintInfo {
    name: "stale-accept",
    default: Level::Warn,
    summary: "an `accept` that silences nothing",
    explain: "\
`accept LINT on A -> B \"reason\"` records a reviewed finding. When the model
changes so that the finding is gone, the accept stays behind and would
silently cover a *new* finding of the same lint on the same pair later —
one nobody reviewed.

Fires on every `accept` that silenced no finding in this run: the finding
is gone; or the accept names only some of the finding's pairs (an accept
must cover every pair of a finding, so that a widening to a new pair is
seen); or the lint is set to `allow`, so it finds nothing to silence.

Fix: delete the accept, or complete its pairs from the finding's notes.",
};

/// Runs after every other lint: `cx.accepts_used[i]` says whether
/// `model.accepts[i]` silenced a finding.
pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (a, used) in cx.model.accepts.iter().zip(&cx.accepts_used) {
        if !used {
            out.push(
                Finding::new(
                    &INFO,
                    a.span,
                    format!("this accept of `{}` silences nothing", a.lint),
                )
                .note(format!("its reason: \"{}\"", a.reason))
                .help(
                    "delete it if the finding is gone; an accept must name every pair of a finding",
                ),
            );
        }
    }
}

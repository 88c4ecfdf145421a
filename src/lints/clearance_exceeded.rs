//! `clearance-exceeded`: a persona effectively accesses a store above its
//! `clearance`.

use super::{Cx, Finding, LintInfo};
use crate::model::{Entity, Level};

pub const INFO: LintInfo = LintInfo {
    name: "clearance-exceeded",
    default: Level::Deny,
    summary: "a persona effectively accesses a store above its clearance",
    explain: "\
`persona analyst { clearance = confidential }` says analysts may see data
up to confidential. If the generated objects let them read a restricted
store — through a credentials Secret, by exec into a pod that mounts one,
or by exec into the store's own pods — the model contradicts itself.

Fires (as an error by default) for every persona with a `clearance` and
every store above it that the persona effectively accesses, with how.

Fix: remove the access that leads there (often an `exec` that reaches more
pods than intended), or raise the clearance if the design really allows it.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let found = super::human_write_restricted::store_access(cx, |persona, store, _| {
        persona
            .clearance
            .is_some_and(|clearance| store.classification > clearance)
    });
    for ((p, s), (hows, envs)) in found {
        let persona = &m.personas[p.index()];
        let store = &m.stores[s.index()];
        let mut f = Finding::new(
            &INFO,
            persona.span,
            format!(
                "{} (clearance {}) can access {} store `{}`{}",
                persona.name,
                persona.clearance.map_or("?", |c| c.as_str()),
                store.classification.as_str(),
                store.name,
                envs.join(",")
            ),
        )
        .pair(Entity::Persona(p), Entity::Store(s))
        .help("remove the access that leads there, or raise the clearance");
        f = f.notes(hows);
        out.push(f);
    }
}

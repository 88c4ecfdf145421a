//! `clearance-exceeded`: a persona effectively accesses a store above its
//! `clearance`.

use super::{Cx, Finding, LintInfo};
use crate::model::{Entity, Level, PersonaId, StoreId};
use std::collections::BTreeMap;

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
    let mut found: BTreeMap<(PersonaId, StoreId), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for env in cx.envs {
        for (p, persona) in m.personas.iter().enumerate() {
            let Some(clearance) = persona.clearance else {
                continue;
            };
            let id = PersonaId(p as u32);
            for d in super::human_write_restricted::persona_data(cx, env, id) {
                if m.stores[d.0.index()].classification <= clearance {
                    continue;
                }
                let entry = found.entry((id, d.0)).or_default();
                super::push_unique(&mut entry.0, d.2);
                let name = cx.in_env(env.env);
                super::push_unique(&mut entry.1, name);
            }
        }
    }
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
        for h in hows {
            f = f.note(h);
        }
        out.push(f);
    }
}

//! `unenforced-grant`: a persona's declared store access that no generated
//! object carries.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::Holder;
use crate::model::{Access, DataLevel, Entity, Level, PersonaId, StoreId, StoreLocation};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "unenforced-grant",
    default: Level::Warn,
    summary: "a persona's declared store access that no generated object gives",
    explain: "\
Kubernetes carries a person's store access as `get` on the store's
credentials Secret (`<store>-<level>`), the very object the apps mount, in
their namespaces (an app mounts its highest granted level). A level no app
mounts lives, for a store in the cluster, in the store's namespace; for a
store outside the cluster it exists nowhere. When no app of an environment
mounts the credentials of an outside store at the level a persona is
granted, there is no Secret to grant: the generated objects give
the persona nothing, and the model states an access the deploy repo does
not have. Reviewers reading the model would assume it works; people who
need it would go around the design to get it.

Fires for every `allow PERSONA -> STORE: LEVEL` of an internal persona,
per environment where it applies, when the persona's effective access
(evaluated from the generated Roles and the Secrets the workloads mount)
does not reach the store at that level by any way.

Fix: grant the access where the store's own access control lives (cloud
IAM, database roles) and remove the statement, or grant the level to an app
of that environment that holds nothing higher on the store (an app mounts
only its highest level), so its Secret exists. To keep the statement as
documentation: `accept unenforced-grant on analyst -> lake \"IAM grants it\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // (persona, store, level) → (the statement's span, environments)
    let mut found: BTreeMap<(PersonaId, StoreId, DataLevel), (crate::span::Span, Vec<String>)> =
        BTreeMap::new();
    for env in cx.envs() {
        // What each persona effectively holds, at its highest level.
        let mut held: BTreeMap<(PersonaId, StoreId), DataLevel> = BTreeMap::new();
        for d in &env.data {
            if let Holder::Persona(p) = d.holder {
                let level = held.entry((p, d.store)).or_insert(d.level);
                *level = (*level).max(d.level);
            }
        }
        for g in &m.grants {
            let (Entity::Persona(p), Entity::Store(s), Access::Data(level)) =
                (g.subject, g.target, &g.access)
            else {
                continue;
            };
            if m.personas[p.index()].external || !m.grant_applies(g, env.env) {
                continue;
            }
            if held.get(&(p, s)).is_some_and(|h| h >= level) {
                continue;
            }
            let entry = found
                .entry((p, s, *level))
                .or_insert_with(|| (g.span, Vec::new()));
            super::push_unique(&mut entry.1, cx.in_env(env.env));
        }
    }
    for ((p, s, level), (span, envs)) in found {
        let persona = &m.personas[p.index()].name;
        let store = &m.stores[s.index()];
        let secret = format!("{}-{}", store.name, level.as_str());
        let why = match &store.location {
            StoreLocation::Outside(_) => format!(
                "`{}` is outside the cluster: its Secret `{secret}` exists only in the \
                 namespaces of the apps that mount it, and no app mounts it",
                store.name
            ),
            StoreLocation::InCluster(_) => {
                format!("no generated Role lets `{persona}` get the Secret `{secret}`")
            }
        };
        out.push(
            Finding::new(
                &INFO,
                span,
                format!(
                    "`{persona}` may {} `{}` by this statement, but no generated object gives it{}",
                    level.as_str(),
                    store.name,
                    envs.join(",")
                ),
            )
            .pair(Entity::Persona(p), Entity::Store(s))
            .note(why)
            .help(format!(
                "remove the statement and grant it where `{}`'s own access control lives (cloud IAM, database roles), or grant `{}` to an app that holds nothing higher on `{}` so that it mounts `{secret}`; to keep the statement as documentation: `accept unenforced-grant on {persona} -> {} \"<reason>\"`",
                store.name, level.as_str(), store.name, store.name
            )),
        );
    }
}

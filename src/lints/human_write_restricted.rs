//! `human-write-restricted`: an internal persona can write or admin a
//! restricted store.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::{EnvAccess, Holder, Via};
use crate::model::{Classification, DataLevel, Entity, Level, Persona, PersonaId, Store, StoreId};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "human-write-restricted",
    default: Level::Warn,
    summary: "an internal persona can write or admin a restricted store",
    explain: "\
Restricted data (payment, health, credentials) should be changed by
applications through reviewed code paths, not by people. A persona that can
write a restricted store — by its credentials Secret, by exec into a pod
that mounts write credentials, or by exec into the store's pods — can alter
or exfiltrate it without a trace in the application's audit log.

Fires for every internal persona with effective write or admin access to a
restricted store, with how it gets it.

Fix: give people read access at most (or none), and route changes through
the application; keep break-glass access in an environment of its own.",
};

/// A persona's effective store access in one environment: (store, level,
/// how), strongest first per store.
pub fn persona_data(
    cx: &Cx<'_>,
    env: &EnvAccess,
    persona: PersonaId,
) -> Vec<(StoreId, DataLevel, String)> {
    let m = cx.model;
    let who = &m.personas[persona.index()].name;
    let mut out: Vec<(StoreId, DataLevel, String)> = env
        .data
        .iter()
        .filter(|d| d.holder == Holder::Persona(persona))
        .map(|d| {
            let secret = format!("{}-{}", m.stores[d.store.index()].name, d.level.as_str());
            let how = match &d.via {
                Via::Secret(cause) => format!("{who} --get secret--> {secret} ({cause})"),
                Via::Exec(g) => format!(
                    "{who} --exec--> {} --mounts--> {secret}",
                    cx.node(crate::effective::access::Node::Group(*g))
                ),
                Via::ExecStore => format!(
                    "{who} --exec--> {} (the store's own pods)",
                    m.stores[d.store.index()].name
                ),
                Via::Mount => secret,
            };
            (d.store, d.level, how)
        })
        .collect();
    out.sort_by(|a, b| {
        (a.0, std::cmp::Reverse(a.1), &a.2).cmp(&(b.0, std::cmp::Reverse(b.1), &b.2))
    });
    out
}

/// Every persona's effective store access that `keep` selects, over all
/// environments: (persona, store) → (how, in which environments).
pub type StoreAccess = BTreeMap<(PersonaId, StoreId), (Vec<String>, Vec<String>)>;

pub fn store_access(
    cx: &Cx<'_>,
    keep: impl Fn(&Persona, &Store, DataLevel) -> bool,
) -> StoreAccess {
    let m = cx.model;
    let mut found = StoreAccess::new();
    for env in cx.envs() {
        for (p, persona) in m.personas.iter().enumerate() {
            let id = PersonaId(p as u32);
            for (store, level, how) in persona_data(cx, env, id) {
                if !keep(persona, &m.stores[store.index()], level) {
                    continue;
                }
                let entry = found.entry((id, store)).or_default();
                super::push_unique(&mut entry.0, how);
                super::push_unique(&mut entry.1, cx.in_env(env.env));
            }
        }
    }
    found
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let found = store_access(cx, |persona, store, level| {
        !persona.external
            && level >= DataLevel::Write
            && store.classification == Classification::Restricted
    });
    for ((p, s), (hows, envs)) in found {
        let persona = &m.personas[p.index()];
        let store = &m.stores[s.index()];
        let mut f = Finding::new(
            &INFO,
            persona.span,
            format!(
                "{} can write restricted store `{}`{}",
                persona.name,
                store.name,
                envs.join(",")
            ),
        )
        .pair(Entity::Persona(p), Entity::Store(s));
        // The remedies for the ways this persona gets write access.
        let mut fixes = Vec::new();
        if hows.iter().any(|h| h.contains("--get secret-->")) {
            fixes.push(format!(
                "grant `read` at most (`allow {} -> {}: read`) and route changes through the application",
                persona.name, store.name
            ));
        }
        if hows.iter().any(|h| h.contains("--exec-->")) {
            let mut fix = "grant `logs` instead of `exec` (exec acts as the pod it enters, with its credentials)".to_string();
            if hows.iter().any(|h| h.contains("(the store's own pods)")) {
                fix.push_str(
                    ", or give the store a namespace where the persona has no exec (RBAC exec is namespace-wide)",
                );
            }
            fixes.push(fix);
        }
        fixes.push(format!(
            "or accept it for a reviewed break-glass role: `accept human-write-restricted on {} -> {} \"<reason>\"`",
            persona.name, store.name
        ));
        f = f.help(fixes.join("; "));
        f = f.notes(hows);
        out.push(f);
    }
}

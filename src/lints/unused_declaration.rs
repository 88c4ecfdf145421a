//! `unused-declaration`: a persona, app, store or external that no
//! statement mentions.

use super::{Cx, Finding, LintInfo};
use crate::model::{AppId, Entity, ExternalId, Level, PersonaId, StoreId};
use foldhash::{HashSet, HashSetExt};

pub const INFO: LintInfo = LintInfo {
    name: "unused-declaration",
    default: Level::Warn,
    summary: "a persona, app, store or external that no statement mentions",
    explain: "\
A declaration no `allow` or `forbid` mentions is either dead (remove it) or,
more often, a sign that the model is incomplete: an app that talks to
nothing gets no network access at all once deployed (default deny), and a
store nobody reads is either unused or read by something the model forgot.

Fires on every persona, app, store and external that no `allow` or `forbid`
names as subject or target (apps count when named through `*` or
`namespace X` too).

Fix: add the statements the design needs, or remove the declaration. To
keep it on purpose: `accept unused-declaration on X -> X \"why\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut used: HashSet<Entity> = HashSet::new();
    for g in &m.grants {
        used.insert(g.subject);
        used.insert(g.target);
    }
    for f in &m.forbids {
        used.extend(f.subjects.iter().copied());
        used.extend(f.targets.iter().copied());
    }
    let mut report = |e: Entity, span, kind: &str| {
        if !used.contains(&e) {
            out.push(
                Finding::new(
                    &INFO,
                    span,
                    format!("{kind} `{}` is never used", m.name_of(e)),
                )
                .pair(e, e)
                .help("no statement names it: add what the design needs, or remove it"),
            );
        }
    };
    for (i, p) in m.personas.iter().enumerate() {
        report(Entity::Persona(PersonaId(i as u32)), p.span, "persona");
    }
    for (i, a) in m.apps.iter().enumerate() {
        report(Entity::App(AppId(i as u32)), a.span, "app");
    }
    for (i, s) in m.stores.iter().enumerate() {
        report(Entity::Store(StoreId(i as u32)), s.span, "store");
    }
    for (i, x) in m.externals.iter().enumerate() {
        report(Entity::External(ExternalId(i as u32)), x.span, "external");
    }
}

//! `shared-rbac-subject`: personas that Kubernetes cannot tell apart.

use super::{Cx, Finding, LintInfo};
use crate::model::{Access, Entity, Level, PersonaId, Subject};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "shared-rbac-subject",
    default: Level::Warn,
    summary: "personas share a group, user or ServiceAccount, so each gets the other's RBAC access",
    explain: "\
RBAC grants to subjects, not to personas: palisade binds each persona's
Roles to every group, user and ServiceAccount the persona lists. When two
personas list the same subject (say both have `groups = [..., \"oidc:all\"]`),
every member of it holds both personas' Roles: each persona gets every
operation and every credential granted to the other, in every environment.

Fires for each subject that two or more internal personas list, when at
least one of them is granted an operation or a store level. The finding is
on the last of those personas; its notes name the subject and the others.

Fix: give each persona subjects of its own (a group per role), or merge the
personas if they really are one audience. If the shared access is intended,
record why: `accept shared-rbac-subject on [sre, oncall] -> [sre, oncall]
\"on-call engineers are SREs\"`.",
};

fn describe(s: &Subject) -> String {
    match s {
        Subject::Group(g) => format!("group `{g}`"),
        Subject::User(u) => format!("user `{u}`"),
        Subject::ServiceAccount { namespace, name } => {
            format!("ServiceAccount `{namespace}/{name}`")
        }
    }
}

/// Internal personas by subject, for subjects more than one lists.
pub fn shared(model: &crate::model::Model) -> BTreeMap<String, (Subject, Vec<PersonaId>)> {
    let mut by: BTreeMap<String, (Subject, Vec<PersonaId>)> = BTreeMap::new();
    for (i, p) in model.personas.iter().enumerate() {
        if p.external {
            continue;
        }
        for s in &p.subjects {
            let e = by
                .entry(describe(s))
                .or_insert_with(|| (s.clone(), Vec::new()));
            if !e.1.contains(&PersonaId(i as u32)) {
                e.1.push(PersonaId(i as u32));
            }
        }
    }
    by.retain(|_, (_, ps)| ps.len() > 1);
    by
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let granted = |p: PersonaId| {
        m.grants.iter().any(|g| {
            g.subject == Entity::Persona(p) && matches!(g.access, Access::Op(_) | Access::Data(_))
        })
    };
    for (what, (_, personas)) in shared(m) {
        if !personas.iter().any(|&p| granted(p)) {
            continue;
        }
        let names: Vec<String> = (personas.iter())
            .map(|p| format!("`{}`", m.personas[p.index()].name))
            .collect();
        let last = *personas.last().expect("two or more");
        let mut finding = Finding::new(
            &INFO,
            m.personas[last.index()].span,
            format!(
                "personas {} share {what}: each gets the others' Kubernetes access",
                names.join(", ")
            ),
        )
        .note(format!(
            "palisade binds each persona's Roles to {what}; its members hold them all"
        ))
        .help("give each persona subjects of its own, or accept the shared access");
        for &a in &personas {
            for &b in &personas {
                if a != b {
                    finding.pairs.push((Entity::Persona(a), Entity::Persona(b)));
                }
            }
        }
        out.push(finding);
    }
}

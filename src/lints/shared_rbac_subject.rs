//! `shared-rbac-subject`: personas that Kubernetes cannot tell apart.

use super::{Cx, Finding, LintInfo};
use crate::model::{Access, Entity, Level, PersonaId, Subject};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "shared-rbac-subject",
    default: Level::Warn,
    summary: "personas share a group, user or ServiceAccount (or a persona is an app's or a `default` ServiceAccount), so each gets the other's RBAC access",
    explain: "\
RBAC grants to subjects, not to personas: palisade binds each persona's
Roles to every group, user and ServiceAccount the persona lists. When two
personas list the same subject (say both have `groups = [..., \"oidc:all\"]`),
every member of it holds both personas' Roles: each persona gets every
operation and every credential granted to the other, in every environment.

Fires for each subject that two or more internal personas list, when at
least one of them is granted an operation or a store level. The finding is
on the last of those personas; its notes name the subject and the others.

A ServiceAccount is shared with pods too. It also fires when a persona's
`service_account` is an app's own (`\"web/api\"` for the pod group `api`
in `web`: palisade's ServiceAccount for it), when the persona or the app has
Kubernetes access: the app's pods run as the persona, and the persona holds
the app's `kube` Role. And when it is a namespace's `default` ServiceAccount
and the persona has access: every pod of that namespace that names no
ServiceAccount runs as it, so whoever may create a pod there gets the
persona's access.

Fix: give each persona subjects of its own (a group per role), or merge the
personas if they really are one audience; give a deployer a ServiceAccount
of its own, never an app's or `default`. If the shared access is intended,
record why: `accept shared-rbac-subject on [sre, oncall] -> [sre, oncall]
\"on-call engineers are SREs\"` (a persona sharing an app's
ServiceAccount: `on deployer -> api`; a `default` one: `on deployer ->
deployer`).",
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
    service_accounts(cx, out);
}

/// Personas whose ServiceAccount is an app's or a namespace's `default`.
fn service_accounts(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let persona_granted = |p: PersonaId| {
        m.grants.iter().any(|g| {
            g.subject == Entity::Persona(p) && matches!(g.access, Access::Op(_) | Access::Data(_))
        })
    };
    for (i, p) in m.personas.iter().enumerate() {
        let id = PersonaId(i as u32);
        if p.external {
            continue;
        }
        for s in &p.subjects {
            let Subject::ServiceAccount { namespace, name } = s else {
                continue;
            };
            let what = describe(s);
            let group = m
                .pods
                .iter()
                .find(|g| &g.name == name && m.namespace(g.namespace).name == *namespace);
            if let Some(group) = group {
                let kube: Vec<String> = (m.grants.iter())
                    .filter(|g| {
                        matches!(g.access, Access::Kube(_))
                            && matches!(g.subject, Entity::App(a) if group.apps.contains(&a))
                    })
                    .map(|g| format!("`{}`", g.access))
                    .collect();
                if kube.is_empty() && !persona_granted(id) {
                    continue;
                }
                let apps: Vec<&str> = (group.apps.iter())
                    .map(|a| m.apps[a.index()].name.as_str())
                    .collect();
                let mut f = Finding::new(
                    &INFO,
                    p.span,
                    format!(
                        "persona `{}` is {what}, the identity of `{}`'s pods: each gets the other's Kubernetes access",
                        p.name,
                        apps.join("`, `")
                    ),
                )
                .note(format!(
                    "palisade binds Role `persona-{}` to {what}, which pod group `{}` runs as",
                    p.name, group.name
                ))
                .help("give the persona a ServiceAccount of its own, or accept the shared access");
                if !kube.is_empty() {
                    f = f.note(format!(
                        "the persona holds Role `app-{}` too: {}",
                        group.name,
                        kube.join(", ")
                    ));
                }
                for &a in &group.apps {
                    f.pairs.push((Entity::Persona(id), Entity::App(a)));
                }
                out.push(f);
            } else if name == "default" && persona_granted(id) {
                out.push(
                    Finding::new(
                        &INFO,
                        p.span,
                        format!(
                            "persona `{}` is {what}: every pod of namespace `{namespace}` that names no ServiceAccount gets its access",
                            p.name
                        ),
                    )
                    .note(format!(
                        "Kubernetes runs a pod as `default` unless it names another ServiceAccount, so whoever may create a pod in `{namespace}` holds Role `persona-{}`",
                        p.name
                    ))
                    .help("give the persona a ServiceAccount of its own, or accept the shared access")
                    .pair(Entity::Persona(id), Entity::Persona(id)),
                );
            }
        }
    }
}

//! `exec-inherits-identity`: exec gives a persona store or network access
//! it was not granted.

use super::{Cx, Finding, LintInfo};
use crate::effective::access::{DataEdge, Holder, IpEdge, NetEdge, Node, Via};
use crate::model::{Access, Entity, Level, Operation, PersonaId, PodId};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

pub const INFO: LintInfo = LintInfo {
    name: "exec-inherits-identity",
    default: Level::Warn,
    summary: "exec gives a persona store or network access it was not granted",
    explain: "\
Whoever can `exec` into a pod acts as that pod: they can read the store
credentials mounted into it, open the connections its NetworkPolicy
allows, and use its ServiceAccount token. `allow sre -> api: exec` thus
also gives `sre` everything `api` holds — e.g. write access to the product
database.

Fires for every persona with effective exec on a pod group (named or
reached namespace-wide) that holds credentials or network access the
persona was not itself granted. The notes give the chain, e.g.
`sre --exec--> api --mounts--> main-db-write`.

Fix: grant `logs` instead of `exec` where reading is enough; in a model
with environments, keep exec for break-glass roles in non-production ones
(`allow sre -> api: exec in dev`). Or accept it:
`accept exec-inherits-identity on sre -> api \"on-call break-glass\"`.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    // (persona, pod group) → chains, envs
    let mut found: BTreeMap<(PersonaId, u32), (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for (env, index) in cx.envs().zip(&cx.declared) {
        let mut mounts: HashMap<PodId, Vec<&DataEdge>> = HashMap::new();
        for d in env.data.iter().filter(|d| d.via == Via::Mount) {
            if let Holder::Group(g) = d.holder {
                mounts.entry(g).or_default().push(d);
            }
        }
        let mut net_from: HashMap<Node, Vec<&NetEdge>> = HashMap::new();
        for e in env.net.iter() {
            net_from.entry(e.from).or_default().push(e);
        }
        let mut ip_from: HashMap<Node, Vec<&IpEdge>> = HashMap::new();
        for e in env.ip.iter() {
            ip_from.entry(e.from).or_default().push(e);
        }
        for o in env.ops.iter().filter(|o| o.op == Operation::Exec) {
            let Node::Group(g) = o.target else { continue };
            let who = Entity::Persona(o.persona);
            let group_name = cx.node(o.target);
            let mut chains = BTreeSet::new();
            for d in env
                .data
                .iter()
                .filter(|d| d.holder == Holder::Group(g) && d.via == Via::Mount)
            {
                let store = Entity::Store(d.store);
                let granted = index.data_level(who, store).is_some_and(|l| l >= d.level);
                if !granted {
                    chains.insert(format!(
                        "{} --exec--> {group_name} --mounts--> {}-{}",
                        m.name_of(who),
                        m.name_of(store),
                        d.level.as_str()
                    ));
                }
            }
            for e in net_from.get(&o.target).into_iter().flatten() {
                if matches!(e.to, Node::Dns) {
                    continue;
                }
                chains.insert(format!(
                    "{} --exec--> {group_name} --{}--> {}",
                    m.name_of(who),
                    e.ports,
                    cx.node(e.to)
                ));
            }
            for ip in ip_from.get(&o.target).into_iter().flatten() {
                chains.insert(format!(
                    "{} --exec--> {group_name} --{}--> {}",
                    m.name_of(who),
                    ip.ports,
                    ip.addresses.describe()
                ));
            }
            if env.tokens.contains(&g) {
                chains.insert(format!(
                    "{} --exec--> {group_name} --token--> the pod's ServiceAccount (its kube rules)",
                    m.name_of(who)
                ));
            }
            if chains.is_empty() {
                continue;
            }
            let entry = found.entry((o.persona, g.0)).or_default();
            entry.0.extend(chains);
            let name = cx.in_env(env.env);
            super::push_unique(&mut entry.1, name);
        }
    }
    for ((persona, g), (chains, envs)) in found {
        let who = Entity::Persona(persona);
        let group = crate::model::PodId(g);
        let apps: Vec<Entity> = m.pods[g as usize]
            .apps
            .iter()
            .map(|&a| Entity::App(a))
            .collect();
        // The exec statement: one naming an app of the group, else any exec
        // grant of the persona in that namespace (the namespace-wide rule).
        let ns = m.pods[g as usize].namespace;
        let execs = || {
            cx.grants_of(who)
                .filter(|gr| gr.access == Access::Op(Operation::Exec))
        };
        let stmt = execs()
            .find(|gr| matches!(gr.target, Entity::App(a) if m.apps[a.index()].pod == group))
            .or_else(|| {
                execs()
                    .find(|gr| matches!(gr.target, Entity::App(a) if m.pod_of(a).namespace == ns))
            });
        let span = stmt.map_or(m.personas[persona.index()].span, |gr| gr.span);
        let mut f = Finding::new(
            &INFO,
            span,
            format!(
                "exec lets {} act as {}{}",
                m.name_of(who),
                cx.node(Node::Group(group)),
                envs.join(",")
            ),
        )
        .help(help(cx, who, stmt, &apps));
        f = f.notes(chains);
        f.pairs = apps.into_iter().map(|a| (who, a)).collect();
        out.push(f);
    }
}

/// The remedies that work on this model: `logs` instead; an `in ENV` only
/// when the model has several environments and the statement applies in
/// more than one (a statement that already says `in dev` gets no such
/// advice); the `accept` with this finding's pairs.
fn help(cx: &Cx<'_>, who: Entity, stmt: Option<&crate::model::Grant>, apps: &[Entity]) -> String {
    let m = cx.model;
    let mut parts = vec!["grant `logs` instead where reading is enough".to_string()];
    let applies: Vec<&str> = (m.environments.iter().enumerate())
        .filter(|(i, _)| {
            let env = Some(crate::model::EnvId(*i as u32));
            stmt.is_none_or(|g| m.grant_applies(g, env))
        })
        .map(|(_, e)| e.name.as_str())
        .collect();
    let targets: Vec<&str> = apps.iter().map(|&a| m.name_of(a)).collect();
    let target = match targets.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    };
    if applies.len() > 1 {
        // Suggest one that is not production by name, if there is one.
        if let Some(env) = (applies.iter()).find(|e| !e.contains("prod")) {
            let named = stmt.map_or(target.clone(), |g| m.name_of(g.target).to_string());
            parts.push(format!(
                "limit exec to the environments that need it (`allow {} -> {named}: exec in {env}`)",
                m.name_of(who)
            ));
        }
    }
    parts.push(format!(
        "or accept it: `accept exec-inherits-identity on {} -> {target} \"<reason>\"`",
        m.name_of(who)
    ));
    parts.join(", ")
}

//! `duplicate-statement`: an `allow`, `forbid` or `accept` that says
//! nothing another one does not already say (palisade's addition to
//! the design's lint list, docs/checks.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{Accept, Access, Entity, EnvId, Forbid, Grant, KubeRule, Level, Model, StmtId};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::BTreeMap;

pub const INFO: LintInfo = LintInfo {
    name: "duplicate-statement",
    default: Level::Warn,
    summary: "an allow, forbid or accept says nothing another statement does not already say",
    explain: "\
A statement whose every grant is already granted by other statements is a
trap for whoever maintains the model: deleting it revokes nothing, and
deleting the other one keeps the access alive here. The same goes for a
`forbid` that a wider `forbid` already states and an `accept` that a wider
`accept` already covers (removing one of two accepts silences nothing
less, so the finding stays hidden).

An `allow` is covered when each of its (subject, target, access) grants,
in each environment it applies to, is granted by another `allow`: the
same port; a data level at least as high (`write` covers `read`, `admin`
covers both); the same operation; a `kube` rule whose verb, group and
resource are equal or `*`. Statements that use `*` or `namespace X` cover
what they expand to today.

Fires on a statement covered by earlier statements (naming the first of
them), or by one later statement that is strictly wider (naming it). Of two
identical statements only the second is reported. Inside one statement it
fires on an access item repeated (`logs, logs`: the second) and on a name
listed twice (`[api, api]`); `read, write` only spells out what `write`
implies and is quiet. A `forbid` is covered by
one of the same kind (`->` or `~>`) whose subjects, targets, environments
and access list (none: any access) include its own; an `accept` by one of
the same lint whose subjects and targets include its own.

Fix: delete the statement, or narrow the other so that each access is
decided in one place. A covered `allow` can be accepted with its pairs
(`accept duplicate-statement on sre -> api \"kept next to the service it
documents\"`); a covered `forbid` or `accept` cannot: delete it.",
};

/// Whether `h` grants at least what `g` grants, in every environment `g`
/// applies to.
fn covers(m: &Model, h: &Grant, g: &Grant) -> bool {
    h.subject == g.subject
        && h.target == g.target
        && access_covers(&h.access, &g.access)
        && envs_cover(m, h.envs.as_deref(), g.envs.as_deref())
}

fn envs_cover(m: &Model, wide: Option<&[EnvId]>, narrow: Option<&[EnvId]>) -> bool {
    match (wide, narrow) {
        (None, _) => true,
        (Some(w), Some(n)) => n.iter().all(|e| w.contains(e)),
        (Some(w), None) => (0..m.environments.len()).all(|i| w.contains(&EnvId(i as u32))),
    }
}

/// Whether `wide` says all `narrow` says (a port, a level at least as
/// high, the same operation, an RBAC rule that covers the other).
pub(super) fn access_covers(wide: &Access, narrow: &Access) -> bool {
    match (wide, narrow) {
        (
            Access::Port {
                number: a,
                protocol: p,
                ..
            },
            Access::Port {
                number: b,
                protocol: q,
                ..
            },
        ) => a == b && p == q,
        (Access::Data(a), Access::Data(b)) => a >= b,
        (Access::Op(a), Access::Op(b)) => a == b,
        (Access::Kube(a), Access::Kube(b)) => rule_covers(a, b),
        _ => false,
    }
}

/// RBAC matching of one rule by another: `*` verb, group or resource;
/// `*` resource covers subresources too, `*/sub` covers any `sub`.
fn rule_covers(wide: &KubeRule, narrow: &KubeRule) -> bool {
    let any = |w: &str, n: &str| w == "*" || w == n;
    any(&wide.verb, &narrow.verb)
        && any(&wide.group, &narrow.group)
        && (wide.resource == "*"
            && (wide.subresource.is_none() || wide.subresource == narrow.subresource)
            || wide.resource == narrow.resource && wide.subresource == narrow.subresource)
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    allows(cx, out);
    forbids(cx.model, out);
    accepts(cx.model, out);
}

fn allows(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let m = cx.model;
    let mut by_pair: HashMap<(Entity, Entity), Vec<&Grant>> = HashMap::new();
    let mut by_stmt: Vec<Vec<&Grant>> = vec![Vec::new(); m.statements.len()];
    for g in &m.grants {
        by_pair.entry((g.subject, g.target)).or_default().push(g);
        by_stmt[g.stmt.index()].push(g);
    }
    // Whether every grant of `narrow` is covered by statement `wide`.
    let stmt_covers = |wide: StmtId, narrow: StmtId| {
        by_stmt[narrow.index()].iter().all(|g| {
            by_pair[&(g.subject, g.target)]
                .iter()
                .any(|h| h.stmt == wide && covers(m, h, g))
        })
    };
    for (b, grants) in by_stmt.iter().enumerate() {
        if grants.is_empty() {
            continue;
        }
        within(m, grants, out);
        let b = StmtId(b as u32);
        // Per grant: the other statements that cover it, in order.
        let mut per_grant: Vec<Vec<StmtId>> = Vec::with_capacity(grants.len());
        for g in grants {
            let mut c: Vec<StmtId> = by_pair[&(g.subject, g.target)]
                .iter()
                .filter(|h| h.stmt != b && covers(m, h, g))
                .map(|h| h.stmt)
                .collect();
            c.sort();
            c.dedup();
            if c.is_empty() {
                break;
            }
            per_grant.push(c);
        }
        if per_grant.len() < grants.len() {
            continue;
        }
        // One statement covering all of it: the first earlier one, else
        // the first later one that is strictly wider.
        let all: Vec<StmtId> = per_grant[0]
            .iter()
            .copied()
            .filter(|a| per_grant.iter().all(|c| c.contains(a)))
            .collect();
        let single = all
            .iter()
            .copied()
            .find(|a| *a < b)
            .or_else(|| all.iter().copied().find(|a| *a > b && !stmt_covers(b, *a)));
        let named: Vec<StmtId> = match single {
            Some(a) => vec![a],
            None if per_grant.iter().all(|c| c[0] < b) => {
                let mut v: Vec<StmtId> = per_grant.iter().map(|c| c[0]).collect();
                v.sort();
                v.dedup();
                // Each of them is narrower than this one and reported,
                // naming it: once is enough.
                if v.iter().all(|&a| stmt_covers(b, a)) {
                    continue;
                }
                v
            }
            None => continue,
        };
        let mut pairs: Vec<(Entity, Entity)> =
            grants.iter().map(|g| (g.subject, g.target)).collect();
        pairs.sort();
        pairs.dedup();
        let spans: Vec<Span> = named.iter().map(|a| m.statements[a.index()].span).collect();
        let mut f = finding(
            m.statements[b.index()].span,
            "allow",
            &spans,
            if named.len() == 1 {
                "deleting this statement revokes nothing, and deleting the other leaves the access granted here"
            } else {
                "deleting this statement revokes nothing, and deleting the others leaves the access granted here"
            },
        );
        f.pairs = pairs;
        out.push(f);
    }
}

/// Inside one statement: an access item repeated (`logs, logs`; `http,
/// 8080` when `http` is 8080), and a name listed twice (`[api, api]`).
/// `read, write` is not a repeat: it spells out what `write` implies, as
/// the language's own examples do. Linear in the statement's grants.
fn within(m: &Model, grants: &[&Grant], out: &mut Vec<Finding>) {
    let key = |g: &Grant| {
        let access = match &g.access {
            Access::Port {
                number, protocol, ..
            } => Access::Port {
                number: *number,
                protocol: *protocol,
                name: None,
            },
            a => a.clone(),
        };
        (g.subject, g.target, access)
    };
    let mut items: BTreeMap<Span, Vec<&Grant>> = BTreeMap::new();
    for g in grants {
        items.entry(g.span).or_default().push(g);
    }
    // Every grant of the items before, and the first item that gave it.
    let mut earlier: HashMap<(Entity, Entity, Access), Span> = HashMap::new();
    for (item, mine) in &items {
        let first = mine.iter().map(|g| earlier.get(&key(g))).collect::<Option<Vec<_>>>();
        if let Some(first) = first.and_then(|f| f.into_iter().min().copied()) {
            let mut f = Finding::new(
                &INFO,
                *item,
                format!("`{}` is listed twice in this statement", mine[0].access),
            )
            .note("deleting this item revokes nothing")
            .help("delete the item");
            f.labels.push((first, "already granted here".into()));
            f.pairs = mine.iter().map(|g| (g.subject, g.target)).collect();
            f.pairs.sort();
            f.pairs.dedup();
            out.push(f);
        }
        // The same grant twice from one item: a subject or target named twice.
        let mut seen: HashSet<(Entity, Entity)> = HashSet::new();
        let mut repeated: HashSet<(Entity, Entity)> = HashSet::new();
        let mut twice: Vec<(Entity, Entity)> = Vec::new();
        for g in mine {
            let pair = (g.subject, g.target);
            if !seen.insert(pair) && repeated.insert(pair) {
                twice.push(pair);
            }
        }
        if let Some(&(s, t)) = twice.first() {
            let mut f = Finding::new(
                &INFO,
                m.statements[mine[0].stmt.index()].span,
                format!(
                    "this statement grants `{}` to `{}` on `{}` twice: a name is listed twice",
                    mine[0].access,
                    m.name_of(s),
                    m.name_of(t)
                ),
            )
            .help("list each subject and target once");
            f.pairs = twice;
            out.push(f);
        }
        for g in mine {
            earlier.entry(key(g)).or_insert(*item);
        }
    }
}

fn finding(at: Span, kind: &str, named: &[Span], note: &str) -> Finding {
    let (verb, done) = match kind {
        "allow" => ("grants", "granted"),
        "forbid" => ("forbids", "forbidden"),
        _ => ("accepts", "accepted"),
    };
    let message = if named.len() == 1 {
        format!("this `{kind}` {verb} nothing another `{kind}` does not: it is a duplicate")
    } else {
        format!(
            "this `{kind}` {verb} nothing that {} other statements do not: it is a duplicate",
            named.len()
        )
    };
    let mut f = Finding::new(&INFO, at, message)
        .note(note)
        .help("delete it, or narrow the other so that each decision is made in one place");
    for (i, s) in named.iter().enumerate() {
        let label = if i == 0 && *s > at {
            format!("{done} here too, and more widely")
        } else if i == 0 {
            format!("first {done} here")
        } else {
            "and here".into()
        };
        f.labels.push((*s, label));
    }
    f
}

fn subset(narrow: &[Entity], wide: &[Entity]) -> bool {
    narrow.iter().all(|e| wide.contains(e))
}

fn forbid_covers(m: &Model, wide: &Forbid, narrow: &Forbid) -> bool {
    wide.kind == narrow.kind
        && subset(&narrow.subjects, &wide.subjects)
        && subset(&narrow.targets, &wide.targets)
        && envs_cover(m, wide.envs.as_deref(), narrow.envs.as_deref())
        && (wide.access.is_empty()
            || !narrow.access.is_empty()
                && (narrow.access.iter()).all(|n| wide.access.iter().any(|w| access_covers(w, n))))
}

fn accept_covers(wide: &Accept, narrow: &Accept) -> bool {
    wide.lint == narrow.lint
        && subset(&narrow.subjects, &wide.subjects)
        && subset(&narrow.targets, &wide.targets)
}

/// For each statement covered by another: (it, the first earlier one that
/// covers it, else the first later, strictly wider one). A covering
/// statement names every subject and target of the one it covers, so only
/// statements sharing its first subject or first target (whichever is
/// rarer) are candidates: large models stay linear.
fn covered<T>(
    items: &[T],
    span: impl Fn(&T) -> Span,
    sides: impl Fn(&T) -> (&[Entity], &[Entity]),
    cov: impl Fn(&T, &T) -> bool,
) -> Vec<(usize, usize)> {
    let mut by_subject: HashMap<Entity, Vec<usize>> = HashMap::new();
    let mut by_target: HashMap<Entity, Vec<usize>> = HashMap::new();
    for (i, x) in items.iter().enumerate() {
        let (subjects, targets) = sides(x);
        for e in subjects {
            by_subject.entry(*e).or_default().push(i);
        }
        for e in targets {
            by_target.entry(*e).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (b, x) in items.iter().enumerate() {
        let (subjects, targets) = sides(x);
        let (Some(s), Some(t)) = (subjects.first(), targets.first()) else {
            continue;
        };
        let (ls, lt) = (&by_subject[s], &by_target[t]);
        let candidates = if ls.len() <= lt.len() { ls } else { lt };
        let mut earlier: Option<usize> = None;
        let mut later: Option<usize> = None;
        for &a in candidates {
            if a == b || !cov(&items[a], x) {
                continue;
            }
            let (sa, sb) = (span(&items[a]), span(x));
            if sa < sb {
                if earlier.is_none_or(|e| sa < span(&items[e])) {
                    earlier = Some(a);
                }
            } else if !cov(x, &items[a]) && later.is_none_or(|l| sa < span(&items[l])) {
                later = Some(a);
            }
        }
        if let Some(a) = earlier.or(later) {
            out.push((b, a));
        }
    }
    out.sort_by_key(|&(b, _)| span(&items[b]));
    out
}

fn forbids(m: &Model, out: &mut Vec<Finding>) {
    for (b, a) in covered(
        &m.forbids,
        |f| f.span,
        |f| (&f.subjects, &f.targets),
        |w, n| forbid_covers(m, w, n),
    ) {
        out.push(finding(
            m.forbids[b].span,
            "forbid",
            &[m.forbids[a].span],
            "the other `forbid` already checks every access this one does",
        ));
    }
}

fn accepts(m: &Model, out: &mut Vec<Finding>) {
    for (b, a) in covered(
        &m.accepts,
        |x| x.span,
        |x| (&x.subjects, &x.targets),
        accept_covers,
    ) {
        out.push(finding(
            m.accepts[b].span,
            "accept",
            &[m.accepts[a].span],
            "the other `accept` already silences every finding this one does: deleting one of them changes nothing",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verb: &str, resource: &str) -> KubeRule {
        let (main, sub) = match resource.split_once('/') {
            Some((a, b)) => (a, Some(b.to_string())),
            None => (resource, None),
        };
        let (res, group) = main.split_once('.').unwrap_or((main, ""));
        KubeRule {
            verb: verb.into(),
            group: group.into(),
            resource: res.into(),
            subresource: sub,
        }
    }

    #[test]
    fn kube_rules_cover_as_rbac_matches() {
        let c = |w: (&str, &str), n: (&str, &str)| rule_covers(&rule(w.0, w.1), &rule(n.0, n.1));
        assert!(c(("*", "configmaps"), ("get", "configmaps")));
        assert!(c(("get", "*"), ("get", "pods/exec")));
        assert!(c(("get", "*.apps/scale"), ("get", "deployments.apps/scale")));
        // The API group is matched too: `*/scale` is the core group's.
        assert!(!c(("get", "*/scale"), ("get", "deployments.apps/scale")));
        assert!(c(("get", "deployments.*"), ("get", "deployments.apps")));
        assert!(!c(("get", "configmaps"), ("list", "configmaps")));
        assert!(!c(("get", "pods"), ("get", "pods/log")));
        assert!(!c(("get", "*/scale"), ("get", "pods/exec")));
        assert!(!c(("get", "configmaps"), ("get", "configmaps.example.com")));
    }
}

//! Bindings to existing workloads (docs/brownfield.md): no two pod groups
//! (or in-cluster stores) of a namespace may select the same pods or name
//! the same workload, and no `kube` grant may go to a namespace's
//! `default` ServiceAccount.
//!
//! A selector `S` selects every pod whose labels include `S`; two selectors
//! can select one pod unless they disagree on a key's value. Where both come
//! from the model the question is whether one is a subset of the other or
//! equal — the contract's rule, which keeps the check exact for what users
//! write (distinct `app.kubernetes.io/name` values) and linear: each
//! selector's subsets (at most [`MAX_ENUMERATED`] labels, else its single
//! labels and itself) are looked up among the selectors of its namespace.

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::model::{Access, Entity, Model, NsId, StoreLocation};
use crate::span::Span;
use foldhash::{HashMap, HashMapExt};

/// Selectors with more labels are compared by their single labels and in
/// whole only (2^8 subsets each at most).
const MAX_ENUMERATED: usize = 8;

struct Party<'m> {
    what: &'static str,
    name: &'m str,
    selector: Vec<(String, String)>,
    /// Where the selector is written, or the declaration.
    span: Span,
    bound: bool,
}

pub fn check(model: &Model, diags: &mut Diagnostics) {
    let mut by_ns: HashMap<NsId, Vec<Party<'_>>> = HashMap::new();
    for (i, g) in model.pods.iter().enumerate() {
        if g.apps.is_empty() {
            continue;
        }
        by_ns.entry(g.namespace).or_default().push(Party {
            what: if g.explicit { "pod" } else { "app" },
            name: &g.name,
            selector: model.group_selector(crate::model::PodId(i as u32)),
            span: g.binding.selector_span.unwrap_or(g.span),
            bound: !g.binding.selector.is_empty(),
        });
    }
    for (i, s) in model.stores.iter().enumerate() {
        if let StoreLocation::InCluster(ns) = s.location {
            by_ns.entry(ns).or_default().push(Party {
                what: "store",
                name: &s.name,
                selector: model.store_selector(crate::model::StoreId(i as u32)),
                span: s.binding.selector_span.unwrap_or(s.span),
                bound: !s.binding.selector.is_empty(),
            });
        }
    }
    let mut namespaces: Vec<_> = by_ns.into_iter().collect();
    namespaces.sort_by_key(|(ns, _)| *ns);
    for (ns, parties) in &namespaces {
        overlaps(model, *ns, parties, diags);
    }
    workloads(model, diags);
    default_service_account(model, diags);
}

fn overlaps(model: &Model, ns: NsId, parties: &[Party<'_>], diags: &mut Diagnostics) {
    // Each selector, sorted, by the parties that have it.
    let mut index: HashMap<&[(String, String)], Vec<usize>> = HashMap::new();
    for (i, p) in parties.iter().enumerate() {
        index.entry(p.selector.as_slice()).or_default().push(i);
    }
    let mut reported = std::collections::BTreeSet::new();
    let mut subset = Vec::new();
    for (i, p) in parties.iter().enumerate() {
        let n = p.selector.len();
        let mut candidates: Vec<usize> = Vec::new();
        let mut look = |labels: &[(String, String)]| {
            if let Some(ids) = index.get(labels) {
                candidates.extend(ids.iter().copied().filter(|&j| j != i));
            }
        };
        if n <= MAX_ENUMERATED {
            for mask in 1u32..(1 << n) {
                subset.clear();
                subset.extend(
                    (0..n)
                        .filter(|b| mask & (1 << b) != 0)
                        .map(|b| p.selector[b].clone()),
                );
                look(&subset);
            }
        } else {
            for l in &p.selector {
                look(std::slice::from_ref(l));
            }
            look(&p.selector);
        }
        for j in candidates {
            let q = &parties[j];
            // Two of palisade's own selectors never overlap (names are
            // unique); report each pair once.
            if !p.bound && !q.bound {
                continue;
            }
            let key = (i.min(j), i.max(j));
            if !reported.insert(key) {
                continue;
            }
            // `q`'s labels are a subset of `p`'s: every pod of `p` is also
            // selected by `q`.
            let (first, second) = if parties[key.0].span.start <= parties[key.1].span.start {
                (&parties[key.0], &parties[key.1])
            } else {
                (&parties[key.1], &parties[key.0])
            };
            let same = p.selector == q.selector;
            let ns_name = &model.namespaces[ns.index()].name;
            diags.push(
                Diagnostic::error(
                    Code::OverlappingBindings,
                    second.span,
                    format!(
                        "{} `{}` and {} `{}` in namespace `{ns_name}` can select the same pods",
                        second.what, second.name, first.what, first.name
                    ),
                )
                .label(if same {
                    "the same labels".to_string()
                } else {
                    format!("every pod {} `{}` selects, the other selects too", p.what, p.name)
                })
                .secondary(first.span, "the other selector")
                .note(format!(
                    "`{}` selects {}; `{}` selects {}",
                    p.name,
                    labels(&p.selector),
                    q.name,
                    labels(&q.selector)
                ))
                .help("NetworkPolicies and audit tell pod groups apart by their labels: give each group a label the others do not have (`app.kubernetes.io/name` usually is)"),
            );
        }
    }
}

fn labels(l: &[(String, String)]) -> String {
    let parts: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("`{}`", parts.join(","))
}

/// Two groups of a namespace bound to one workload.
fn workloads(model: &Model, diags: &mut Diagnostics) {
    let mut seen: HashMap<(NsId, crate::model::WorkloadRef), (&str, Span)> = HashMap::new();
    for g in model.pods.iter().filter(|g| !g.apps.is_empty()) {
        let span = g.binding.span.unwrap_or(g.span);
        match seen.entry((g.namespace, g.workload())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let (other, first_span) = *first.get();
                let w = g.workload();
                diags.push(
                    Diagnostic::error(
                        Code::OverlappingBindings,
                        span,
                        format!(
                            "`{}` and `{other}` are both bound to {}/{}",
                            g.name,
                            w.kind.as_str(),
                            w.name
                        ),
                    )
                    .label("the same workload")
                    .secondary(first_span, "bound here first")
                    .help("a workload runs one pod group; apps that share its pods belong in one `pod`"),
                );
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((&g.name, span));
            }
        }
    }
}

/// A `kube` grant to a group whose ServiceAccount is `default`: every pod
/// of the namespace that names no other runs as it.
fn default_service_account(model: &Model, diags: &mut Diagnostics) {
    let mut reported = std::collections::BTreeSet::new();
    for g in &model.grants {
        let (Entity::App(app), Access::Kube(_)) = (g.subject, &g.access) else {
            continue;
        };
        let pod = model.pod_of(app);
        if pod.binding.service_account.as_deref() != Some("default") || !reported.insert(app) {
            continue;
        }
        diags.push(
            Diagnostic::error(
                Code::Reserved,
                pod.binding.span.unwrap_or(pod.span),
                format!(
                    "`{}` runs as the `default` ServiceAccount, and is granted `kube` access",
                    pod.name
                ),
            )
            .label("`service_account = \"default\"`")
            .secondary(g.span, "the grant")
            .note("every pod of the namespace that names no ServiceAccount runs as `default`: they would all have this access")
            .help("give the workload a ServiceAccount of its own and bind it with `service_account = \"NAME\"`"),
        );
    }
}

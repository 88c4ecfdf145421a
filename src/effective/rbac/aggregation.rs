//! Aggregated ClusterRoles: the rules the cluster's aggregation controller
//! writes into a ClusterRole that has an `aggregationRule`, ported from
//! kubernetes/kubernetes
//! `pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go`
//! (`syncClusterRole`, `ruleExists`) and the selector semantics of
//! `staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go`
//! (`LabelSelectorAsSelector`) with `pkg/labels/selector.go`
//! (`NewRequirement`, `Requirement.Matches`).

use super::{RoleKind, RuleRef, StoredRole};
use crate::k8s::{LabelSelector, Labels, PolicyRule};
use foldhash::{HashSet, HashSetExt};

/// Why a selector cannot be turned into a `labels.Selector`.
#[derive(Debug)]
pub(super) struct InvalidSelector;

/// Port of `LabelSelectorAsSelector` + `Selector.Matches` for a non-nil
/// selector: an empty selector matches everything; `matchLabels` and
/// `matchExpressions` are ANDed. The operator/value-count checks of
/// `NewRequirement` are ported; label key and value syntax is not checked.
pub(super) fn selector_matches(
    sel: &LabelSelector,
    labels: &Labels,
) -> Result<bool, InvalidSelector> {
    let mut matches = true;
    for (k, v) in &sel.match_labels {
        matches &= labels.get(k) == Some(v);
    }
    for expr in &sel.match_expressions {
        let value = labels.get(&expr.key);
        let ok = match expr.operator.as_str() {
            "In" | "NotIn" if expr.values.is_empty() => return Err(InvalidSelector),
            "Exists" | "DoesNotExist" if !expr.values.is_empty() => return Err(InvalidSelector),
            "In" => value.is_some_and(|v| expr.values.contains(v)),
            "NotIn" => !value.is_some_and(|v| expr.values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => return Err(InvalidSelector),
        };
        matches &= ok;
    }
    Ok(matches)
}

type RuleKey<'a> = (
    &'a [String],
    &'a [String],
    &'a [String],
    &'a [String],
    &'a [String],
);

fn key(rule: &PolicyRule) -> RuleKey<'_> {
    (
        &rule.verbs,
        &rule.api_groups,
        &rule.resources,
        &rule.resource_names,
        &rule.non_resource_urls,
    )
}

fn rule_at(roles: &[StoredRole], r: RuleRef) -> Option<&PolicyRule> {
    roles.get(r.role)?.role.rules.get(r.index)
}

/// The current rules of a ClusterRole, as references to manifest rules.
fn current(roles: &[StoredRole], id: usize) -> Vec<RuleRef> {
    match roles.get(id) {
        Some(StoredRole {
            aggregated: Some(refs),
            ..
        }) => refs.clone(),
        Some(r) => (0..r.role.rules.len())
            .map(|index| RuleRef { role: id, index })
            .collect(),
        None => Vec::new(),
    }
}

/// Port of `syncClusterRole`: the rules of aggregating ClusterRole `id`,
/// or `None` when a selector is invalid (the controller's sync fails and
/// the role keeps its rules).
fn sync(roles: &[StoredRole], by_name: &[usize], id: usize) -> Option<Vec<RuleRef>> {
    let me = roles.get(id)?;
    let rule = me.role.aggregation_rule.as_ref()?;
    let mut out = Vec::new();
    let mut seen: HashSet<RuleKey<'_>> = HashSet::new();
    for selector in &rule.cluster_role_selectors {
        for &other in by_name {
            let Some(candidate) = roles.get(other) else {
                continue;
            };
            if candidate.role.metadata.name == me.role.metadata.name {
                continue;
            }
            if !selector_matches(selector, &candidate.role.metadata.labels).ok()? {
                continue;
            }
            for r in current(roles, other) {
                // ruleExists: keep the first of semantically equal rules.
                if let Some(policy) = rule_at(roles, r) {
                    if seen.insert(key(policy)) {
                        out.push(r);
                    }
                }
            }
        }
    }
    Some(out)
}

fn same_rules(roles: &[StoredRole], a: &[RuleRef], b: &[RuleRef]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| rule_at(roles, *x) == rule_at(roles, *y))
}

/// Runs the aggregation controller to a fixed point over the ClusterRoles
/// of `roles`, setting `aggregated` on every ClusterRole with an
/// `aggregationRule`. Roles are synced in name order, repeatedly, until
/// nothing changes (aggregates of aggregates); a selection cycle that never
/// settles stops after a bounded number of rounds.
pub(super) fn aggregate(roles: &mut [StoredRole]) {
    let mut by_name: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].kind == RoleKind::ClusterRole)
        .collect();
    by_name.sort_by(|&a, &b| {
        roles[a]
            .role
            .metadata
            .name
            .cmp(&roles[b].role.metadata.name)
    });
    let aggregators: Vec<usize> = by_name
        .iter()
        .copied()
        .filter(|&i| roles[i].role.aggregation_rule.is_some())
        .collect();
    for _round in 0..aggregators.len() + 2 {
        let mut changed = false;
        for &a in &aggregators {
            let Some(new) = sync(roles, &by_name, a) else {
                continue;
            };
            changed |= !same_rules(roles, &current(roles, a), &new);
            roles[a].aggregated = Some(new);
        }
        if !changed {
            break;
        }
    }
}

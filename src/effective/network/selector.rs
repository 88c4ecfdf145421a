//! Label selectors (`metav1.LabelSelector`) and the inverted label index
//! that evaluates them without scanning every object.
//!
//! Semantics of `k8s.io/apimachinery/pkg/apis/meta/v1.LabelSelectorAsSelector`
//! and `pkg/labels`: `matchLabels` and `matchExpressions` are ANDed; `In`
//! needs the key with one of the values, `NotIn` is satisfied by a missing
//! key, `Exists`/`DoesNotExist` test the key only; an empty selector
//! selects everything.

use crate::k8s::{LabelSelector, Labels};
use foldhash::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match &self.op {
            Op::In(values) => value.is_some_and(|v| values.contains(v)),
            Op::NotIn(values) => value.is_none_or(|v| !values.contains(v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
        }
    }
}

/// A validated label selector. `Nothing` stands for a selector the API
/// server would have rejected (unknown operator, `In` without values, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    Nothing,
    /// ANDed requirements; none: everything.
    All(Vec<Requirement>),
}

impl Selector {
    pub(crate) fn everything() -> Self {
        Selector::All(Vec::new())
    }

    /// The selector, or why the API server would reject it.
    pub(crate) fn compile(s: &LabelSelector) -> Result<Selector, String> {
        let mut reqs: Vec<Requirement> = s
            .match_labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                op: Op::In(vec![v.clone()]),
            })
            .collect();
        for (i, e) in s.match_expressions.iter().enumerate() {
            let op = match e.operator.as_str() {
                "In" | "NotIn" if e.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions[{i}]: operator {} needs values",
                        e.operator
                    ))
                }
                "In" => Op::In(e.values.clone()),
                "NotIn" => Op::NotIn(e.values.clone()),
                "Exists" | "DoesNotExist" if !e.values.is_empty() => {
                    return Err(format!(
                        "matchExpressions[{i}]: operator {} takes no values",
                        e.operator
                    ))
                }
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => {
                    return Err(format!(
                        "matchExpressions[{i}]: unknown operator {other:?} (In, NotIn, Exists, DoesNotExist)"
                    ))
                }
            };
            reqs.push(Requirement {
                key: e.key.clone(),
                op,
            });
        }
        Ok(Selector::All(reqs))
    }

    /// [`Selector::compile`], with a rejected selector selecting nothing;
    /// the reason goes to `problems`.
    pub(crate) fn compile_or_nothing(
        s: &LabelSelector,
        what: impl std::fmt::Display,
        problems: &mut Vec<String>,
    ) -> Selector {
        Selector::compile(s).unwrap_or_else(|e| {
            problems.push(format!("{what}: {e}; it selects nothing"));
            Selector::Nothing
        })
    }

    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        match self {
            Selector::Nothing => false,
            Selector::All(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }

    pub(crate) fn is_everything(&self) -> bool {
        matches!(self, Selector::All(r) if r.is_empty())
    }

    /// Matching ids among those `index` holds, sorted. The candidates are
    /// a `universe` of `universe_size` ids (listed sorted by `universe()`
    /// only if needed, tested by `in_universe`); they come from the most
    /// selective positive requirement (`In`, `Exists`) or from the
    /// universe, whichever is smaller, so the cost is that of the smaller
    /// list, not of all objects.
    pub(crate) fn select<'l>(
        &self,
        index: &LabelIndex,
        universe_size: usize,
        universe: impl FnOnce() -> Vec<u32>,
        in_universe: impl Fn(u32) -> bool,
        labels_of: impl Fn(u32) -> Option<&'l Labels>,
    ) -> Vec<u32> {
        let Selector::All(reqs) = self else {
            return Vec::new();
        };
        let mut best: Option<(usize, &Requirement)> = None;
        for r in reqs {
            let size = match &r.op {
                Op::In(values) => values.iter().map(|v| index.pair(&r.key, v).len()).sum(),
                Op::Exists => index.key_count(&r.key),
                _ => continue,
            };
            if best.is_none_or(|(b, _)| size < b) {
                best = Some((size, r));
            }
        }
        let matches = |id: &u32| labels_of(*id).is_some_and(|l| self.matches(l));
        match best {
            Some((size, r)) if size < universe_size => {
                let mut ids: Vec<u32> = match &r.op {
                    Op::In(values) => values
                        .iter()
                        .flat_map(|v| index.pair(&r.key, v).iter().copied())
                        .collect(),
                    _ => index.with_key(&r.key).collect(),
                };
                ids.sort_unstable();
                ids.dedup();
                ids.retain(|id| in_universe(*id) && matches(id));
                ids
            }
            _ => {
                let mut ids = universe();
                ids.retain(matches);
                ids
            }
        }
    }
}

/// Inverted index: label key → value → ids of the objects carrying it, in
/// increasing id order.
#[derive(Clone, Debug, Default)]
pub(crate) struct LabelIndex {
    by_key: HashMap<String, HashMap<String, Vec<u32>>>,
}

impl LabelIndex {
    pub(crate) fn insert(&mut self, id: u32, labels: &Labels) {
        for (k, v) in labels {
            let list = self
                .by_key
                .entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default();
            let at = list.partition_point(|&x| x < id);
            list.insert(at, id);
        }
    }

    pub(crate) fn remove(&mut self, id: u32, labels: &Labels) {
        for (k, v) in labels {
            if let Some(list) = self.by_key.get_mut(k).and_then(|m| m.get_mut(v)) {
                list.retain(|&x| x != id);
            }
        }
    }

    fn pair(&self, key: &str, value: &str) -> &[u32] {
        self.by_key
            .get(key)
            .and_then(|m| m.get(value))
            .map_or(&[], Vec::as_slice)
    }

    fn key_count(&self, key: &str) -> usize {
        self.by_key
            .get(key)
            .map_or(0, |m| m.values().map(Vec::len).sum())
    }

    fn with_key<'a>(&'a self, key: &str) -> impl Iterator<Item = u32> + 'a {
        self.by_key
            .get(key)
            .into_iter()
            .flat_map(|m| m.values().flat_map(|l| l.iter().copied()))
    }
}

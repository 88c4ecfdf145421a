//! Calico's `GlobalNetworkPolicy` (`projectcalico.org/v3`): the cluster-wide
//! guardrails palisade writes with `platform.guardrails = calico`. Policies
//! are evaluated in `order` (lowest first; Kubernetes NetworkPolicies count
//! as 1000) and the first rule that matches decides; selectors are Calico's
//! selector expressions (`palisade.dev/pod == 'api'`).

use super::{nullable, ObjectMeta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalNetworkPolicy {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: CalicoPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalicoPolicySpec {
    /// Absent: after every ordered policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// Absent: `all()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub types: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ingress: Vec<CalicoRule>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub egress: Vec<CalicoRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalicoRule {
    /// `Allow`, `Deny`, `Log` or `Pass`.
    pub action: String,
    /// Absent: every protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "EntityRule::is_empty"
    )]
    pub source: EntityRule,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "EntityRule::is_empty"
    )]
    pub destination: EntityRule,
    /// Fields palisade does not read (`notProtocol`, `icmp`, `http`,
    /// `ipVersion`, ...): kept so the evaluator knows the rule is narrower
    /// than what it reads.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The fields are ANDed; absent ones match everything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityRule {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nets: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub not_nets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<String>,
    /// Numbers, or `"from:to"` ranges, as Calico writes them.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<super::IntOrString>,
    /// Fields palisade does not read (`notSelector`, `notPorts`,
    /// `serviceAccounts`, `services`, ...).
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl EntityRule {
    pub fn is_empty(&self) -> bool {
        *self == EntityRule::default()
    }
}

/// A policy's `order`: Calico takes any number; palisade writes integers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Order {
    Int(i64),
    Float(f64),
}

impl Order {
    pub fn value(self) -> f64 {
        match self {
            Order::Int(n) => n as f64,
            Order::Float(x) => x,
        }
    }
}

//! Effective access: what a set of Kubernetes objects actually permits,
//! evaluated with Kubernetes' own semantics (docs/checks.md).
//!
//! - [`network`]: NetworkPolicy evaluation (who may connect to whom, on
//!   which ports);
//! - [`mesh`] and [`calico`]: the layers a connection must pass too (Istio
//!   AuthorizationPolicies, Calico guardrails), each saying what admits a
//!   connection and what cuts one ([`parties::CutEdge`]);
//! - [`rbac`]: RBAC authorization, ported from Kubernetes' authorizer.
//!
//! The engine takes any manifest set ([`crate::k8s::Resource`]s), not only
//! the generator's output.

pub mod access;
pub mod calico;
pub mod mesh;
pub mod network;
pub mod parties;
pub mod rbac;

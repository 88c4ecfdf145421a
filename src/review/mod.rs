//! Design-review outputs computed from a checked model (issue 5): the
//! access view ([`access`]), shared by `palisade graph --effective`,
//! `query` ([`query`]), `diff` ([`diff`]) and `review` ([`document`]); [`report`] is how
//! an edge and its derivation are shown.
//!
//! Input: a [`Compilation`](crate::Compilation) after
//! [`check`](crate::check), and the `Vec<EnvAccess>` that `check` returned.
//! Output: [`access::AccessView`], every effective edge per environment with
//! what declares it and, when it is wider than declared, why.

pub mod access;
pub mod diff;
pub mod document;
pub mod query;
pub mod report;

pub use access::{access_view, AccessEdge, AccessView, EnvView, Widening};

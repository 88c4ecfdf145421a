//! Design-review outputs computed from a checked model (issue 5): the
//! access view ([`access`]), shared by `palisade graph --effective`,
//! `query`, `diff` and `review`.
//!
//! Input: a [`Compilation`](crate::Compilation) after
//! [`check`](crate::check), and the `Vec<EnvAccess>` that `check` returned.
//! Output: [`access::AccessView`], every effective edge per environment with
//! what declares it and, when it is wider than declared, why.

pub mod access;

pub use access::{access_view, AccessEdge, AccessView, EnvView, Widening};

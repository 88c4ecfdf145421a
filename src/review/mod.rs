//! Design-review outputs computed from a checked model: `query`
//! ([`query`]), `diff` ([`diff`]) and the `review` report ([`document`]).
//!
//! Input: a [`Checked`](crate::Checked) model and its access view
//! ([`crate::view`]); the review report also draws the review graph
//! ([`crate::graph`]). Output: answers, diffs and reports as text,
//! Markdown and JSON.

pub mod diff;
pub mod document;
pub mod query;

//! What the model knows of lints: their identity, which `accept` and `lint`
//! statements name. The lints themselves (their checks) run after effective
//! access (`crate::lints`); the resolver is handed their catalogue
//! (`crate::lints::LINTS`) by the pipeline, so it never depends on them.

use super::Level;

/// A lint's identity and documentation.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    pub name: &'static str,
    pub default: Level,
    pub summary: &'static str,
    /// `palisade explain NAME`: what it finds, why it matters, what to do.
    pub explain: &'static str,
}

/// The lint whose level can never be lowered and that cannot be accepted.
pub const INVARIANT_VIOLATED: &str = "invariant-violated";

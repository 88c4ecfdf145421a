//! The lint registry: every lint's stable name, default level and summary
//! (CHECKS.md). The checks themselves run on effective access; each will
//! live in a file of its own here whose doc comment is its `explain` text.

use crate::model::Level;

/// A lint's identity.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    pub name: &'static str,
    pub default: Level,
    pub summary: &'static str,
}

/// Every lint, in the order of CHECKS.md.
pub const LINTS: &[LintInfo] = &[
    lint(
        "namespace-wide-grant",
        Level::Warn,
        "an RBAC grant reaches pods of apps or stores the model did not name",
    ),
    lint(
        "shared-pod-widening",
        Level::Warn,
        "an app gets network access only because a pod-mate has it",
    ),
    lint(
        "exec-inherits-identity",
        Level::Warn,
        "exec gives a persona store or network access it was not granted",
    ),
    lint(
        "portforward-bypasses-network",
        Level::Warn,
        "portforward lets a persona reach ports no policy admits",
    ),
    lint(
        "external-reaches-sensitive",
        Level::Warn,
        "an external persona has a path to a confidential or restricted store",
    ),
    lint(
        "clearance-exceeded",
        Level::Deny,
        "a persona effectively accesses a store above its clearance",
    ),
    lint(
        "human-write-restricted",
        Level::Warn,
        "an internal persona can write or admin a restricted store",
    ),
    lint(
        "wildcard-grant",
        Level::Warn,
        "a statement uses `*` or `namespace X` as its target",
    ),
    lint(
        "egress-to-internet",
        Level::Warn,
        "an app may open connections to the internet",
    ),
    lint(
        "unused-declaration",
        Level::Warn,
        "a persona, app, store or external that no statement mentions",
    ),
    lint(
        "privileged-namespace",
        Level::Warn,
        "a namespace's pod_security is weaker than restricted",
    ),
    lint(
        "unpinned-image",
        Level::Warn,
        "an app's image is not pinned by `@sha256:` digest",
    ),
    lint(
        "untrusted-registry",
        Level::Deny,
        "an image comes from outside `platform.registries`",
    ),
    lint(
        "stale-accept",
        Level::Warn,
        "an `accept` that silences nothing",
    ),
    lint(
        "invariant-violated",
        Level::Deny,
        "a `forbid` invariant fails",
    ),
];

const fn lint(name: &'static str, default: Level, summary: &'static str) -> LintInfo {
    LintInfo {
        name,
        default,
        summary,
    }
}

/// The lint of that name.
pub fn find(name: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.name == name)
}

/// The lint whose level can never be lowered and that cannot be accepted.
pub const INVARIANT_VIOLATED: &str = "invariant-violated";

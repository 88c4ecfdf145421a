//! `privileged-namespace`: `pod_security` weaker than `restricted`.

use super::{Cx, Finding, LintInfo};
use crate::model::Level;

pub const INFO: LintInfo = LintInfo {
    name: "privileged-namespace",
    default: Level::Warn,
    summary: "a namespace's pod_security is weaker than restricted",
    explain: "\
Pod Security Admission's `restricted` level is what keeps a compromised or
careless workload from escaping its container: no privileged containers, no
host namespaces or paths, non-root, no added capabilities, a seccomp
profile. `baseline` drops several of these; `privileged` drops all. Every
pod in such a namespace — including ones added later — may run as root on
the node, which defeats every other boundary in the model.

Fires on every namespace declared with `pod_security = baseline` or
`privileged`.

Fix: keep `restricted` (the default) and move the workloads that truly need
more (CNI agents, node exporters) to a namespace of their own. The finding
is about a namespace, not a pair, so it cannot be accepted; if the level is
deliberate, set `lint privileged-namespace = allow` and say why in the
namespace's description.",
};

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for ns in &cx.model.namespaces {
        let level = ns.pod_security.as_str();
        if level != "restricted" {
            out.push(
                Finding::new(
                    &INFO,
                    ns.pod_security_span.unwrap_or(ns.span),
                    format!("namespace `{}` enforces pod security `{level}`", ns.name),
                )
                .note("pods there may run privileged, as root, or with host access")
                .help("use `restricted`; move workloads that need more to their own namespace"),
            );
        }
    }
}

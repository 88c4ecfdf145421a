//! `dangerous-kube-grant`: an app's `kube` grant amounts to a privilege
//! the industry catalogues flag (palisade's addition to CHECKS.md).

use super::{Cx, Finding, LintInfo};
use crate::model::{Access, Entity, KubeRule, Level};

pub const INFO: LintInfo = LintInfo {
    name: "dangerous-kube-grant",
    default: Level::Warn,
    summary: "an app's kube grant amounts to a privilege escalation or defeats the model",
    explain: "\
Some Kubernetes API permissions are worth far more than they look. The
patterns below are the ones flagged by rbac-tool, KubiScan, krane,
kube-linter and checkov; a `kube` grant can express each of them:

- `get`/`list`/`watch secrets`: every credential in the namespace, not only
  the app's own (a Role cannot name Secrets created later);
- `bind`, `escalate`, `impersonate`: grant oneself any permission;
- writing `networkpolicies`: removes the network isolation this model
  generates;
- writing `roles`/`rolebindings`: rewrites the RBAC this model generates;
- `create pods/exec` or `pods/attach`: acts as any pod of the namespace;
- `nodes/proxy`: the kubelet API, exec into any pod on the node;
- creating `pods` or workloads (`deployments`, `jobs`, `cronjobs`,
  `daemonsets`, `statefulsets`, `replicasets`): runs any image with any
  ServiceAccount and Secret of the namespace;
- `create serviceaccounts/token`: mints tokens for other ServiceAccounts;
- a `*` verb or resource.

Fires on every `kube` access item that matches one, with the reason.

Fix: narrow the grant (e.g. `get configmaps` instead of `get secrets`; a
controller that creates Jobs in a namespace of its own, with nothing else
there). If it is the app's job (a CI deployer), accept it with the reason:
`accept dangerous-kube-grant on deployer -> kube \"CI deploys the apps\"`.",
};

const WRITE: &[&str] = &[
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "*",
];
const WORKLOADS: &[&str] = &[
    "pods",
    "deployments",
    "jobs",
    "cronjobs",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "replicationcontrollers",
];

/// Why a rule is dangerous, if it is.
pub fn risk(r: &KubeRule) -> Option<&'static str> {
    let verb = r.verb.as_str();
    let res = r.resource.as_str();
    let sub = r.subresource.as_deref();
    Some(match (verb, res, sub) {
        (_, "*", _) | ("*", _, _) => "a wildcard grants every current and future permission",
        ("bind" | "escalate" | "impersonate", _, _) => {
            "bind, escalate and impersonate let the app grant itself any permission"
        }
        ("get" | "list" | "watch", "secrets", None) => {
            "reads every Secret of the namespace: every credential, not only the app's"
        }
        (v, "networkpolicies", None) if WRITE.contains(&v) => {
            "writing NetworkPolicies removes the isolation this model generates"
        }
        (v, "roles" | "rolebindings" | "clusterroles" | "clusterrolebindings", None)
            if WRITE.contains(&v) =>
        {
            "writing Roles or RoleBindings rewrites the RBAC this model generates"
        }
        ("create" | "get", "pods", Some("exec" | "attach")) => {
            "exec or attach lets the app act as any pod of the namespace"
        }
        (_, "nodes", Some("proxy")) => {
            "nodes/proxy is the kubelet API: exec into any pod on the node"
        }
        ("create" | "update" | "patch", w, None) if WORKLOADS.contains(&w) => {
            "creating workloads runs any image with any ServiceAccount and Secret of the namespace"
        }
        ("create", "serviceaccounts", Some("token")) => {
            "minting tokens lets the app act as other ServiceAccounts"
        }
        _ => return None,
    })
}

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for g in &cx.model.grants {
        let (Entity::App(_), Access::Kube(rule)) = (g.subject, &g.access) else {
            continue;
        };
        if let Some(why) = risk(rule) {
            out.push(
                Finding::new(
                    &INFO,
                    g.span,
                    format!("`{}` is a dangerous grant", g.access),
                )
                .pair(g.subject, Entity::Kube)
                .note(why)
                .help("narrow the grant, or accept it with the reason it is the app's job"),
            );
        }
    }
}

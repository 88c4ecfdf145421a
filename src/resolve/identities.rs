//! Names Kubernetes reserves for itself: RBAC identities under `system:`
//! and the system namespaces. A model that binds a persona's Roles to one
//! of those identities, or that declares (and so default-denies and
//! restricts) a system namespace, grants or breaks far more than anyone
//! reading it expects; both are E0105.

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// Why a group name is reserved, if it is. Kubernetes reserves the whole
/// `system:` prefix for its own users and groups; the well-known ones get
/// their own reason.
pub fn reserved_group(name: &str) -> Option<String> {
    let rest = name.strip_prefix("system:")?;
    Some(match rest {
        "authenticated" => {
            "every authenticated user and every ServiceAccount of the cluster is in this group".into()
        }
        "unauthenticated" => {
            "every anonymous (unauthenticated) request is in this group: it means anyone who can reach the API server".into()
        }
        "serviceaccounts" => {
            "every ServiceAccount of every namespace is in this group: every pod with a token".into()
        }
        "masters" => {
            "members of `system:masters` bypass RBAC entirely (they are cluster-admin and no Role can limit them); granting them anything hides a break-glass identity in the model".into()
        }
        "nodes" => "every kubelet is in this group: a compromised node would hold these rights".into(),
        "monitoring" => "this group is the API server's own monitoring identity".into(),
        "bootstrappers" => {
            "bootstrap-token holders (nodes joining the cluster) are in this group".into()
        }
        _ => match rest.split_once(':') {
            Some(("serviceaccounts", ns)) => format!(
                "every ServiceAccount of namespace `{ns}` is in this group: any pod there, and anyone who may create one"
            ),
            Some(("bootstrappers", _)) => {
                "bootstrap-token holders (nodes joining the cluster) are in this group".into()
            }
            _ => "Kubernetes reserves the `system:` prefix for its own components".into(),
        },
    })
}

/// Why a user name is reserved, if it is (see [`reserved_group`]).
pub fn reserved_user(name: &str) -> Option<(String, Option<String>)> {
    let rest = name.strip_prefix("system:")?;
    Some(match rest.split_once(':') {
        _ if rest == "anonymous" => (
            "`system:anonymous` is every unauthenticated request: anyone who can reach the API server".into(),
            None,
        ),
        Some(("serviceaccount", sa)) => {
            let help = sa.split_once(':').map(|(ns, n)| {
                format!("write `service_account = \"{ns}/{n}\"`, so reviews and lints see a ServiceAccount")
            });
            (
                "a `system:serviceaccount:` user is a ServiceAccount in disguise: whoever runs as it (every pod using it, anyone who may mint its tokens) gets this persona's access".into(),
                help,
            )
        }
        Some(("node", _)) => (
            "`system:node:` users are kubelets: the node's identity, not a person".into(),
            None,
        ),
        _ if rest.starts_with("kube-") || rest == "apiserver" || rest == "volume-scheduler" => (
            format!("`{name}` is a control-plane component, not a person"),
            None,
        ),
        _ => (
            "Kubernetes reserves the `system:` prefix for its own components".into(),
            None,
        ),
    })
}

/// The E0105 for a persona subject under `system:`, if it is one.
pub fn identity_error(kind: &str, name: &str, span: Span) -> Option<Diagnostic> {
    let (why, help) = if kind == "group" {
        (reserved_group(name)?, None)
    } else {
        reserved_user(name)?
    };
    let mut d = Diagnostic::error(
        Code::Reserved,
        span,
        format!("{kind} `{name}` is an identity Kubernetes reserves"),
    )
    .label("palisade would bind this persona's Roles to it")
    .note(why);
    d = d.help(help.unwrap_or_else(|| {
        format!(
            "name the people this persona stands for (e.g. an OIDC {kind} of your own); \
             `system:` {kind}s are Kubernetes' own and can never be narrowed to a team"
        )
    }));
    Some(d)
}

/// Why a namespace name is Kubernetes' own, if it is.
pub fn system_namespace(name: &str) -> Option<&'static str> {
    Some(match name {
        "kube-system" => "the control plane, DNS, CNI and kube-proxy run here",
        "kube-public" => "Kubernetes publishes cluster information here, readable by anyone",
        "kube-node-lease" => "kubelets renew their node leases here",
        "default" => {
            "every object created without a namespace lands here, and the API server's own `kubernetes` Service lives here"
        }
        n if n.starts_with("kube-") => "Kubernetes reserves the `kube-` prefix for its system namespaces",
        _ => return None,
    })
}

/// The E0105 for declaring a system namespace, if `name` is one.
pub fn namespace_error(name: &str, span: Span) -> Option<Diagnostic> {
    let why = system_namespace(name)?;
    Some(
        Diagnostic::error(
            Code::Reserved,
            span,
            format!("`{name}` is a Kubernetes system namespace"),
        )
        .label("palisade would own this namespace")
        .note(why)
        .note(
            "a model namespace gets a default-deny NetworkPolicy, restricted Pod Security \
             and palisade's labels: here that would cut off or reject pods the model does not know",
        )
        .help("declare a namespace of your own for the model's apps and stores"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_system_prefix_is_reserved() {
        assert!(reserved_group("system:authenticated").is_some());
        assert!(reserved_group("system:serviceaccounts:web")
            .unwrap()
            .contains("`web`"));
        assert!(reserved_group("system:").is_some());
        assert!(reserved_group("oidc:system:admins").is_none());
        assert!(reserved_group("System:masters").is_none());
        assert!(reserved_group("systems:x").is_none());
        assert!(reserved_user("system:anonymous").is_some());
        assert!(reserved_user("admin@example.com").is_none());
    }

    #[test]
    fn a_serviceaccount_user_suggests_service_account() {
        let (_, help) = reserved_user("system:serviceaccount:argocd:controller").unwrap();
        assert_eq!(
            help.as_deref(),
            Some("write `service_account = \"argocd/controller\"`, so reviews and lints see a ServiceAccount")
        );
        let (_, help) = reserved_user("system:serviceaccount:broken").unwrap();
        assert!(help.is_none());
    }

    #[test]
    fn system_namespaces() {
        for ns in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "kube-flannel",
            "default",
        ] {
            assert!(system_namespace(ns).is_some(), "{ns}");
        }
        for ns in ["kubeflow", "defaults", "kube", "web"] {
            assert!(system_namespace(ns).is_none(), "{ns}");
        }
    }
}

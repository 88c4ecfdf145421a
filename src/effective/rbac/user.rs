//! Who is asking: user names and groups as the API server's authenticators
//! produce them, ported from kubernetes/kubernetes
//! `staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`
//! and `staging/src/k8s.io/apiserver/pkg/authentication/group/authenticated_group_adder.go`.

/// `serviceaccount.ServiceAccountUsernamePrefix`.
pub const SERVICE_ACCOUNT_USERNAME_PREFIX: &str = "system:serviceaccount:";
/// `serviceaccount.ServiceAccountUsernameSeparator`.
pub const SERVICE_ACCOUNT_USERNAME_SEPARATOR: &str = ":";
/// `serviceaccount.ServiceAccountGroupPrefix`.
pub const SERVICE_ACCOUNT_GROUP_PREFIX: &str = "system:serviceaccounts:";
/// `serviceaccount.AllServiceAccountsGroup`.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// `user.AllAuthenticated` (k8s.io/apiserver/pkg/authentication/user).
pub const ALL_AUTHENTICATED: &str = "system:authenticated";
/// `user.AllUnauthenticated`.
pub const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
/// `user.Anonymous`.
pub const ANONYMOUS: &str = "system:anonymous";

/// Port of `MakeUsername` (serviceaccount/util.go):
/// `system:serviceaccount:<namespace>:<name>`.
pub fn make_username(namespace: &str, name: &str) -> String {
    let mut s = String::with_capacity(
        SERVICE_ACCOUNT_USERNAME_PREFIX.len() + namespace.len() + 1 + name.len(),
    );
    s.push_str(SERVICE_ACCOUNT_USERNAME_PREFIX);
    s.push_str(namespace);
    s.push_str(SERVICE_ACCOUNT_USERNAME_SEPARATOR);
    s.push_str(name);
    s
}

/// Port of `MatchesUsername` (serviceaccount/util.go): whether `username`
/// is the service account `namespace`/`name`. Equivalent to
/// `username == make_username(namespace, name)`, which the authorizer's
/// subject index relies on.
pub fn matches_username(namespace: &str, name: &str, username: &str) -> bool {
    let Some(rest) = username.strip_prefix(SERVICE_ACCOUNT_USERNAME_PREFIX) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(namespace) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(SERVICE_ACCOUNT_USERNAME_SEPARATOR) else {
        return false;
    };
    rest == name
}

/// Port of `MakeNamespaceGroupName` (serviceaccount/util.go).
pub fn make_namespace_group_name(namespace: &str) -> String {
    format!("{SERVICE_ACCOUNT_GROUP_PREFIX}{namespace}")
}

/// Port of `MakeGroupNames` (serviceaccount/util.go): the groups every
/// service account of `namespace` is in.
pub fn make_group_names(namespace: &str) -> Vec<String> {
    vec![
        ALL_SERVICE_ACCOUNTS_GROUP.to_string(),
        make_namespace_group_name(namespace),
    ]
}

/// The requesting identity (Go's `user.Info`, name and groups; UID and
/// extra play no part in RBAC).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// Exactly this name and these groups, no implicit group added (Go's
    /// `user.DefaultInfo{Name, Groups}` as the ported tests use it).
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        UserInfo {
            name: name.into(),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// An authenticated user with no groups of its own: `system:authenticated`
    /// is added as the API server does.
    pub fn user(name: impl Into<String>) -> Self {
        UserInfo::new(name, Vec::<String>::new()).with_authenticated_group()
    }

    /// An authenticated user in `groups` (plus `system:authenticated`). To ask
    /// what "any member of group G" may do, pass an empty name: no `User`
    /// subject can match it, so only group grants count.
    pub fn group_member<S: Into<String>>(
        name: impl Into<String>,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        UserInfo::new(name, groups).with_authenticated_group()
    }

    /// The service account `namespace`/`name` authenticated with its token:
    /// port of `ServiceAccountInfo.UserInfo` (serviceaccount/util.go) —
    /// name `system:serviceaccount:<ns>:<name>`, groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>` — followed
    /// by the `AuthenticatedGroupAdder` (`system:authenticated`).
    pub fn service_account(namespace: &str, name: &str) -> Self {
        UserInfo {
            name: make_username(namespace, name),
            groups: make_group_names(namespace),
        }
        .with_authenticated_group()
    }

    /// The anonymous user (`system:anonymous` in `system:unauthenticated`),
    /// as the anonymous authenticator of
    /// `staging/src/k8s.io/apiserver/pkg/authentication/request/anonymous/anonymous.go`
    /// produces it.
    pub fn anonymous() -> Self {
        UserInfo::new(ANONYMOUS, [ALL_UNAUTHENTICATED])
    }

    /// Port of `AuthenticatedGroupAdder.AuthenticateRequest`
    /// (authentication/group/authenticated_group_adder.go): adds
    /// `system:authenticated` unless the user is `system:anonymous` or
    /// already in `system:authenticated` or `system:unauthenticated`.
    pub fn with_authenticated_group(mut self) -> Self {
        if self.name == ANONYMOUS {
            return self;
        }
        if self
            .groups
            .iter()
            .any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED)
        {
            return self;
        }
        self.groups.push(ALL_AUTHENTICATED.to_string());
        self
    }
}

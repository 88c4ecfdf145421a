//! RBAC authorization over a manifest set, ported from Kubernetes' own
//! authorizer (kubernetes/kubernetes):
//!
//! - [`rules`]: rule matching — `pkg/apis/rbac/v1/evaluation_helpers.go`
//!   (`VerbMatches`, `APIGroupMatches`, `ResourceMatches` with `*/sub`
//!   wildcards, `ResourceNameMatches`, `NonResourceURLMatches`) and
//!   `RuleAllows` of `plugin/pkg/auth/authorizer/rbac/rbac.go`;
//! - [`user`]: identities — service-account user names and implicit groups
//!   (`staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`)
//!   and `system:authenticated` (`authentication/group/authenticated_group_adder.go`);
//! - this module: rule resolution — `VisitRulesFor`, `GetRoleReferenceRules`,
//!   `appliesTo` of `pkg/registry/rbac/validation/rule.go` and `Authorize`,
//!   `RulesFor` of `plugin/pkg/auth/authorizer/rbac/rbac.go`;
//! - `aggregation`: ClusterRole `aggregationRule`s, as the
//!   `pkg/controller/clusterroleaggregation` controller fills them in.
//!
//! Kubernetes lists every binding per request; here bindings are indexed
//! by namespace and by subject (user name, group, service-account user
//! name), so a query only looks at the bindings that name the user or one
//! of its groups. The index is only a prefilter: `appliesTo` still decides.
//!
//! Visiting order is ClusterRoleBindings, then RoleBindings of the request
//! namespace, each in manifest order, rules in role order; the first rule
//! that allows a request is its [`Cause`].
//!
//! What the manifests alone cannot say, and so is not modelled:
//! - the cluster's bootstrap roles and bindings (`cluster-admin` for
//!   `system:masters`, `system:discovery`, `system:basic-user`,
//!   `system:public-info-viewer`, controller roles…) exist only if the
//!   manifests contain them;
//! - other authorizers (Node, Webhook, ABAC) and the mapping from HTTP
//!   requests to verbs (`RequestInfoFactory`): callers give RBAC verbs;
//! - an object without `metadata.namespace` is taken to be in `default`
//!   (kubectl's default); of two objects with the same kind, namespace and
//!   name the last wins, as with successive `kubectl apply`;
//! - aggregation selectors are checked for operators and value counts but
//!   not for label syntax; a selection cycle is resolved by syncing in name
//!   order to a fixed point (the real controller's order is its queue's).

mod aggregation;
pub mod rules;
pub mod user;

#[cfg(test)]
mod tests;

pub use rules::{compact_string, rule_allows, rules_allow};
pub use user::UserInfo;

use crate::k8s::{PolicyRule, Resource, Role, RoleBinding, RoleRef, Subject};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Namespace given to namespaced objects that do not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

impl BindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// A request, as Go's `authorizer.AttributesRecord`: a resource request
/// (`resource_request`, with verb, group, resource, subresource, name,
/// namespace) or a non-resource request (verb and path).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Attributes {
    pub verb: String,
    /// Empty for cluster-scoped resources and non-resource requests: then
    /// only ClusterRoleBindings apply.
    pub namespace: String,
    pub resource_request: bool,
    /// `""` for the core group.
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty for requests without a name (list, watch of a collection,
    /// create with a generated name).
    pub name: String,
    /// The URL path of a non-resource request.
    pub path: String,
}

impl Attributes {
    /// A resource request; add [`Attributes::with_subresource`] and
    /// [`Attributes::with_name`] as needed.
    pub fn resource(
        verb: impl Into<String>,
        api_group: impl Into<String>,
        resource: impl Into<String>,
        namespace: impl Into<String>,
    ) -> Self {
        Attributes {
            verb: verb.into(),
            namespace: namespace.into(),
            resource_request: true,
            api_group: api_group.into(),
            resource: resource.into(),
            ..Attributes::default()
        }
    }

    /// A non-resource request (`/healthz`, `/metrics`, `/apis`…).
    pub fn non_resource(verb: impl Into<String>, path: impl Into<String>) -> Self {
        Attributes {
            verb: verb.into(),
            path: path.into(),
            ..Attributes::default()
        }
    }

    pub fn with_subresource(mut self, subresource: impl Into<String>) -> Self {
        self.subresource = subresource.into();
        self
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// Which binding, subject, role and rule granted something — Go's
/// `clusterRoleBindingDescriber`/`roleBindingDescriber` plus the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cause<'a> {
    pub binding_kind: BindingKind,
    /// The RoleBinding's namespace; `None` for a ClusterRoleBinding.
    pub binding_namespace: Option<&'a str>,
    pub binding_name: &'a str,
    /// The first of the binding's subjects that applies to the user.
    pub subject: &'a Subject,
    pub role_kind: RoleKind,
    pub role_name: &'a str,
    /// The role's namespace for a Role; `None` for a ClusterRole.
    pub role_namespace: Option<&'a str>,
    /// Index of the rule among the role's effective rules (its `rules`, or
    /// for an aggregated ClusterRole the aggregated list).
    pub rule_index: usize,
    pub rule: &'a PolicyRule,
    /// For an aggregated ClusterRole: the ClusterRole that declares the
    /// rule and the rule's index in its `rules`.
    pub aggregated_from: Option<(&'a str, usize)>,
}

fn describe_subject(s: &Subject, binding_namespace: &str) -> String {
    // Port of describeSubject (pkg/registry/rbac/validation/rule.go).
    match s.kind.as_str() {
        "ServiceAccount" => {
            let ns = match s.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => binding_namespace,
            };
            format!("{} {:?}", s.kind, format!("{}/{}", s.name, ns))
        }
        _ => format!("{} {:?}", s.kind, s.name),
    }
}

impl fmt::Display for Cause<'_> {
    /// Go's describer (`RoleBinding "name/ns" of ClusterRole "role" to
    /// User "u"`), then the rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.binding_namespace {
            Some(ns) => write!(
                f,
                "{} {:?} of {} {:?} to {}",
                self.binding_kind.as_str(),
                format!("{}/{}", self.binding_name, ns),
                self.role_kind.as_str(),
                self.role_name,
                describe_subject(self.subject, ns),
            )?,
            None => write!(
                f,
                "{} {:?} of {} {:?} to {}",
                self.binding_kind.as_str(),
                self.binding_name,
                self.role_kind.as_str(),
                self.role_name,
                describe_subject(self.subject, ""),
            )?,
        }
        write!(
            f,
            ", rule {} {}",
            self.rule_index,
            compact_string(self.rule)
        )?;
        if let Some((role, index)) = self.aggregated_from {
            write!(f, " (aggregated from ClusterRole {role:?} rule {index})")?;
        }
        Ok(())
    }
}

/// A binding that applies to the user but whose role cannot be resolved
/// (`GetRoleReferenceRules` failing): the role is missing, or a
/// ClusterRoleBinding names a Role, or the kind is unknown. Kubernetes
/// skips such bindings and reports the error with a NoOpinion decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolutionError<'a> {
    pub binding_kind: BindingKind,
    pub binding_namespace: Option<&'a str>,
    pub binding_name: &'a str,
    pub role_ref: &'a RoleRef,
}

impl fmt::Display for ResolutionError<'_> {
    /// The API server's messages: `role.rbac.authorization.k8s.io "x" not
    /// found`, `unsupported role reference kind: "X"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.role_ref.kind.as_str() {
            "Role" => write!(
                f,
                "role.rbac.authorization.k8s.io {:?} not found",
                self.role_ref.name
            ),
            "ClusterRole" => write!(
                f,
                "clusterrole.rbac.authorization.k8s.io {:?} not found",
                self.role_ref.name
            ),
            kind => write!(f, "unsupported role reference kind: {kind:?}"),
        }
    }
}

/// The authorizer's answer. RBAC never denies: without an allowing rule it
/// has no opinion (and the API server denies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    Allow(Cause<'a>),
    NoOpinion {
        /// Bindings that applied but could not be resolved.
        errors: Vec<ResolutionError<'a>>,
    },
}

impl<'a> Decision<'a> {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn cause(&self) -> Option<&Cause<'a>> {
        match self {
            Decision::Allow(c) => Some(c),
            Decision::NoOpinion { .. } => None,
        }
    }
}

/// Which names a user may act on for one (verb, group, resource,
/// subresource) in a namespace. `authorize` of the same request with name
/// `n` allows exactly when this is `All` or `Only` contains `n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceNames<'a> {
    /// A rule without `resourceNames` applies: any name, and requests
    /// without a name. The cause is the first such rule.
    All(Cause<'a>),
    /// Only these names (each with the first rule naming it); empty when
    /// nothing is granted. Requests without a name are allowed only if
    /// `""` is listed.
    Only(BTreeMap<&'a str, Cause<'a>>),
}

impl<'a> ResourceNames<'a> {
    /// The cause allowing `name`, if any.
    pub fn allows(&self, name: &str) -> Option<&Cause<'a>> {
        match self {
            ResourceNames::All(c) => Some(c),
            ResourceNames::Only(names) => names.get(name),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, ResourceNames::Only(n) if n.is_empty())
    }
}

/// A rule of a stored role, by position: `roles[role].role.rules[index]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RuleRef {
    role: usize,
    index: usize,
}

struct StoredRole {
    kind: RoleKind,
    /// Empty for a ClusterRole.
    namespace: String,
    role: Role,
    /// For a ClusterRole with an `aggregationRule`: its rules as the
    /// aggregation controller computes them, replacing `role.rules`.
    aggregated: Option<Vec<RuleRef>>,
}

struct StoredBinding {
    kind: BindingKind,
    /// Empty for a ClusterRoleBinding.
    namespace: String,
    binding: RoleBinding,
}

/// Bindings (positions in `Authorizer::bindings`) by the subjects they name.
#[derive(Default)]
struct SubjectIndex {
    users: HashMap<String, Vec<usize>>,
    groups: HashMap<String, Vec<usize>>,
    /// ServiceAccount subjects by their user name
    /// `system:serviceaccount:<ns>:<name>` (what `MatchesUsername` compares).
    service_accounts: HashMap<String, Vec<usize>>,
}

impl SubjectIndex {
    /// Indexes binding `id` under each subject that can ever apply to a
    /// user; `namespace` is the namespace `appliesTo` would be given.
    fn add(&mut self, id: usize, subjects: &[Subject], namespace: &str) {
        for s in subjects {
            let (map, key) = match s.kind.as_str() {
                "User" => (&mut self.users, s.name.clone()),
                "Group" => (&mut self.groups, s.name.clone()),
                "ServiceAccount" => {
                    let ns = match s.namespace.as_deref() {
                        Some(ns) if !ns.is_empty() => ns,
                        _ => namespace,
                    };
                    if ns.is_empty() {
                        continue;
                    }
                    (&mut self.service_accounts, user::make_username(ns, &s.name))
                }
                _ => continue,
            };
            let ids = map.entry(key).or_default();
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
    }

    /// Bindings naming the user or one of its groups, in manifest order.
    fn candidates(&self, user: &UserInfo) -> Vec<usize> {
        let mut ids = Vec::new();
        if let Some(v) = self.users.get(&user.name) {
            ids.extend_from_slice(v);
        }
        if let Some(v) = self.service_accounts.get(&user.name) {
            ids.extend_from_slice(v);
        }
        for g in &user.groups {
            if let Some(v) = self.groups.get(g) {
                ids.extend_from_slice(v);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Port of `appliesTo` (pkg/registry/rbac/validation/rule.go): the index
/// of the first subject that applies to `user`.
pub fn applies_to(user: &UserInfo, subjects: &[Subject], namespace: &str) -> Option<usize> {
    subjects
        .iter()
        .position(|s| applies_to_user(user, s, namespace))
}

/// Port of `appliesToUser` (pkg/registry/rbac/validation/rule.go). A
/// ServiceAccount subject without a namespace means the binding's
/// namespace (`namespace`), and never applies in a ClusterRoleBinding
/// (`namespace` empty). `User` `*` is not a wildcard.
pub fn applies_to_user(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.groups.contains(&subject.name),
        "ServiceAccount" => {
            let sa_namespace = match subject.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => namespace,
            };
            if sa_namespace.is_empty() {
                return false;
            }
            user::matches_username(sa_namespace, &subject.name, &user.name)
        }
        _ => false,
    }
}

fn namespace_of(meta: &crate::k8s::ObjectMeta) -> String {
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => DEFAULT_NAMESPACE.to_string(),
    }
}

/// The RBAC authorizer over one manifest set. Build once, query many times.
pub struct Authorizer {
    roles: Vec<StoredRole>,
    /// namespace → name → position in `roles`.
    role_index: HashMap<String, HashMap<String, usize>>,
    cluster_role_index: HashMap<String, usize>,
    bindings: Vec<StoredBinding>,
    cluster_subjects: SubjectIndex,
    namespace_subjects: HashMap<String, SubjectIndex>,
}

impl Authorizer {
    /// The namespaces where some RoleBinding may apply to `user`, or `None`
    /// when a ClusterRoleBinding may (then every namespace can hold
    /// permissions). Lets a caller skip namespaces where the user can do
    /// nothing, instead of querying every namespace.
    pub fn namespaces_for(&self, user: &UserInfo) -> Option<BTreeSet<&str>> {
        if !self.cluster_subjects.candidates(user).is_empty() {
            return None;
        }
        Some(
            self.namespace_subjects
                .iter()
                .filter(|(_, index)| !index.candidates(user).is_empty())
                .map(|(ns, _)| ns.as_str())
                .collect(),
        )
    }

    /// Indexes the Roles, ClusterRoles, RoleBindings and
    /// ClusterRoleBindings among `resources` (other kinds are ignored).
    pub fn new(resources: &[Resource]) -> Self {
        Authorizer::from_resources(resources)
    }

    pub fn from_resources<'r>(resources: impl IntoIterator<Item = &'r Resource>) -> Self {
        let mut a = Authorizer {
            roles: Vec::new(),
            role_index: HashMap::new(),
            cluster_role_index: HashMap::new(),
            bindings: Vec::new(),
            cluster_subjects: SubjectIndex::default(),
            namespace_subjects: HashMap::new(),
        };
        let mut binding_keys: HashMap<(BindingKind, String, String), usize> = HashMap::new();
        for r in resources {
            match r {
                Resource::Role(role) => {
                    let namespace = namespace_of(&role.metadata);
                    let stored = StoredRole {
                        kind: RoleKind::Role,
                        namespace: namespace.clone(),
                        role: role.clone(),
                        aggregated: None,
                    };
                    let slot = a
                        .role_index
                        .entry(namespace)
                        .or_default()
                        .entry(role.metadata.name.clone());
                    store(&mut a.roles, slot, stored);
                }
                Resource::ClusterRole(role) => {
                    let stored = StoredRole {
                        kind: RoleKind::ClusterRole,
                        namespace: String::new(),
                        role: role.clone(),
                        aggregated: None,
                    };
                    let slot = a.cluster_role_index.entry(role.metadata.name.clone());
                    store(&mut a.roles, slot, stored);
                }
                Resource::RoleBinding(b) | Resource::ClusterRoleBinding(b) => {
                    let (kind, namespace) = match r {
                        Resource::RoleBinding(_) => {
                            (BindingKind::RoleBinding, namespace_of(&b.metadata))
                        }
                        _ => (BindingKind::ClusterRoleBinding, String::new()),
                    };
                    let stored = StoredBinding {
                        kind,
                        namespace: namespace.clone(),
                        binding: b.clone(),
                    };
                    // Unnamed objects (only in hand-built tests) are never
                    // merged.
                    if b.metadata.name.is_empty() {
                        a.bindings.push(stored);
                        continue;
                    }
                    let slot = binding_keys.entry((kind, namespace, b.metadata.name.clone()));
                    store(&mut a.bindings, slot, stored);
                }
                _ => {}
            }
        }
        aggregation::aggregate(&mut a.roles);
        for (id, b) in a.bindings.iter().enumerate() {
            let index = match b.kind {
                BindingKind::ClusterRoleBinding => &mut a.cluster_subjects,
                BindingKind::RoleBinding => {
                    a.namespace_subjects.entry(b.namespace.clone()).or_default()
                }
            };
            index.add(id, &b.binding.subjects, &b.namespace);
        }
        a
    }

    /// Port of `GetRoleReferenceRules` (pkg/registry/rbac/validation/rule.go):
    /// the role a binding in `binding_namespace` (empty for a
    /// ClusterRoleBinding) refers to. `roleRef.apiGroup` is not checked,
    /// as in Kubernetes.
    fn role_reference(&self, role_ref: &RoleRef, binding_namespace: &str) -> Option<usize> {
        match role_ref.kind.as_str() {
            "Role" => self
                .role_index
                .get(binding_namespace)?
                .get(&role_ref.name)
                .copied(),
            "ClusterRole" => self.cluster_role_index.get(&role_ref.name).copied(),
            _ => None,
        }
    }

    /// The effective rules of a role: `(rule, aggregated_from)` in order.
    fn effective_rules(
        &self,
        id: usize,
    ) -> impl Iterator<Item = (&PolicyRule, Option<(&str, usize)>)> + '_ {
        let role = self.roles.get(id);
        let own: &[PolicyRule] = match role {
            Some(r) if r.aggregated.is_none() => &r.role.rules,
            _ => &[],
        };
        let aggregated: &[RuleRef] = role.and_then(|r| r.aggregated.as_deref()).unwrap_or(&[]);
        own.iter()
            .map(|r| (r, None))
            .chain(aggregated.iter().filter_map(|r| {
                let origin = self.roles.get(r.role)?;
                let rule = origin.role.rules.get(r.index)?;
                Some((rule, Some((origin.role.metadata.name.as_str(), r.index))))
            }))
    }

    /// The rules of the Role `namespace`/`name` or ClusterRole `name` (for
    /// an aggregated ClusterRole, the aggregated rules); `None` if absent.
    pub fn role_rules(
        &self,
        kind: RoleKind,
        namespace: &str,
        name: &str,
    ) -> Option<Vec<&PolicyRule>> {
        let id = match kind {
            RoleKind::Role => *self.role_index.get(namespace)?.get(name)?,
            RoleKind::ClusterRole => *self.cluster_role_index.get(name)?,
        };
        Some(self.effective_rules(id).map(|(r, _)| r).collect())
    }

    /// Port of `VisitRulesFor` (pkg/registry/rbac/validation/rule.go):
    /// calls `visitor` with each rule that applies to `user` in `namespace`
    /// (ClusterRoleBindings first, then — if `namespace` is not empty — the
    /// RoleBindings of `namespace`) and with each binding whose role cannot
    /// be resolved. Visiting stops when `visitor` returns `false`.
    pub fn visit_rules_for<'s>(
        &'s self,
        user: &UserInfo,
        namespace: &str,
        mut visitor: impl FnMut(Result<Cause<'s>, ResolutionError<'s>>) -> bool,
    ) {
        if !self.visit_bindings(&self.cluster_subjects, user, "", &mut visitor) {
            return;
        }
        if namespace.is_empty() {
            return;
        }
        if let Some(index) = self.namespace_subjects.get(namespace) {
            self.visit_bindings(index, user, namespace, &mut visitor);
        }
    }

    /// One half of `VisitRulesFor`; `false` when the visitor stopped.
    fn visit_bindings<'s>(
        &'s self,
        index: &SubjectIndex,
        user: &UserInfo,
        namespace: &str,
        visitor: &mut impl FnMut(Result<Cause<'s>, ResolutionError<'s>>) -> bool,
    ) -> bool {
        for id in index.candidates(user) {
            let Some(stored) = self.bindings.get(id) else {
                continue;
            };
            let b = &stored.binding;
            let Some(subject_index) = applies_to(user, &b.subjects, namespace) else {
                continue;
            };
            let Some(subject) = b.subjects.get(subject_index) else {
                continue;
            };
            let binding_namespace = match stored.kind {
                BindingKind::RoleBinding => Some(stored.namespace.as_str()),
                BindingKind::ClusterRoleBinding => None,
            };
            let Some(role_id) = self.role_reference(&b.role_ref, namespace) else {
                let err = ResolutionError {
                    binding_kind: stored.kind,
                    binding_namespace,
                    binding_name: &b.metadata.name,
                    role_ref: &b.role_ref,
                };
                if !visitor(Err(err)) {
                    return false;
                }
                continue;
            };
            let Some(role) = self.roles.get(role_id) else {
                continue;
            };
            for (rule_index, (rule, aggregated_from)) in self.effective_rules(role_id).enumerate() {
                let cause = Cause {
                    binding_kind: stored.kind,
                    binding_namespace,
                    binding_name: &b.metadata.name,
                    subject,
                    role_kind: role.kind,
                    role_name: &role.role.metadata.name,
                    role_namespace: match role.kind {
                        RoleKind::Role => Some(role.namespace.as_str()),
                        RoleKind::ClusterRole => None,
                    },
                    rule_index,
                    rule,
                    aggregated_from,
                };
                if !visitor(Ok(cause)) {
                    return false;
                }
            }
        }
        true
    }

    /// Port of `RBACAuthorizer.Authorize` (plugin/pkg/auth/authorizer/rbac/rbac.go):
    /// allowed by the first rule that `RuleAllows` the request.
    pub fn authorize<'s>(&'s self, user: &UserInfo, attrs: &Attributes) -> Decision<'s> {
        let combined = rules::combined_resource(attrs);
        let mut allowed = None;
        let mut errors = Vec::new();
        self.visit_rules_for(user, &attrs.namespace, |v| match v {
            Ok(cause) => {
                if rules::rule_allows_combined(attrs, &combined, cause.rule) {
                    allowed = Some(cause);
                    false
                } else {
                    true
                }
            }
            Err(e) => {
                errors.push(e);
                true
            }
        });
        match allowed {
            Some(cause) => Decision::Allow(cause),
            None => Decision::NoOpinion { errors },
        }
    }

    /// Port of `DefaultRuleResolver.RulesFor` (pkg/registry/rbac/validation/rule.go):
    /// every rule that applies to `user` in `namespace` — its
    /// ClusterRoleBindings' rules, then its RoleBindings' in `namespace`
    /// (none when `namespace` is empty, i.e. for cluster-scoped resources
    /// and non-resource URLs) — with its cause. Unresolvable bindings are
    /// skipped; [`Authorizer::visit_rules_for`] reports them.
    pub fn rules_for<'s>(
        &'s self,
        user: &UserInfo,
        namespace: &str,
    ) -> Vec<(&'s PolicyRule, Cause<'s>)> {
        let mut out = Vec::new();
        self.visit_rules_for(user, namespace, |v| {
            if let Ok(cause) = v {
                out.push((cause.rule, cause));
            }
            true
        });
        out
    }

    /// The names `user` may use `attrs`' verb on, for its group, resource
    /// and subresource in its namespace (`attrs.name` is ignored): either
    /// all, or an explicit set from `resourceNames`. For a non-resource
    /// request: `All` if allowed, else empty.
    pub fn allowed_names<'s>(&'s self, user: &UserInfo, attrs: &Attributes) -> ResourceNames<'s> {
        let combined = rules::combined_resource(attrs);
        let mut all = None;
        let mut names: BTreeMap<&'s str, Cause<'s>> = BTreeMap::new();
        self.visit_rules_for(user, &attrs.namespace, |v| {
            let Ok(cause) = v else {
                return true;
            };
            if !attrs.resource_request {
                if rules::rule_allows_combined(attrs, &combined, cause.rule) {
                    all = Some(cause);
                    return false;
                }
                return true;
            }
            if !rules::rule_matches_ignoring_name(attrs, &combined, cause.rule) {
                return true;
            }
            if cause.rule.resource_names.is_empty() {
                all = Some(cause);
                return false;
            }
            for n in &cause.rule.resource_names {
                names.entry(n.as_str()).or_insert(cause);
            }
            true
        });
        match all {
            Some(cause) => ResourceNames::All(cause),
            None => ResourceNames::Only(names),
        }
    }
}

/// Stores `item` at `slot`'s position, replacing an earlier object with the
/// same key (the last applied wins).
fn store<K, T>(items: &mut Vec<T>, slot: std::collections::hash_map::Entry<'_, K, usize>, item: T) {
    use std::collections::hash_map::Entry;
    match slot {
        Entry::Occupied(e) => {
            if let Some(existing) = items.get_mut(*e.get()) {
                *existing = item;
            }
        }
        Entry::Vacant(e) => {
            e.insert(items.len());
            items.push(item);
        }
    }
}

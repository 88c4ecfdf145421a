//! Table tests ported from Kubernetes' own unit tests (each table cites its
//! Go source), then tests of what this port adds (index, causes, names).

use super::aggregation::selector_matches;
use super::rules::*;
use super::user::*;
use super::*;
use crate::k8s::{
    AggregationRule, LabelSelector, LabelSelectorRequirement, Labels, ObjectMeta, Role,
    RoleBinding, RoleRef, Subject,
};

// ------------------------------------------------------------- builders

/// `newRule` of plugin/pkg/auth/authorizer/rbac/rbac_test.go: each field
/// split on `,` (so `""` is the one-element list `[""]`, as in Go).
fn new_rule(verbs: &str, groups: &str, resources: &str, urls: &str) -> PolicyRule {
    let split = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
    PolicyRule {
        verbs: split(verbs),
        api_groups: split(groups),
        resources: split(resources),
        resource_names: vec![],
        non_resource_urls: split(urls),
    }
}

/// `rbacv1helpers.NewRule(verbs...).Groups(..).Resources(..).URLs(..)`.
fn rule_of(verbs: &[&str], groups: &[&str], resources: &[&str], urls: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    PolicyRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        resource_names: vec![],
        non_resource_urls: v(urls),
    }
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: name.into(),
        namespace: namespace.map(String::from),
        ..ObjectMeta::default()
    }
}

fn role(name: &str, namespace: &str, rules: Vec<PolicyRule>) -> Resource {
    Resource::Role(Role {
        metadata: meta(name, Some(namespace)),
        aggregation_rule: None,
        rules,
    })
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> Resource {
    Resource::ClusterRole(Role {
        metadata: meta(name, None),
        aggregation_rule: None,
        rules,
    })
}

/// `"Kind:name"` as in rbac_test.go's binding helpers.
fn subjects(specs: &[&str]) -> Vec<Subject> {
    specs
        .iter()
        .map(|s| {
            let (kind, name) = s.split_once(':').unwrap_or((s, ""));
            Subject {
                kind: kind.into(),
                api_group: None,
                name: name.into(),
                namespace: None,
            }
        })
        .collect()
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: name.into(),
    }
}

/// `newRoleBinding(namespace, roleName, bindType, subjects...)`.
fn role_binding(
    namespace: &str,
    role_name: &str,
    to_cluster_role: bool,
    subs: &[&str],
) -> Resource {
    let kind = if to_cluster_role {
        "ClusterRole"
    } else {
        "Role"
    };
    Resource::RoleBinding(RoleBinding {
        metadata: meta("", Some(namespace)),
        subjects: subjects(subs),
        role_ref: role_ref(kind, role_name),
    })
}

/// `newClusterRoleBinding(roleName, subjects...)`.
fn cluster_role_binding(role_name: &str, subs: &[&str]) -> Resource {
    Resource::ClusterRoleBinding(RoleBinding {
        metadata: meta("", None),
        subjects: subjects(subs),
        role_ref: role_ref("ClusterRole", role_name),
    })
}

/// `defaultAttributes{user, groups, verb, resource, subresource, namespace,
/// apiGroup}` of rbac_test.go: groups split on `,`, no name.
fn default_attrs(
    user: &str,
    groups: &str,
    verb: &str,
    resource: &str,
    subresource: &str,
    namespace: &str,
    api_group: &str,
) -> (UserInfo, Attributes) {
    (
        UserInfo::new(user, groups.split(',')),
        Attributes::resource(verb, api_group, resource, namespace).with_subresource(subresource),
    )
}

fn non_resource(name: &str, groups: &[&str], verb: &str, path: &str) -> (UserInfo, Attributes) {
    (
        UserInfo::new(name, groups.iter().copied()),
        Attributes::non_resource(verb, path),
    )
}

// ------------------------------------------------------------------------
// plugin/pkg/auth/authorizer/rbac/rbac_test.go — TestAuthorizer

#[test]
fn k8s_test_authorizer() {
    struct Case {
        resources: Vec<Resource>,
        should_pass: Vec<(UserInfo, Attributes)>,
        should_fail: Vec<(UserInfo, Attributes)>,
    }
    let d = default_attrs;
    let cases = [
        Case {
            resources: vec![
                cluster_role("admin", vec![new_rule("*", "*", "*", "*")]),
                role_binding("ns1", "admin", true, &["User:admin", "Group:admins"]),
            ],
            should_pass: vec![
                d("admin", "", "get", "Pods", "", "ns1", ""),
                d("admin", "", "watch", "Pods", "", "ns1", ""),
                d("admin", "group1", "watch", "Foobar", "", "ns1", ""),
                d("joe", "admins", "watch", "Foobar", "", "ns1", ""),
                d("joe", "group1,admins", "watch", "Foobar", "", "ns1", ""),
            ],
            should_fail: vec![
                d("admin", "", "GET", "Pods", "", "ns2", ""),
                d("admin", "", "GET", "Nodes", "", "", ""),
                d("admin", "admins", "GET", "Pods", "", "ns2", ""),
                d("admin", "admins", "GET", "Nodes", "", "", ""),
            ],
        },
        // Non-resource-url tests
        Case {
            resources: vec![
                cluster_role(
                    "non-resource-url-getter",
                    vec![new_rule("get", "", "", "/apis")],
                ),
                cluster_role("non-resource-url", vec![new_rule("*", "", "", "/apis")]),
                cluster_role(
                    "non-resource-url-prefix",
                    vec![new_rule("get", "", "", "/apis/*")],
                ),
                cluster_role_binding("non-resource-url-getter", &["User:foo", "Group:bar"]),
                cluster_role_binding("non-resource-url", &["User:admin", "Group:admin"]),
                cluster_role_binding(
                    "non-resource-url-prefix",
                    &["User:prefixed", "Group:prefixed"],
                ),
            ],
            should_pass: vec![
                non_resource("foo", &[], "get", "/apis"),
                non_resource("", &["bar"], "get", "/apis"),
                non_resource("admin", &[], "get", "/apis"),
                non_resource("", &["admin"], "get", "/apis"),
                non_resource("admin", &[], "watch", "/apis"),
                non_resource("", &["admin"], "watch", "/apis"),
                non_resource("prefixed", &[], "get", "/apis/v1"),
                non_resource("", &["prefixed"], "get", "/apis/v1"),
                non_resource("prefixed", &[], "get", "/apis/v1/foobar"),
                non_resource("", &["prefixed"], "get", "/apis/v1/foorbar"),
            ],
            should_fail: vec![
                // wrong verb
                non_resource("foo", &[], "watch", "/apis"),
                non_resource("", &["bar"], "watch", "/apis"),
                // wrong path
                non_resource("foo", &[], "get", "/api/v1"),
                non_resource("", &["bar"], "get", "/api/v1"),
                non_resource("admin", &[], "get", "/api/v1"),
                non_resource("", &["admin"], "get", "/api/v1"),
                // not covered by prefix
                non_resource("prefixed", &[], "get", "/api/v1"),
                non_resource("", &["prefixed"], "get", "/api/v1"),
            ],
        },
        // test subresource resolution
        Case {
            resources: vec![
                cluster_role("admin", vec![new_rule("*", "*", "pods", "*")]),
                role_binding("ns1", "admin", true, &["User:admin", "Group:admins"]),
            ],
            should_pass: vec![d("admin", "", "get", "pods", "", "ns1", "")],
            should_fail: vec![d("admin", "", "get", "pods", "status", "ns1", "")],
        },
        // test subresource resolution
        Case {
            resources: vec![
                cluster_role(
                    "admin",
                    vec![
                        new_rule("*", "*", "pods/status", "*"),
                        new_rule("*", "*", "*/scale", "*"),
                    ],
                ),
                role_binding("ns1", "admin", true, &["User:admin", "Group:admins"]),
            ],
            should_pass: vec![
                d("admin", "", "get", "pods", "status", "ns1", ""),
                d("admin", "", "get", "pods", "scale", "ns1", ""),
                d("admin", "", "get", "deployments", "scale", "ns1", ""),
                d("admin", "", "get", "anything", "scale", "ns1", ""),
            ],
            should_fail: vec![d("admin", "", "get", "pods", "", "ns1", "")],
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let a = Authorizer::new(&case.resources);
        for (user, attrs) in &case.should_pass {
            assert!(
                a.authorize(user, attrs).is_allowed(),
                "case {i}: incorrectly restricted {user:?} {attrs:?}"
            );
        }
        for (user, attrs) in &case.should_fail {
            assert!(
                !a.authorize(user, attrs).is_allowed(),
                "case {i}: incorrectly passed {user:?} {attrs:?}"
            );
        }
    }
}

// ------------------------------------------------------------------------
// plugin/pkg/auth/authorizer/rbac/rbac_test.go — TestRuleMatches

fn res(verb: &str, group: &str, resource: &str, subresource: &str) -> Attributes {
    Attributes::resource(verb, group, resource, "").with_subresource(subresource)
}

fn url(verb: &str, path: &str) -> Attributes {
    Attributes::non_resource(verb, path)
}

#[test]
fn k8s_test_rule_matches() {
    type Case = (&'static str, PolicyRule, Vec<(Attributes, bool)>);
    let cases: Vec<Case> = vec![
        (
            "star verb, exact match other",
            rule_of(&["*"], &["group1"], &["resource1"], &[]),
            vec![
                (res("verb1", "group1", "resource1", ""), true),
                (res("verb1", "group2", "resource1", ""), false),
                (res("verb1", "group1", "resource2", ""), false),
                (res("verb1", "group2", "resource2", ""), false),
                (res("verb2", "group1", "resource1", ""), true),
                (res("verb2", "group2", "resource1", ""), false),
                (res("verb2", "group1", "resource2", ""), false),
                (res("verb2", "group2", "resource2", ""), false),
            ],
        ),
        (
            "star group, exact match other",
            rule_of(&["verb1"], &["*"], &["resource1"], &[]),
            vec![
                (res("verb1", "group1", "resource1", ""), true),
                (res("verb1", "group2", "resource1", ""), true),
                (res("verb1", "group1", "resource2", ""), false),
                (res("verb1", "group2", "resource2", ""), false),
                (res("verb2", "group1", "resource1", ""), false),
                (res("verb2", "group2", "resource1", ""), false),
                (res("verb2", "group1", "resource2", ""), false),
                (res("verb2", "group2", "resource2", ""), false),
            ],
        ),
        (
            "star resource, exact match other",
            rule_of(&["verb1"], &["group1"], &["*"], &[]),
            vec![
                (res("verb1", "group1", "resource1", ""), true),
                (res("verb1", "group2", "resource1", ""), false),
                (res("verb1", "group1", "resource2", ""), true),
                (res("verb1", "group2", "resource2", ""), false),
                (res("verb2", "group1", "resource1", ""), false),
                (res("verb2", "group2", "resource1", ""), false),
                (res("verb2", "group1", "resource2", ""), false),
                (res("verb2", "group2", "resource2", ""), false),
            ],
        ),
        (
            "tuple expansion",
            rule_of(
                &["verb1", "verb2"],
                &["group1", "group2"],
                &["resource1", "resource2"],
                &[],
            ),
            vec![
                (res("verb1", "group1", "resource1", ""), true),
                (res("verb1", "group2", "resource1", ""), true),
                (res("verb1", "group1", "resource2", ""), true),
                (res("verb1", "group2", "resource2", ""), true),
                (res("verb2", "group1", "resource1", ""), true),
                (res("verb2", "group2", "resource1", ""), true),
                (res("verb2", "group1", "resource2", ""), true),
                (res("verb2", "group2", "resource2", ""), true),
            ],
        ),
        (
            "subresource expansion",
            rule_of(&["*"], &["*"], &["resource1/subresource1"], &[]),
            vec![
                (res("verb1", "group1", "resource1", "subresource1"), true),
                (res("verb1", "group2", "resource1", "subresource2"), false),
                (res("verb1", "group1", "resource2", "subresource1"), false),
                (res("verb1", "group2", "resource2", "subresource1"), false),
                (res("verb2", "group1", "resource1", "subresource1"), true),
                (res("verb2", "group2", "resource1", "subresource2"), false),
                (res("verb2", "group1", "resource2", "subresource1"), false),
                (res("verb2", "group2", "resource2", "subresource1"), false),
            ],
        ),
        (
            "star nonresource, exact match other",
            rule_of(&["verb1"], &[], &[], &["*"]),
            vec![
                (url("verb1", "/foo"), true),
                (url("verb1", "/foo/bar"), true),
                (url("verb1", "/foo/baz"), true),
                (url("verb1", "/foo/bar/one"), true),
                (url("verb1", "/foo/baz/one"), true),
                (url("verb2", "/foo"), false),
                (url("verb2", "/foo/bar"), false),
                (url("verb2", "/foo/baz"), false),
                (url("verb2", "/foo/bar/one"), false),
                (url("verb2", "/foo/baz/one"), false),
            ],
        ),
        (
            "star nonresource subpath",
            rule_of(&["verb1"], &[], &[], &["/foo/*"]),
            vec![
                (url("verb1", "/foo"), false),
                (url("verb1", "/foo/bar"), true),
                (url("verb1", "/foo/baz"), true),
                (url("verb1", "/foo/bar/one"), true),
                (url("verb1", "/foo/baz/one"), true),
                (url("verb1", "/notfoo"), false),
                (url("verb1", "/notfoo/bar"), false),
                (url("verb1", "/notfoo/baz"), false),
                (url("verb1", "/notfoo/bar/one"), false),
                (url("verb1", "/notfoo/baz/one"), false),
            ],
        ),
        (
            "star verb, exact nonresource",
            rule_of(&["*"], &[], &[], &["/foo", "/foo/bar/one"]),
            vec![
                (url("verb1", "/foo"), true),
                (url("verb1", "/foo/bar"), false),
                (url("verb1", "/foo/baz"), false),
                (url("verb1", "/foo/bar/one"), true),
                (url("verb1", "/foo/baz/one"), false),
                (url("verb2", "/foo"), true),
                (url("verb2", "/foo/bar"), false),
                (url("verb2", "/foo/baz"), false),
                (url("verb2", "/foo/bar/one"), true),
                (url("verb2", "/foo/baz/one"), false),
            ],
        ),
    ];
    for (name, rule, requests) in &cases {
        for (request, expected) in requests {
            assert_eq!(
                rule_allows(request, rule),
                *expected,
                "{name:?}: for {request:?}"
            );
        }
    }
}

// ------------------------------------------------------------------------
// pkg/registry/rbac/validation/rule_test.go — TestDefaultRuleResolver

#[test]
fn k8s_test_default_rule_resolver() {
    let rule_read_pods = rule_of(&["GET", "WATCH"], &["v1"], &["pods"], &[]);
    let rule_read_services = rule_of(&["GET", "WATCH"], &["v1"], &["services"], &[]);
    let rule_write_nodes = rule_of(&["PUT", "CREATE", "UPDATE"], &["v1"], &["nodes"], &[]);
    let rule_admin = rule_of(&["*"], &["*"], &["*"], &[]);

    let static_roles1 = vec![
        role(
            "readthings",
            "namespace1",
            vec![rule_read_pods.clone(), rule_read_services.clone()],
        ),
        cluster_role("cluster-admin", vec![rule_admin.clone()]),
        cluster_role("write-nodes", vec![rule_write_nodes]),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("", Some("namespace1")),
            subjects: subjects(&["User:foobar", "Group:group1"]),
            role_ref: role_ref("Role", "readthings"),
        }),
        Resource::ClusterRoleBinding(RoleBinding {
            metadata: meta("", None),
            subjects: subjects(&["User:admin", "Group:admin"]),
            role_ref: role_ref("ClusterRole", "cluster-admin"),
        }),
    ];
    let cases: Vec<(UserInfo, &str, Vec<PolicyRule>)> = vec![
        (
            UserInfo::new("foobar", Vec::<String>::new()),
            "namespace1",
            vec![rule_read_pods, rule_read_services],
        ),
        (
            UserInfo::new("foobar", Vec::<String>::new()),
            "namespace2",
            vec![],
        ),
        // Same as above but without a namespace. Only cluster rules should apply.
        (UserInfo::new("foobar", ["admin"]), "", vec![rule_admin]),
        (UserInfo::default(), "", vec![]),
    ];
    let a = Authorizer::new(&static_roles1);
    for (i, (user, namespace, expected)) in cases.iter().enumerate() {
        let mut got: Vec<PolicyRule> = a
            .rules_for(user, namespace)
            .into_iter()
            .map(|(r, _)| r.clone())
            .collect();
        let mut want = expected.clone();
        got.sort_by_key(|r| format!("{r:?}"));
        want.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(got, want, "case {i}");
    }
}

// ------------------------------------------------------------------------
// pkg/registry/rbac/validation/rule_test.go — TestAppliesTo

#[test]
fn k8s_test_applies_to() {
    let sa = |ns: &str, name: &str| Subject {
        kind: "ServiceAccount".into(),
        api_group: None,
        name: name.into(),
        namespace: Some(ns.into()),
    };
    let mut with_sa = subjects(&["User:barfoo", "Group:foobar"]);
    with_sa.push(sa("kube-system", "default"));
    let both = subjects(&["Group:system:authenticated", "Group:system:unauthenticated"]);
    type Case = (
        Vec<Subject>,
        UserInfo,
        &'static str,
        Option<usize>,
        &'static str,
    );
    let cases: Vec<Case> =
        vec![
        (
            subjects(&["User:foobar"]),
            UserInfo::new("foobar", Vec::<String>::new()),
            "",
            Some(0),
            "single subject that matches username",
        ),
        (
            subjects(&["User:barfoo", "User:foobar"]),
            UserInfo::new("foobar", Vec::<String>::new()),
            "",
            Some(1),
            "multiple subjects, one that matches username",
        ),
        (
            subjects(&["User:barfoo", "User:foobar"]),
            UserInfo::new("zimzam", Vec::<String>::new()),
            "",
            None,
            "multiple subjects, none that match username",
        ),
        (
            subjects(&["User:barfoo", "Group:foobar"]),
            UserInfo::new("zimzam", ["foobar"]),
            "",
            Some(1),
            "multiple subjects, one that match group",
        ),
        (
            subjects(&["User:barfoo", "Group:foobar"]),
            UserInfo::new("zimzam", ["foobar"]),
            "namespace1",
            Some(1),
            "multiple subjects, one that match group, should ignore namespace",
        ),
        (
            with_sa,
            UserInfo::new("system:serviceaccount:kube-system:default", Vec::<String>::new()),
            "default",
            Some(2),
            "multiple subjects with a service account that matches",
        ),
        (
            subjects(&["User:*"]),
            UserInfo::new("foobar", Vec::<String>::new()),
            "default",
            None,
            "* user subject name doesn't match all users",
        ),
        (
            both.clone(),
            UserInfo::new("foobar", [ALL_AUTHENTICATED]),
            "default",
            Some(0),
            "binding to all authenticated and unauthenticated subjects matches authenticated user",
        ),
        (
            both,
            UserInfo::new("system:anonymous", [ALL_UNAUTHENTICATED]),
            "default",
            Some(1),
            "binding to all authenticated and unauthenticated subjects matches anonymous user",
        ),
    ];
    for (subs, user, namespace, want, name) in &cases {
        assert_eq!(applies_to(user, subs, namespace), *want, "case {name:?}");
    }
}

// ------------------------------------------------------------------------
// staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util_test.go
// — TestMatchUsername, and the MatchesUsername half of TestMakeUsername

#[test]
fn k8s_test_match_username() {
    let cases = [
        ("foo", "bar", "foo", false),
        ("foo", "bar", "system:serviceaccount:", false),
        ("foo", "bar", "system:serviceaccount:foo", false),
        ("foo", "bar", "system:serviceaccount:foo:", false),
        ("foo", "bar", "system:serviceaccount:foo:bar", true),
        ("foo", "bar", "system:serviceaccount::bar", false),
        ("foo", "bar", "system:serviceaccount:bar", false),
        ("foo", "bar", ":bar", false),
        ("foo", "bar", "foo:bar", false),
        ("foo", "bar", "", false),
        ("foo2", "bar", "system:serviceaccount:foo:bar", false),
        ("foo", "bar2", "system:serviceaccount:foo:bar", false),
        ("foo:", "bar", "system:serviceaccount:foo:bar", false),
        ("foo", ":bar", "system:serviceaccount:foo:bar", false),
    ];
    for (ns, name, username, want) in cases {
        assert_eq!(
            matches_username(ns, name, username),
            want,
            "{ns:?} {name:?} {username:?}"
        );
        // The subject index relies on this equivalence.
        assert_eq!(
            username == make_username(ns, name),
            want,
            "{ns:?} {name:?} {username:?}"
        );
    }
    for (ns, name) in [
        ("foo", "bar"),
        ("", ""),
        ("", "foo"),
        ("foo", ""),
        ("foo", "bar:baz"),
        ("foo ", "bar"),
    ] {
        assert!(matches_username(ns, name, &make_username(ns, name)));
    }
}

// ------------------------------------------------------------------------
// pkg/controller/clusterroleaggregation/clusterroleaggregation_controller_test.go
// — TestSyncClusterRole (the rules the controller writes; the API calls it
// makes are not modelled)

fn labelled(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> Resource {
    let mut m = meta(name, None);
    m.labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Resource::ClusterRole(Role {
        metadata: m,
        aggregation_rule: None,
        rules,
    })
}

fn combined(selectors: &[&[(&str, &str)]], rules: Vec<PolicyRule>) -> Resource {
    let selectors = selectors
        .iter()
        .map(|labels| {
            LabelSelector::labels(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect();
    Resource::ClusterRole(Role {
        metadata: meta("combined", None),
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: selectors,
        }),
        rules,
    })
}

#[test]
fn k8s_test_sync_cluster_role() {
    let hammer = || {
        vec![
            rule_of(&["hammer"], &[], &["nails"], &[]),
            rule_of(&["hammer"], &[], &["wedges"], &[]),
        ]
    };
    let chisel = || vec![rule_of(&["chisel"], &[], &["mortises"], &[])];
    let saw = || vec![rule_of(&["saw"], &[], &["boards"], &[])];
    let cat = |parts: Vec<Vec<PolicyRule>>| parts.into_iter().flatten().collect::<Vec<_>>();
    let bar: &[(&str, &str)] = &[("foo", "bar")];
    let not_bar: &[(&str, &str)] = &[("foo", "not-bar")];
    let cases: Vec<(&str, Vec<Resource>, Vec<PolicyRule>)> = vec![
        (
            "remove dead rules",
            vec![labelled("hammer", bar, hammer()), combined(&[bar], saw())],
            hammer(),
        ),
        (
            "strip rules",
            vec![
                labelled("hammer", not_bar, hammer()),
                combined(&[bar], hammer()),
            ],
            vec![],
        ),
        (
            "select properly and put in order",
            vec![
                labelled("hammer", bar, hammer()),
                labelled("chisel", bar, chisel()),
                labelled("saw", not_bar, saw()),
                combined(&[bar], vec![]),
            ],
            cat(vec![chisel(), hammer()]),
        ),
        (
            "select properly with multiple selectors",
            vec![
                labelled("hammer", bar, hammer()),
                labelled("chisel", bar, chisel()),
                labelled("saw", not_bar, saw()),
                combined(&[bar, not_bar], vec![]),
            ],
            cat(vec![chisel(), hammer(), saw()]),
        ),
        (
            "select properly remove duplicates",
            vec![
                labelled("hammer", bar, hammer()),
                labelled("chisel", bar, chisel()),
                labelled("saw", bar, saw()),
                labelled("other-saw", not_bar, saw()),
                combined(&[bar, not_bar], vec![]),
            ],
            cat(vec![chisel(), hammer(), saw()]),
        ),
        (
            "no diff skip",
            vec![
                labelled("hammer", bar, hammer()),
                combined(&[bar], hammer()),
            ],
            hammer(),
        ),
    ];
    for (name, resources, want) in cases {
        let a = Authorizer::new(&resources);
        let got: Vec<PolicyRule> = a
            .role_rules(RoleKind::ClusterRole, "", "combined")
            .unwrap_or_default()
            .into_iter()
            .cloned()
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

// ------------------------------------------------------------------ own

#[test]
fn implicit_groups() {
    let sa = UserInfo::service_account("web", "frontend");
    assert_eq!(sa.name, "system:serviceaccount:web:frontend");
    assert_eq!(
        sa.groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:web",
            "system:authenticated"
        ]
    );
    assert_eq!(UserInfo::user("alice").groups, ["system:authenticated"]);
    assert_eq!(
        UserInfo::group_member("bob", ["sre"]).groups,
        ["sre", "system:authenticated"]
    );
    // AuthenticatedGroupAdder: not for anonymous, not twice.
    assert_eq!(
        UserInfo::anonymous().with_authenticated_group().groups,
        ["system:unauthenticated"]
    );
    assert_eq!(
        UserInfo::new("x", [ALL_AUTHENTICATED])
            .with_authenticated_group()
            .groups,
        [ALL_AUTHENTICATED]
    );
    assert_eq!(
        UserInfo::new("x", [ALL_UNAUTHENTICATED])
            .with_authenticated_group()
            .groups,
        [ALL_UNAUTHENTICATED]
    );
}

#[test]
fn compact_string_formats_like_go() {
    let mut r = rule_of(&["get", "list"], &[""], &["pods"], &[]);
    r.resource_names = vec!["a".into()];
    assert_eq!(
        compact_string(&r),
        r#"{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get" "list"]}"#
    );
}

#[test]
fn resource_matches_edge_cases() {
    let r = rule_of(&["*"], &["*"], &["*/scale"], &[]);
    assert!(resource_matches(&r, "deployments/scale", "scale"));
    assert!(!resource_matches(&r, "deployments/status", "status"));
    assert!(!resource_matches(&r, "deployments", ""));
    // "*/x" must be exactly "*/" + subresource.
    let r = rule_of(&["*"], &["*"], &["*/cale"], &[]);
    assert!(!resource_matches(&r, "deployments/scale", "scale"));
    // A multi-byte subresource never panics.
    assert!(!resource_matches(&r, "a/é", "é"));
    let r = rule_of(&["*"], &["*"], &["pods/*"], &[]);
    assert!(
        !resource_matches(&r, "pods/exec", "exec"),
        "resource/* is not a wildcard"
    );
}

#[test]
fn selectors() {
    let labels: Labels = [("a".to_string(), "1".to_string())].into_iter().collect();
    let expr = |op: &str, values: &[&str]| LabelSelector {
        match_labels: Labels::new_vec(),
        match_expressions: vec![LabelSelectorRequirement {
            key: "a".into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }],
    };
    assert!(selector_matches(&LabelSelector::default(), &labels).unwrap());
    assert!(selector_matches(&expr("In", &["1", "2"]), &labels).unwrap());
    assert!(!selector_matches(&expr("NotIn", &["1"]), &labels).unwrap());
    assert!(selector_matches(&expr("NotIn", &["1"]), &Labels::new_vec()).unwrap());
    assert!(selector_matches(&expr("Exists", &[]), &labels).unwrap());
    assert!(!selector_matches(&expr("DoesNotExist", &[]), &labels).unwrap());
    assert!(selector_matches(&expr("In", &[]), &labels).is_err());
    assert!(selector_matches(&expr("Exists", &["1"]), &labels).is_err());
    assert!(selector_matches(&expr("Bogus", &[]), &labels).is_err());
}

#[test]
fn invalid_aggregation_selector_keeps_rules() {
    let mut sel = LabelSelector::default();
    sel.match_expressions.push(LabelSelectorRequirement {
        key: "a".into(),
        operator: "In".into(),
        values: vec![],
    });
    let resources = vec![
        labelled(
            "x",
            &[("a", "1")],
            vec![rule_of(&["get"], &[""], &["pods"], &[])],
        ),
        Resource::ClusterRole(Role {
            metadata: meta("agg", None),
            aggregation_rule: Some(AggregationRule {
                cluster_role_selectors: vec![LabelSelector::default(), sel],
            }),
            rules: vec![rule_of(&["list"], &[""], &["secrets"], &[])],
        }),
    ];
    let a = Authorizer::new(&resources);
    let rules = a.role_rules(RoleKind::ClusterRole, "", "agg").unwrap();
    assert_eq!(rules, vec![&rule_of(&["list"], &[""], &["secrets"], &[])]);
}

#[test]
fn nested_aggregation_and_cause() {
    let resources = vec![
        labelled(
            "base",
            &[("tier", "1")],
            vec![rule_of(&["get"], &[""], &["pods"], &[])],
        ),
        Resource::ClusterRole(Role {
            metadata: ObjectMeta {
                name: "middle".into(),
                labels: [("tier".to_string(), "2".to_string())]
                    .into_iter()
                    .collect(),
                ..ObjectMeta::default()
            },
            aggregation_rule: Some(AggregationRule {
                cluster_role_selectors: vec![LabelSelector::labels(
                    [("tier".to_string(), "1".to_string())]
                        .into_iter()
                        .collect(),
                )],
            }),
            rules: vec![],
        }),
        Resource::ClusterRole(Role {
            // Sorts before "middle": needs a second round.
            metadata: meta("a-top", None),
            aggregation_rule: Some(AggregationRule {
                cluster_role_selectors: vec![LabelSelector::labels(
                    [("tier".to_string(), "2".to_string())]
                        .into_iter()
                        .collect(),
                )],
            }),
            rules: vec![],
        }),
        cluster_role_binding("a-top", &["User:alice"]),
    ];
    let a = Authorizer::new(&resources);
    let alice = UserInfo::user("alice");
    let d = a.authorize(&alice, &Attributes::resource("get", "", "pods", "web"));
    let cause = d
        .cause()
        .expect("allowed through two levels of aggregation");
    assert_eq!(cause.role_name, "a-top");
    assert_eq!(cause.aggregated_from, Some(("base", 0)));
    assert_eq!(
        cause.to_string(),
        r#"ClusterRoleBinding "" of ClusterRole "a-top" to User "alice", rule 0 {APIGroups:[""], Resources:["pods"], Verbs:["get"]} (aggregated from ClusterRole "base" rule 0)"#
    );
}

#[test]
fn service_account_subject_without_namespace() {
    let sa_subject = Subject {
        kind: "ServiceAccount".into(),
        api_group: None,
        name: "app".into(),
        namespace: None,
    };
    let resources = vec![
        cluster_role("reader", vec![rule_of(&["get"], &[""], &["pods"], &[])]),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("rb", Some("web")),
            subjects: vec![sa_subject.clone()],
            role_ref: role_ref("ClusterRole", "reader"),
        }),
        Resource::ClusterRoleBinding(RoleBinding {
            metadata: meta("crb", None),
            subjects: vec![sa_subject],
            role_ref: role_ref("ClusterRole", "reader"),
        }),
    ];
    let a = Authorizer::new(&resources);
    let get = |ns: &str| Attributes::resource("get", "", "pods", ns);
    // In a RoleBinding it means the binding's namespace…
    let d = a.authorize(&UserInfo::service_account("web", "app"), &get("web"));
    assert_eq!(d.cause().map(|c| c.binding_name), Some("rb"));
    assert_eq!(
        d.cause().unwrap().to_string(),
        r#"RoleBinding "rb/web" of ClusterRole "reader" to ServiceAccount "app/web", rule 0 {APIGroups:[""], Resources:["pods"], Verbs:["get"]}"#
    );
    // …and grants nothing elsewhere; in a ClusterRoleBinding it never applies.
    assert!(!a
        .authorize(&UserInfo::service_account("web", "app"), &get("api"))
        .is_allowed());
    assert!(!a
        .authorize(&UserInfo::service_account("api", "app"), &get("api"))
        .is_allowed());
}

#[test]
fn unresolvable_bindings_are_reported_and_skipped() {
    let resources = vec![
        role("r", "web", vec![rule_of(&["get"], &[""], &["pods"], &[])]),
        // A ClusterRoleBinding can only reference a ClusterRole.
        Resource::ClusterRoleBinding(RoleBinding {
            metadata: meta("crb-to-role", None),
            subjects: subjects(&["User:u"]),
            role_ref: role_ref("Role", "r"),
        }),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("rb-missing", Some("web")),
            subjects: subjects(&["User:u"]),
            role_ref: role_ref("ClusterRole", "nope"),
        }),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("rb-odd", Some("web")),
            subjects: subjects(&["User:u"]),
            role_ref: role_ref("Thing", "r"),
        }),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("rb-ok", Some("web")),
            subjects: subjects(&["User:u"]),
            role_ref: role_ref("Role", "r"),
        }),
    ];
    let a = Authorizer::new(&resources);
    let u = UserInfo::user("u");
    let allowed = a.authorize(&u, &Attributes::resource("get", "", "pods", "web"));
    assert_eq!(allowed.cause().map(|c| c.binding_name), Some("rb-ok"));
    let Decision::NoOpinion { errors } =
        a.authorize(&u, &Attributes::resource("list", "", "pods", "web"))
    else {
        panic!("list is not granted");
    };
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages,
        [
            r#"role.rbac.authorization.k8s.io "r" not found"#,
            r#"clusterrole.rbac.authorization.k8s.io "nope" not found"#,
            r#"unsupported role reference kind: "Thing""#,
        ]
    );
}

#[test]
fn last_applied_object_wins() {
    let resources = vec![
        role("r", "web", vec![rule_of(&["get"], &[""], &["pods"], &[])]),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("b", Some("web")),
            subjects: subjects(&["User:old"]),
            role_ref: role_ref("Role", "r"),
        }),
        role("r", "web", vec![rule_of(&["list"], &[""], &["pods"], &[])]),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("b", Some("web")),
            subjects: subjects(&["User:new"]),
            role_ref: role_ref("Role", "r"),
        }),
    ];
    let a = Authorizer::new(&resources);
    let list = Attributes::resource("list", "", "pods", "web");
    assert!(a.authorize(&UserInfo::user("new"), &list).is_allowed());
    assert!(!a.authorize(&UserInfo::user("old"), &list).is_allowed());
    let get = Attributes::resource("get", "", "pods", "web").with_name("p");
    assert!(!a.authorize(&UserInfo::user("new"), &get).is_allowed());
}

#[test]
fn allowed_names_agrees_with_authorize() {
    let mut named = rule_of(&["get"], &[""], &["secrets"], &[]);
    named.resource_names = vec!["a".into(), "b".into()];
    let mut exec = rule_of(&["create"], &[""], &["pods/exec"], &[]);
    exec.resource_names = vec!["api-0".into()];
    let resources = vec![
        role("named", "web", vec![named, exec]),
        role(
            "all-cm",
            "web",
            vec![rule_of(&["get"], &[""], &["configmaps"], &[])],
        ),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("b1", Some("web")),
            subjects: subjects(&["Group:sre"]),
            role_ref: role_ref("Role", "named"),
        }),
        Resource::RoleBinding(RoleBinding {
            metadata: meta("b2", Some("web")),
            subjects: subjects(&["Group:sre"]),
            role_ref: role_ref("Role", "all-cm"),
        }),
    ];
    let a = Authorizer::new(&resources);
    let sre = UserInfo::group_member("", ["sre"]);
    let secrets = Attributes::resource("get", "", "secrets", "web");
    let names = a.allowed_names(&sre, &secrets);
    let ResourceNames::Only(set) = &names else {
        panic!("secrets are name-restricted")
    };
    assert_eq!(set.keys().copied().collect::<Vec<_>>(), ["a", "b"]);
    for n in ["a", "b", "c", ""] {
        assert_eq!(
            names.allows(n).is_some(),
            a.authorize(&sre, &secrets.clone().with_name(n))
                .is_allowed(),
            "{n:?}"
        );
    }
    // list has no name: a name-restricted rule never allows it.
    assert!(!a
        .authorize(&sre, &Attributes::resource("list", "", "secrets", "web"))
        .is_allowed());
    let exec = Attributes::resource("create", "", "pods", "web").with_subresource("exec");
    let names = a.allowed_names(&sre, &exec);
    assert_eq!(names.allows("api-0").map(|c| c.binding_name), Some("b1"));
    assert!(names.allows("api-1").is_none());
    assert!(matches!(
        a.allowed_names(&sre, &Attributes::resource("get", "", "configmaps", "web")),
        ResourceNames::All(c) if c.binding_name == "b2"
    ));
    assert!(a
        .allowed_names(
            &sre,
            &Attributes::resource("delete", "", "configmaps", "web")
        )
        .is_empty());
}

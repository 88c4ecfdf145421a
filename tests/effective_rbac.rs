//! RBAC evaluation over hand-written manifests (`tests/effective/rbac/`).
//! Expected answers follow Kubernetes' authorizer (see
//! `src/effective/rbac/`); each fixture's header says what it exercises.

use palisade::effective::rbac::{
    applies_to, rule_allows, Attributes, Authorizer, BindingKind, Decision, ResourceNames,
    RoleKind, UserInfo,
};
use palisade::k8s::{PolicyRule, Resource, Role, RoleBinding};
use serde::Deserialize;
use std::path::Path;

fn load(name: &str) -> Vec<Resource> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/effective/rbac")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Resource::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// `user:<name>`, `group:<name>:<g1>,<g2>`, `sa:<namespace>:<name>`, or
/// `raw:<name>` (no implicit groups).
fn who(spec: &str) -> UserInfo {
    if let Some(name) = spec.strip_prefix("raw:") {
        return UserInfo::new(name, Vec::<String>::new());
    }
    let mut parts = spec.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("user"), Some(name), None) => UserInfo::user(name),
        (Some("group"), Some(name), Some(groups)) => {
            UserInfo::group_member(name, groups.split(','))
        }
        (Some("sa"), Some(ns), Some(name)) => UserInfo::service_account(ns, name),
        (Some("anonymous"), None, None) => UserInfo::anonymous(),
        _ => panic!("bad user spec {spec:?}"),
    }
}

/// A resource request; `resource` may be `resource/subresource`.
fn req(verb: &str, group: &str, resource: &str, name: &str, namespace: &str) -> Attributes {
    let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
    Attributes::resource(verb, group, resource, namespace)
        .with_subresource(sub)
        .with_name(name)
}

/// Each request is allowed by the named binding, or (None) not allowed.
fn check(a: &Authorizer, cases: &[(&str, Attributes, Option<&str>)]) {
    for (user, attrs, want) in cases {
        let d = a.authorize(&who(user), attrs);
        assert_eq!(
            d.cause().map(|c| c.binding_name),
            *want,
            "{user} {attrs:?}: {d:?}"
        );
    }
}

#[test]
fn role_binding_scopes() {
    let a = Authorizer::new(&load("scopes.yaml"));
    check(
        &a,
        &[
            // The rbac-offline.md case: a RoleBinding to a ClusterRole is
            // namespace-scoped.
            (
                "sa:auth:auth",
                req("get", "", "pods", "p", "auth"),
                Some("auth-reads-pods"),
            ),
            (
                "sa:auth:auth",
                req("list", "", "pods", "", "auth"),
                Some("auth-reads-pods"),
            ),
            ("sa:auth:auth", req("get", "", "pods", "p", "web"), None),
            ("sa:auth:auth", req("list", "", "pods", "", ""), None),
            (
                "user:ci",
                req("update", "apps", "deployments", "api", "web"),
                Some("ci-deploys-web"),
            ),
            (
                "user:ci",
                req("update", "", "deployments", "api", "web"),
                None,
            ),
            (
                "user:ci",
                req("update", "apps", "deployments", "api", "data"),
                None,
            ),
            // data/deployer exists, but ci's binding is in web.
            (
                "user:ci",
                req("get", "apps", "statefulsets", "db", "data"),
                None,
            ),
            (
                "user:ci",
                req("get", "apps", "statefulsets", "db", "web"),
                None,
            ),
            // A ClusterRoleBinding applies cluster-wide and in every namespace.
            (
                "group:x:ops",
                req("list", "", "nodes", "", ""),
                Some("ops-view-nodes"),
            ),
            (
                "group:x:ops",
                req("get", "", "nodes", "n1", ""),
                Some("ops-view-nodes"),
            ),
            (
                "group:x:ops",
                req("list", "", "pods", "", "web"),
                Some("ops-view-nodes"),
            ),
            (
                "group:x:ops",
                req("list", "", "pods", "", "anything"),
                Some("ops-view-nodes"),
            ),
            ("group:x:ops", req("get", "", "pods", "p", "web"), None),
            ("user:ops", req("list", "", "nodes", "", ""), None),
        ],
    );

    let auth = who("sa:auth:auth");
    let rules = a.rules_for(&auth, "auth");
    assert_eq!(rules.len(), 1);
    let (rule, cause) = &rules[0];
    assert_eq!(rule.resources, ["pods"]);
    assert_eq!(cause.binding_kind, BindingKind::RoleBinding);
    assert_eq!(cause.binding_namespace, Some("auth"));
    assert_eq!(
        (cause.role_kind, cause.role_name),
        (RoleKind::ClusterRole, "pod-reader")
    );
    assert!(a.rules_for(&auth, "web").is_empty());
    assert!(a.rules_for(&auth, "").is_empty());

    let d = a.authorize(
        &who("user:ci"),
        &req("patch", "apps", "deployments", "api", "web"),
    );
    let c = d.cause().expect("allowed");
    assert_eq!(
        (c.role_kind, c.role_namespace, c.role_name, c.rule_index),
        (RoleKind::Role, Some("web"), "deployer", 0)
    );
    assert_eq!(
        c.to_string(),
        r#"RoleBinding "ci-deploys-web/web" of Role "deployer" to User "ci", rule 0 {APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "update" "patch"]}"#
    );
    // Cluster-wide rules only when no namespace is asked for.
    let ops = who("group:x:ops");
    assert_eq!(a.rules_for(&ops, "").len(), 2);
    assert_eq!(a.rules_for(&ops, "web").len(), 2);
}

#[test]
fn subjects_and_implicit_groups() {
    let a = Authorizer::new(&load("subjects.yaml"));
    check(
        &a,
        &[
            (
                "user:alice",
                req("get", "", "configmaps", "c", "web"),
                Some("by-user"),
            ),
            ("user:bob", req("get", "", "configmaps", "c", "web"), None),
            // A ServiceAccount subject without a namespace: the binding's.
            (
                "sa:web:frontend",
                req("list", "", "services", "", "web"),
                Some("by-local-sa"),
            ),
            (
                "sa:api:frontend",
                req("list", "", "services", "", "web"),
                None,
            ),
            (
                "raw:system:serviceaccount:web:frontend",
                req("list", "", "services", "", "web"),
                Some("by-local-sa"),
            ),
            // system:serviceaccounts:<ns>
            (
                "sa:web:other",
                req("watch", "", "endpoints", "", "web"),
                Some("by-sa-namespace-group"),
            ),
            (
                "sa:api:other",
                req("watch", "", "endpoints", "", "web"),
                None,
            ),
            // system:serviceaccounts
            (
                "sa:api:other",
                req("create", "", "events", "", "web"),
                Some("by-all-sas"),
            ),
            ("user:alice", req("create", "", "events", "", "web"), None),
            // system:authenticated; non-resource requests are cluster-wide.
            (
                "user:alice",
                Attributes::non_resource("get", "/version"),
                Some("everyone-reads-version"),
            ),
            (
                "sa:web:frontend",
                Attributes::non_resource("get", "/version"),
                Some("everyone-reads-version"),
            ),
            (
                "raw:alice",
                Attributes::non_resource("get", "/version"),
                None,
            ),
            (
                "anonymous",
                Attributes::non_resource("get", "/version"),
                None,
            ),
            // Group subject; `User: "*"` is not a wildcard.
            (
                "group:carol:sre",
                req("get", "", "secrets", "s", "web"),
                Some("by-group"),
            ),
            ("user:someone", req("get", "", "secrets", "s", "web"), None),
            (
                "raw:*",
                req("get", "", "secrets", "s", "web"),
                Some("by-group"),
            ),
        ],
    );
    let d = a.authorize(
        &who("sa:web:frontend"),
        &req("list", "", "services", "", "web"),
    );
    let c = d.cause().expect("allowed");
    assert_eq!(c.subject.namespace, None);
    assert!(
        c.to_string()
            .contains(r#"to ServiceAccount "frontend/web""#),
        "{c}"
    );
    let d = a.authorize(
        &who("group:carol:sre"),
        &req("get", "", "secrets", "s", "web"),
    );
    assert_eq!(d.cause().map(|c| c.subject.name.as_str()), Some("sre"));
}

#[test]
fn wildcards_subresources_and_urls() {
    let a = Authorizer::new(&load("wildcards.yaml"));
    check(
        &a,
        &[
            // verbs "*", resources "*" (incl. subresources) in one group
            (
                "user:dev",
                req("delete", "apps", "deployments", "d", "web"),
                Some("dev-apps"),
            ),
            (
                "user:dev",
                req("escalate", "apps", "whatever", "", "web"),
                Some("dev-apps"),
            ),
            (
                "user:dev",
                req("update", "apps", "deployments/status", "d", "web"),
                Some("dev-apps"),
            ),
            ("user:dev", req("get", "", "pods", "p", "web"), None),
            (
                "user:dev",
                req("delete", "apps", "deployments", "d", "api"),
                None,
            ),
            // apiGroups "*"
            (
                "user:dev",
                req("get", "", "configmaps", "c", "web"),
                Some("dev-configmaps"),
            ),
            (
                "user:dev",
                req("get", "example.io", "configmaps", "c", "web"),
                Some("dev-configmaps"),
            ),
            (
                "user:dev",
                req("update", "", "configmaps", "c", "web"),
                None,
            ),
            // "*/scale"
            (
                "sa:kube-system:hpa",
                req("update", "apps", "deployments/scale", "d", "web"),
                Some("autoscaler"),
            ),
            (
                "sa:kube-system:hpa",
                req("get", "", "replicationcontrollers/scale", "r", "web"),
                Some("autoscaler"),
            ),
            (
                "sa:kube-system:hpa",
                req("update", "apps", "deployments", "d", "web"),
                None,
            ),
            (
                "sa:kube-system:hpa",
                req("update", "apps", "deployments/status", "d", "web"),
                None,
            ),
            (
                "sa:kube-system:hpa",
                req("update", "apps", "deployments/scale", "d", "api"),
                None,
            ),
            // pods/exec is its own resource
            (
                "group:x:sre",
                req("create", "", "pods/exec", "api-0", "api"),
                Some("sre-exec"),
            ),
            (
                "group:x:sre",
                req("get", "", "pods/exec", "api-0", "api"),
                None,
            ),
            (
                "group:x:sre",
                req("create", "", "pods", "api-0", "api"),
                None,
            ),
            (
                "group:x:sre",
                req("create", "", "pods/attach", "api-0", "api"),
                None,
            ),
            (
                "group:x:sre",
                req("create", "", "pods/exec", "web-0", "web"),
                None,
            ),
            // nonResourceURLs: exact and trailing "*"
            (
                "sa:monitoring:prometheus",
                Attributes::non_resource("get", "/healthz"),
                Some("monitoring-probes"),
            ),
            (
                "sa:monitoring:prometheus",
                Attributes::non_resource("get", "/metrics/cadvisor"),
                Some("monitoring-probes"),
            ),
            (
                "sa:monitoring:prometheus",
                Attributes::non_resource("get", "/metrics"),
                None,
            ),
            (
                "sa:monitoring:prometheus",
                Attributes::non_resource("post", "/healthz"),
                None,
            ),
            (
                "sa:monitoring:prometheus",
                Attributes::non_resource("get", "/healthz/ready"),
                None,
            ),
            // …and only through ClusterRoleBindings.
            (
                "user:dev",
                Attributes::non_resource("get", "/healthz"),
                None,
            ),
        ],
    );

    // Enumeration: which pods in api can sre exec into?
    let sre = who("group:x:sre");
    let exec = req("create", "", "pods/exec", "", "api");
    assert!(matches!(
        a.allowed_names(&sre, &exec),
        ResourceNames::All(c) if c.binding_name == "sre-exec" && c.rule_index == 1
    ));
    assert!(a
        .allowed_names(&sre, &req("create", "", "pods/exec", "", "web"))
        .is_empty());
    let nonres = a.allowed_names(
        &who("sa:monitoring:prometheus"),
        &Attributes::non_resource("get", "/healthz"),
    );
    assert!(matches!(nonres, ResourceNames::All(_)));
}

#[test]
fn resource_names() {
    let a = Authorizer::new(&load("names.yaml"));
    check(
        &a,
        &[
            (
                "sa:auth:auth",
                req("get", "", "secrets", "jwt-signing-key", "auth"),
                Some("auth-reads-secrets"),
            ),
            (
                "sa:auth:auth",
                req("get", "", "secrets", "cookie-key", "auth"),
                Some("auth-rotates"),
            ),
            (
                "sa:auth:auth",
                req("get", "", "secrets", "db-password", "auth"),
                None,
            ),
            // No name: a name-restricted rule never matches.
            ("sa:auth:auth", req("list", "", "secrets", "", "auth"), None),
            (
                "sa:auth:auth",
                req("watch", "", "secrets", "", "auth"),
                None,
            ),
            (
                "sa:auth:auth",
                req("create", "", "secrets", "", "auth"),
                None,
            ),
            // A watch of one object carries its name.
            (
                "sa:auth:auth",
                req("watch", "", "secrets", "session-key", "auth"),
                Some("auth-reads-secrets"),
            ),
            (
                "sa:auth:auth",
                req("update", "", "secrets", "session-key", "auth"),
                Some("auth-rotates"),
            ),
            (
                "sa:auth:auth",
                req("update", "", "secrets", "jwt-signing-key", "auth"),
                None,
            ),
            (
                "sa:auth:auth",
                req("list", "", "configmaps", "", "auth"),
                Some("auth-reads-secrets"),
            ),
            (
                "sa:auth:auth",
                req("create", "", "pods/exec", "auth-0", "auth"),
                Some("auth-reads-secrets"),
            ),
            (
                "sa:auth:auth",
                req("create", "", "pods/exec", "auth-1", "auth"),
                None,
            ),
            (
                "sa:auth:auth",
                req("get", "", "secrets", "jwt-signing-key", "web"),
                None,
            ),
        ],
    );

    let auth = who("sa:auth:auth");
    let secrets = a.allowed_names(&auth, &req("get", "", "secrets", "", "auth"));
    let ResourceNames::Only(names) = &secrets else {
        panic!("secrets are name-restricted: {secrets:?}")
    };
    let listed: Vec<(&str, &str)> = names.iter().map(|(n, c)| (*n, c.binding_name)).collect();
    assert_eq!(
        listed,
        [
            ("cookie-key", "auth-rotates"),
            ("jwt-signing-key", "auth-reads-secrets"),
            ("session-key", "auth-reads-secrets"),
        ]
    );
    for name in [
        "cookie-key",
        "jwt-signing-key",
        "session-key",
        "db-password",
        "",
    ] {
        assert_eq!(
            secrets.allows(name).is_some(),
            a.authorize(&auth, &req("get", "", "secrets", name, "auth"))
                .is_allowed(),
            "{name:?}"
        );
    }
    assert!(matches!(
        a.allowed_names(&auth, &req("get", "", "configmaps", "", "auth")),
        ResourceNames::All(_)
    ));
    let exec = a.allowed_names(&auth, &req("create", "", "pods/exec", "", "auth"));
    assert!(exec.allows("auth-0").is_some() && exec.allows("auth-1").is_none());
    assert!(a
        .allowed_names(&auth, &req("delete", "", "secrets", "", "auth"))
        .is_empty());
}

#[test]
fn binding_to_missing_role() {
    let a = Authorizer::new(&load("missing.yaml"));
    let bob = who("user:bob");
    let Decision::NoOpinion { errors } = a.authorize(&bob, &req("get", "", "pods", "p", "web"))
    else {
        panic!("a ClusterRoleBinding to a Role grants nothing");
    };
    let described: Vec<(BindingKind, &str, String)> = errors
        .iter()
        .map(|e| (e.binding_kind, e.binding_name, e.to_string()))
        .collect();
    assert_eq!(
        described,
        [
            (
                BindingKind::ClusterRoleBinding,
                "cluster-to-role",
                r#"role.rbac.authorization.k8s.io "pod-reader" not found"#.to_string()
            ),
            (
                BindingKind::RoleBinding,
                "dangling",
                r#"role.rbac.authorization.k8s.io "does-not-exist" not found"#.to_string()
            ),
        ]
    );
    check(
        &a,
        &[(
            "user:bob",
            req("get", "", "configmaps", "c", "web"),
            Some("works"),
        )],
    );
    assert_eq!(a.rules_for(&bob, "web").len(), 1);
    let mut errors = 0;
    a.visit_rules_for(&bob, "web", |v| {
        errors += usize::from(v.is_err());
        true
    });
    assert_eq!(errors, 2);
}

#[test]
fn aggregated_cluster_role() {
    let a = Authorizer::new(&load("aggregation.yaml"));
    check(
        &a,
        &[
            (
                "sa:monitoring:prometheus",
                req("list", "", "endpoints", "", "web"),
                Some("prometheus-monitoring"),
            ),
            (
                "sa:monitoring:prometheus",
                req("get", "", "secrets", "s", "web"),
                None,
            ),
        ],
    );
    let d = a.authorize(
        &who("sa:monitoring:prometheus"),
        &req("watch", "", "pods", "", ""),
    );
    assert_eq!(
        d.cause().and_then(|c| c.aggregated_from),
        Some(("monitoring-endpoints", 0))
    );
    assert_eq!(
        a.role_rules(RoleKind::ClusterRole, "", "monitoring")
            .map(|r| r.len()),
        Some(1)
    );
}

// ---------------------------------------------------------------- index

/// The index only prefilters: on a generated manifest set, decisions equal
/// a direct reading of `VisitRulesFor` that scans every binding.
#[test]
fn index_agrees_with_scanning_every_binding() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let namespaces = ["a", "b", "c"];
    let verbs = ["get", "list", "create", "*"];
    let resources = ["pods", "secrets", "pods/exec", "*/scale", "*"];
    let rule = |next: &mut dyn FnMut(u64) -> u64| PolicyRule {
        api_groups: vec![["", "apps", "*"][next(3) as usize].to_string()],
        resources: vec![resources[next(5) as usize].to_string()],
        resource_names: if next(3) == 0 {
            vec![format!("n{}", next(3))]
        } else {
            vec![]
        },
        non_resource_urls: vec![],
        verbs: vec![verbs[next(4) as usize].to_string()],
    };
    let subject = |next: &mut dyn FnMut(u64) -> u64| {
        let (kind, name, namespace) = match next(4) {
            0 => ("User", format!("u{}", next(5)), None),
            1 => ("Group", format!("g{}", next(3)), None),
            2 => (
                "ServiceAccount",
                format!("s{}", next(3)),
                [None, Some(namespaces[next(3) as usize].to_string())][next(2) as usize].clone(),
            ),
            _ => ("Group", "system:serviceaccounts:b".to_string(), None),
        };
        palisade::k8s::Subject {
            kind: kind.into(),
            api_group: None,
            name,
            namespace,
        }
    };
    let mut objects = Vec::new();
    for i in 0..20 {
        let mut meta = palisade::k8s::ObjectMeta {
            name: format!("cr{i}"),
            ..Default::default()
        };
        let rules = (0..2).map(|_| rule(&mut next)).collect();
        objects.push(Resource::ClusterRole(Role {
            metadata: meta.clone(),
            aggregation_rule: None,
            rules,
        }));
        for ns in namespaces {
            meta.name = format!("r{i}");
            meta.namespace = Some(ns.to_string());
            let rules = (0..2).map(|_| rule(&mut next)).collect();
            objects.push(Resource::Role(Role {
                metadata: meta.clone(),
                aggregation_rule: None,
                rules,
            }));
        }
    }
    for i in 0..300 {
        let subjects = (0..1 + next(3)).map(|_| subject(&mut next)).collect();
        let cluster = next(4) == 0;
        let role_ref = palisade::k8s::RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: if next(3) == 0 { "Role" } else { "ClusterRole" }.into(),
            name: format!("{}{}", if next(2) == 0 { "r" } else { "cr" }, next(22)),
        };
        let metadata = palisade::k8s::ObjectMeta {
            name: format!("b{i}"),
            namespace: (!cluster).then(|| namespaces[next(3) as usize].to_string()),
            ..Default::default()
        };
        let b = RoleBinding {
            metadata,
            subjects,
            role_ref,
        };
        objects.push(if cluster {
            Resource::ClusterRoleBinding(b)
        } else {
            Resource::RoleBinding(b)
        });
    }

    let scan = |user: &UserInfo, attrs: &Attributes| -> bool {
        let role = |kind: &str, ns: &str, name: &str| {
            objects.iter().find_map(|o| match (o, kind) {
                (Resource::ClusterRole(r), "ClusterRole") if r.metadata.name == name => Some(r),
                (Resource::Role(r), "Role")
                    if r.metadata.name == name && r.metadata.namespace.as_deref() == Some(ns) =>
                {
                    Some(r)
                }
                _ => None,
            })
        };
        let allows = |b: &RoleBinding, ns: &str| {
            applies_to(user, &b.subjects, ns).is_some()
                && role(&b.role_ref.kind, ns, &b.role_ref.name)
                    .is_some_and(|r| r.rules.iter().any(|rule| rule_allows(attrs, rule)))
        };
        objects.iter().any(|o| match o {
            Resource::ClusterRoleBinding(b) => allows(b, ""),
            Resource::RoleBinding(b) => {
                !attrs.namespace.is_empty()
                    && b.metadata.namespace.as_deref() == Some(attrs.namespace.as_str())
                    && allows(b, &attrs.namespace)
            }
            _ => false,
        })
    };

    let a = Authorizer::new(&objects);
    let mut allowed = 0;
    for _ in 0..2000 {
        let user = match next(3) {
            0 => UserInfo::user(format!("u{}", next(5))),
            1 => UserInfo::group_member(format!("u{}", next(5)), [format!("g{}", next(3))]),
            _ => UserInfo::service_account(namespaces[next(3) as usize], &format!("s{}", next(3))),
        };
        let ns = ["", "a", "b", "c", "d"][next(5) as usize];
        let resource =
            ["pods", "secrets", "pods/exec", "deployments/scale", "nodes"][next(5) as usize];
        let attrs = req(
            ["get", "list", "create", "delete"][next(4) as usize],
            ["", "apps"][next(2) as usize],
            resource,
            ["", "n0", "n1", "n2"][next(4) as usize],
            ns,
        );
        let want = scan(&user, &attrs);
        assert_eq!(
            a.authorize(&user, &attrs).is_allowed(),
            want,
            "{user:?} {attrs:?}"
        );
        allowed += usize::from(want);
    }
    // The generated set is neither all-allow nor all-deny.
    assert!(allowed > 100 && allowed < 1900, "{allowed}");
}

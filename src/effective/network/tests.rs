use super::*;
use crate::k8s::{Labels, Resource};
use std::collections::BTreeSet;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ns(name: &str, l: &[(&str, &str)]) -> Namespace {
    Namespace {
        name: name.into(),
        labels: labels(l),
    }
}

fn pod(namespace: &str, name: &str, l: &[(&str, &str)]) -> Pod {
    Pod {
        namespace: namespace.into(),
        name: name.into(),
        labels: labels(l),
        ports: Vec::new(),
    }
}

fn with_ports(mut p: Pod, ports: &[(&str, u16, Protocol)]) -> Pod {
    p.ports = ports
        .iter()
        .map(|&(name, port, protocol)| ContainerPort {
            name: (!name.is_empty()).then(|| name.to_string()),
            port,
            protocol,
        })
        .collect();
    p
}

/// NetworkPolicies from a YAML stream.
fn policies(yaml: &str) -> Vec<NetworkPolicy> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| {
            let r: Resource = serde::Deserialize::deserialize(doc).expect("a NetworkPolicy");
            match r {
                Resource::NetworkPolicy(p) => p,
                other => panic!("not a NetworkPolicy: {}", other.kind()),
            }
        })
        .collect()
}

const TCP: Protocol = Protocol::Tcp;
const UDP: Protocol = Protocol::Udp;
const SCTP: Protocol = Protocol::Sctp;

fn id(c: &Cluster, name: &str) -> PodId {
    let (n, p) = name.split_once('/').expect("ns/name");
    c.pod_id(n, p).unwrap_or_else(|| panic!("no pod {name}"))
}

fn ep(c: &Cluster, name: &str) -> Endpoint {
    match name.parse::<IpAddr>() {
        Ok(a) => Endpoint::Ip(a),
        Err(_) => Endpoint::Pod(id(c, name)),
    }
}

fn can(a: &NetworkAccess, from: &str, to: &str, proto: Protocol, port: u16) -> bool {
    let c = a.cluster();
    a.allowed(ep(c, from), ep(c, to), proto, port)
}

/// Allowed pod pairs (`ns/a -> ns/b`), self pairs included.
fn pairs(a: &NetworkAccess) -> BTreeSet<String> {
    let c = a.cluster();
    a.connections()
        .pairs()
        .map(|(s, d, _)| format!("{} -> {}", c.pod_name(s), c.pod_name(d)))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The enumeration agrees with the pairwise and point queries: same pairs,
/// same ports, and each port of a few probes allowed iff listed.
fn assert_consistent(a: &NetworkAccess) {
    let c = a.cluster();
    let conns = a.connections();
    let listed: Vec<(PodId, PodId, PortSet)> = conns.pairs().collect();
    let listed_pairs: BTreeSet<(PodId, PodId)> = listed.iter().map(|(s, d, _)| (*s, *d)).collect();
    assert_eq!(listed_pairs.len(), listed.len(), "a pair listed twice");
    for (s, _) in c.pods() {
        for (d, _) in c.pods() {
            let between = a.between(s, d);
            let from_list = listed.iter().find(|(x, y, _)| (*x, *y) == (s, d));
            assert_eq!(
                between.as_ref().map(|b| &b.ports),
                from_list.map(|(_, _, p)| p),
                "{} -> {}",
                c.pod_name(s),
                c.pod_name(d)
            );
            for proto in Protocol::ALL {
                for port in [1, 53, 80, 443, 5000, 5432, 8080, 9000, 65535] {
                    let want = between
                        .as_ref()
                        .is_some_and(|b| b.ports.contains(proto, port));
                    assert_eq!(
                        a.allowed(Endpoint::Pod(s), Endpoint::Pod(d), proto, port),
                        want,
                        "{} -> {} {proto}/{port}",
                        c.pod_name(s),
                        c.pod_name(d)
                    );
                }
            }
        }
    }
    for conn in &conns.connections {
        let full = a.between(conn.src, conn.dst).expect("listed");
        assert_eq!(&full, conn, "causes differ");
    }
    // either side may drive the enumeration of pairs isolated on both
    assert_eq!(a.enumerate(Some(Direction::Ingress)), conns);
    assert_eq!(a.enumerate(Some(Direction::Egress)), conns);
}

/// Two namespaces, a few pods.
fn small() -> Cluster {
    Cluster::new(
        [ns("a", &[("team", "x")]), ns("b", &[("team", "y")])],
        [
            with_ports(
                pod("a", "web", &[("app", "web"), ("tier", "front")]),
                &[("http", 8080, TCP), ("dns", 53, UDP)],
            ),
            with_ports(pod("a", "db", &[("app", "db")]), &[("pg", 5432, TCP)]),
            pod("a", "job", &[("app", "job"), ("tier", "back")]),
            pod("b", "web", &[("app", "web")]),
            pod("b", "mon", &[("role", "monitoring")]),
        ],
    )
}

// ------------------------------------------------------------ isolation

#[test]
fn no_policy_means_everything_open() {
    let c = small();
    let a = evaluate::<NetworkPolicy>(&c, &[]);
    let conns = a.connections();
    assert!(conns.connections.is_empty());
    assert_eq!(conns.open_sources.len(), 5);
    assert_eq!(conns.open_destinations.len(), 5);
    assert!(can(&a, "a/web", "b/web", SCTP, 9));
    assert!(can(&a, "a/web", "8.8.8.8", UDP, 53));
    assert!(can(&a, "10.0.0.1", "a/db", TCP, 5432));
    assert_eq!(pairs(&a).len(), 25);
    assert_consistent(&a);
}

#[test]
fn ingress_deny_all_isolates_only_selected_pods_and_only_ingress() {
    let c = small();
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: []\n",
    );
    let a = evaluate(&c, &p);
    assert!(!can(&a, "a/web", "a/db", TCP, 5432));
    assert!(!can(&a, "1.2.3.4", "a/db", TCP, 5432));
    // its egress and every other pod untouched
    assert!(can(&a, "a/db", "a/web", TCP, 8080));
    assert!(can(&a, "a/db", "9.9.9.9", TCP, 443));
    assert!(can(&a, "b/web", "a/web", TCP, 1));
    assert!(a.is_isolated(id(&c, "a/db"), Direction::Ingress));
    assert!(!a.is_isolated(id(&c, "a/db"), Direction::Egress));
    let v = a.check(ep(&c, "a/web"), ep(&c, "a/db"), TCP, 5432);
    assert_eq!(v.egress, Side::NotIsolated);
    assert_eq!(v.ingress, Side::Denied(vec![PolicyId(0)]));
    assert_consistent(&a);
}

#[test]
fn absent_ingress_with_ingress_type_denies_all_ingress() {
    let c = small();
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    );
    let a = evaluate(&c, &p);
    for to in ["a/web", "a/db", "a/job"] {
        assert!(!can(&a, "b/web", to, TCP, 80), "{to}");
    }
    assert!(can(&a, "a/web", "b/web", TCP, 80));
    assert_consistent(&a);
}

#[test]
fn connection_needs_egress_and_ingress() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: in, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n",
        "---\nkind: NetworkPolicy\nmetadata: {name: out, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n",
        "  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: job}}}]\n",
    ));
    let a = evaluate(&c, &p);
    // db's ingress admits web, but web's egress only reaches job
    assert!(!can(&a, "a/web", "a/db", TCP, 5432));
    let v = a.check(ep(&c, "a/web"), ep(&c, "a/db"), TCP, 5432);
    assert!(v.ingress.admits() && !v.egress.admits());
    assert!(can(&a, "a/web", "a/job", TCP, 1));
    assert!(!can(&a, "a/job", "a/db", TCP, 5432));
    assert_consistent(&a);
}

#[test]
fn policies_are_a_union() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: one, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432}]\n",
        "---\nkind: NetworkPolicy\nmetadata: {name: two, namespace: a}\nspec:\n  podSelector: {}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: job}}}]\n",
        "---\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {}\n  ingress: []\n",
    ));
    let a = evaluate(&c, &p);
    assert!(can(&a, "a/web", "a/db", TCP, 5432));
    assert!(!can(&a, "a/web", "a/db", TCP, 5433));
    assert!(can(&a, "a/job", "a/db", UDP, 7));
    assert!(can(&a, "a/job", "a/web", TCP, 8080));
    assert!(!can(&a, "a/db", "a/web", TCP, 8080));
    let conn = a.between(id(&c, "a/web"), id(&c, "a/db")).expect("allowed");
    assert_eq!(
        conn.ingress,
        vec![Admission {
            cause: Cause::Rule(RuleRef {
                policy: PolicyId(0),
                direction: Direction::Ingress,
                index: 0
            }),
            ports: PortSet::of(TCP, PortRanges::single(5432)),
        }]
    );
    assert_eq!(conn.egress[0].cause, Cause::NotIsolated);
    assert_eq!(a.describe(conn.ingress[0].cause), "a/one ingress[0]");
    assert_eq!(a.isolating(id(&c, "a/db"), Direction::Ingress).len(), 3);
    assert_consistent(&a);
}

#[test]
fn same_pod_is_evaluated_like_any_pair() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: []\n",
        "---\nkind: NetworkPolicy\nmetadata: {name: self, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n",
    ));
    let a = evaluate(&c, &p);
    assert!(!can(&a, "a/db", "a/db", TCP, 5432));
    assert!(can(&a, "a/web", "a/web", TCP, 8080));
    assert!(can(&a, "a/job", "a/job", TCP, 1));
    assert!(!can(&a, "a/job", "a/web", TCP, 8080));
    assert_consistent(&a);
}

// ------------------------------------------------------------ selectors

#[test]
fn match_labels_are_anded_and_empty_selects_all() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web, tier: front}}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: job, tier: back}}}]\n",
        "---\nkind: NetworkPolicy\nmetadata: {name: q, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: job, tier: front}}\n  ingress: []\n",
    ));
    let a = evaluate(&c, &p);
    assert!(a.is_isolated(id(&c, "a/web"), Direction::Ingress));
    assert!(
        !a.is_isolated(id(&c, "a/job"), Direction::Ingress),
        "tier differs"
    );
    assert!(can(&a, "a/job", "a/web", TCP, 80));
    assert!(!can(&a, "a/db", "a/web", TCP, 80));
    assert_consistent(&a);
}

#[test]
fn match_expressions_operators() {
    let c = Cluster::new(
        [ns("n", &[])],
        [
            pod("n", "target", &[("role", "t")]),
            pod("n", "prod", &[("env", "prod")]),
            pod("n", "dev", &[("env", "dev")]),
            pod("n", "none", &[]),
            pod("n", "canary", &[("env", "prod"), ("canary", "")]),
        ],
    );
    let run = |expr: &str| -> BTreeSet<String> {
        let yaml = format!(
            "kind: NetworkPolicy\nmetadata: {{name: p, namespace: n}}\nspec:\n  podSelector: {{matchLabels: {{role: t}}}}\n  ingress:\n  - from: [{{podSelector: {{matchExpressions: [{expr}]}}}}]\n"
        );
        let p = policies(&yaml);
        let a = evaluate(&c, &p);
        assert_consistent(&a);
        c.pods()
            .filter(|(s, _)| a.allowed(Endpoint::Pod(*s), ep(&c, "n/target"), TCP, 80))
            .map(|(_, p)| p.name.clone())
            .filter(|n| n != "target")
            .collect()
    };
    assert_eq!(
        run("{key: env, operator: In, values: [prod, staging]}"),
        set(&["canary", "prod"])
    );
    // NotIn holds where the key is missing
    assert_eq!(
        run("{key: env, operator: NotIn, values: [prod]}"),
        set(&["dev", "none"])
    );
    assert_eq!(
        run("{key: env, operator: Exists}"),
        set(&["canary", "dev", "prod"])
    );
    assert_eq!(run("{key: env, operator: DoesNotExist}"), set(&["none"]));
    // expressions are ANDed with each other and with matchLabels
    assert_eq!(
        run("{key: env, operator: In, values: [prod]}, {key: canary, operator: DoesNotExist}"),
        set(&["prod"])
    );
}

#[test]
fn invalid_selectors_select_nothing() {
    let c = small();
    for expr in [
        "{key: app, operator: Equals, values: [web]}",
        "{key: app, operator: In, values: []}",
        "{key: app, operator: Exists, values: [web]}",
    ] {
        let yaml = format!(
            "kind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n  - from: [{{podSelector: {{matchExpressions: [{expr}]}}}}]\n"
        );
        let p = policies(&yaml);
        let a = evaluate(&c, &p);
        assert!(!can(&a, "a/web", "a/db", TCP, 5432), "{expr}");
        assert_eq!(a.problems().len(), 1, "{expr}");
        assert!(a.problems()[0]
            .message
            .contains("ingress[0].from[0].podSelector"));
        assert_consistent(&a);
    }
    // in the policy's own podSelector: the policy selects nothing
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchExpressions: [{key: app, operator: Bogus}]}\n  ingress: []\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "a/web", "a/db", TCP, 5432));
    assert_eq!(a.problems().len(), 1);
}

#[test]
fn peer_selectors_and_versus_or() {
    let c = Cluster::new(
        [ns("default", &[]), ns("ops", &[("team", "operations")])],
        [
            pod("default", "web", &[("app", "web")]),
            pod("default", "test", &[]),
            pod("default", "test-mon", &[("type", "monitoring")]),
            pod("ops", "test", &[]),
            pod("ops", "test-mon", &[("type", "monitoring")]),
        ],
    );
    // one peer with both selectors: pods of type=monitoring IN team=operations namespaces
    let and = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: operations}}\n      podSelector: {matchLabels: {type: monitoring}}\n",
    );
    let a = evaluate(&c, &and);
    let srcs = |a: &NetworkAccess| -> BTreeSet<String> {
        a.cluster()
            .pods()
            .filter(|(s, _)| a.allowed(Endpoint::Pod(*s), ep(&c, "default/web"), TCP, 80))
            .map(|(s, _)| c.pod_name(s))
            .collect()
    };
    assert_eq!(srcs(&a), set(&["ops/test-mon"]));
    assert_consistent(&a);
    // two peers: type=monitoring in the policy's namespace, OR any pod of team=operations
    let or = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: operations}}\n    - podSelector: {matchLabels: {type: monitoring}}\n",
    );
    let a = evaluate(&c, &or);
    assert_eq!(
        srcs(&a),
        set(&["default/test-mon", "ops/test", "ops/test-mon"])
    );
    assert!(
        !can(&a, "10.0.0.1", "default/web", TCP, 80),
        "selectors never match addresses"
    );
    assert_consistent(&a);
}

#[test]
fn namespace_selectors() {
    let c = Cluster::new(
        [ns("default", &[]), ns("prod", &[("purpose", "production")])],
        [
            pod("default", "web", &[("app", "web")]),
            pod("prod", "test", &[]),
            pod("dev", "test", &[]),
        ],
    );
    // the automatic kubernetes.io/metadata.name label, on declared and undeclared namespaces
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dev}}}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "dev/test", "default/web", TCP, 80));
    assert!(!can(&a, "prod/test", "default/web", TCP, 80));
    let prod = c.namespace(c.namespace_id("prod").expect("prod"));
    assert_eq!(
        prod.labels.get(NAMESPACE_NAME_LABEL).map(String::as_str),
        Some("prod")
    );
    assert_eq!(
        prod.labels.get("purpose").map(String::as_str),
        Some("production")
    );
    // namespaceSelector: {} = every pod of every namespace (not addresses)
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {}}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "dev/test", "default/web", TCP, 80));
    assert!(can(&a, "prod/test", "default/web", TCP, 80));
    assert!(!can(&a, "1.1.1.1", "default/web", TCP, 80));
    assert_consistent(&a);
    // podSelector alone: the policy's namespace only
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{podSelector: {}}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "default/web", "default/web", TCP, 80));
    assert!(!can(&a, "prod/test", "default/web", TCP, 80));
    assert_consistent(&a);
}

#[test]
fn policy_in_a_namespace_without_pods_selects_nothing() {
    let c = small();
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: elsewhere}\nspec:\n  podSelector: {}\n  ingress: []\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "a/web", "b/web", TCP, 80));
    assert_eq!(a.connections().open_destinations.len(), 5);
}

// ---------------------------------------------------------------- ports

#[test]
fn port_defaults_and_ranges() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n",
        "  - ports: [{port: 5432}]\n",           // protocol defaults to TCP
        "  - ports: [{protocol: UDP}]\n",        // every UDP port
        "  - ports: [{protocol: SCTP, port: 7000, endPort: 7010}]\n",
        "    from: [{podSelector: {matchLabels: {app: web}}}]\n",
    ));
    let a = evaluate(&c, &p);
    assert!(can(&a, "b/web", "a/db", TCP, 5432));
    assert!(can(&a, "b/web", "a/db", UDP, 1));
    assert!(can(&a, "b/web", "a/db", UDP, 65535));
    assert!(!can(&a, "b/web", "a/db", TCP, 5433));
    assert!(
        !can(&a, "b/web", "a/db", SCTP, 7005),
        "rule 2 is for app=web only"
    );
    assert!(can(&a, "a/web", "a/db", SCTP, 7000));
    assert!(can(&a, "a/web", "a/db", SCTP, 7010));
    assert!(!can(&a, "a/web", "a/db", SCTP, 7011));
    assert!(!can(&a, "a/web", "a/db", SCTP, 6999));
    let conn = a.between(id(&c, "a/web"), id(&c, "a/db")).expect("allowed");
    assert_eq!(conn.ports.to_string(), "TCP/5432 UDP/* SCTP/7000-7010");
    assert!(!conn.ports.other_protocols());
    // a rule without ports admits every protocol
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress: [{}]\n",
    );
    let a = evaluate(&c, &p);
    let conn = a.between(id(&c, "b/web"), id(&c, "a/db")).expect("allowed");
    assert!(conn.ports.is_all());
    assert_eq!(conn.ports.to_string(), "*/*");
    assert_consistent(&a);
}

#[test]
fn port_only_rule_admits_every_source() {
    let c = small();
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 8080}]\n",
    );
    let a = evaluate(&c, &p);
    for from in ["a/db", "b/mon", "a/web", "203.0.113.9", "2001:db8::1"] {
        assert!(can(&a, from, "a/web", TCP, 8080), "{from}");
        assert!(!can(&a, from, "a/web", TCP, 80), "{from}");
    }
    assert_consistent(&a);
}

#[test]
fn invalid_port_entries_match_nothing() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n",
        "  - ports: [{protocol: ICMP}, {port: 0}, {port: 70000}, {port: 10, endPort: 5}, {port: http, endPort: 90},",
        " {endPort: 90}, {port: Not_A_Name}, {port: '80'}]\n",
    ));
    let a = evaluate(&c, &p);
    assert_eq!(a.problems().len(), 8, "{:?}", a.problems());
    assert!(a.between(id(&c, "a/web"), id(&c, "a/db")).is_none());
    assert!(a.ip_access(id(&c, "a/db"), Direction::Ingress).is_empty());
    assert_consistent(&a);
}

#[test]
fn named_ports_resolve_against_the_destination() {
    let c = Cluster::new(
        [ns("n", &[])],
        [
            with_ports(
                pod("n", "api", &[("app", "api")]),
                &[("http", 8080, TCP), ("dns", 53, UDP)],
            ),
            with_ports(pod("n", "api2", &[("app", "api")]), &[("http", 9090, TCP)]),
            with_ports(
                pod("n", "client", &[("app", "client")]),
                &[("http", 1111, TCP)],
            ),
        ],
    );
    // ingress: against the selected pod
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec:\n  podSelector: {matchLabels: {app: api}}\n  ingress:\n  - ports: [{port: http}, {port: dns, protocol: TCP}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "n/client", "n/api", TCP, 8080));
    assert!(!can(&a, "n/client", "n/api", TCP, 9090));
    assert!(can(&a, "n/client", "n/api2", TCP, 9090));
    assert!(!can(&a, "n/client", "n/api2", TCP, 8080));
    assert!(
        !can(&a, "n/client", "n/api", TCP, 1111),
        "never the source's port"
    );
    assert!(
        !can(&a, "n/client", "n/api", UDP, 53),
        "dns is asked for as TCP"
    );
    assert!(!can(&a, "n/client", "n/api", TCP, 53));
    assert!(
        can(&a, "192.0.2.1", "n/api", TCP, 8080),
        "from an address too"
    );
    let grants = a.ip_access(id(&c, "n/api2"), Direction::Ingress);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].1.to_string(), "TCP/9090");
    assert_consistent(&a);
    // egress: against the destination pod; towards an address: nothing
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec:\n  podSelector: {matchLabels: {app: client}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: http}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "n/client", "n/api", TCP, 8080));
    assert!(can(&a, "n/client", "n/api2", TCP, 9090));
    assert!(!can(&a, "n/client", "n/api", TCP, 9090));
    assert!(
        !can(&a, "n/client", "n/api", TCP, 1111),
        "never the source's port"
    );
    assert!(!can(&a, "n/client", "8.8.8.8", TCP, 1111));
    assert!(!can(&a, "n/client", "8.8.8.8", TCP, 8080));
    assert!(a
        .ip_grants(id(&c, "n/client"), Direction::Egress)
        .is_empty());
    assert_consistent(&a);
}

#[test]
fn end_port_ranges() {
    let c = small();
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: b}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 32000, endPort: 32768}, {port: 443, protocol: UDP}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "b/web", "a/web", TCP, 32000));
    assert!(can(&a, "b/web", "a/web", TCP, 32768));
    assert!(!can(&a, "b/web", "a/web", TCP, 32769));
    assert!(!can(&a, "b/web", "a/web", UDP, 32000));
    assert!(can(&a, "b/web", "1.1.1.1", UDP, 443));
    assert!(can(&a, "b/web", "1.1.1.1", TCP, 32100));
    let conn = a.between(id(&c, "b/web"), id(&c, "a/db")).expect("allowed");
    assert_eq!(conn.ports.to_string(), "TCP/32000-32768 UDP/443");
    assert_consistent(&a);
}

// ---------------------------------------------------------------- ipBlock

#[test]
fn ip_block_with_except() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: web}}\n",
        "  policyTypes: [Ingress, Egress]\n",
        "  ingress:\n  - from: [{ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}}]\n    ports: [{port: 8080}]\n",
        "  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 192.168.0.0/16]}}]\n    ports: [{port: 443}]\n",
        "  - to: [{ipBlock: {cidr: '2001:db8::/32'}}]\n",
    ));
    let a = evaluate(&c, &p);
    assert!(can(&a, "172.17.0.9", "a/web", TCP, 8080));
    assert!(!can(&a, "172.17.1.9", "a/web", TCP, 8080));
    assert!(can(&a, "172.17.2.0", "a/web", TCP, 8080));
    assert!(!can(&a, "172.18.0.1", "a/web", TCP, 8080));
    assert!(!can(&a, "172.17.0.9", "a/web", TCP, 80));
    assert!(can(&a, "a/web", "8.8.8.8", TCP, 443));
    assert!(!can(&a, "a/web", "10.1.2.3", TCP, 443));
    assert!(!can(&a, "a/web", "192.168.1.1", TCP, 443));
    assert!(can(&a, "a/web", "2001:db8::5", SCTP, 9));
    assert!(!can(&a, "a/web", "2001:db9::5", TCP, 443));
    // ipBlock never matches pods, even 0.0.0.0/0
    assert!(!can(&a, "a/web", "b/web", TCP, 443));
    assert!(!can(&a, "b/web", "a/web", TCP, 8080));
    let grants = a.ip_grants(id(&c, "a/web"), Direction::Egress);
    assert_eq!(grants.len(), 2);
    assert_eq!(
        grants[0].ips.to_string(),
        IpSet::parse_cidr("0.0.0.0/0")
            .expect("cidr")
            .difference(&IpSet::parse_cidr("10.0.0.0/8").expect("cidr"))
            .difference(&IpSet::parse_cidr("192.168.0.0/16").expect("cidr"))
            .to_string()
    );
    assert!(grants[0].ips.cidrs().contains(&"11.0.0.0/8".to_string()));
    let ingress = a.ip_access(id(&c, "a/web"), Direction::Ingress);
    assert_eq!(ingress.len(), 1);
    assert_eq!(ingress[0].0.to_string(), "172.17.0.0/24,172.17.2.0/23,172.17.4.0/22,172.17.8.0/21,172.17.16.0/20,172.17.32.0/19,172.17.64.0/18,172.17.128.0/17");
    assert_consistent(&a);
}

#[test]
fn malformed_ip_blocks_match_nothing() {
    let c = small();
    for block in [
        "{ipBlock: {cidr: 10.0.0.0}}",
        "{ipBlock: {cidr: 10.0.0.0/33}}",
        "{ipBlock: {cidr: not-an-ip/8}}",
        "{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/24]}}",
        "{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}",
        "{ipBlock: {cidr: 10.0.0.0/8, except: [garbage]}}",
        "{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}",
        "{}",
    ] {
        let yaml = format!(
            "kind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{}}\n  ingress:\n  - from: [{block}]\n"
        );
        let p = policies(&yaml);
        let a = evaluate(&c, &p);
        assert!(!can(&a, "10.0.0.1", "a/web", TCP, 80), "{block}");
        assert!(!can(&a, "a/db", "a/web", TCP, 80), "{block}");
        assert_eq!(a.problems().len(), 1, "{block}");
    }
    // host bits below the prefix are ignored, like Go's net.ParseCIDR
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.1.2.3/16}}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "10.1.200.1", "a/web", TCP, 80));
    assert!(a.problems().is_empty());
}

#[test]
fn ip_sets_are_described_by_their_holes_when_shorter() {
    let cidr = |c: &str| IpSet::parse_cidr(c).expect("cidr");
    let holes = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "169.254.0.0/16",
        "198.51.100.20/32",
    ]
    .iter()
    .fold(IpSet::empty(), |acc, c| acc.union(&cidr(c)));
    let internet = cidr("0.0.0.0/0")
        .union(&cidr("::/0"))
        .difference(&holes.union(&cidr("fc00::/7")));
    assert_eq!(
        internet.describe(),
        "(0.0.0.0/0 except 10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 198.51.100.20/32), \
         (::/0 except fc00::/7)"
    );
    // One family with exceptions beside the other's blocks: the exceptions
    // must not read as the other family's.
    let mixed = cidr("0.0.0.0/0")
        .difference(&holes)
        .union(&cidr("2001:db8::/32"))
        .union(&cidr("2001:dbc::/32"));
    assert_eq!(
        mixed.describe(),
        "(0.0.0.0/0 except 10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 198.51.100.20/32), \
         2001:db8::/32, 2001:dbc::/32"
    );
    let v4_only = cidr("0.0.0.0/0").difference(&holes);
    assert_eq!(
        v4_only.describe(),
        "0.0.0.0/0 except 10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 198.51.100.20/32"
    );
    // A short list stays a list.
    let two = cidr("203.0.113.0/24").union(&cidr("2001:db8::/32"));
    assert_eq!(two.describe(), "203.0.113.0/24, 2001:db8::/32");
    assert_eq!(IpSet::empty().describe(), "none");
    assert_eq!(IpSet::all().describe(), "0.0.0.0/0, ::/0");
    // One family less one block: two blocks (or fewer) are listed as such.
    assert_eq!(
        cidr("0.0.0.0/0")
            .difference(&cidr("128.0.0.0/1"))
            .describe(),
        "0.0.0.0/1"
    );
}

#[test]
fn ip_sets() {
    let all = IpSet::all();
    assert_eq!(all.cidrs(), vec!["0.0.0.0/0", "::/0"]);
    let v4 = IpSet::parse_cidr("0.0.0.0/0").expect("cidr");
    let hole = IpSet::parse_cidr("10.0.0.0/8").expect("cidr");
    let d = v4.difference(&hole);
    assert_eq!(d.cidrs().len(), 8);
    assert!(!d.contains("10.2.3.4".parse().expect("ip")));
    assert!(d.contains("11.0.0.0".parse().expect("ip")));
    assert_eq!(d.union(&hole), v4);
    assert_eq!(all.difference(&all), IpSet::empty());
    assert_eq!(
        IpSet::parse_cidr("::/0").expect("cidr").cidrs(),
        vec!["::/0".to_string()]
    );
    let r: Vec<_> = IpSet::parse_cidr("192.0.2.128/25")
        .expect("cidr")
        .v4_ranges()
        .collect();
    assert_eq!(
        r,
        vec![(
            "192.0.2.128".parse().expect("ip"),
            "192.0.2.255".parse().expect("ip")
        )]
    );
    for bad in [
        "",
        "/",
        "1.2.3.4/",
        "1.2.3.4/-1",
        "1.2.3.4/+8",
        "::/129",
        "1.2.3/8",
    ] {
        assert_eq!(IpSet::parse_cidr(bad), None, "{bad:?}");
    }
    // partition: overlapping grants add up
    let a = IpSet::parse_cidr("10.0.0.0/8").expect("cidr");
    let b = IpSet::parse_cidr("10.1.0.0/16").expect("cidr");
    let pa = PortSet::of(TCP, PortRanges::single(80));
    let pb = PortSet::of(TCP, PortRanges::single(443));
    let parts = partition_by_ports([(&a, &pa), (&b, &pb)]);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].0, a.difference(&b));
    assert_eq!(parts[0].1, pa);
    assert_eq!(parts[1].0, b);
    assert_eq!(parts[1].1.to_string(), "TCP/80,443");
    let parts = partition_by_ports([(&all, &pa)]);
    assert_eq!(parts, vec![(all.clone(), pa.clone())]);
}

#[test]
fn port_sets() {
    let a = PortSet::of(TCP, PortRanges::range(80, 90));
    let b = PortSet::of(TCP, PortRanges::range(85, 100))
        .union(&PortSet::of(UDP, PortRanges::single(53)));
    assert_eq!(a.union(&b).to_string(), "TCP/80-100 UDP/53");
    assert_eq!(a.intersection(&b).to_string(), "TCP/85-90");
    assert!(a
        .intersection(&PortSet::of(UDP, PortRanges::full()))
        .is_empty());
    assert_eq!(PortSet::all().intersection(&a), a);
    assert_eq!(
        PortRanges::single(5).union(&PortRanges::single(6)).ranges(),
        &[(5, 6)]
    );
    assert!(PortRanges::range(0, 0).is_empty());
    assert!(PortRanges::range(0, 65535).is_full());
}

// ---------------------------------------------------------- policyTypes

#[test]
fn policy_types_defaulting() {
    let c = small();
    let web = id(&c, "a/web");
    let run = |spec: &str| {
        let yaml = format!(
            "kind: NetworkPolicy\nmetadata: {{name: p, namespace: a}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n{spec}"
        );
        let p = policies(&yaml);
        let a = evaluate(&c, &p);
        (
            a.is_isolated(web, Direction::Ingress),
            a.is_isolated(web, Direction::Egress),
        )
    };
    // absent: Ingress always, Egress iff egress has rules
    assert_eq!(run(""), (true, false));
    assert_eq!(
        run("  egress:\n  - to: [{podSelector: {}}]\n"),
        (true, true)
    );
    assert_eq!(run("  egress: []\n"), (true, false));
    assert_eq!(run("  policyTypes: []\n  egress:\n  - {}\n"), (true, true));
    // given: exactly those
    assert_eq!(run("  policyTypes: [Egress]\n"), (false, true));
    assert_eq!(
        run("  policyTypes: [Egress]\n  ingress: []\n"),
        (false, true)
    );
    assert_eq!(run("  policyTypes: [Ingress, Egress]\n"), (true, true));
    assert_eq!(
        run("  policyTypes: [Ingress]\n  egress:\n  - {}\n"),
        (true, false)
    );
    // unknown type: rejected, so the policy has no effect
    assert_eq!(run("  policyTypes: [ingress]\n"), (false, false));
}

#[test]
fn egress_deny_with_dns_allowed() {
    let c = Cluster::new(
        [ns("default", &[]), ns("kube-system", &[])],
        [
            pod("default", "app", &[("app", "foo")]),
            pod("default", "web", &[("app", "web")]),
            with_ports(
                pod("kube-system", "coredns", &[("k8s-app", "kube-dns")]),
                &[
                    ("dns", 53, UDP),
                    ("dns-tcp", 53, TCP),
                    ("metrics", 9153, TCP),
                ],
            ),
        ],
    );
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: deny-egress, namespace: default}\nspec:\n  podSelector: {matchLabels: {app: foo}}\n",
        "  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n",
        "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n",
    ));
    let a = evaluate(&c, &p);
    assert!(can(&a, "default/app", "kube-system/coredns", UDP, 53));
    assert!(can(&a, "default/app", "kube-system/coredns", TCP, 53));
    assert!(!can(&a, "default/app", "kube-system/coredns", TCP, 9153));
    assert!(!can(&a, "default/app", "default/web", TCP, 80));
    assert!(!can(&a, "default/app", "8.8.8.8", UDP, 53));
    assert!(can(&a, "default/web", "default/app", TCP, 80));
    assert!(a
        .ip_grants(id(&c, "default/app"), Direction::Egress)
        .is_empty());
    assert_consistent(&a);
}

// --------------------------------------------------------- enumeration

#[test]
fn enumeration_reports_open_pairs_symbolically() {
    let c = small();
    let p = policies(concat!(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchLabels: {app: db}}\n",
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n",
    ));
    let a = evaluate(&c, &p);
    let conns = a.connections();
    assert_eq!(conns.open_sources.len(), 5);
    assert_eq!(conns.open_destinations.len(), 4);
    assert_eq!(conns.connections.len(), 1);
    assert_eq!(c.pod_name(conns.connections[0].src), "a/web");
    assert_eq!(pairs(&a).len(), 5 * 4 + 1);
    assert_consistent(&a);
}

/// A tiny deterministic generator (xorshift), for randomized clusters.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn random_selector(r: &mut Rng) -> String {
    match r.next() % 6 {
        0 => "{}".into(),
        1 => format!("{{matchLabels: {{app: {}}}}}", r.pick(&["a", "b", "c"])),
        2 => format!(
            "{{matchExpressions: [{{key: tier, operator: {}, values: [x]}}]}}",
            r.pick(&["In", "NotIn"])
        ),
        3 => format!(
            "{{matchExpressions: [{{key: {}, operator: {}}}]}}",
            r.pick(&["tier", "app", "env"]),
            r.pick(&["Exists", "DoesNotExist"])
        ),
        4 => format!(
            "{{matchLabels: {{app: {}}}, matchExpressions: [{{key: tier, operator: In, values: [x, y]}}]}}",
            r.pick(&["a", "b"])
        ),
        _ => format!("{{matchLabels: {{env: {}}}}}", r.pick(&["prod", "dev"])),
    }
}

fn random_peer(r: &mut Rng) -> String {
    match r.next() % 5 {
        0 => format!("{{podSelector: {}}}", random_selector(r)),
        1 => format!("{{namespaceSelector: {}}}", random_selector(r)),
        2 => format!(
            "{{namespaceSelector: {}, podSelector: {}}}",
            random_selector(r),
            random_selector(r)
        ),
        3 => "{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}".into(),
        _ => format!("{{podSelector: {}}}", random_selector(r)),
    }
}

fn random_ports(r: &mut Rng) -> String {
    match r.next() % 5 {
        0 => String::new(),
        1 => "    ports: [{port: 80}]\n".into(),
        2 => "    ports: [{port: http}, {port: dns, protocol: UDP}]\n".into(),
        3 => "    ports: [{port: 5000, endPort: 9000}, {protocol: UDP}]\n".into(),
        _ => "    ports: [{port: 443}, {protocol: SCTP, port: 80}]\n".into(),
    }
}

fn random_rules(r: &mut Rng, key: &str) -> String {
    let mut s = String::new();
    for _ in 0..(r.next() % 3) {
        match r.next() % 4 {
            0 => s.push_str("  - {}\n"),
            _ => {
                let peers: Vec<String> = (0..1 + r.next() % 2).map(|_| random_peer(r)).collect();
                s.push_str(&format!("  - {key}: [{}]\n", peers.join(", ")));
                s.push_str(&random_ports(r));
            }
        }
    }
    s
}

#[test]
fn enumeration_matches_pairwise_queries_on_random_clusters() {
    let namespaces = ["n1", "n2", "n3"];
    let mut both_isolated = 0;
    for seed in 1..=150u64 {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let nss: Vec<Namespace> = namespaces
            .iter()
            .map(|n| {
                let l: Vec<(&str, &str)> = match r.next() % 3 {
                    0 => vec![],
                    1 => vec![("env", "prod")],
                    _ => vec![("env", "dev"), ("app", "a")],
                };
                ns(n, &l)
            })
            .collect();
        let pods: Vec<Pod> = (0..10)
            .map(|i| {
                let mut l = vec![("app", r.pick(&["a", "b", "c"]))];
                if r.next().is_multiple_of(2) {
                    l.push(("tier", r.pick(&["x", "y"])));
                }
                let ports = match r.next() % 3 {
                    0 => vec![],
                    1 => vec![("http", 8080, TCP)],
                    _ => vec![("http", 80, TCP), ("dns", 53, UDP)],
                };
                with_ports(pod(r.pick(&namespaces), &format!("p{i}"), &l), &ports)
            })
            .collect();
        let c = Cluster::new(nss, pods);
        let mut yaml = Vec::new();
        for i in 0..(2 + r.next() % 5) {
            let types = r.pick(&[
                "",
                "  policyTypes: [Egress]\n",
                "  policyTypes: [Ingress, Egress]\n",
            ]);
            let mut s = format!(
                "kind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: {}}}\nspec:\n  podSelector: {}\n{types}",
                r.pick(&namespaces),
                random_selector(&mut r)
            );
            let ingress = random_rules(&mut r, "from");
            if !ingress.is_empty() {
                s.push_str("  ingress:\n");
                s.push_str(&ingress);
            }
            let egress = random_rules(&mut r, "to");
            if !egress.is_empty() {
                s.push_str("  egress:\n");
                s.push_str(&egress);
            }
            yaml.push(s);
        }
        let p = policies(&yaml.join("---\n"));
        let a = evaluate(&c, &p);
        assert!(a.problems().is_empty(), "seed {seed}: {:?}", a.problems());
        assert_consistent(&a);
        let conns = a.connections();
        both_isolated += conns
            .connections
            .iter()
            .filter(|c| {
                a.is_isolated(c.src, Direction::Egress) && a.is_isolated(c.dst, Direction::Ingress)
            })
            .count();
    }
    assert!(
        both_isolated > 100,
        "the cases exercise pairs isolated on both sides"
    );
}

#[test]
fn enumeration_scales_with_the_answer_not_the_pods() {
    // 10,000 pods in 100 namespaces, every namespace default-deny both
    // ways, one allowed service edge per namespace: 100 connections.
    let mut pods = Vec::new();
    for n in 0..100 {
        for i in 0..100 {
            let app = match i {
                0 => "front",
                1 => "back",
                _ => "other",
            };
            pods.push(with_ports(
                pod(
                    &format!("ns{n}"),
                    &format!("p{i}"),
                    &[("app", app), ("i", &i.to_string())],
                ),
                &[("http", 8080, TCP)],
            ));
        }
    }
    let c = Cluster::new([], pods);
    let mut yaml = Vec::new();
    for n in 0..100 {
        yaml.push(format!(concat!(
            "kind: NetworkPolicy\nmetadata: {{name: deny, namespace: ns{n}}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n",
            "---\nkind: NetworkPolicy\nmetadata: {{name: back, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: back}}}}\n",
            "  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: front}}}}}}]\n    ports: [{{port: http}}]\n",
            "---\nkind: NetworkPolicy\nmetadata: {{name: front, namespace: ns{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: front}}}}\n",
            "  policyTypes: [Egress]\n  egress:\n  - to: [{{podSelector: {{matchLabels: {{app: back}}}}}}]\n"),
            n = n));
    }
    let p = policies(&yaml.join("---\n"));
    let start = std::time::Instant::now();
    let a = evaluate(&c, &p);
    let conns = a.connections();
    let elapsed = start.elapsed();
    assert!(conns.open_sources.is_empty() && conns.open_destinations.is_empty());
    assert_eq!(conns.connections.len(), 100);
    assert!(conns
        .connections
        .iter()
        .all(|c| c.ports.to_string() == "TCP/8080"));
    // generous bound for unoptimized builds on a busy machine; pairwise
    // evaluation of 10^8 pairs would take far longer
    assert!(elapsed.as_secs() < 20, "{elapsed:?}");
}

// ----------------------------------------------------------- resources

#[test]
fn cluster_from_resources() {
    let yaml = concat!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: t}}\n",
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\n",
        "spec:\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n",
        "      - name: c\n        image: i\n        ports: [{name: http, containerPort: 8080}, {containerPort: 9090, protocol: UDP}, {containerPort: 0}, {containerPort: 1, protocol: bogus}]\n",
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  template:\n    metadata: {labels: {app: worker}}\n",
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: other}\nspec:\n  podSelector: {}\n",
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: shop}\n",
    );
    let resources: Vec<Resource> = serde_yaml::Deserializer::from_str(yaml)
        .map(|d| serde::Deserialize::deserialize(d).expect("resource"))
        .collect();
    let (c, policies) = Cluster::from_resources(&resources);
    assert_eq!(policies.len(), 1);
    let names: Vec<&str> = c.namespaces().map(|(_, n)| n.name.as_str()).collect();
    assert_eq!(names, vec!["shop", "default", "other"]);
    for (_, n) in c.namespaces() {
        assert_eq!(n.labels.get(NAMESPACE_NAME_LABEL), Some(&n.name));
    }
    let shop = c.namespace(c.namespace_id("shop").expect("shop"));
    assert_eq!(shop.labels.get("team").map(String::as_str), Some("t"));
    let api = c.pod(id(&c, "shop/api"));
    assert_eq!(api.labels.get("app").map(String::as_str), Some("api"));
    assert_eq!(
        api.ports,
        vec![
            ContainerPort {
                name: Some("http".into()),
                port: 8080,
                protocol: TCP
            },
            ContainerPort {
                name: None,
                port: 9090,
                protocol: UDP
            },
        ]
    );
    assert!(c.pod_id("default", "worker").is_some());
    assert_eq!(c.pods_in(c.namespace_id("shop").expect("shop")).count(), 1);
}

#[test]
fn relabelling_a_namespace_updates_its_index() {
    let mut c = Cluster::new([], [pod("late", "p", &[])]);
    c.add_namespace("late", labels(&[("env", "prod")]));
    c.add_pod(pod("x", "target", &[("app", "t")]));
    let p = policies(
        "kind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {env: prod}}}]\n",
    );
    let a = evaluate(&c, &p);
    assert!(can(&a, "late/p", "x/target", TCP, 80));
    c.add_namespace("late", labels(&[("env", "dev")]));
    let a = evaluate(&c, &p);
    assert!(!can(&a, "late/p", "x/target", TCP, 80));
    assert_consistent(&a);
}

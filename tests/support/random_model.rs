//! Random *valid* models for property tests (tests/properties.rs): a
//! proptest strategy for a [`Spec`] — indices into lists that are resolved
//! when the text is written, so every shrink is still a valid model — and
//! [`Spec::render`], which writes it as `.sec` text.
//!
//! What varies: 1–4 namespaces; 2–24 apps with 0–3 ports (some UDP);
//! shared pods of 2–3 apps of one namespace; stores in and outside the
//! cluster (IPv4 and IPv6 addresses); externals; 1–3 internal personas and
//! an external one; 0–2 environments; the API server; and statements: app →
//! app ports (several at once, to itself too), app → store levels, app →
//! external, app → `internet`, app → `kube`, an in-cluster store → an
//! external, an outside store or `internet`, persona operations on apps and
//! on whole namespaces, persona → store levels, persona / `internet` →
//! app ports through the ingress, `in ENV` on any of them, and `accept`s.
//! Pod groups (apps on their own + shared pods + in-cluster stores) come to
//! about 2–30.

use proptest::prelude::*;
use proptest::sample::Index;
use std::fmt::Write as _;

const TCP_PORTS: &[u16] = &[80, 443, 5000, 8080, 8081, 9000, 9090, 9100];
const UDP_PORTS: &[u16] = &[514, 5353];
const IN_CLUSTER_ENGINES: &[&str] = &["postgres", "redis", "mysql", "mongodb"];
const CLASSIFICATIONS: &[&str] = &["public", "internal", "confidential", "restricted"];
const LEVELS: &[&str] = &["read", "write", "admin"];
const OPERATIONS: &[&str] = palisade::model::Operation::NAMES;
const KUBE_RULES: &[&str] = &[
    "get configmaps",
    "list pods, watch pods",
    "get leases.coordination.k8s.io, update leases.coordination.k8s.io",
];
const INTERNET_PORTS: &[u16] = &[443, 6514];
const ENVIRONMENTS: &[&str] = &["dev", "prod"];
const ACCEPTABLE: &[&str] = &[
    "namespace-wide-grant",
    "shared-pod-widening",
    "exec-inherits-identity",
];

#[derive(Clone, Debug)]
pub struct AppSpec {
    ns: Index,
    tcp: Vec<u16>,
    udp: Option<u16>,
}

#[derive(Clone, Debug)]
pub struct StoreSpec {
    /// `Some(namespace)`: in the cluster; `None`: outside, at an address.
    in_cluster: Option<Index>,
    engine: Index,
    classification: Option<Index>,
    v6: bool,
}

#[derive(Clone, Debug)]
pub struct ExternalSpec {
    v6: bool,
    smtp: bool,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    AppApp {
        src: Index,
        dst: Index,
        ports: Index,
        all: bool,
    },
    AppStore {
        src: Index,
        store: Index,
        level: Index,
    },
    AppExternal {
        src: Index,
        ext: Index,
    },
    AppInternet {
        src: Index,
        port: Index,
    },
    AppKube {
        src: Index,
        rule: Index,
    },
    /// An in-cluster store's egress (backups): to an external, an outside
    /// store or `internet`, picked by `target` among them.
    StoreEgress {
        store: Index,
        target: Index,
        port: Index,
    },
    PersonaOps {
        persona: Index,
        targets: Vec<Index>,
        /// `namespace X` (X: the namespace of the app at this index), or
        /// with `star`, `*`.
        namespace: Option<Index>,
        star: bool,
        ops: Vec<usize>,
    },
    PersonaStore {
        persona: Index,
        store: Index,
        write: bool,
    },
    Inbound {
        internet: bool,
        app: Index,
        port: Index,
    },
    Accept {
        lint: Index,
        persona: Index,
        app: Index,
    },
}

#[derive(Clone, Debug)]
pub struct Spec {
    /// Whether personas with `groups` share one group (`oidc:all`) besides
    /// their own: see `spec_sharing_groups`.
    shared_group: bool,
    /// Custom DNS, label domain and private ranges (IPv6 included).
    custom_platform: bool,
    namespaces: usize,
    environments: usize,
    api_server: bool,
    apps: Vec<AppSpec>,
    pods: Vec<(Index, usize)>,
    stores: Vec<StoreSpec>,
    externals: Vec<ExternalSpec>,
    /// Clearance, and how RBAC knows the persona: a group, groups and
    /// users, or a ServiceAccount.
    personas: Vec<(Option<Index>, Index)>,
    customer: bool,
    stmts: Vec<(Stmt, Option<Index>)>,
}

fn app_spec() -> impl Strategy<Value = AppSpec> {
    (
        any::<Index>(),
        proptest::sample::subsequence(TCP_PORTS.to_vec(), 0..=3),
        proptest::option::weighted(0.15, proptest::sample::select(UDP_PORTS.to_vec())),
    )
        .prop_map(|(ns, tcp, udp)| AppSpec { ns, tcp, udp })
}

fn store_spec() -> impl Strategy<Value = StoreSpec> {
    (
        proptest::option::weighted(0.7, any::<Index>()),
        any::<Index>(),
        proptest::option::of(any::<Index>()),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(in_cluster, engine, classification, v6)| StoreSpec {
            in_cluster,
            engine,
            classification,
            v6,
        })
}

fn stmt() -> impl Strategy<Value = Stmt> {
    let i = || any::<Index>();
    prop_oneof![
        6 => (i(), i(), i(), proptest::bool::weighted(0.2))
            .prop_map(|(src, dst, ports, all)| Stmt::AppApp { src, dst, ports, all }),
        3 => (i(), i(), i()).prop_map(|(src, store, level)| Stmt::AppStore { src, store, level }),
        1 => (i(), i()).prop_map(|(src, ext)| Stmt::AppExternal { src, ext }),
        1 => (i(), i()).prop_map(|(src, port)| Stmt::AppInternet { src, port }),
        1 => (i(), i()).prop_map(|(src, rule)| Stmt::AppKube { src, rule }),
        1 => (i(), i(), i()).prop_map(|(store, target, port)| Stmt::StoreEgress { store, target, port }),
        4 => (
            i(),
            proptest::collection::vec(i(), 1..=3),
            proptest::option::weighted(0.2, i()),
            proptest::bool::weighted(0.2),
            proptest::sample::subsequence((0..OPERATIONS.len()).collect::<Vec<_>>(), 1..=3),
        )
            .prop_map(|(persona, targets, namespace, star, ops)| Stmt::PersonaOps {
                persona,
                targets,
                namespace,
                star,
                ops,
            }),
        2 => (i(), i(), any::<bool>())
            .prop_map(|(persona, store, write)| Stmt::PersonaStore { persona, store, write }),
        2 => (any::<bool>(), i(), i()).prop_map(|(internet, app, port)| Stmt::Inbound {
            internet,
            app,
            port
        }),
        1 => (i(), i(), i()).prop_map(|(lint, persona, app)| Stmt::Accept { lint, persona, app }),
    ]
}

/// A random valid model; personas share no RBAC subject.
pub fn spec() -> impl Strategy<Value = Spec> {
    any_spec(false)
}

/// A random valid model whose personas with `groups` all share a group.
pub fn spec_sharing_groups() -> impl Strategy<Value = Spec> {
    any_spec(true)
}

fn any_spec(shared_group: bool) -> impl Strategy<Value = Spec> {
    (
        (
            1usize..=4,
            0usize..=2,
            any::<bool>(),
            any::<bool>(),
            proptest::bool::weighted(0.3),
        ),
        proptest::collection::vec(app_spec(), 2..=24),
        proptest::collection::vec((any::<Index>(), 2usize..=3), 0..=4),
        proptest::collection::vec(store_spec(), 0..=4),
        proptest::collection::vec(
            (any::<bool>(), any::<bool>()).prop_map(|(v6, smtp)| ExternalSpec { v6, smtp }),
            0..=3,
        ),
        proptest::collection::vec(
            (proptest::option::of(any::<Index>()), any::<Index>()),
            1..=3,
        ),
        proptest::collection::vec(
            (stmt(), proptest::option::weighted(0.25, any::<Index>())),
            0..=40,
        ),
    )
        .prop_map(
            move |(
                (namespaces, environments, api_server, customer, custom_platform),
                apps,
                pods,
                stores,
                externals,
                personas,
                stmts,
            )| Spec {
                shared_group,
                custom_platform,
                namespaces,
                environments,
                api_server,
                apps,
                pods,
                stores,
                externals,
                personas,
                customer,
                stmts,
            },
        )
}

impl Spec {
    fn ns_of(&self, app: usize) -> usize {
        self.apps[app].ns.index(self.namespaces)
    }

    /// Port names and numbers of an app: `p8080`, `p514` (`514/udp`).
    fn ports(&self, app: usize) -> Vec<(String, String)> {
        let a = &self.apps[app];
        let mut out: Vec<(String, String)> = (a.tcp.iter())
            .map(|n| (format!("p{n}"), n.to_string()))
            .collect();
        if let Some(n) = a.udp {
            out.push((format!("p{n}"), format!("{n}/udp")));
        }
        out
    }

    /// The shared pods: each anchor app with up to `size - 1` other apps of
    /// its namespace that are in no pod yet and whose ports do not clash.
    fn shared_pods(&self) -> Vec<Vec<usize>> {
        let mut taken = vec![false; self.apps.len()];
        let mut out = Vec::new();
        for (anchor, size) in &self.pods {
            let a = anchor.index(self.apps.len());
            if taken[a] {
                continue;
            }
            let mut members = vec![a];
            let mut ports: Vec<(String, String)> = self.ports(a);
            for b in (0..self.apps.len()).map(|k| (a + 1 + k) % self.apps.len()) {
                if members.len() == *size {
                    break;
                }
                let clash = (self.ports(b).iter()).any(|(_, n)| ports.iter().any(|(_, m)| n == m));
                if b == a || taken[b] || self.ns_of(b) != self.ns_of(a) || clash {
                    continue;
                }
                ports.extend(self.ports(b));
                members.push(b);
            }
            if members.len() < 2 {
                continue;
            }
            for &m in &members {
                taken[m] = true;
            }
            out.push(members);
        }
        out
    }

    /// The model as `.sec` text.
    pub fn render(&self) -> String {
        let mut t = String::new();
        t.push_str("system random \"A random model (tests/support/random_model.rs)\"\n\n");
        t.push_str("platform {\n  kubernetes = \"1.30\"\n");
        t.push_str("  ingress = { namespace = \"ingress-nginx\", pods = { \"app.kubernetes.io/name\" = \"ingress-nginx\" } }\n");
        if self.api_server {
            t.push_str("  api_server = { address = \"172.20.0.10/32\", port = 6443 }\n");
        }
        if self.custom_platform {
            t.push_str(concat!(
                "  dns = { namespace = \"dns-system\", pods = { \"app\" = \"coredns\", \"tier\" = \"dns\" } }\n",
                "  label_domain = \"net.random.example\"\n",
                "  private_ranges = [\"10.0.0.0/8\", \"172.16.0.0/12\", \"203.0.113.0/26\", \"fd00::/8\", \"2001:db8:e0::/44\"]\n",
            ));
        }
        t.push_str("}\n");
        for env in &ENVIRONMENTS[..self.environments] {
            writeln!(t, "environment {env}").unwrap();
        }
        for ns in 0..self.namespaces {
            writeln!(t, "namespace ns{ns}").unwrap();
        }
        for (p, (clearance, subject)) in self.personas.iter().enumerate() {
            match subject.index(4) {
                0 if self.shared_group => write!(t, "persona p{p} {{ groups = [\"oidc:p{p}\", \"oidc:all\"], users = [\"u{p}@example.com\"]"),
                0 => write!(t, "persona p{p} {{ groups = [\"oidc:p{p}\", \"oidc:p{p}-oncall\"], users = [\"u{p}@example.com\"]"),
                1 => write!(t, "persona p{p} {{ service_account = \"argocd/robot-{p}\""),
                _ => write!(t, "persona p{p} {{ group = \"oidc:p{p}\""),
            }
            .unwrap();
            if let Some(c) = clearance {
                write!(t, "  clearance = {}", c.get(CLASSIFICATIONS)).unwrap();
            }
            t.push_str(" }\n");
        }
        if self.customer {
            t.push_str("persona customer { external }\n");
        }
        for (i, app) in self.apps.iter().enumerate() {
            let _ = app;
            write!(
                t,
                "app a{i} in ns{} {{ image = \"ghcr.io/acme/a{i}:1.0\"",
                self.ns_of(i)
            )
            .unwrap();
            let ports = self.ports(i);
            if !ports.is_empty() {
                let list: Vec<String> = ports.iter().map(|(n, v)| format!("{n} = {v}")).collect();
                write!(t, "  ports = {{ {} }}", list.join(", ")).unwrap();
            }
            t.push_str(" }\n");
        }
        for (k, members) in self.shared_pods().iter().enumerate() {
            let names: Vec<String> = members.iter().map(|m| format!("a{m}")).collect();
            writeln!(t, "pod pod{k} = [{}]", names.join(", ")).unwrap();
        }
        for (k, s) in self.stores.iter().enumerate() {
            write!(t, "store s{k}").unwrap();
            match s.in_cluster {
                Some(ns) => write!(
                    t,
                    " in ns{} {{ engine = {}",
                    ns.index(self.namespaces),
                    s.engine.get(IN_CLUSTER_ENGINES)
                )
                .unwrap(),
                None if s.v6 => {
                    write!(t, " {{ engine = s3  address = \"2001:db8:5{k}::/48\"").unwrap()
                }
                None => {
                    write!(t, " {{ engine = s3  address = \"198.51.100.{}/28\"", 16 * k).unwrap()
                }
            }
            if let Some(c) = s.classification {
                write!(t, "  classification = {}", c.get(CLASSIFICATIONS)).unwrap();
            }
            t.push_str(" }\n");
        }
        for (k, x) in self.externals.iter().enumerate() {
            let v4 = format!("\"203.0.113.{}/28\"", 16 * k);
            let address = if x.v6 {
                format!("[{v4}, \"2001:db8:e{k}::/64\"]")
            } else {
                v4
            };
            let ports = if x.smtp {
                "{ https = 443, smtp = 587 }"
            } else {
                "{ https = 443 }"
            };
            writeln!(
                t,
                "external x{k} {{ address = {address}  ports = {ports} }}"
            )
            .unwrap();
        }
        t.push('\n');
        for (stmt, env) in &self.stmts {
            let Some(line) = self.statement(stmt) else {
                continue;
            };
            t.push_str(&line);
            if let (Some(env), false) = (env, matches!(stmt, Stmt::Accept { .. })) {
                if self.environments > 0 {
                    write!(t, " in {}", ENVIRONMENTS[env.index(self.environments)]).unwrap();
                }
            }
            t.push('\n');
        }
        t
    }

    fn statement(&self, stmt: &Stmt) -> Option<String> {
        let apps = self.apps.len();
        let with_ports = |i: &Index| -> Option<usize> {
            let start = i.index(apps);
            (0..apps)
                .map(|k| (start + k) % apps)
                .find(|&a| !self.ports(a).is_empty())
        };
        let persona = |i: &Index| i.index(self.personas.len());
        Some(match stmt {
            Stmt::AppApp {
                src,
                dst,
                ports,
                all,
            } => {
                let dst = with_ports(dst)?;
                let names: Vec<String> = self.ports(dst).into_iter().map(|(n, _)| n).collect();
                let chosen = if *all {
                    names.join(", ")
                } else {
                    ports.get(&names).clone()
                };
                format!("allow a{} -> a{dst}: {chosen}", src.index(apps))
            }
            Stmt::AppStore { src, store, level } => {
                if self.stores.is_empty() {
                    return None;
                }
                format!(
                    "allow a{} -> s{}: {}",
                    src.index(apps),
                    store.index(self.stores.len()),
                    level.get(LEVELS)
                )
            }
            Stmt::AppExternal { src, ext } => {
                if self.externals.is_empty() {
                    return None;
                }
                let k = ext.index(self.externals.len());
                let port = if self.externals[k].smtp {
                    "https, smtp"
                } else {
                    "https"
                };
                format!("allow a{} -> x{k}: {port}", src.index(apps))
            }
            Stmt::AppInternet { src, port } => {
                format!(
                    "allow a{} -> internet: {}",
                    src.index(apps),
                    port.get(INTERNET_PORTS)
                )
            }
            Stmt::AppKube { src, rule } => {
                if !self.api_server {
                    return None; // E0303: `kube` needs `platform.api_server`
                }
                format!(
                    "allow a{} -> kube: {}",
                    src.index(apps),
                    rule.get(KUBE_RULES)
                )
            }
            Stmt::StoreEgress {
                store,
                target,
                port,
            } => {
                let in_cluster: Vec<usize> = (0..self.stores.len())
                    .filter(|&k| self.stores[k].in_cluster.is_some())
                    .collect();
                if in_cluster.is_empty() {
                    return None;
                }
                let from = *store.get(&in_cluster);
                let mut targets: Vec<String> =
                    (0..self.externals.len()).map(|k| format!("x{k}")).collect();
                targets.extend(
                    (0..self.stores.len())
                        .filter(|&k| self.stores[k].in_cluster.is_none())
                        .map(|k| format!("s{k}")),
                );
                targets.push("internet".into());
                format!(
                    "allow s{from} -> {}: {}",
                    target.get(&targets),
                    port.get(INTERNET_PORTS)
                )
            }
            Stmt::PersonaOps {
                persona: p,
                targets,
                namespace,
                star,
                ops,
            } => {
                let ops: Vec<&str> = ops.iter().map(|&o| OPERATIONS[o]).collect();
                let target = match namespace {
                    Some(_) if *star => "*".to_owned(),
                    // The namespace of an app: an empty one would be E0307.
                    Some(app) => format!("namespace ns{}", self.ns_of(app.index(apps))),
                    None => {
                        let mut names: Vec<String> = targets
                            .iter()
                            .map(|i| format!("a{}", i.index(apps)))
                            .collect();
                        names.dedup();
                        format!("[{}]", names.join(", "))
                    }
                };
                format!("allow p{} -> {target}: {}", persona(p), ops.join(", "))
            }
            Stmt::PersonaStore {
                persona: p,
                store,
                write,
            } => {
                if self.stores.is_empty() {
                    return None;
                }
                let level = if *write { "write" } else { "read" };
                format!(
                    "allow p{} -> s{}: {level}",
                    persona(p),
                    store.index(self.stores.len())
                )
            }
            Stmt::Inbound {
                internet,
                app,
                port,
            } => {
                let app = with_ports(app)?;
                let from = match (internet, self.customer) {
                    (false, true) => "customer",
                    _ => "internet",
                };
                let names: Vec<String> = self.ports(app).into_iter().map(|(n, _)| n).collect();
                format!("allow {from} -> a{app}: {}", port.get(&names))
            }
            Stmt::Accept {
                lint,
                persona: p,
                app,
            } => format!(
                "accept {} on p{} -> a{} \"reviewed\"",
                lint.get(ACCEPTABLE),
                persona(p),
                app.index(apps)
            ),
        })
    }
}

//! The resolved declarations and statements.

use super::{AppId, Entity, EnvId, NsId, PodId, StmtId};
use crate::span::Span;
use std::net::IpAddr;

#[derive(Clone, Debug, Default)]
pub struct System {
    pub name: String,
    pub description: Option<String>,
    pub span: Option<Span>,
}

/// An IPv4 or IPv6 network in CIDR form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Pods selected by namespace name and labels (ingress controller, DNS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSelector {
    pub namespace: String,
    pub labels: crate::k8s::Labels,
    /// The ServiceAccount the pods run as (`platform.ingress.service_account`):
    /// their mesh identity.
    pub service_account: Option<String>,
}

/// `platform.mesh`: the service mesh whose policies `build` writes beside the
/// NetworkPolicies (docs/kubernetes.md, "Layers").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mesh {
    /// Istio, the only mesh palisade generates for.
    pub kind: MeshKind,
    /// `platform.trust_domain`: the first part of every principal
    /// (`TRUST_DOMAIN/ns/NS/sa/SA`), Istio's `meshConfig.trustDomain`.
    pub trust_domain: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshKind {
    Istio,
}

/// `platform.guardrails`: the engine `forbid` statements are compiled for as
/// cluster-wide denies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guardrails {
    Calico,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiServer {
    pub address: Cidr,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub struct Platform {
    /// Target Kubernetes version, `(1, 30)`.
    pub kubernetes: (u32, u32),
    pub ingress: Option<PodSelector>,
    pub dns: PodSelector,
    /// The ports the DNS pods listen on (`platform.dns.ports`, default
    /// `[53]`): a NetworkPolicy matches the pod's port, not the Service's,
    /// so OpenShift's DNS (5353 behind a Service on 53) needs `[5353]`.
    /// `allow-dns` admits each on UDP and TCP.
    pub dns_ports: Vec<u16>,
    pub private_ranges: Vec<Cidr>,
    pub label_domain: String,
    pub workloads: bool,
    pub registries: Vec<String>,
    pub api_server: Option<ApiServer>,
    pub mesh: Option<Mesh>,
    pub guardrails: Option<Guardrails>,
    pub span: Option<Span>,
}

/// Addresses that are never `internet`, whatever `platform.private_ranges`
/// says: IPv4 link-local (`169.254.0.0/16`, where `169.254.169.254` hands
/// any pod the node's cloud credentials), IPv6 link-local (`fe80::/10`)
/// and IPv6 unique local (`fc00::/7`).
pub fn never_internet() -> [Cidr; 3] {
    [
        Cidr {
            addr: IpAddr::from([169, 254, 0, 0]),
            prefix: 16,
        },
        Cidr {
            addr: IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 0, 0u16]),
            prefix: 10,
        },
        Cidr {
            addr: IpAddr::from([0xfc00, 0, 0, 0, 0, 0, 0, 0u16]),
            prefix: 7,
        },
    ]
}

impl Platform {
    /// What `internet` excludes: `private_ranges` and [`never_internet`].
    pub fn not_internet(&self) -> Vec<Cidr> {
        let mut out = self.private_ranges.clone();
        for c in never_internet() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

impl Default for Platform {
    fn default() -> Self {
        let cidr = |a: [u8; 4], prefix| Cidr {
            addr: IpAddr::from(a),
            prefix,
        };
        Platform {
            kubernetes: (1, 30),
            ingress: None,
            dns: PodSelector {
                namespace: "kube-system".into(),
                labels: crate::k8s::Labels::from_iter([("k8s-app".into(), "kube-dns".into())]),
                service_account: None,
            },
            dns_ports: vec![53],
            // RFC 1918, carrier-grade NAT (RFC 6598: EKS and others put
            // pods there), and RFC 4193 unique local IPv6 (pod networks use
            // it too).
            private_ranges: vec![
                cidr([10, 0, 0, 0], 8),
                cidr([172, 16, 0, 0], 12),
                cidr([192, 168, 0, 0], 16),
                cidr([100, 64, 0, 0], 10),
                Cidr {
                    addr: IpAddr::from([0xfc00, 0, 0, 0, 0, 0, 0, 0u16]),
                    prefix: 7,
                },
            ],
            label_domain: "palisade.dev".into(),
            workloads: true,
            registries: Vec::new(),
            api_server: None,
            mesh: None,
            guardrails: None,
            span: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub name: String,
    pub description: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PodSecurity {
    Privileged,
    Baseline,
    #[default]
    Restricted,
}

impl PodSecurity {
    pub const NAMES: &'static [&'static str] = &["restricted", "baseline", "privileged"];

    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Privileged => "privileged",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Restricted => "restricted",
        }
    }
}

/// CPU and memory as Kubernetes quantities (validated, kept as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub pods: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub name: String,
    pub description: Option<String>,
    pub quota: Option<Quota>,
    pub limits: Option<Resources>,
    pub pod_security: PodSecurity,
    pub pod_security_span: Option<Span>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Classification {
    Public,
    #[default]
    Internal,
    Confidential,
    Restricted,
}

impl Classification {
    pub const NAMES: &'static [&'static str] =
        &["public", "internal", "confidential", "restricted"];

    pub fn parse(s: &str) -> Option<Classification> {
        Some(match s {
            "public" => Classification::Public,
            "internal" => Classification::Internal,
            "confidential" => Classification::Confidential,
            "restricted" => Classification::Restricted,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// An RBAC subject a persona maps to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Group(String),
    User(String),
    ServiceAccount { namespace: String, name: String },
}

#[derive(Clone, Debug)]
pub struct Persona {
    pub name: String,
    pub description: Option<String>,
    /// Comes in from outside the cluster; has no RBAC.
    pub external: bool,
    pub subjects: Vec<Subject>,
    pub clearance: Option<Classification>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "sctp" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// As Kubernetes spells it: `TCP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    pub name: String,
    pub number: u16,
    pub protocol: Protocol,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    Exec { command: Vec<String> },
}

#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub description: Option<String>,
    pub namespace: NsId,
    pub image: String,
    pub image_span: Span,
    pub ports: Vec<Port>,
    pub replicas: u32,
    pub resources: Option<AppResources>,
    pub health: Option<Health>,
    /// Environment, command and user of its container.
    pub run: Run,
    /// `selector`, `workload`, `service_account` on the app: they bind the
    /// app's own pod group (an app in an explicit `pod` may not have them).
    pub binding: Binding,
    pub pod: PodId,
    pub span: Span,
}

/// How a pod group or an in-cluster store meets workloads that exist
/// already (docs/brownfield.md): the labels of its pods, its workload
/// object, its ServiceAccount. Empty: palisade's own names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// The labels that select the pods (sorted by key); empty: unbound.
    pub selector: Vec<(String, String)>,
    pub selector_span: Option<Span>,
    pub workload: Option<WorkloadRef>,
    pub workload_span: Option<Span>,
    pub service_account: Option<String>,
    /// The first binding property written, for messages.
    pub span: Option<Span>,
}

impl Binding {
    pub fn is_empty(&self) -> bool {
        self.span.is_none()
    }
}

/// `deployment/NAME`, `statefulset/NAME`, `daemonset/NAME`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub const NAMES: &'static [&'static str] = &["deployment", "statefulset", "daemonset"];

    pub fn parse(s: &str) -> Option<WorkloadKind> {
        Some(match s {
            "deployment" => WorkloadKind::Deployment,
            "statefulset" => WorkloadKind::StatefulSet,
            "daemonset" => WorkloadKind::DaemonSet,
            _ => return None,
        })
    }

    /// The word of `workload = "KIND/NAME"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    /// The Kubernetes kind.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The RBAC resource (group `apps`).
    pub fn resource(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
        }
    }
}

impl App {
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }
}

// ------------------------------------------------ how an app's container runs

/// An app's requests and limits: `resources = { cpu, memory }` means
/// requests = limits; with `limits = { ... }` they are given apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppResources {
    /// A key left `None`: the generator's default.
    pub requests: Resources,
    /// `None`: the same as the requests (the form without `limits`). A key
    /// left `None` in `Some(limits)`: no limit.
    pub limits: Option<Resources>,
    /// Where `limits` is given.
    pub limits_span: Option<Span>,
}

/// When a probe runs and how many failures it takes (`None`: the
/// generator's default for that probe).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeTiming {
    /// Seconds before the first probe (`initialDelaySeconds`).
    pub delay: Option<u32>,
    pub period: Option<u32>,
    pub timeout: Option<u32>,
    /// Consecutive failures before the probe counts as failed.
    pub failures: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    pub probe: Probe,
    pub timing: ProbeTiming,
}

/// `health`: each probe the container gets (none of them: no probe of that kind).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub readiness: Option<ProbeSpec>,
    pub liveness: Option<ProbeSpec>,
    pub startup: Option<ProbeSpec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvSourceKind {
    ConfigMap,
    Secret,
}

/// A literal environment variable (`env = { NAME = "value" }`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    /// The name in the model.
    pub span: Span,
}

/// A ConfigMap or Secret whose every key becomes an environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvSource {
    pub kind: EnvSourceKind,
    pub name: String,
    pub span: Span,
}

/// The user and group a container runs as unless its app says `run_as`:
/// not root, and ≥ 10000, clear of the users a node's own accounts use.
pub const DEFAULT_RUN_AS: u32 = 10001;

/// The uid and gid the container runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAs {
    pub user: u32,
    pub group: u32,
}

/// `env`, `env_from`, `command`, `args`, `run_as`.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Literal variables, in the model's order.
    pub env: Vec<EnvVar>,
    /// ConfigMaps first, then Secrets, each in the model's order.
    pub env_from: Vec<EnvSource>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// `None`: [`DEFAULT_RUN_AS`] for user and group.
    pub run_as: Option<RunAs>,
    pub run_as_span: Option<Span>,
}

/// Apps that share one pod (network identity). An app in no `pod` is a group of its own.
#[derive(Clone, Debug)]
pub struct PodGroup {
    pub name: String,
    pub namespace: NsId,
    pub apps: Vec<AppId>,
    /// Declared with `pod NAME = [...]` (rather than implied by a lone app).
    pub explicit: bool,
    /// From the `pod` declaration's block, or the lone app's.
    pub binding: Binding,
    pub span: Span,
}

impl PodGroup {
    /// The workload that runs the group's pods: the bound one, or
    /// `deployment/<group>`.
    pub fn workload(&self) -> WorkloadRef {
        self.binding.workload.clone().unwrap_or(WorkloadRef {
            kind: WorkloadKind::Deployment,
            name: self.name.clone(),
        })
    }

    /// The group's ServiceAccount: the bound one, or `<group>`.
    pub fn service_account(&self) -> &str {
        self.binding
            .service_account
            .as_deref()
            .unwrap_or(&self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Engine {
    Postgres,
    Mysql,
    Redis,
    Mongodb,
    Kafka,
    S3,
    Generic,
}

impl Engine {
    pub const NAMES: &'static [&'static str] = &[
        "postgres", "mysql", "redis", "mongodb", "kafka", "s3", "generic",
    ];

    pub fn parse(s: &str) -> Option<Engine> {
        Some(match s {
            "postgres" => Engine::Postgres,
            "mysql" => Engine::Mysql,
            "redis" => Engine::Redis,
            "mongodb" => Engine::Mongodb,
            "kafka" => Engine::Kafka,
            "s3" => Engine::S3,
            "generic" => Engine::Generic,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn default_port(self) -> Option<u16> {
        match self {
            Engine::Postgres => Some(5432),
            Engine::Mysql => Some(3306),
            Engine::Redis => Some(6379),
            Engine::Mongodb => Some(27017),
            Engine::Kafka => Some(9092),
            Engine::S3 => Some(443),
            Engine::Generic => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    /// Runs in the cluster; its pods carry the pod label.
    InCluster(NsId),
    /// Outside the cluster, at these addresses.
    Outside(Vec<Cidr>),
}

#[derive(Clone, Debug)]
pub struct Store {
    pub name: String,
    pub description: Option<String>,
    pub engine: Engine,
    pub port: u16,
    pub classification: Classification,
    pub location: StoreLocation,
    /// For an in-cluster store: how its pods are found.
    pub binding: Binding,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct External {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<Cidr>,
    pub ports: Vec<Port>,
    pub span: Span,
}

/// Credential levels of a store; each implies the ones below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataLevel {
    Read,
    Write,
    Admin,
}

impl DataLevel {
    pub fn parse(s: &str) -> Option<DataLevel> {
        Some(match s {
            "read" => DataLevel::Read,
            "write" => DataLevel::Write,
            "admin" => DataLevel::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataLevel::Read => "read",
            DataLevel::Write => "write",
            DataLevel::Admin => "admin",
        }
    }
}

/// Kubernetes API operations a persona may perform on an app's workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    View,
    Logs,
    Exec,
    Portforward,
    Restart,
    Scale,
    Deploy,
}

impl Operation {
    pub const NAMES: &'static [&'static str] = &[
        "view",
        "logs",
        "exec",
        "portforward",
        "restart",
        "scale",
        "deploy",
    ];

    pub fn parse(s: &str) -> Option<Operation> {
        Some(match s {
            "view" => Operation::View,
            "logs" => Operation::Logs,
            "exec" => Operation::Exec,
            "portforward" => Operation::Portforward,
            "restart" => Operation::Restart,
            "scale" => Operation::Scale,
            "deploy" => Operation::Deploy,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The verbs a `kube` grant may name (docs/language.md, section 4).
pub const KUBE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "bind",
    "escalate",
    "impersonate",
    "use",
    "approve",
    "sign",
    "*",
];

/// One `VERB RESOURCE` of an app → kube grant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeRule {
    pub verb: String,
    /// API group; `""` is the core group.
    pub group: String,
    pub resource: String,
    pub subresource: Option<String>,
}

/// What a grant permits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// A network connection to a port (app → app / external / internet;
    /// persona → app through the ingress).
    Port {
        number: u16,
        protocol: Protocol,
        /// The port's name when the statement used one.
        name: Option<String>,
    },
    /// Store credentials of a level (plus, for apps, the network connection).
    Data(DataLevel),
    /// A Kubernetes API operation on an app's workload.
    Op(Operation),
    /// An app's ServiceAccount calling the Kubernetes API.
    Kube(KubeRule),
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Access::Port {
                name: Some(name), ..
            } => f.write_str(name),
            Access::Port {
                number, protocol, ..
            } => match protocol {
                Protocol::Tcp => write!(f, "{number}"),
                p => write!(f, "{number}/{}", p.as_str().to_ascii_lowercase()),
            },
            Access::Data(l) => f.write_str(l.as_str()),
            Access::Op(o) => f.write_str(o.as_str()),
            Access::Kube(r) => {
                write!(f, "{} {}", r.verb, r.resource)?;
                if !r.group.is_empty() {
                    write!(f, ".{}", r.group)?;
                }
                if let Some(s) = &r.subresource {
                    write!(f, "/{s}")?;
                }
                Ok(())
            }
        }
    }
}

/// One permitted (subject, target, access), expanded from an `allow`.
#[derive(Clone, Debug)]
pub struct Grant {
    pub subject: Entity,
    pub target: Entity,
    pub access: Access,
    /// `None`: every environment.
    pub envs: Option<Vec<EnvId>>,
    pub stmt: StmtId,
    /// The access item in the statement.
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForbidKind {
    Direct,
    Path,
}

#[derive(Clone, Debug)]
pub struct Forbid {
    pub kind: ForbidKind,
    pub subjects: Vec<Entity>,
    pub targets: Vec<Entity>,
    /// Empty: any access.
    pub access: Vec<Access>,
    pub envs: Option<Vec<EnvId>>,
    pub reason: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Accept {
    pub lint: &'static str,
    pub subjects: Vec<Entity>,
    pub targets: Vec<Entity>,
    pub reason: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "allow" => Level::Allow,
            "warn" => Level::Warn,
            "deny" => Level::Deny,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

#[derive(Clone, Debug)]
pub struct LintLevel {
    pub lint: &'static str,
    pub level: Level,
    pub span: Span,
}

/// Entities in one app pod group share a pod; used by later stages.
pub fn same_pod(model: &super::Model, a: AppId, b: AppId) -> bool {
    model.apps[a.index()].pod == model.apps[b.index()].pod
}

//! Typed Kubernetes objects: the subset of the API that palisade generates
//! and that the effective-access engine evaluates.
//!
//! One vocabulary for three stages: `generate/` builds these objects,
//! `output/` serializes them (field order follows the API's documentation
//! order, absent fields are omitted), and `effective/` evaluates them — ours
//! or any manifest set read from YAML. Deserialization is lenient the way the
//! API server is: unknown fields are ignored, absent lists are empty, and the
//! distinction Kubernetes draws between an absent and an empty list (a
//! NetworkPolicy rule's `from`/`to`/`ports`) is kept with `Option`.

use serde::{Deserialize, Serialize};

/// Labels, annotations, `matchLabels` and resource quantities: a string map
/// kept as a sorted vector ([`litemap`]). Most hold one to five entries; a
/// `BTreeMap` allocates a node of eleven slots (over 500 bytes) for each,
/// which was most of the memory of a large model's NetworkPolicies.
/// Serialized as a map, in key order, like a `BTreeMap`; read from any
/// order, a repeated key keeping its last value.
pub type Labels = litemap::LiteMap<String, String>;

/// `null` reads as the default, as the API server reads it (`matchLabels:`
/// with nothing after it is `null` in YAML).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub annotations: Labels,
}

/// Any object palisade generates or evaluates, tagged by `kind`. It
/// serializes with `apiVersion` and `kind` first, as Kubernetes writes them.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind")]
pub enum Resource {
    Namespace(Namespace),
    ResourceQuota(ResourceQuota),
    LimitRange(LimitRange),
    NetworkPolicy(NetworkPolicy),
    ServiceAccount(ServiceAccount),
    Deployment(Deployment),
    StatefulSet(Deployment),
    DaemonSet(Deployment),
    ReplicaSet(Deployment),
    Pod(Pod),
    Service(Service),
    Role(Role),
    ClusterRole(Role),
    RoleBinding(RoleBinding),
    ClusterRoleBinding(RoleBinding),
    PodDisruptionBudget(PodDisruptionBudget),
}

impl Resource {
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Namespace(_) => "Namespace",
            Resource::ResourceQuota(_) => "ResourceQuota",
            Resource::LimitRange(_) => "LimitRange",
            Resource::NetworkPolicy(_) => "NetworkPolicy",
            Resource::ServiceAccount(_) => "ServiceAccount",
            Resource::Deployment(_) => "Deployment",
            Resource::StatefulSet(_) => "StatefulSet",
            Resource::DaemonSet(_) => "DaemonSet",
            Resource::ReplicaSet(_) => "ReplicaSet",
            Resource::Pod(_) => "Pod",
            Resource::Service(_) => "Service",
            Resource::Role(_) => "Role",
            Resource::ClusterRole(_) => "ClusterRole",
            Resource::RoleBinding(_) => "RoleBinding",
            Resource::ClusterRoleBinding(_) => "ClusterRoleBinding",
            Resource::PodDisruptionBudget(_) => "PodDisruptionBudget",
        }
    }

    /// The group/version palisade writes for this kind.
    pub fn api_version(&self) -> &'static str {
        match self {
            Resource::Namespace(_)
            | Resource::ResourceQuota(_)
            | Resource::LimitRange(_)
            | Resource::ServiceAccount(_)
            | Resource::Pod(_)
            | Resource::Service(_) => "v1",
            Resource::Deployment(_)
            | Resource::StatefulSet(_)
            | Resource::DaemonSet(_)
            | Resource::ReplicaSet(_) => "apps/v1",
            Resource::NetworkPolicy(_) => "networking.k8s.io/v1",
            Resource::Role(_)
            | Resource::ClusterRole(_)
            | Resource::RoleBinding(_)
            | Resource::ClusterRoleBinding(_) => "rbac.authorization.k8s.io/v1",
            Resource::PodDisruptionBudget(_) => "policy/v1",
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Resource::Namespace(o) => &o.metadata,
            Resource::ResourceQuota(o) => &o.metadata,
            Resource::LimitRange(o) => &o.metadata,
            Resource::NetworkPolicy(o) => &o.metadata,
            Resource::ServiceAccount(o) => &o.metadata,
            Resource::Deployment(o)
            | Resource::StatefulSet(o)
            | Resource::DaemonSet(o)
            | Resource::ReplicaSet(o) => &o.metadata,
            Resource::Pod(o) => &o.metadata,
            Resource::Service(o) => &o.metadata,
            Resource::Role(o) | Resource::ClusterRole(o) => &o.metadata,
            Resource::RoleBinding(o) | Resource::ClusterRoleBinding(o) => &o.metadata,
            Resource::PodDisruptionBudget(o) => &o.metadata,
        }
    }
}

impl Serialize for Resource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T> {
            #[serde(rename = "apiVersion")]
            api_version: &'static str,
            kind: &'static str,
            #[serde(flatten)]
            body: &'a T,
        }
        fn tagged<S: serde::Serializer, T: Serialize>(
            r: &Resource,
            body: &T,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            Tagged {
                api_version: r.api_version(),
                kind: r.kind(),
                body,
            }
            .serialize(s)
        }
        match self {
            Resource::Namespace(body) => tagged(self, body, s),
            Resource::ResourceQuota(body) => tagged(self, body, s),
            Resource::LimitRange(body) => tagged(self, body, s),
            Resource::NetworkPolicy(body) => tagged(self, body, s),
            Resource::ServiceAccount(body) => tagged(self, body, s),
            Resource::Deployment(body)
            | Resource::StatefulSet(body)
            | Resource::DaemonSet(body)
            | Resource::ReplicaSet(body) => tagged(self, body, s),
            Resource::Pod(body) => tagged(self, body, s),
            Resource::Service(body) => tagged(self, body, s),
            Resource::Role(body) | Resource::ClusterRole(body) => tagged(self, body, s),
            Resource::RoleBinding(body) | Resource::ClusterRoleBinding(body) => {
                tagged(self, body, s)
            }
            Resource::PodDisruptionBudget(body) => tagged(self, body, s),
        }
    }
}

/// The kinds [`Resource`] reads; [`parse_manifests`] skips the others.
pub const KINDS: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ServiceAccount",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
    "Service",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
];

/// The objects of a multi-document YAML manifest, in order. Documents of
/// other kinds (ConfigMaps, CRDs, …) and empty documents are skipped; a
/// `List` is unpacked. The error names the document (0-based) that does not
/// parse.
pub fn parse_manifests(text: &str) -> Result<Vec<Resource>, (usize, String)> {
    use serde::de::Deserialize as _;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| (i, e.to_string()))?;
        collect(value, &mut out).map_err(|e| (i, e))?;
    }
    Ok(out)
}

fn collect(value: serde_yaml::Value, out: &mut Vec<Resource>) -> Result<(), String> {
    match value.get("kind").and_then(|k| k.as_str()) {
        Some("List") => {
            if let Some(items) = value.get("items").and_then(|i| i.as_sequence()) {
                for item in items {
                    collect(item.clone(), out)?;
                }
            }
            Ok(())
        }
        Some(kind) if KINDS.contains(&kind) => {
            out.push(serde_yaml::from_value(value).map_err(|e| e.to_string())?);
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- core/v1

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceQuota {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: ResourceQuotaSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceQuotaSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub hard: Labels,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRange {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: LimitRangeSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitRangeSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub limits: Vec<LimitRangeItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitRangeItem {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub default: Labels,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub default_request: Labels,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: ServiceSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub selector: Labels,
    #[serde(default, deserialize_with = "nullable")]
    pub ports: Vec<ServicePort>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// A port given by number or by a container port's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

// ---------------------------------------------------------------- apps/v1

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: DeploymentSpec,
}

/// A bare Pod (the effective-access engine reads them; palisade writes
/// Deployments).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: PodSpec,
}

/// The spec of a Deployment, and of the StatefulSets, DaemonSets and
/// ReplicaSets the engine reads (the fields it needs are the same).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    pub selector: LabelSelector,
    #[serde(default, deserialize_with = "nullable")]
    pub template: PodTemplateSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_service_links: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<PodSecurityContext>,
    #[serde(default, deserialize_with = "nullable")]
    pub containers: Vec<Container>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volumes: Vec<Volume>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    pub max_skew: u32,
    pub topology_key: String,
    pub when_unsatisfiable: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ports: Vec<ContainerPort>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env_from: Vec<EnvFromSource>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_probe: Option<Probe>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volume_mounts: Vec<VolumeMount>,
}

/// A literal environment variable (`value`; palisade writes no `valueFrom`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Every key of a ConfigMap or a Secret as environment variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<NameRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<NameRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NameRef {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub container_port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_privilege_escalation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_non_root: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<SeccompProfile>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub drop: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceRequirements {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub requests: Labels,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub limits: Labels,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpGetAction {
    pub path: String,
    pub port: IntOrString,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcpSocketAction {
    pub port: IntOrString,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecAction {
    pub command: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretVolumeSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected: Option<ProjectedVolumeSource>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDir {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretVolumeSource {
    pub secret_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectedVolumeSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    pub sources: Vec<VolumeProjection>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeProjection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_token: Option<ServiceAccountTokenProjection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<KeyProjection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<KeyProjection>,
    #[serde(
        default,
        rename = "downwardAPI",
        skip_serializing_if = "Option::is_none"
    )]
    pub downward_api: Option<DownwardApiProjection>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountTokenProjection {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_seconds: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyProjection {
    pub name: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub items: Vec<KeyToPath>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyToPath {
    pub key: String,
    pub path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DownwardApiProjection {
    #[serde(default, deserialize_with = "nullable")]
    pub items: Vec<DownwardApiFile>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownwardApiFile {
    pub path: String,
    pub field_ref: FieldRef,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRef {
    pub api_version: String,
    pub field_path: String,
}

// ------------------------------------------------- networking.k8s.io/v1

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: NetworkPolicySpec,
}

/// `ingress`/`egress` absent and empty mean the same (no traffic allowed by
/// this policy in that direction); inside a rule, an absent or empty
/// `from`/`to`/`ports` means "all".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    #[serde(default, deserialize_with = "nullable")]
    pub pod_selector: LabelSelector,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<NetworkPolicyIngressRule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<NetworkPolicyEgressRule>>,
    /// Absent: `Ingress`, plus `Egress` when the policy has egress rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_types: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkPolicyIngressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<NetworkPolicyPeer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkPolicyEgressRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<NetworkPolicyPeer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<NetworkPolicyPort>>,
}

/// `ipBlock` excludes the selectors; `namespaceSelector` and `podSelector`
/// together are ANDed. A selector that is absent differs from an empty one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IpBlock {
    pub cidr: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub except: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyPort {
    /// Absent: TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Absent: every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i32>,
}

/// `matchLabels` and `matchExpressions` are ANDed; an empty selector
/// selects everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub match_labels: Labels,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

impl LabelSelector {
    pub fn labels(labels: Labels) -> Self {
        LabelSelector {
            match_labels: labels,
            match_expressions: Vec::new(),
        }
    }
}

// --------------------------------------------- rbac.authorization.k8s.io/v1

/// A Role or ClusterRole (the kind is the [`Resource`] variant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    /// ClusterRoles only: when present, the cluster's aggregation controller
    /// replaces `rules` with the union of the rules of the ClusterRoles the
    /// selectors pick (`effective::rbac` evaluates that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_rule: Option<AggregationRule>,
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<PolicyRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregationRule {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub api_groups: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resources: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_names: Vec<String>,
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub verbs: Vec<String>,
}

/// A RoleBinding or ClusterRoleBinding (the kind is the [`Resource`] variant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBinding {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub subjects: Vec<Subject>,
    pub role_ref: RoleRef,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    #[serde(default)]
    pub api_group: String,
    /// `Role` or `ClusterRole`.
    pub kind: String,
    pub name: String,
}

// ---------------------------------------------------------------- policy/v1

/// How many of a workload's pods a voluntary disruption (a node drain) may
/// take at once. Palisade writes these; the engine does not read them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudget {
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: ObjectMeta,
    #[serde(default, deserialize_with = "nullable")]
    pub spec: PodDisruptionBudgetSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudgetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    #[serde(default, deserialize_with = "nullable")]
    pub selector: LabelSelector,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Labels read in any order come out sorted, as a `BTreeMap`'s would;
    /// the last of a repeated key wins, as the API server keeps it.
    #[test]
    fn labels_are_a_sorted_map() {
        let yaml = "kind: Namespace\napiVersion: v1\nmetadata:\n  name: n\n  labels: {b: '1', a: '2', c: '3', a: '4'}\n";
        let r: Resource = serde_yaml::from_str(yaml).unwrap();
        let Resource::Namespace(ns) = r else {
            panic!("kind")
        };
        let labels: Vec<_> = ns.metadata.labels.iter().collect();
        let s = |x: &str| x.to_string();
        assert_eq!(
            labels,
            [(&s("a"), &s("4")), (&s("b"), &s("1")), (&s("c"), &s("3"))]
        );
        let json = serde_json::to_string(&ns.metadata.labels).unwrap();
        assert_eq!(json, r#"{"a":"4","b":"1","c":"3"}"#);
        let built = Labels::from_iter([(s("z"), s("1")), (s("m"), s("2"))]);
        assert_eq!(built.keys().collect::<Vec<_>>(), [&s("m"), &s("z")]);
    }

    #[test]
    fn absent_and_empty_peer_lists_stay_distinct() {
        let yaml = "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: a, namespace: n}\nspec:\n  podSelector: {}\n  ingress:\n  - {}\n  - from: []\n";
        let r: Resource = serde_yaml::from_str(yaml).unwrap();
        let Resource::NetworkPolicy(p) = r else {
            panic!("kind")
        };
        let rules = p.spec.ingress.unwrap();
        assert_eq!(rules[0].from, None);
        assert_eq!(rules[1].from, Some(vec![]));
        assert_eq!(p.spec.egress, None);
        assert_eq!(p.spec.policy_types, None);
    }

    #[test]
    fn null_reads_as_absent() {
        let yaml = "kind: NetworkPolicy\nmetadata: {name: a, labels: null}\nspec:\n  podSelector: {matchLabels: }\n  ingress:\n  - from:\n    - podSelector: {matchLabels: null, matchExpressions: null}\n";
        let r: Resource = serde_yaml::from_str(yaml).unwrap();
        let Resource::NetworkPolicy(p) = r else {
            panic!("kind")
        };
        assert!(p.spec.pod_selector.match_labels.is_empty());
        let ingress = p.spec.ingress.unwrap();
        let peer = &ingress[0].from.as_ref().unwrap()[0];
        assert_eq!(peer.pod_selector, Some(LabelSelector::default()));
    }

    #[test]
    fn workload_kinds_read_their_pod_template() {
        for kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] {
            let yaml = format!("kind: {kind}\nmetadata: {{name: w, namespace: n}}\nspec:\n  template:\n    metadata: {{labels: {{app: w}}}}\n    spec:\n      containers: [{{name: c, image: i}}]\n");
            let r: Resource = serde_yaml::from_str(&yaml).unwrap();
            assert_eq!(r.kind(), kind);
        }
        let r: Resource =
            serde_yaml::from_str("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n")
                .unwrap();
        assert_eq!(r.kind(), "Pod");
    }

    #[test]
    fn manifests_skip_other_kinds_and_unpack_lists() {
        let text = "kind: ConfigMap\nmetadata: {name: c}\n---\n---\nkind: List\nitems:\n- kind: Namespace\n  metadata: {name: a}\n- kind: Secret\n---\nkind: Pod\nmetadata: {name: p}\n";
        let r = parse_manifests(text).unwrap();
        let kinds: Vec<&str> = r.iter().map(Resource::kind).collect();
        assert_eq!(kinds, ["Namespace", "Pod"]);
        let err = parse_manifests("kind: Role\nrules: 3\n").unwrap_err();
        assert_eq!(err.0, 0);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let yaml = "kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: r, namespace: n, uid: x}\nrules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get]\n  extra: 1\n";
        let r: Resource = serde_yaml::from_str(yaml).unwrap();
        assert_eq!(r.kind(), "Role");
        assert_eq!(r.metadata().namespace.as_deref(), Some("n"));
    }
}

//! Workload identity and hardened workloads per app pod group: a
//! ServiceAccount without an automounted token, a Deployment with one
//! container per app, and a Service exposing only ports reached from
//! another pod group or the ingress.

use super::flows::{app_group, Flows};
use super::Cx;
use crate::k8s::{self, IntOrString, LabelSelector, Labels, Resource};
use crate::model::{
    App, AppId, DataLevel, EnvSourceKind, PodGroup, Probe, ProbeSpec, ProbeTiming, RunAs, StoreId,
    DEFAULT_RUN_AS,
};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The user (and group) a container runs as unless its app says `run_as`.
pub const RUN_AS: u32 = DEFAULT_RUN_AS;
/// Requests and limits of an app that declares no `resources`.
const DEFAULT_CPU: &str = "100m";
const DEFAULT_MEMORY: &str = "128Mi";

/// Per app pod group, in parallel: ServiceAccount, Deployment, Service and,
/// for more than one replica, a PodDisruptionBudget.
pub fn objects<'a>(
    cx: &'a Cx<'_>,
    flows: &'a Flows,
) -> impl ParallelIterator<Item = Resource> + 'a {
    cx.model
        .pods
        .par_iter()
        .filter(|pod| !pod.apps.is_empty())
        .flat_map_iter(|pod| {
            let ns = cx.ns_name(pod.namespace);
            let sa = Resource::ServiceAccount(k8s::ServiceAccount {
                metadata: cx.metadata(pod.service_account(), ns, &[]),
                automount_service_account_token: Some(false),
            });
            [
                Some(sa),
                Some(deployment(cx, pod, flows)),
                service(cx, pod, flows),
                disruption_budget(cx, pod),
            ]
            .into_iter()
            .flatten()
        })
}

/// The size limit of every pod's `/tmp` (an `emptyDir`).
pub const TMP_SIZE_LIMIT: &str = "64Mi";

fn seccomp() -> Option<k8s::SeccompProfile> {
    Some(k8s::SeccompProfile {
        type_: "RuntimeDefault".into(),
    })
}

fn deployment(cx: &Cx<'_>, pod: &PodGroup, flows: &Flows) -> Resource {
    let ns = cx.ns_name(pod.namespace);
    let selector = cx.selector(&pod.name);
    let mut pod_labels = cx.common_labels();
    pod_labels.extend(recommended_labels(cx, pod));
    pod_labels.insert(cx.pod_label.clone(), pod.name.clone());
    // Last: a bound selector's labels are what selects the pods.
    pod_labels.extend(selector.clone());
    let kube_apps: Vec<AppId> = pod
        .apps
        .iter()
        .copied()
        .filter(|a| flows.kube_apps.contains(a))
        .collect();
    let containers = pod
        .apps
        .iter()
        .map(|&a| container(cx, a, flows.mounts.get(&a), kube_apps.contains(&a)))
        .collect();
    let mut volumes = vec![k8s::Volume {
        name: "tmp".into(),
        // A pod that fills its scratch space is evicted, not the node's
        // disk filled.
        empty_dir: Some(k8s::EmptyDir {
            size_limit: Some(TMP_SIZE_LIMIT.into()),
        }),
        ..Default::default()
    }];
    let mut secrets: Vec<String> = pod
        .apps
        .iter()
        .filter_map(|a| flows.mounts.get(a))
        .flat_map(|m| m.iter().map(|(s, l)| secret_name(cx, *s, *l)))
        .collect();
    secrets.sort();
    secrets.dedup();
    for s in secrets {
        volumes.push(k8s::Volume {
            name: s.clone(),
            secret: Some(k8s::SecretVolumeSource {
                secret_name: s,
                default_mode: Some(0o440),
            }),
            ..Default::default()
        });
    }
    if !kube_apps.is_empty() {
        volumes.push(token_volume());
    }
    let replicas = replicas(cx, pod);
    // The pod's own user, group and fsGroup (the group that owns mounted
    // Secrets) are its first app's; each container also says its own.
    let first = pod.apps.first().map(|a| &cx.model.apps[a.index()]);
    let ids = first.map_or(default_run_as(), run_as);
    let spec = k8s::DeploymentSpec {
        replicas: Some(replicas),
        selector: LabelSelector::labels(selector),
        template: k8s::PodTemplateSpec {
            metadata: k8s::ObjectMeta {
                labels: pod_labels,
                ..Default::default()
            },
            spec: k8s::PodSpec {
                service_account_name: Some(pod.service_account().to_string()),
                automount_service_account_token: Some(false),
                enable_service_links: Some(false),
                security_context: Some(k8s::PodSecurityContext {
                    run_as_non_root: Some(true),
                    run_as_user: Some(i64::from(ids.user)),
                    run_as_group: Some(i64::from(ids.group)),
                    fs_group: Some(i64::from(ids.group)),
                    seccomp_profile: seccomp(),
                }),
                containers,
                topology_spread_constraints: spread(cx, pod, replicas),
                volumes,
            },
        },
    };
    // A group bound to another kind of workload is refused by `build`
    // unless it writes no workloads (`--no-workloads`); `check` reads this
    // Deployment for the pods' labels and mounts.
    let mut metadata = cx.metadata(&pod.workload().name, ns, &[(&cx.pod_label, &pod.name)]);
    metadata.labels.extend(recommended_labels(cx, pod));
    Resource::Deployment(k8s::Deployment { metadata, spec })
}

/// `<store>-<level>`: the Secret the user's secret tooling provisions.
pub fn secret_name(cx: &Cx<'_>, store: StoreId, level: DataLevel) -> String {
    format!("{}-{}", cx.model.stores[store.index()].name, level.as_str())
}

fn container(
    cx: &Cx<'_>,
    id: AppId,
    mounts: Option<&BTreeMap<StoreId, DataLevel>>,
    kube: bool,
) -> k8s::Container {
    let app = &cx.model.apps[id.index()];
    let ports = app
        .ports
        .iter()
        .map(|p| k8s::ContainerPort {
            name: Some(p.name.clone()),
            container_port: i32::from(p.number),
            protocol: Some(p.protocol.as_str().into()),
        })
        .collect();
    let mut volume_mounts = vec![k8s::VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        read_only: false,
    }];
    for (store, level) in mounts.into_iter().flatten() {
        volume_mounts.push(k8s::VolumeMount {
            name: secret_name(cx, *store, *level),
            mount_path: format!(
                "/var/run/secrets/palisade/{}",
                cx.model.stores[store.index()].name
            ),
            read_only: true,
        });
    }
    if kube {
        volume_mounts.push(k8s::VolumeMount {
            name: "kube-api-access".into(),
            mount_path: "/var/run/secrets/kubernetes.io/serviceaccount".into(),
            read_only: true,
        });
    }
    let ids = run_as(app);
    let health = probes(app);
    k8s::Container {
        name: app.name.clone(),
        image: app.image.clone(),
        // A digest names one image: the kubelet's copy is that image. A tag
        // may move, so it is pulled every time.
        image_pull_policy: Some(
            if app.image.contains("@sha256:") {
                "IfNotPresent"
            } else {
                "Always"
            }
            .into(),
        ),
        command: app.run.command.clone(),
        args: app.run.args.clone(),
        ports,
        env_from: env_from(app),
        env: env(app),
        security_context: Some(k8s::SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(i64::from(ids.user)),
            run_as_group: Some(i64::from(ids.group)),
            capabilities: Some(k8s::Capabilities {
                drop: vec!["ALL".into()],
            }),
            seccomp_profile: seccomp(),
        }),
        resources: Some(resources(app)),
        liveness_probe: health.liveness,
        readiness_probe: health.readiness,
        startup_probe: health.startup,
        volume_mounts,
    }
}

// ------------------------------------------------ how each container runs

/// Requests from `resources` (100m and 128Mi where it gives none); limits
/// the same, or, when the app gives `limits`, exactly those.
fn resources(app: &App) -> k8s::ResourceRequirements {
    let r = app.resources.clone().unwrap_or_default();
    let cpu = r.requests.cpu.unwrap_or_else(|| DEFAULT_CPU.into());
    let memory = r.requests.memory.unwrap_or_else(|| DEFAULT_MEMORY.into());
    let requests = Labels::from_iter([("cpu".into(), cpu), ("memory".into(), memory)]);
    let limits = match r.limits {
        None => requests.clone(),
        Some(l) => [("cpu", l.cpu), ("memory", l.memory)]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    };
    k8s::ResourceRequirements { requests, limits }
}

/// A container's probes.
struct Probes {
    readiness: Option<k8s::Probe>,
    liveness: Option<k8s::Probe>,
    startup: Option<k8s::Probe>,
}

/// From `health`, or else readiness and liveness as a TCP probe on the first
/// TCP port; none without either.
fn probes(app: &App) -> Probes {
    let Some(h) = &app.health else {
        let fallback = app
            .ports
            .iter()
            .find(|p| p.protocol == crate::model::Protocol::Tcp)
            .map(|p| ProbeSpec {
                probe: Probe::Tcp { port: p.number },
                timing: ProbeTiming::default(),
            });
        let p = fallback.as_ref().map(|s| probe(s, 3));
        return Probes {
            readiness: p.clone(),
            liveness: p,
            startup: None,
        };
    };
    Probes {
        readiness: h.readiness.as_ref().map(|s| probe(s, 3)),
        liveness: h.liveness.as_ref().map(|s| probe(s, 3)),
        // 30 failures 10 s apart: five minutes to start before the kubelet
        // gives up, while liveness waits for the startup probe to pass.
        startup: h.startup.as_ref().map(|s| probe(s, 30)),
    }
}

/// One probe; every 10 s, 2 s to answer, `failures` in a row unless the
/// model says otherwise.
fn probe(spec: &ProbeSpec, failures: u32) -> k8s::Probe {
    let t = &spec.timing;
    let mut p = k8s::Probe {
        initial_delay_seconds: t.delay,
        period_seconds: Some(t.period.unwrap_or(10)),
        timeout_seconds: Some(t.timeout.unwrap_or(2)),
        failure_threshold: Some(t.failures.unwrap_or(failures)),
        ..Default::default()
    };
    match &spec.probe {
        Probe::Http { path, port } => {
            p.http_get = Some(k8s::HttpGetAction {
                path: path.clone(),
                port: IntOrString::Int(i32::from(*port)),
            });
        }
        Probe::Tcp { port } => {
            p.tcp_socket = Some(k8s::TcpSocketAction {
                port: IntOrString::Int(i32::from(*port)),
            });
        }
        Probe::Exec { command } => {
            p.exec = Some(k8s::ExecAction {
                command: command.clone(),
            });
        }
    }
    p
}

fn default_run_as() -> RunAs {
    RunAs {
        user: RUN_AS,
        group: RUN_AS,
    }
}

fn run_as(app: &App) -> RunAs {
    app.run.run_as.unwrap_or_else(default_run_as)
}

/// `env`: literal values. Kubernetes expands `$(NAME)` in a value and
/// reads `$$` as `$`, so every `$` is doubled to keep the value as written.
fn env(app: &App) -> Vec<k8s::EnvVar> {
    app.run
        .env
        .iter()
        .map(|v| k8s::EnvVar {
            name: v.name.clone(),
            value: Some(v.value.replace('$', "$$")),
        })
        .collect()
}

/// `env_from`: ConfigMaps, then Secrets (a later source wins a key both have).
fn env_from(app: &App) -> Vec<k8s::EnvFromSource> {
    app.run
        .env_from
        .iter()
        .map(|src| {
            let r = Some(k8s::NameRef {
                name: src.name.clone(),
            });
            match src.kind {
                EnvSourceKind::ConfigMap => k8s::EnvFromSource {
                    config_map_ref: r,
                    secret_ref: None,
                },
                EnvSourceKind::Secret => k8s::EnvFromSource {
                    config_map_ref: None,
                    secret_ref: r,
                },
            }
        })
        .collect()
}

// ------------------------------------------------ pods that survive a node

/// The pod group's replicas: the most any of its apps asks for.
fn replicas(cx: &Cx<'_>, pod: &PodGroup) -> u32 {
    pod.apps
        .iter()
        .map(|a| cx.model.apps[a.index()].replicas)
        .max()
        .unwrap_or(1)
}

/// `app.kubernetes.io/name` (the pod group), `instance` (the group, and the
/// environment when the model has environments and the two fit in a label) and `component` (its
/// namespace), beside [`Cx::common_labels`]' `part-of` and `managed-by`.
/// Nothing selects on them: policies and Services select the pod label.
fn recommended_labels(cx: &Cx<'_>, pod: &PodGroup) -> Labels {
    // A label value has at most 63 characters: a long group and
    // environment name leave the environment out.
    let instance = match cx.env {
        Some(e) => format!("{}-{}", pod.name, cx.model.environments[e.index()].name),
        None => pod.name.clone(),
    };
    let instance = if instance.len() <= 63 {
        instance
    } else {
        pod.name.clone()
    };
    Labels::from_iter([
        ("app.kubernetes.io/name".into(), pod.name.clone()),
        ("app.kubernetes.io/instance".into(), instance),
        (
            "app.kubernetes.io/component".into(),
            cx.ns_name(pod.namespace).to_string(),
        ),
    ])
}

/// More than one replica: spread them over nodes, preferably
/// (`ScheduleAnyway`: a cluster with fewer nodes than replicas still runs
/// them all).
fn spread(cx: &Cx<'_>, pod: &PodGroup, replicas: u32) -> Vec<k8s::TopologySpreadConstraint> {
    if replicas < 2 {
        return Vec::new();
    }
    vec![k8s::TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "kubernetes.io/hostname".into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(LabelSelector::labels(Labels::from_iter([(
            cx.pod_label.clone(),
            pod.name.clone(),
        )]))),
    }]
}

/// More than one replica: a drain takes at most one of them at a time.
/// `maxUnavailable` (not `minAvailable`) never blocks a drain when an
/// overlay scales the group down to one.
fn disruption_budget(cx: &Cx<'_>, pod: &PodGroup) -> Option<Resource> {
    if pod.apps.is_empty() || replicas(cx, pod) < 2 {
        return None;
    }
    let ns = cx.ns_name(pod.namespace);
    let mut metadata = cx.metadata(&pod.name, ns, &[(&cx.pod_label, &pod.name)]);
    metadata.labels.extend(recommended_labels(cx, pod));
    Some(Resource::PodDisruptionBudget(k8s::PodDisruptionBudget {
        metadata,
        spec: k8s::PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: LabelSelector::labels(Labels::from_iter([(
                cx.pod_label.clone(),
                pod.name.clone(),
            )])),
        },
    }))
}

/// A short-lived token, the cluster CA and the namespace, for the one
/// container whose app has `kube` grants (pod-mates get no token).
fn token_volume() -> k8s::Volume {
    k8s::Volume {
        name: "kube-api-access".into(),
        projected: Some(k8s::ProjectedVolumeSource {
            default_mode: Some(0o444),
            sources: vec![
                k8s::VolumeProjection {
                    service_account_token: Some(k8s::ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(3607),
                    }),
                    ..Default::default()
                },
                k8s::VolumeProjection {
                    config_map: Some(k8s::KeyProjection {
                        name: "kube-root-ca.crt".into(),
                        items: vec![k8s::KeyToPath {
                            key: "ca.crt".into(),
                            path: "ca.crt".into(),
                        }],
                    }),
                    ..Default::default()
                },
                k8s::VolumeProjection {
                    downward_api: Some(k8s::DownwardApiProjection {
                        items: vec![k8s::DownwardApiFile {
                            path: "namespace".into(),
                            field_ref: k8s::FieldRef {
                                api_version: "v1".into(),
                                field_path: "metadata.namespace".into(),
                            },
                        }],
                    }),
                    ..Default::default()
                },
            ],
        }),
        ..Default::default()
    }
}

fn service(cx: &Cx<'_>, pod: &PodGroup, flows: &Flows) -> Option<Resource> {
    let key = app_group(cx, *pod.apps.first()?);
    let exposed = flows.exposed.get(&key)?;
    let ports = exposed
        .iter()
        .map(|(n, proto)| {
            let name = pod
                .apps
                .iter()
                .flat_map(|a| cx.model.apps[a.index()].ports.iter())
                .find(|p| p.number == *n && p.protocol == *proto)
                .map_or_else(|| format!("port-{n}"), |p| p.name.clone());
            k8s::ServicePort {
                name: Some(name),
                port: i32::from(*n),
                target_port: Some(IntOrString::Int(i32::from(*n))),
                protocol: Some(proto.as_str().into()),
            }
        })
        .collect();
    let selector = cx.selector(&pod.name);
    Some(Resource::Service(k8s::Service {
        metadata: cx.metadata(&pod.name, &key.ns, &[(&cx.pod_label, &pod.name)]),
        spec: k8s::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector,
            ports,
        },
    }))
}

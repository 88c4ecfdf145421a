//! Workload identity and hardened workloads per app pod group: a
//! ServiceAccount without an automounted token, a Deployment with one
//! container per app, and a Service exposing only ports reached from
//! another pod group or the ingress.

use super::flows::{app_group, Flows};
use super::Cx;
use crate::k8s::{self, IntOrString, LabelSelector, Labels, Resource};
use crate::model::{App, AppId, DataLevel, PodGroup, Probe, StoreId};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// The user (and group) every container runs as: non-root, ≥ 10000.
pub const RUN_AS: u32 = 10001;
/// Requests and limits of an app that declares no `resources`.
const DEFAULT_CPU: &str = "100m";
const DEFAULT_MEMORY: &str = "128Mi";

/// Per app pod group, in parallel: ServiceAccount, Deployment, Service.
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
    pod_labels.insert(cx.pod_label.clone(), pod.name.clone());
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
    let replicas = pod
        .apps
        .iter()
        .map(|a| cx.model.apps[a.index()].replicas)
        .max()
        .unwrap_or(1);
    let run_as = Some(i64::from(RUN_AS));
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
                    run_as_user: run_as,
                    run_as_group: run_as,
                    fs_group: run_as,
                    seccomp_profile: seccomp(),
                }),
                containers,
                volumes,
            },
        },
    };
    Resource::Deployment(k8s::Deployment {
        // A group bound to another kind of workload is refused by `build`
        // unless it writes no workloads (`--no-workloads`); `check` reads
        // this Deployment for the pods' labels and mounts.
        metadata: cx.metadata(&pod.workload().name, ns, &[(&cx.pod_label, &pod.name)]),
        spec,
    })
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
    let run_as = Some(i64::from(RUN_AS));
    let probe = probe(app);
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
        ports,
        security_context: Some(k8s::SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: run_as,
            run_as_group: run_as,
            capabilities: Some(k8s::Capabilities {
                drop: vec!["ALL".into()],
            }),
            seccomp_profile: seccomp(),
        }),
        resources: Some(resources(app)),
        liveness_probe: probe.clone(),
        readiness_probe: probe,
        volume_mounts,
    }
}

fn resources(app: &App) -> k8s::ResourceRequirements {
    let r = app.resources.clone().unwrap_or_default();
    let cpu = r.cpu.unwrap_or_else(|| DEFAULT_CPU.into());
    let memory = r.memory.unwrap_or_else(|| DEFAULT_MEMORY.into());
    let values = Labels::from_iter([("cpu".into(), cpu), ("memory".into(), memory)]);
    k8s::ResourceRequirements {
        requests: values.clone(),
        limits: values,
    }
}

/// From `health`, or else a TCP probe on the first port; none without either.
fn probe(app: &App) -> Option<k8s::Probe> {
    let mut p = k8s::Probe {
        period_seconds: Some(10),
        timeout_seconds: Some(2),
        failure_threshold: Some(3),
        ..Default::default()
    };
    match &app.health {
        Some(Probe::Http { path, port }) => {
            p.http_get = Some(k8s::HttpGetAction {
                path: path.clone(),
                port: IntOrString::Int(i32::from(*port)),
            });
        }
        Some(Probe::Tcp { port }) => {
            p.tcp_socket = Some(k8s::TcpSocketAction {
                port: IntOrString::Int(i32::from(*port)),
            });
        }
        Some(Probe::Exec { command }) => {
            p.exec = Some(k8s::ExecAction {
                command: command.clone(),
            });
        }
        None => {
            let port = app
                .ports
                .iter()
                .find(|p| p.protocol == crate::model::Protocol::Tcp)?;
            p.tcp_socket = Some(k8s::TcpSocketAction {
                port: IntOrString::Int(i32::from(port.number)),
            });
        }
    }
    Some(p)
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

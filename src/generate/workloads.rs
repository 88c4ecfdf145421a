//! Workload identity and hardened workloads per app pod group: a
//! ServiceAccount without an automounted token, a Deployment with one
//! container per app, and a Service exposing only ports reached from
//! another pod group or the ingress.

use super::flows::{app_group, Flows};
use super::{Cx, Object};
use crate::model::{App, AppId, DataLevel, PodGroup, Probe, StoreId};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The user (and group) every container runs as: non-root, ≥ 10000.
pub const RUN_AS: u32 = 10001;
/// Requests and limits of an app that declares no `resources`.
const DEFAULT_CPU: &str = "100m";
const DEFAULT_MEMORY: &str = "128Mi";

pub fn objects(cx: &Cx<'_>, flows: &Flows) -> Vec<Object> {
    let mut out = Vec::new();
    for pod in &cx.model.pods {
        if pod.apps.is_empty() {
            continue;
        }
        let ns = cx.ns_name(pod.namespace);
        let sa = json!({ "automountServiceAccountToken": false });
        out.push(cx.object("ServiceAccount", "v1", ns, &pod.name, &[], sa));
        out.push(deployment(cx, pod, flows));
        if let Some(svc) = service(cx, pod, flows) {
            out.push(svc);
        }
    }
    out
}

fn deployment(cx: &Cx<'_>, pod: &PodGroup, flows: &Flows) -> Object {
    let ns = cx.ns_name(pod.namespace);
    let pod_labels = {
        let mut l = cx.common_labels();
        l.insert(cx.pod_label.clone(), json!(pod.name));
        l
    };
    let kube_apps: Vec<AppId> = pod
        .apps
        .iter()
        .copied()
        .filter(|a| flows.kube_apps.contains(a))
        .collect();
    let containers: Vec<Value> = pod
        .apps
        .iter()
        .map(|&a| container(cx, a, flows.mounts.get(&a), kube_apps.contains(&a)))
        .collect();
    let mut volumes = vec![json!({ "name": "tmp", "emptyDir": {} })];
    let mut secrets: Vec<String> = pod
        .apps
        .iter()
        .filter_map(|a| flows.mounts.get(a))
        .flat_map(|m| m.iter().map(|(s, l)| secret_name(cx, *s, *l)))
        .collect();
    secrets.sort();
    secrets.dedup();
    for s in secrets {
        volumes.push(json!({ "name": s, "secret": { "secretName": s, "defaultMode": 0o440 } }));
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
    let spec = json!({
        "replicas": replicas,
        "selector": { "matchLabels": { &cx.pod_label: pod.name } },
        "template": {
            "metadata": { "labels": pod_labels },
            "spec": {
                "serviceAccountName": pod.name,
                "automountServiceAccountToken": false,
                "enableServiceLinks": false,
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": RUN_AS,
                    "runAsGroup": RUN_AS,
                    "fsGroup": RUN_AS,
                    "seccompProfile": { "type": "RuntimeDefault" },
                },
                "containers": containers,
                "volumes": volumes,
            },
        },
    });
    cx.object(
        "Deployment",
        "apps/v1",
        ns,
        &pod.name,
        &[(&cx.pod_label, &pod.name)],
        json!({ "spec": spec }),
    )
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
) -> Value {
    let app = &cx.model.apps[id.index()];
    let ports: Vec<Value> = app
        .ports
        .iter()
        .map(|p| json!({ "name": p.name, "containerPort": p.number, "protocol": p.protocol.as_str() }))
        .collect();
    let mut mounts_json = vec![json!({ "name": "tmp", "mountPath": "/tmp" })];
    for (store, level) in mounts.into_iter().flatten() {
        let secret = secret_name(cx, *store, *level);
        mounts_json.push(json!({
            "name": secret,
            "mountPath": format!("/var/run/secrets/palisade/{}", cx.model.stores[store.index()].name),
            "readOnly": true,
        }));
    }
    if kube {
        mounts_json.push(json!({
            "name": "kube-api-access",
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            "readOnly": true,
        }));
    }
    let mut c = json!({
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": "Always",
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "privileged": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "capabilities": { "drop": ["ALL"] },
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "resources": resources(app),
        "volumeMounts": mounts_json,
    });
    if !ports.is_empty() {
        c["ports"] = json!(ports);
    }
    if let Some(probe) = probe(app) {
        c["livenessProbe"] = probe.clone();
        c["readinessProbe"] = probe;
    }
    c
}

fn resources(app: &App) -> Value {
    let r = app.resources.clone().unwrap_or_default();
    let cpu = r.cpu.unwrap_or_else(|| DEFAULT_CPU.into());
    let memory = r.memory.unwrap_or_else(|| DEFAULT_MEMORY.into());
    json!({
        "requests": { "cpu": cpu, "memory": memory },
        "limits": { "cpu": cpu, "memory": memory },
    })
}

/// From `health`, or else a TCP probe on the first port; none without either.
fn probe(app: &App) -> Option<Value> {
    let handler = match &app.health {
        Some(Probe::Http { path, port }) => json!({ "httpGet": { "path": path, "port": port } }),
        Some(Probe::Tcp { port }) => json!({ "tcpSocket": { "port": port } }),
        Some(Probe::Exec { command }) => json!({ "exec": { "command": command } }),
        None => {
            let port = app
                .ports
                .iter()
                .find(|p| p.protocol == crate::model::Protocol::Tcp)?;
            json!({ "tcpSocket": { "port": port.number } })
        }
    };
    let mut p = handler;
    p["periodSeconds"] = json!(10);
    p["timeoutSeconds"] = json!(2);
    p["failureThreshold"] = json!(3);
    Some(p)
}

/// A short-lived token, the cluster CA and the namespace, for the one
/// container whose app has `kube` grants (pod-mates get no token).
fn token_volume() -> Value {
    json!({
        "name": "kube-api-access",
        "projected": {
            "defaultMode": 0o444,
            "sources": [
                { "serviceAccountToken": { "path": "token", "expirationSeconds": 3607 } },
                { "configMap": { "name": "kube-root-ca.crt", "items": [{ "key": "ca.crt", "path": "ca.crt" }] } },
                { "downwardAPI": { "items": [{ "path": "namespace", "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.namespace" } }] } },
            ],
        },
    })
}

fn service(cx: &Cx<'_>, pod: &PodGroup, flows: &Flows) -> Option<Object> {
    let key = app_group(cx, *pod.apps.first()?);
    let exposed = flows.exposed.get(&key)?;
    let ports: Vec<Value> = exposed
        .iter()
        .map(|(n, proto)| {
            let name = pod
                .apps
                .iter()
                .flat_map(|a| cx.model.apps[a.index()].ports.iter())
                .find(|p| p.number == *n && p.protocol == *proto)
                .map_or_else(|| format!("port-{n}"), |p| p.name.clone());
            json!({ "name": name, "port": n, "targetPort": n, "protocol": proto.as_str() })
        })
        .collect();
    let spec = json!({
        "type": "ClusterIP",
        "selector": { &cx.pod_label: pod.name },
        "ports": ports,
    });
    Some(cx.object(
        "Service",
        "v1",
        &key.ns,
        &pod.name,
        &[(&cx.pod_label, &pod.name)],
        json!({ "spec": spec }),
    ))
}

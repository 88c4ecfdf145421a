//! Pods that the generated tree relies on but does not contain, so that
//! network-config-analyzer (which evaluates only the pods in its input) has
//! something to connect: one per in-cluster store, the ingress controller,
//! the cluster DNS, and — when the model sets `workloads = false` — one per
//! pod group — plus decoys: pods in a namespace of their own that carry the
//! same selector labels. Written as JSON documents (JSON is YAML) from the
//! model alone. Every stand-in runs as the ServiceAccount that is its mesh
//! identity (a store's is named after it, the ingress controller's is
//! `platform.ingress.service_account`); for the mesh layer,
//! [`mesh_standins`] adds impostors: pods in the model's namespaces that
//! wear a group's labels under another ServiceAccount.

use crate::connectivity::{DECOY_NAMESPACE, DNS_STANDIN, IMPOSTOR, INGRESS_STANDIN};
use palisade::k8s::Labels;
use palisade::model::{Model, StoreLocation};
use serde_json::{json, Map, Value};

fn labels(pairs: &Labels) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": name, "labels": { "kubernetes.io/metadata.name": name } }
    })
}

fn port(number: u16, protocol: &str) -> Value {
    json!({ "containerPort": number, "protocol": protocol })
}

fn pod(name: &str, ns: &str, labels: Value, containers: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": { "containers": containers }
    })
}

/// A pod running as ServiceAccount `sa`.
fn pod_as(name: &str, ns: &str, sa: &str, labels: Value, containers: Vec<Value>) -> Value {
    let mut p = pod(name, ns, labels, containers);
    p["spec"]["serviceAccountName"] = json!(sa);
    p
}

/// The ServiceAccount impostors run as.
pub const IMPOSTOR_SA: &str = "impostor";

#[allow(dead_code)] // tests/oracles.rs
/// [`standins`] plus one impostor per pod group and in-cluster store: a pod
/// in its namespace with its pod label, running as ServiceAccount
/// `impostor`. NetworkPolicies would admit it; the mesh must not.
pub fn mesh_standins(model: &Model) -> String {
    let mut text = standins(model);
    for (ns, name) in crate::connectivity::model_pods(model)
        .iter()
        .filter_map(|p| p.split_once('/'))
    {
        // The labels that select the group or store: its selector, or
        // palisade's pod label.
        let selector = match model.pods.iter().position(|g| g.name == name) {
            Some(i) => model.group_selector(palisade::model::PodId(i as u32)),
            None => match model.stores.iter().position(|s| s.name == name) {
                Some(i) => model.store_selector(palisade::model::StoreId(i as u32)),
                None => vec![(
                    format!("{}/pod", model.platform.label_domain),
                    name.to_string(),
                )],
            },
        };
        let l = Labels::from_iter(selector);
        let c = container("impostor", vec![port(80, "TCP")]);
        let p = pod_as(
            &format!("{IMPOSTOR}{name}"),
            ns,
            IMPOSTOR_SA,
            labels(&l),
            vec![c],
        );
        text += "---\n";
        text += &serde_json::to_string_pretty(&p).expect("JSON serialises");
        text += "\n";
    }
    text
}

fn container(name: &str, ports: Vec<Value>) -> Value {
    json!({ "name": name, "image": "registry.example.com/stand-in:1", "ports": ports })
}

/// The stand-in objects for `model`, as one multi-document YAML text.
pub fn standins(model: &Model) -> String {
    let declared: Vec<&str> = model.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert!(
        !declared.contains(&DECOY_NAMESPACE),
        "the model declares namespace `{DECOY_NAMESPACE}`, which tests/oracles/standins.rs uses for decoys"
    );
    let mut docs = Vec::new();
    let mut extra_ns: Vec<&str> = Vec::new();

    let dns = &model.platform.dns;
    // The DNS pods listen on `platform.dns.ports` (OpenShift: 5353), UDP
    // and TCP.
    let dns_ports: Vec<Value> = (model.platform.dns_ports.iter())
        .flat_map(|&p| [port(p, "UDP"), port(p, "TCP")])
        .collect();
    extra_ns.push(&dns.namespace);
    docs.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": DNS_STANDIN, "namespace": dns.namespace },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": labels(&dns.labels) },
            "template": {
                "metadata": { "labels": labels(&dns.labels) },
                "spec": { "containers": [container("coredns", dns_ports.iter().cloned().chain([port(9153, "TCP")]).collect())] }
            }
        }
    }));

    if let Some(ing) = &model.platform.ingress {
        extra_ns.push(&ing.namespace);
        let ports = vec![port(80, "TCP"), port(443, "TCP")];
        docs.push(pod_as(
            INGRESS_STANDIN,
            &ing.namespace,
            ing.service_account.as_deref().unwrap_or("default"),
            labels(&ing.labels),
            vec![container("controller", ports)],
        ));
    }

    for (i, store) in model.stores.iter().enumerate() {
        if let StoreLocation::InCluster(ns) = store.location {
            // The labels the model binds the store to (its `selector`, or
            // palisade's own label), and one more, as an operator sets.
            let mut l = Labels::from_iter(model.store_selector(palisade::model::StoreId(i as u32)));
            l.insert("app.kubernetes.io/name".to_string(), store.name.clone());
            let c = container(&store.name, vec![port(store.port, "TCP")]);
            let sa = store
                .binding
                .service_account
                .as_deref()
                .unwrap_or(&store.name);
            docs.push(pod_as(
                &store.name,
                &model.namespace(ns).name,
                sa,
                labels(&l),
                vec![c],
            ));
        }
    }

    if !model.platform.workloads {
        for (i, group) in model.pods.iter().enumerate() {
            let l = Labels::from_iter(model.group_selector(palisade::model::PodId(i as u32)));
            let containers = group
                .apps
                .iter()
                .map(|&a| {
                    let app = &model.apps[a.index()];
                    let ports = app
                        .ports
                        .iter()
                        .map(|p| {
                            json!({ "name": p.name, "containerPort": p.number, "protocol": p.protocol.as_str() })
                        })
                        .collect();
                    container(&app.name, ports)
                })
                .collect();
            let ns = &model.namespace(group.namespace).name;
            let sa = group.service_account();
            docs.push(pod_as(&group.name, ns, sa, labels(&l), containers));
        }
    }

    // Decoys: pods outside the model that carry the labels the policies
    // select on. A selector that forgets its namespace lets them in (or out),
    // and NCA then shows rows with a decoy, which the model never expects.
    let mut label_sets: Vec<(String, Labels)> = (0..model.pods.len())
        .map(|i| {
            let id = palisade::model::PodId(i as u32);
            (
                model.pods[i].name.clone(),
                Labels::from_iter(model.group_selector(id)),
            )
        })
        .chain(
            (model.stores.iter().enumerate())
                .filter(|(_, s)| matches!(s.location, StoreLocation::InCluster(_)))
                .map(|(i, s)| {
                    let id = palisade::model::StoreId(i as u32);
                    (s.name.clone(), Labels::from_iter(model.store_selector(id)))
                }),
        )
        .collect();
    label_sets.push(("dns".into(), dns.labels.clone()));
    if let Some(ing) = &model.platform.ingress {
        label_sets.push(("ingress".into(), ing.labels.clone()));
    }
    extra_ns.push(DECOY_NAMESPACE);
    for (name, l) in label_sets {
        let c = container("decoy", dns_ports.clone());
        docs.push(pod(
            &format!("decoy-{name}"),
            DECOY_NAMESPACE,
            labels(&l),
            vec![c],
        ));
    }

    extra_ns.sort_unstable();
    extra_ns.dedup();
    let mut all: Vec<Value> = extra_ns
        .into_iter()
        .filter(|ns| !declared.contains(ns))
        .map(namespace)
        .collect();
    all.extend(docs);
    let mut text = String::from(
        "# Stand-ins for tests/oracles.rs (network-config-analyzer input only; not generated output)\n",
    );
    for d in all {
        text += "---\n";
        text += &serde_json::to_string_pretty(&d).expect("JSON serialises");
        text += "\n";
    }
    text
}

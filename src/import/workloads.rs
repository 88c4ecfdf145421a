//! Namespaces, apps, pod groups and stores from the manifests' workloads,
//! each bound to its workload by `selector`, `workload` and
//! `service_account`.

use super::names::{self, Kind};
use super::{App, Draft, Group, Port, Store};
use crate::effective::network::Protocol;
use crate::k8s::{Deployment, Labels, Resource};
use std::collections::BTreeSet;

/// Labels a controller adds to the pods it makes: never part of a
/// selector a person would write.
const GENERATED_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "pod-template-generation",
];

/// Images of well-known data stores: (image name token, engine, port).
/// Engines the language names get their engine; the others are `generic`
/// with their usual port.
const STORES: &[(&str, &str, u16)] = &[
    ("postgres", "postgres", 5432),
    ("postgresql", "postgres", 5432),
    ("postgis", "postgres", 5432),
    ("timescaledb", "postgres", 5432),
    ("mysql", "mysql", 3306),
    ("mariadb", "mysql", 3306),
    ("percona", "mysql", 3306),
    ("redis", "redis", 6379),
    ("valkey", "redis", 6379),
    ("keydb", "redis", 6379),
    ("mongo", "mongodb", 27017),
    ("mongodb", "mongodb", 27017),
    ("kafka", "kafka", 9092),
    ("minio", "s3", 9000),
    ("elasticsearch", "generic", 9200),
    ("opensearch", "generic", 9200),
    ("cassandra", "generic", 9042),
    ("rabbitmq", "generic", 5672),
    ("memcached", "generic", 11211),
    ("zookeeper", "generic", 2181),
    ("etcd", "generic", 2379),
    ("clickhouse", "generic", 9000),
    ("cockroach", "generic", 26257),
    ("couchdb", "generic", 5984),
    ("influxdb", "generic", 8086),
    ("nats", "generic", 4222),
];

/// Image name tokens of tools around a store, not the store itself.
const NOT_A_STORE: &[&str] = &[
    "exporter",
    "ui",
    "operator",
    "proxy",
    "admin",
    "commander",
    "console",
    "dashboard",
    "connect",
    "rest",
    "schema",
    "client",
    "backup",
    "insight",
];

/// The engines' own ports (docs/language.md, `store`).
fn engine_port(engine: &str) -> Option<u16> {
    match engine {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mongodb" => Some(27017),
        "kafka" => Some(9092),
        "s3" => Some(443),
        _ => None,
    }
}

/// The engine whose own port `port` is (for stores seen only through the
/// NetworkPolicies that reach them).
pub(super) fn engine_of_port(port: u16) -> Option<&'static str> {
    ["postgres", "mysql", "redis", "mongodb", "kafka"]
        .into_iter()
        .find(|e| engine_port(e) == Some(port))
}

/// Images of ingress controllers: their workloads are the platform's
/// ingress, not apps.
const INGRESS_CONTROLLERS: &[&str] = &[
    "ingress-nginx/controller",
    "nginx-ingress",
    "traefik",
    "haproxy-ingress",
    "contour",
    "kong/kubernetes-ingress-controller",
];

pub(super) fn collect(d: &mut Draft<'_>) {
    let objects = &d.manifests.objects;
    for (i, o) in objects.iter().enumerate() {
        if let Resource::Namespace(ns) = &o.resource {
            let name = &ns.metadata.name;
            if names::system_namespace(name) {
                continue;
            }
            let decl = d.namespaces.entry(name.clone()).or_default();
            decl.origin = Some(super::origin(d.files, &objects[i]));
            decl.pod_security = ns
                .metadata
                .labels
                .get("pod-security.kubernetes.io/enforce")
                .cloned();
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if let Resource::Service(s) = &o.resource {
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            d.services.entry(ns).or_default().push(i);
        }
    }
    // Workloads in name order, so that the draft does not depend on the
    // order of files and documents.
    let mut order: Vec<usize> = (0..objects.len())
        .filter(|&i| workload(&objects[i].resource).is_some())
        .collect();
    order.sort_by_key(|&i| {
        let m = objects[i].resource.metadata();
        (m.namespace.clone(), m.name.clone(), objects[i].kind)
    });
    let mut skipped_system: BTreeSet<String> = BTreeSet::new();
    let mut owned = 0;
    for i in order {
        let o = &objects[i];
        let Some((template_labels, spec)) = workload(&o.resource) else {
            continue;
        };
        if o.owned || made_by_controller(o.kind, &o.resource) {
            owned += 1;
            continue;
        }
        let m = o.resource.metadata();
        let namespace = m.namespace.clone().unwrap_or_default();
        let images: Vec<&str> = spec.containers.iter().map(|c| c.image.as_str()).collect();
        if images
            .iter()
            .any(|img| INGRESS_CONTROLLERS.iter().any(|ic| img.contains(ic)))
            && d.platform.ingress.is_none()
        {
            let labels = selector_of(&o.resource, template_labels);
            if !labels.is_empty() {
                d.platform.ingress = Some((namespace.clone(), labels, d.origin(i)));
                continue;
            }
        }
        if names::system_namespace(&namespace)
            || names::label(&namespace, Kind::Namespace) != namespace
        {
            skipped_system.insert(format!("{} {}", o.title(), at(d, i)));
            continue;
        }
        if spec.containers.is_empty() {
            d.notes.push(format!(
                "{}: a workload without containers is not imported",
                d.origin(i)
            ));
            continue;
        }
        d.namespaces.entry(namespace.clone()).or_default();
        let group = group(d, i, namespace, template_labels, spec);
        d.groups.push(group);
    }
    for s in skipped_system {
        d.notes.push(format!(
            "{s}: not imported — the language refuses `default` and `kube-*` namespaces (and names that are not DNS-1035 labels); move the workload to a namespace of its own"
        ));
    }
    for (i, o) in objects.iter().enumerate() {
        let Resource::Service(svc) = &o.resource else {
            continue;
        };
        let kind = svc.spec.type_.as_deref().unwrap_or("ClusterIP");
        if matches!(kind, "LoadBalancer" | "NodePort") {
            let ports: Vec<String> = svc.spec.ports.iter().map(|p| p.port.to_string()).collect();
            d.notes.push(format!(
                "{} (type {kind}) exposes its pods outside the cluster on {}: the model admits outside traffic only through `platform.ingress`",
                d.origin(i),
                ports.join(", ")
            ));
        }
    }
    skipped_kinds(d);
    if owned > 0 {
        d.notes.push(format!(
            "{owned} ReplicaSets and Pods that a Deployment, StatefulSet, DaemonSet or Job made (a `kubectl get` dump lists them) are not imported: their workload is"
        ));
    }
    distinct_selectors(d);
}

/// Kinds read and skipped that say something about access the language
/// cannot: Ingress routes, Gateway API routes, CRDs and custom resources.
fn skipped_kinds(d: &mut Draft<'_>) {
    /// Built-in kinds that grant no network or API access.
    const INERT: &[&str] = &[
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "StorageClass",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Endpoints",
        "EndpointSlice",
        "PriorityClass",
        "Kustomization",
        "(no kind)",
    ];
    let mut custom = Vec::new();
    for (kind, n) in &d.manifests.skipped {
        match kind.as_str() {
            "Ingress" | "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" | "Gateway" => {
                d.notes.push(format!(
                    "{n} {kind} object(s) route outside traffic to Services: the draft's `allow internet -> …` come from the NetworkPolicies that admit the ingress controller; compare them with these routes"
                ));
            }
            "CustomResourceDefinition" => d.notes.push(format!(
                "{n} CustomResourceDefinition(s): their custom resources, and the operators that act on them, can grant access no NetworkPolicy or Role of the manifests shows"
            )),
            k if INERT.contains(&k) => {}
            k => custom.push(format!("{k} ({n})")),
        }
    }
    if !custom.is_empty() {
        d.notes.push(format!(
            "kinds the language does not model, read and skipped: {} — a custom resource may grant access through its operator",
            custom.join(", ")
        ));
    }
}

/// A ReplicaSet or Pod that a controller made, when its `ownerReferences`
/// were stripped (`kubectl neat`): its labels carry the
/// controller's hash (a dump of a cluster lists them beside their
/// Deployment, StatefulSet, DaemonSet or Job).
fn made_by_controller(kind: &str, r: &Resource) -> bool {
    let labels = match r {
        // Jobs and CronJobs are read as ReplicaSets too.
        Resource::ReplicaSet(w) if kind == "ReplicaSet" => &w.spec.template.metadata.labels,
        Resource::Pod(p) => &p.metadata.labels,
        _ => return false,
    };
    [
        "pod-template-hash",
        "controller-revision-hash",
        "job-name",
        "batch.kubernetes.io/job-name",
    ]
    .iter()
    .any(|k| labels.contains_key(*k))
}

/// `file:line` of object `i`.
fn at(d: &Draft<'_>, i: usize) -> String {
    let o = &d.manifests.objects[i];
    let file = d.files.get(o.span.file);
    format!("({}:{})", file.name, file.line_col(o.span.start).0)
}

/// The pod template of a workload kind (bare Pods are their own).
fn workload(r: &Resource) -> Option<(&Labels, &crate::k8s::PodSpec)> {
    match r {
        Resource::Deployment(w)
        | Resource::StatefulSet(w)
        | Resource::DaemonSet(w)
        | Resource::ReplicaSet(w) => {
            Some((&w.spec.template.metadata.labels, &w.spec.template.spec))
        }
        Resource::Pod(p) => Some((&p.metadata.labels, &p.spec)),
        _ => None,
    }
}

fn deployment(r: &Resource) -> Option<&Deployment> {
    match r {
        Resource::Deployment(w)
        | Resource::StatefulSet(w)
        | Resource::DaemonSet(w)
        | Resource::ReplicaSet(w) => Some(w),
        _ => None,
    }
}

/// The labels that select a workload's pods: its selector's `matchLabels`,
/// else its pods' labels without those controllers add.
fn selector_of(r: &Resource, template: &Labels) -> Labels {
    if let Some(w) = deployment(r) {
        if !w.spec.selector.match_labels.is_empty() {
            return w.spec.selector.match_labels.clone();
        }
    }
    template
        .iter()
        .filter(|(k, _)| !GENERATED_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn group(
    d: &mut Draft<'_>,
    i: usize,
    namespace: String,
    template_labels: &Labels,
    spec: &crate::k8s::PodSpec,
) -> Group {
    let o = &d.manifests.objects[i];
    let workload_name = o.resource.metadata().name.clone();
    let selector = selector_of(&o.resource, template_labels);
    let replicas = deployment(&o.resource).and_then(|w| w.spec.replicas);
    let mut notes = vec![d.origin(i)];
    let service_account = spec
        .service_account_name
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let first = &spec.containers[0];
    if let Some((engine, port)) = store_engine(&first.image) {
        let name = d.names.claim(&workload_name, Some(&namespace), Kind::Store);
        let declared: Vec<u16> = (first.ports.iter())
            .filter_map(|p| u16::try_from(p.container_port).ok())
            .collect();
        let port = if declared.is_empty() || declared.contains(&port) {
            port
        } else {
            declared[0]
        };
        for c in &spec.containers[1..] {
            notes.push(format!(
                "its container `{}` ({}) is part of the store",
                c.name, c.image
            ));
        }
        return Group {
            obj: i,
            namespace,
            kind: o.kind,
            name: name.clone(),
            workload: workload_name,
            apps: Vec::new(),
            store: Some(Store {
                name,
                engine,
                port,
                explicit_port: engine_port(engine) != Some(port),
                image: first.image.clone(),
            }),
            selector,
            service_account,
            replicas,
            notes,
        };
    }
    let single = spec.containers.len() == 1;
    let group_name = d.names.claim(&workload_name, Some(&namespace), Kind::Pod);
    let mut apps = Vec::new();
    let mut used_ports: BTreeSet<String> = BTreeSet::new();
    let mut used_numbers: BTreeSet<(u16, Protocol)> = BTreeSet::new();
    for c in &spec.containers {
        // Pod-mates are named after their containers where that name is
        // free (what runs in a container is what its name says), else
        // after the workload and the container.
        let name = if single {
            group_name.clone()
        } else {
            match d.names.claim_exact(&c.name, Kind::App) {
                Some(name) => name,
                None => d.names.claim(
                    &format!("{workload_name}-{}", c.name),
                    Some(&namespace),
                    Kind::App,
                ),
            }
        };
        let mut ports = Vec::new();
        for p in &c.ports {
            let Some(number) = u16::try_from(p.container_port).ok().filter(|&n| n > 0) else {
                continue;
            };
            let protocol = match &p.protocol {
                None => Protocol::Tcp,
                Some(s) => match Protocol::parse(s) {
                    Some(p) => p,
                    None => continue,
                },
            };
            if !used_numbers.insert((number, protocol)) {
                continue;
            }
            let wanted = p
                .name
                .clone()
                .or_else(|| service_port_name(d, &namespace, template_labels, number, protocol));
            let name = port_name(wanted.as_deref(), number, protocol, &used_ports);
            used_ports.insert(name.clone());
            ports.push(Port {
                name,
                number,
                protocol,
            });
        }
        let image = if c.image.trim().is_empty() || c.image.contains(char::is_whitespace) {
            notes.push(format!(
                "container `{}` names no usable image; `unknown` stands in",
                c.name
            ));
            "unknown".to_string()
        } else {
            c.image.clone()
        };
        apps.push(App { name, image, ports });
    }
    if !matches!(o.kind, "Deployment" | "StatefulSet" | "DaemonSet") {
        notes.push(format!(
            "bound by its selector: `workload` names Deployments, StatefulSets and DaemonSets, not a {}",
            o.kind
        ));
    }
    if !single {
        notes.push(format!(
            "one app per container ({}), in one pod",
            (spec.containers.iter())
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Group {
        obj: i,
        namespace,
        kind: o.kind,
        workload: workload_name,
        name: group_name,
        apps,
        store: None,
        selector,
        service_account,
        replicas,
        notes,
    }
}

/// The name of the Service port that targets `number` on pods with
/// `labels` (a Service whose selector they match), if one is named.
fn service_port_name(
    d: &Draft<'_>,
    namespace: &str,
    labels: &Labels,
    number: u16,
    protocol: Protocol,
) -> Option<String> {
    let services = d.services.get(namespace)?;
    services.iter().find_map(|&i| {
        let Resource::Service(s) = &d.manifests.objects[i].resource else {
            return None;
        };
        if s.spec.selector.is_empty()
            || !(s.spec.selector.iter()).all(|(k, v)| labels.get(k) == Some(v))
        {
            return None;
        }
        s.spec.ports.iter().find_map(|p| {
            let proto = p
                .protocol
                .as_deref()
                .map_or(Some(Protocol::Tcp), Protocol::parse)?;
            let target = match &p.target_port {
                None => i64::from(p.port),
                Some(crate::k8s::IntOrString::Int(n)) => i64::from(*n),
                Some(crate::k8s::IntOrString::String(_)) => return None,
            };
            (proto == protocol && target == i64::from(number))
                .then(|| p.name.clone())
                .flatten()
        })
    })
}

/// A port's model name: the one written if valid and free, else `port-N`
/// (`port-N-udp` for UDP, `port-N-sctp`).
pub(super) fn port_name(
    wanted: Option<&str>,
    number: u16,
    protocol: Protocol,
    used: &BTreeSet<String>,
) -> String {
    if let Some(w) = wanted {
        let w = w.to_ascii_lowercase();
        if names::valid_port_name(&w) && !used.contains(&w) {
            return w;
        }
    }
    let base = match protocol {
        Protocol::Tcp => format!("port-{number}"),
        Protocol::Udp => format!("port-{number}-udp"),
        Protocol::Sctp => format!("port-{number}-sctp"),
    };
    if !used.contains(&base) {
        return base;
    }
    // `port-N` taken by a port named so for another number: `pN-2`, ….
    (2..)
        .map(|n| format!("p{number}-{n}"))
        .find(|c| !used.contains(c))
        .unwrap_or(base)
}

/// The engine and port of a data store's image, if it is one.
fn store_engine(image: &str) -> Option<(&'static str, u16)> {
    let path = image.split('@').next().unwrap_or(image);
    // `registry:5000/x/redis:7`: the tag follows the last `/`.
    let base = path.rsplit('/').next().unwrap_or(path);
    let base = base.split(':').next().unwrap_or(base).to_ascii_lowercase();
    let tokens: Vec<&str> = base.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    if tokens.iter().any(|t| NOT_A_STORE.contains(t)) {
        return None;
    }
    tokens.iter().find_map(|t| {
        STORES
            .iter()
            .find(|(token, _, _)| token == t)
            .map(|&(_, engine, port)| (engine, port))
    })
}

/// Two groups of one namespace whose selectors could select the same pod
/// are an error in the language: widen the smaller selector with its
/// pods' other labels, and where that is not enough bind by workload only.
fn distinct_selectors(d: &mut Draft<'_>) {
    let subset = |a: &Labels, b: &Labels| a.iter().all(|(k, v)| b.get(k) == Some(v));
    // Pairs within a namespace only (the groups are in namespace order).
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, g) in d.groups.iter().enumerate() {
        match ranges.last_mut() {
            Some(r) if d.groups[r.start].namespace == g.namespace => r.end = i + 1,
            _ => ranges.push(i..i + 1),
        }
    }
    for (i, j) in ranges
        .into_iter()
        .flat_map(|r| r.clone().flat_map(move |i| r.clone().map(move |j| (i, j))))
    {
        {
            if i == j {
                continue;
            }
            let (a, b) = (&d.groups[i].selector, &d.groups[j].selector);
            if a.is_empty() || b.is_empty() || !subset(a, b) {
                continue;
            }
            // `a` selects every pod `b` does: narrow `a` with its pods' labels.
            let Some((labels, _)) = workload(&d.manifests.objects[d.groups[i].obj].resource) else {
                continue;
            };
            let mut wider = d.groups[i].selector.clone();
            for (k, v) in labels.iter() {
                if !GENERATED_LABELS.contains(&k.as_str()) {
                    wider.insert(k.clone(), v.clone());
                }
            }
            let still =
                subset(&wider, &d.groups[j].selector) || subset(&d.groups[j].selector, &wider);
            let other = d.groups[j].name.clone();
            let g = &mut d.groups[i];
            if still {
                g.notes.push(format!(
                    "its selector could select the pods of `{other}` too: bound by workload only"
                ));
                g.selector = Labels::new();
            } else {
                g.selector = wider;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_image() {
        assert_eq!(store_engine("redis:alpine"), Some(("redis", 6379)));
        assert_eq!(
            store_engine("docker.io/bitnami/postgresql:16.2.0"),
            Some(("postgres", 5432))
        );
        assert_eq!(
            store_engine("registry:5000/cp-kafka:7"),
            Some(("kafka", 9092))
        );
        assert_eq!(store_engine("oliver006/redis_exporter:v1"), None);
        assert_eq!(store_engine("ghcr.io/acme/api:1.0"), None);
        assert_eq!(store_engine("mongo@sha256:abc"), Some(("mongodb", 27017)));
    }

    #[test]
    fn port_names_fall_back() {
        let mut used = BTreeSet::new();
        assert_eq!(port_name(Some("http"), 80, Protocol::Tcp, &used), "http");
        used.insert("http".to_string());
        assert_eq!(port_name(Some("http"), 81, Protocol::Tcp, &used), "port-81");
        assert_eq!(
            port_name(Some("logs"), 53, Protocol::Udp, &used),
            "port-53-udp"
        );
        assert_eq!(port_name(None, 9000, Protocol::Tcp, &used), "port-9000");
    }
}

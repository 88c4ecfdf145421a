//! `allow` statements for the connections the manifests' NetworkPolicies
//! permit, as the effective-access engine evaluates them
//! ([`crate::effective::network`]): between workloads, from the ingress
//! controller, and to addresses. Where no policy isolates a workload the
//! draft says so in a comment and writes nothing: every connection is
//! open, which no `allow` can state.

use super::{workloads, Draft, External, Port};
use crate::effective::network::{
    self, Cause, Cluster, Direction, IpSet, PodId, PortRanges, PortSet, Protocol,
};
use crate::k8s::{Labels, NetworkPolicy, Resource};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// At most this many single ports outside a target's declared ports are
/// declared for it (and named in the `allow`); more, or a range, is listed
/// as what the language cannot say.
const MAX_EXTRA_PORTS: usize = 8;

/// Words in an ingress controller's namespace or pod labels.
const INGRESS_WORDS: &[&str] = &[
    "ingress", "traefik", "contour", "haproxy", "gateway", "envoy", "kong",
];

/// Who opens a connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Group(usize),
    /// The ingress controller: outside traffic, `internet` in the model.
    Ingress,
}

pub(super) fn collect(d: &mut Draft<'_>) {
    let resources = d.manifests.resources();
    let (mut cluster, policies) = Cluster::from_resources(&resources);
    let policy_objects: Vec<usize> = (d.manifests.objects.iter().enumerate())
        .filter(|(_, o)| matches!(o.resource, Resource::NetworkPolicy(_)))
        .map(|(i, _)| i)
        .collect();
    let mut pod_group: HashMap<PodId, usize> = HashMap::new();
    for (gi, g) in d.groups.iter().enumerate() {
        if let Some(id) = cluster.pod_id(&g.namespace, &g.workload) {
            pod_group.insert(id, gi);
        }
    }
    let ingress = ingress_pods(d, &mut cluster, &policies);
    unbacked_stores(d, &mut cluster, &policies, &policy_objects, &mut pod_group);
    foreign_namespaces(d, &cluster, &policies, &policy_objects);
    let access = network::evaluate(&cluster, &policies);
    for p in access.problems() {
        if let Some(&i) = policy_objects.get(p.policy.0) {
            d.notes.push(format!(
                "{}: {} (evaluated as the API server would have rejected it: that part admits nothing)",
                d.origin(i),
                p.message
            ));
        }
    }
    let conn = access.connections();
    let rule_origin = |d: &Draft<'_>, cause: Cause| match cause {
        Cause::NotIsolated => None,
        Cause::Rule(r) => policy_objects
            .get(r.policy.0)
            .map(|&i| format!("{} {}[{}]", d.origin(i), r.direction, r.index)),
    };
    for c in &conn.connections {
        let Some(&dst) = pod_group.get(&c.dst) else {
            continue;
        };
        let src = match pod_group.get(&c.src) {
            Some(&g) => Source::Group(g),
            None if ingress.contains(&c.src) => Source::Ingress,
            None => continue,
        };
        let mut origins: Vec<String> = Vec::new();
        for a in c.egress.iter().chain(&c.ingress) {
            if let Some(o) = rule_origin(d, a.cause) {
                if !origins.contains(&o) {
                    origins.push(o);
                }
            }
        }
        connection(d, src, dst, &c.ports, origins);
    }
    // Open workloads: said, not written.
    let open_in: BTreeSet<PodId> = conn.open_destinations.iter().copied().collect();
    let open_out: BTreeSet<PodId> = conn.open_sources.iter().copied().collect();
    let mut open = 0;
    for (&pod, &gi) in &pod_group {
        let (i, o) = (open_in.contains(&pod), open_out.contains(&pod));
        let note = match (i, o) {
            (true, true) => "no NetworkPolicy selects it: every pod and address may connect to it, and it to them, on every port — no `allow` says so (the model denies what it does not allow)",
            (true, false) => "no NetworkPolicy isolates its ingress: every pod and address may connect to it on every port — no `allow` says so",
            (false, true) => "no NetworkPolicy isolates its egress: it may connect to every pod and address on every port — no `allow` says so",
            (false, false) => continue,
        };
        open += 1;
        d.groups[gi].notes.push(note.to_string());
    }
    if open > 0 {
        d.notes.push(format!(
            "{open} of {} workloads are open in some direction (no NetworkPolicy isolates them): everything is allowed there, which no `allow` states; their comments say which",
            d.groups.len()
        ));
    }
    let mut pods: Vec<(PodId, usize)> = pod_group.into_iter().collect();
    pods.sort_by_key(|&(_, g)| g);
    for (pod, gi) in pods {
        if access.is_isolated(pod, Direction::Egress) {
            // Rule by rule (not partitioned by ports): each `ipBlock` rule
            // is one destination the model can name.
            for grant in access.ip_grants(pod, Direction::Egress) {
                let origins: Vec<String> = rule_origin(d, grant.cause).into_iter().collect();
                addresses(d, gi, &grant.ips, &grant.ports, &origins);
            }
        }
        if access.is_isolated(pod, Direction::Ingress) {
            for (ips, ports) in access.ip_access(pod, Direction::Ingress) {
                let who = d.groups[gi].subject().to_string();
                d.note_for(
                    &who,
                    format!(
                        "{{who}} accepts connections from {ips} on {}: outside traffic reaches apps only through `platform.ingress` in the model",
                        describe(&ports)
                    ),
                );
            }
        }
    }
}

/// The ingress controller's pods: a workload of the manifests that
/// [`workloads`] took for the platform's ingress, or a stand-in for the
/// pods of another namespace that policies admit into apps and that look
/// like one (`ingress-nginx`, `traefik`, …), which then becomes
/// `platform.ingress`.
fn ingress_pods(
    d: &mut Draft<'_>,
    cluster: &mut Cluster,
    policies: &[&NetworkPolicy],
) -> Vec<PodId> {
    if let Some((ns, labels, _)) = &d.platform.ingress {
        return (cluster.pods())
            .filter(|(_, p)| {
                &p.namespace == ns && labels.iter().all(|(k, v)| p.labels.get(k) == Some(v))
            })
            .map(|(id, _)| id)
            .collect();
    }
    let with_pods: BTreeSet<String> = cluster.pods().map(|(_, p)| p.namespace.clone()).collect();
    let mut found: Option<(String, Labels, String)> = None;
    'policies: for (pi, p) in policies.iter().enumerate() {
        for rule in p.spec.ingress.iter().flatten() {
            for peer in rule.from.iter().flatten() {
                let Some(ns_sel) = &peer.namespace_selector else {
                    continue;
                };
                let Some(ns) = ns_sel.match_labels.get(network::NAMESPACE_NAME_LABEL) else {
                    continue;
                };
                let labels = peer
                    .pod_selector
                    .as_ref()
                    .map(|s| s.match_labels.clone())
                    .unwrap_or_default();
                let looks = INGRESS_WORDS
                    .iter()
                    .any(|w| ns.contains(w) || labels.iter().any(|(_, v)| v.contains(w)));
                if looks && !labels.is_empty() && !with_pods.contains(ns) {
                    let obj = (d.manifests.objects.iter().enumerate())
                        .filter(|(_, o)| matches!(o.resource, Resource::NetworkPolicy(_)))
                        .nth(pi)
                        .map(|(i, _)| d.origin(i))
                        .unwrap_or_default();
                    found = Some((ns.clone(), labels, obj));
                    break 'policies;
                }
            }
        }
    }
    let Some((ns, labels, origin)) = found else {
        return Vec::new();
    };
    let pod = cluster.add_pod(network::Pod {
        namespace: ns.clone(),
        name: "palisade-import-ingress".into(),
        labels: labels.clone(),
        ports: Vec::new(),
    });
    d.platform.ingress = Some((ns, labels, origin));
    vec![pod]
}

/// Stores the manifests run no workload for (an operator's database, a
/// managed one reached through the cluster, `palisade build`'s own output):
/// pods an egress rule admits by labels on one data store port (5432,
/// 6379, …) that no workload's pods carry. Each becomes a store bound by
/// that selector, and a stand-in pod with those labels takes its place in
/// the evaluation, as `audit` evaluates a store without a workload.
fn unbacked_stores(
    d: &mut Draft<'_>,
    cluster: &mut Cluster,
    policies: &[&NetworkPolicy],
    policy_objects: &[usize],
    pod_group: &mut HashMap<PodId, usize>,
) {
    let mut seen: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    for (pi, p) in policies.iter().enumerate() {
        let own = p.metadata.namespace.clone().unwrap_or_default();
        for rule in p.spec.egress.iter().flatten() {
            let Some(port) = single_tcp_port(rule.ports.as_deref()) else {
                continue;
            };
            let Some(engine) = workloads::engine_of_port(port) else {
                continue;
            };
            for peer in rule.to.iter().flatten() {
                let Some(sel) = &peer.pod_selector else {
                    continue;
                };
                if sel.match_labels.is_empty() || !sel.match_expressions.is_empty() {
                    continue;
                }
                let ns = match &peer.namespace_selector {
                    None => own.clone(),
                    Some(n) if n.match_expressions.is_empty() && n.match_labels.len() == 1 => {
                        match n.match_labels.get(network::NAMESPACE_NAME_LABEL) {
                            Some(ns) => ns.clone(),
                            None => continue,
                        }
                    }
                    Some(_) => continue,
                };
                let labels = &sel.match_labels;
                let key: Vec<(String, String)> =
                    labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                if super::names::system_namespace(&ns)
                    || super::names::label(&ns, super::names::Kind::Namespace) != ns
                    || !seen.insert((ns.clone(), key))
                {
                    continue;
                }
                let matches = |have: &Labels| labels.iter().all(|(k, v)| have.get(k) == Some(v));
                if cluster
                    .pods()
                    .any(|(_, pod)| pod.namespace == ns && matches(&pod.labels))
                {
                    continue;
                }
                // A workload whose selector the stand-in's labels satisfy
                // would claim its pods: the selectors would overlap.
                let overlaps = d.groups.iter().any(|g| {
                    g.namespace == ns
                        && !g.selector.is_empty()
                        && (g.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                            || labels.iter().all(|(k, v)| g.selector.get(k) == Some(v)))
                });
                if overlaps {
                    continue;
                }
                let Some(&obj) = policy_objects.get(pi) else {
                    continue;
                };
                let wanted = ["palisade.dev/pod", "app.kubernetes.io/name", "app", "name"]
                    .iter()
                    .find_map(|k| labels.get(*k))
                    .or_else(|| labels.values().next())
                    .cloned()
                    .unwrap_or_default();
                let name = d.names.claim(&wanted, Some(&ns), super::names::Kind::Store);
                let pod = cluster.add_pod(network::Pod {
                    namespace: ns.clone(),
                    name: format!("palisade-import-{name}"),
                    labels: labels.clone(),
                    ports: vec![network::ContainerPort {
                        name: None,
                        port,
                        protocol: Protocol::Tcp,
                    }],
                });
                d.namespaces.entry(ns.clone()).or_default();
                let origin = d.origin(obj);
                pod_group.insert(pod, d.groups.len());
                d.groups.push(super::Group {
                    obj,
                    namespace: ns,
                    kind: "",
                    workload: String::new(),
                    name: name.clone(),
                    apps: Vec::new(),
                    store: Some(super::Store {
                        name,
                        engine,
                        port,
                        explicit_port: false,
                        image: String::new(),
                    }),
                    selector: labels.clone(),
                    service_account: String::new(),
                    replicas: None,
                    notes: vec![
                        format!("{origin} admits traffic to these pods on port {port}, and no workload of the manifests runs them: a store run by an operator, or outside the manifests?"),
                    ],
                });
            }
        }
    }
}

/// The one TCP port numbered in a rule's `ports`, if that is all it names.
fn single_tcp_port(ports: Option<&[crate::k8s::NetworkPolicyPort]>) -> Option<u16> {
    let [p] = ports? else { return None };
    let tcp = p.protocol.as_deref().is_none_or(|x| x == "TCP");
    match (&p.port, p.end_port) {
        (Some(crate::k8s::IntOrString::Int(n)), None) if tcp => u16::try_from(*n).ok(),
        _ => None,
    }
}

/// Notes the namespaces policies admit by name that the manifests hold no
/// workload for (their pods exist only in the cluster): the model can name
/// only what it declares. The platform's DNS and ingress are left out.
fn foreign_namespaces(
    d: &mut Draft<'_>,
    cluster: &Cluster,
    policies: &[&NetworkPolicy],
    policy_objects: &[usize],
) {
    let with_pods: BTreeSet<String> = cluster.pods().map(|(_, p)| p.namespace.clone()).collect();
    let dns = crate::model::Platform::default().dns;
    for (pi, p) in policies.iter().enumerate() {
        let peers = (p.spec.ingress.iter().flatten())
            .flat_map(|r| r.from.iter().flatten().map(|peer| ("from", peer)))
            .chain(
                (p.spec.egress.iter().flatten())
                    .flat_map(|r| r.to.iter().flatten().map(|peer| ("to", peer))),
            );
        let mut named: BTreeSet<(&str, String)> = BTreeSet::new();
        for (dir, peer) in peers {
            let Some(ns) = (peer.namespace_selector.as_ref())
                .and_then(|s| s.match_labels.get(network::NAMESPACE_NAME_LABEL))
            else {
                continue;
            };
            let pods = peer.pod_selector.as_ref().map(|s| &s.match_labels);
            let is_dns = *ns == dns.namespace && pods == Some(&dns.labels);
            let is_ingress = (d.platform.ingress.as_ref()).is_some_and(|(n, _, _)| n == ns);
            if !with_pods.contains(ns) && !is_dns && !is_ingress {
                named.insert((dir, ns.clone()));
            }
        }
        for (dir, ns) in named {
            let Some(&i) = policy_objects.get(pi) else {
                continue;
            };
            let note = format!(
                "{} admits traffic {dir} pods of namespace `{ns}`, which the manifests hold no workload for: the model names only the apps it declares",
                d.origin(i)
            );
            d.notes.push(note);
        }
    }
}

/// The `allow`s for one allowed connection between workloads.
fn connection(d: &mut Draft<'_>, src: Source, dst: usize, ports: &PortSet, origins: Vec<String>) {
    let subject = match src {
        Source::Group(g) => d.groups[g].subject().to_string(),
        Source::Ingress => "internet".to_string(),
    };
    let src_is_store = matches!(src, Source::Group(g) if d.groups[g].store.is_some());
    let target = &d.groups[dst];
    if let Some(store) = &target.store {
        let store_name = store.name.clone();
        let store_port = store.port;
        let rest = ports.difference(&PortSet::of(Protocol::Tcp, PortRanges::single(store_port)));
        match src {
            Source::Ingress => {
                let note = format!(
                    "the ingress controller may connect to store `{store_name}` on {}: the model has no way to say that",
                    describe(ports)
                );
                d.notes.push(note);
                return;
            }
            Source::Group(_) if src_is_store => {
                // A store may name any port literal of another in-cluster store.
                match singles(ports) {
                    Some(list) => {
                        let items = list.iter().map(|&(n, p)| super::literal(n, p)).collect();
                        d.allow(&subject, &store_name, items, origins);
                    }
                    None => d.notes.push(format!(
                        "`{subject}` may connect to `{store_name}` on {}: only single ports can be allowed between stores",
                        describe(ports)
                    )),
                }
                return;
            }
            Source::Group(_) => {
                if ports.contains(Protocol::Tcp, store_port) {
                    let Source::Group(g) = src else { return };
                    let mounts = mounted_levels(d, g, &store_name);
                    match mounts.is_empty() {
                        false => {
                            // The app whose container mounts the credentials.
                            for (container, level) in mounts {
                                let app = (d.groups[g].apps.get(container))
                                    .map_or(subject.clone(), |a| a.name.clone());
                                d.allow(&app, &store_name, vec![level.into()], origins.clone());
                            }
                        }
                        true => {
                            d.allow(&subject, &store_name, vec!["read".into()], origins);
                            let note = "the level is a guess: the manifests show a connection, not which credentials it uses".to_string();
                            if let Some(a) = (d.allows.iter_mut())
                                .find(|a| a.target == store_name && a.items == ["read"])
                            {
                                if !a.notes.contains(&note) {
                                    a.notes.push(note);
                                }
                            }
                        }
                    }
                }
                if !rest.is_empty() {
                    d.notes.push(format!(
                        "`{subject}` may connect to store `{store_name}` on {} besides its port {store_port}: a store has one port in the model",
                        describe(&rest)
                    ));
                }
                return;
            }
        }
    }
    // An app target: its declared ports by name; a few other single ports
    // are declared for it; the rest is listed.
    let mut per_app: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut declared = PortSet::empty();
    for (ai, app) in target.apps.iter().enumerate() {
        for p in &app.ports {
            let one = PortSet::of(p.protocol, PortRanges::single(p.number));
            declared = declared.union(&one);
            if ports.contains(p.protocol, p.number) {
                per_app.entry(ai).or_default().push(p.name.clone());
            }
        }
    }
    let rest = ports.difference(&declared);
    if !rest.is_empty() {
        match singles(&rest).filter(|l| l.len() <= MAX_EXTRA_PORTS) {
            Some(list) => {
                let g = &mut d.groups[dst];
                let mut used: BTreeSet<String> = (g.apps.iter())
                    .flat_map(|a| a.ports.iter().map(|p| p.name.clone()))
                    .collect();
                for (number, protocol) in list {
                    let name = workloads::port_name(None, number, protocol, &used);
                    used.insert(name.clone());
                    g.apps[0].ports.push(Port {
                        name: name.clone(),
                        number,
                        protocol,
                    });
                    per_app.entry(0).or_default().push(name);
                }
                let note = "a NetworkPolicy admits traffic to ports its containers do not declare: they are declared here (`port-N`)";
                if !g.notes.iter().any(|n| n == note) {
                    g.notes.push(note.to_string());
                }
            }
            None => {
                let target_name = d.groups[dst].subject().to_string();
                let who = match src {
                    Source::Ingress => "the ingress controller".to_string(),
                    Source::Group(_) => subject.clone(),
                };
                let what = if ports.is_all() {
                    "every port".to_string()
                } else {
                    format!("{} beyond its declared ports", describe(&rest))
                };
                d.note_for(
                    &who,
                    format!(
                        "{{who}} may connect to `{target_name}` on {what}: the model names ports one by one, and names only the ports `{target_name}` declares"
                    ),
                );
            }
        }
    }
    for (ai, mut items) in per_app {
        items.sort();
        items.dedup();
        let app = d.groups[dst].apps[ai].name.clone();
        d.allow(&subject, &app, items, origins.clone());
    }
}

/// The credentials of `store` that group `g`'s containers mount, by
/// container: a Secret volume named `<store>-read`, `-write` or `-admin`
/// (the names `palisade build` gives them, docs/kubernetes.md), the
/// highest level each container mounts.
fn mounted_levels(d: &Draft<'_>, g: usize, store: &str) -> Vec<(usize, &'static str)> {
    const LEVELS: [&str; 3] = ["read", "write", "admin"];
    let spec = match &d.manifests.objects[d.groups[g].obj].resource {
        Resource::Deployment(w)
        | Resource::StatefulSet(w)
        | Resource::DaemonSet(w)
        | Resource::ReplicaSet(w) => &w.spec.template.spec,
        Resource::Pod(p) => &p.spec,
        _ => return Vec::new(),
    };
    let level_of = |volume: &str| {
        let v = spec.volumes.iter().find(|v| v.name == volume)?;
        let name = &v.secret.as_ref()?.secret_name;
        let level = name.strip_prefix(store)?.strip_prefix('-')?;
        LEVELS.iter().position(|l| *l == level)
    };
    (spec.containers.iter().enumerate())
        .filter_map(|(i, c)| {
            let best = c
                .volume_mounts
                .iter()
                .filter_map(|m| level_of(&m.name))
                .max()?;
            Some((i, LEVELS[best]))
        })
        .collect()
}

/// Egress from group `gi` to `ips` on `ports`: `internet`, externals.
fn addresses(d: &mut Draft<'_>, gi: usize, ips: &IpSet, ports: &PortSet, origins: &[String]) {
    // A store's pods, too: its egress out of the cluster is an `allow`
    // like an app's (docs/kubernetes.md, "A store's own traffic").
    let subject = d.groups[gi].subject().to_string();
    let Some(list) = singles(ports).filter(|l| l.len() <= MAX_EXTRA_PORTS) else {
        d.note_for(
            &subject,
            format!(
                "{{who}} may connect to {ips} on {}: the model names outside ports one by one",
                describe(ports)
            ),
        );
        return;
    };
    let not_internet = ip_set(
        crate::model::Platform::default()
            .not_internet()
            .iter()
            .map(ToString::to_string),
    );
    let internet = IpSet::all().difference(&not_internet).v4_only();
    let mut rest = ips.clone();
    if internet.is_subset(ips) {
        let items = list.iter().map(|&(n, p)| super::literal(n, p)).collect();
        d.allow(&subject, "internet", items, origins.to_vec());
        rest = rest.difference(&IpSet::all().difference(&not_internet));
    }
    let never = ip_set(
        crate::model::never_internet()
            .iter()
            .map(ToString::to_string),
    );
    if !rest.intersection(&never).is_empty() {
        d.notes.push(format!(
            "`{subject}` may connect to link-local or unique-local addresses ({}) on {}: the model never grants them (169.254.169.254 hands out the node's cloud credentials)",
            rest.intersection(&never),
            describe(ports)
        ));
        rest = rest.difference(&never);
    }
    if rest.is_empty() {
        return;
    }
    let cidrs = rest.cidrs();
    let ext = match d.externals.iter().position(|x| x.cidrs == cidrs) {
        Some(x) => x,
        None => {
            let wanted = format!("net-{}", cidrs[0]);
            let name = d.names.claim(&wanted, None, super::names::Kind::External);
            d.externals.push(External {
                name,
                cidrs,
                ports: Vec::new(),
                origin: origins.join("; "),
            });
            d.externals.len() - 1
        }
    };
    let mut items = Vec::new();
    for (number, protocol) in list {
        let x = &mut d.externals[ext];
        let name = match x
            .ports
            .iter()
            .find(|p| p.number == number && p.protocol == protocol)
        {
            Some(p) => p.name.clone(),
            None => {
                let used: BTreeSet<String> = x.ports.iter().map(|p| p.name.clone()).collect();
                let name = workloads::port_name(None, number, protocol, &used);
                x.ports.push(Port {
                    name: name.clone(),
                    number,
                    protocol,
                });
                name
            }
        };
        items.push(name);
    }
    let target = d.externals[ext].name.clone();
    d.allow(&subject, &target, items, origins.to_vec());
}

/// The single ports of `ports` (each protocol's ranges expanded), if it is
/// a short list of them and names no other protocol.
fn singles(ports: &PortSet) -> Option<Vec<(u16, Protocol)>> {
    if ports.other_protocols() {
        return None;
    }
    let mut out = Vec::new();
    for protocol in Protocol::ALL {
        for &(lo, hi) in ports.ports(protocol).ranges() {
            if usize::from(hi - lo) >= 4 * MAX_EXTRA_PORTS {
                return None;
            }
            out.extend((lo..=hi).map(|n| (n, protocol)));
            if out.len() > 4 * MAX_EXTRA_PORTS {
                return None;
            }
        }
    }
    Some(out)
}

/// `every port`, `TCP 8080, 9000-9100`, `UDP 53`.
fn describe(ports: &PortSet) -> String {
    if ports.is_all() {
        return "every port".to_string();
    }
    let mut parts = Vec::new();
    for protocol in Protocol::ALL {
        let ranges = ports.ports(protocol).ranges();
        if ranges.is_empty() {
            continue;
        }
        let list: Vec<String> = ranges
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        parts.push(format!("{protocol} {}", list.join(", ")));
    }
    if ports.other_protocols() {
        parts.push("every other protocol".to_string());
    }
    parts.join("; ")
}

fn ip_set(cidrs: impl IntoIterator<Item = String>) -> IpSet {
    cidrs
        .into_iter()
        .filter_map(|c| IpSet::parse_cidr(&c))
        .fold(IpSet::empty(), |a, b| a.union(&b))
}

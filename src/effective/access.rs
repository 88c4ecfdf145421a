//! Effective access in the model's terms: what one environment's generated
//! objects permit, evaluated by [`super::network`] and [`super::rbac`], plus
//! the implications no object states (docs/checks.md):
//!
//! | implication | consequence |
//! | --- | --- |
//! | `pods/exec` on a pod | the persona acts as the pod: its egress, its mounted credentials, its token |
//! | `pods/portforward` on a pod | the persona reaches every port of the pod, whatever the policies say |
//! | `get` on a credentials Secret | the store access of that level |
//! | containers in one pod | one network identity: each app has the pod's whole ingress and egress |
//!
//! Nothing here re-reads the model's grants: the model only names things
//! (which Deployment is which pod group, which Secret holds which store's
//! credentials, which labels mark an in-cluster store's pods, the ingress
//! controller and DNS). Stand-in pods take the place of what palisade does
//! not deploy — in-cluster stores, the ingress controller, DNS — labelled by
//! the label contract of docs/kubernetes.md.

use super::network::{self, Cluster, Direction, PodId as NetPod, PortSet};
use super::rbac::{Attributes, Authorizer, ResourceNames, UserInfo};
use crate::k8s::{Labels, Resource};
use crate::model::{
    AppId, Classification, DataLevel, EnvId, Model, Operation, PersonaId, PodId, StoreId,
    StoreLocation, Subject,
};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use super::parties::{
    CutEdge, IpCut, IpEdge, Layer, LayerCause, NetEdge, Node, Outside, OutsideEdge, Placement,
    Verdict, ELSEWHERE,
};

/// A persona's RBAC reach onto a pod (group or store) for one operation.
#[derive(Clone, Debug)]
pub struct OpEdge {
    pub persona: PersonaId,
    pub op: Operation,
    pub target: Node,
    /// `RoleBinding "x/ns" of Role "y" to Group "g"`, and the rule (shared
    /// by every edge the same rule grants).
    pub cause: Arc<str>,
}

/// Who holds a store's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    Persona(PersonaId),
    Group(PodId),
}

/// How a holder got the credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// `get` on the credentials Secret (cause: the RBAC rule).
    Secret(Arc<str>),
    /// Mounted into the pod group's pods.
    Mount,
    /// `pods/exec` into a pod group that mounts them.
    Exec(PodId),
    /// `pods/exec` into the store's own pods: the store itself.
    ExecStore,
}

#[derive(Clone, Debug)]
pub struct DataEdge {
    pub holder: Holder,
    pub store: StoreId,
    pub level: DataLevel,
    pub via: Via,
    /// For a mount: the app whose container mounts it (pod-mates' containers
    /// do not see it; whoever execs into the pod can pick the container).
    pub app: Option<AppId>,
}

/// One environment's effective access.
#[derive(Debug, Default)]
pub struct EnvAccess {
    pub env: Option<EnvId>,
    /// Shared between environments with the same app and port grants.
    pub net: Arc<Vec<NetEdge>>,
    pub ip: Arc<Vec<IpEdge>>,
    pub ops: Vec<OpEdge>,
    pub data: Vec<DataEdge>,
    /// Pod groups whose pods mount a ServiceAccount token.
    pub tokens: BTreeSet<PodId>,
    /// The apps whose containers mount it.
    pub token_apps: BTreeSet<AppId>,
    /// Problems the evaluators found in the objects (a generator bug).
    pub problems: Vec<String>,
    /// `namespace/name` of each NetworkPolicy, by [`network::PolicyId`].
    pub policies: Arc<Vec<String>>,
    /// Connections the NetworkPolicies admit and the mesh or guardrail
    /// layer cuts (shared as `net` is).
    pub cut: Arc<Vec<CutEdge>>,
    /// Address egress a guardrail cuts.
    pub ip_cut: Arc<Vec<IpCut>>,
}

/// The network part of an environment's access: what its Namespaces,
/// NetworkPolicies and Deployments permit. Cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct NetPart {
    pub net: Arc<Vec<NetEdge>>,
    pub ip: Arc<Vec<IpEdge>>,
    pub policies: Arc<Vec<String>>,
    pub problems: Vec<String>,
    /// With [`Placement::outside`]: connections between a model party and
    /// something the model does not name (one end each).
    pub outside: Vec<OutsideEdge>,
    /// With [`Placement::outside`]: each pod group's (and in-cluster
    /// store's) address egress rule by rule, with its cause.
    pub ip_grants: Vec<(Node, network::IpGrant)>,
    /// Connections (and address egress) the layers cut: [`EnvAccess::cut`].
    pub cut: Arc<Vec<CutEdge>>,
    pub ip_cut: Arc<Vec<IpCut>>,
}

/// The credentials Secret `<store>-<level>` → (store, level).
fn secret_index(model: &Model) -> HashMap<String, (StoreId, DataLevel)> {
    let mut out = HashMap::new();
    for (i, s) in model.stores.iter().enumerate() {
        for level in [DataLevel::Read, DataLevel::Write, DataLevel::Admin] {
            out.insert(
                format!("{}-{}", s.name, level.as_str()),
                (StoreId(i as u32), level),
            );
        }
    }
    out
}

/// Effective access of one environment's objects.
pub fn evaluate(model: &Model, env: Option<EnvId>, objects: &[Resource]) -> EnvAccess {
    evaluate_with(model, env, objects, None, network(model, objects))
}

/// [`evaluate`] with the network part already evaluated — by [`network`],
/// possibly for another environment with the same app and port grants
/// ([`crate::generate::network_grants`]): environments usually differ only
/// in who may operate what, so `palisade::check` evaluates the network once
/// per distinct set, in parallel with the rest.
///
/// `rbac`: the Roles and bindings to authorize with, when they are not
/// among `objects` (an environment that shares another's workloads and
/// differs only in its RBAC).
pub fn evaluate_with(
    model: &Model,
    env: Option<EnvId>,
    objects: &[Resource],
    rbac: Option<&[Resource]>,
    net: NetPart,
) -> EnvAccess {
    evaluate_placed(model, env, objects, rbac, net, &Placement::generated(model))
}

/// [`evaluate_with`] for parties placed by `placement` (`palisade audit`:
/// the workloads a model is bound to).
pub fn evaluate_placed(
    model: &Model,
    env: Option<EnvId>,
    objects: &[Resource],
    rbac: Option<&[Resource]>,
    net: NetPart,
    placement: &Placement,
) -> EnvAccess {
    let mut out = EnvAccess {
        env,
        net: net.net,
        ip: net.ip,
        policies: net.policies,
        problems: net.problems,
        cut: net.cut,
        ip_cut: net.ip_cut,
        ..EnvAccess::default()
    };
    // Mounted credentials and tokens, from the Deployments.
    let secrets = secret_index(model);
    let groups_by_name: HashMap<(&str, &str), PodId> = (placement.groups.iter().enumerate())
        .filter_map(|(i, p)| {
            let (ns, name) = p.as_ref()?;
            Some(((ns.as_str(), name.as_str()), PodId(i as u32)))
        })
        .collect();
    // Secrets present per namespace: in-cluster stores' in their namespace,
    // mounted ones where they are mounted.
    let mut ns_secrets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &model.stores {
        if let StoreLocation::InCluster(ns) = s.location {
            for level in ["read", "write", "admin"] {
                ns_secrets
                    .entry(model.namespaces[ns.index()].name.clone())
                    .or_default()
                    .insert(format!("{}-{level}", s.name));
            }
        }
    }
    let mut deployed: BTreeSet<PodId> = BTreeSet::new();
    // ServiceAccounts that say whether their token is mounted by default.
    let sa_automount: HashMap<(&str, &str), bool> = (objects.iter())
        .filter_map(|r| match r {
            Resource::ServiceAccount(sa) => Some((
                (
                    sa.metadata.namespace.as_deref().unwrap_or("default"),
                    sa.metadata.name.as_str(),
                ),
                sa.automount_service_account_token?,
            )),
            _ => None,
        })
        .collect();
    for r in objects {
        let (meta, pod) = match r {
            Resource::Deployment(d)
            | Resource::StatefulSet(d)
            | Resource::DaemonSet(d)
            | Resource::ReplicaSet(d) => (&d.metadata, &d.spec.template.spec),
            Resource::Pod(p) => (&p.metadata, &p.spec),
            _ => continue,
        };
        let ns = meta.namespace.as_deref().unwrap_or("default");
        let Some(&group) = groups_by_name.get(&(ns, meta.name.as_str())) else {
            continue;
        };
        deployed.insert(group);
        let apps = &model.pods[group.index()].apps;
        // Kubernetes mounts the ServiceAccount's token into every container
        // unless the pod or its ServiceAccount says not to.
        let sa = pod.service_account_name.as_deref().unwrap_or("default");
        let automount = (pod.automount_service_account_token)
            .or_else(|| sa_automount.get(&(ns, sa)).copied())
            .unwrap_or(true);
        if automount {
            out.tokens.insert(group);
            out.token_apps.extend(apps.iter().copied());
        }
        // Which container mounts what: a volume reaches only the
        // containers that mount it (containers are named after their app;
        // a lone app's pod is the app's, whatever its containers' names).
        for c in &pod.containers {
            let app = match apps.as_slice() {
                [only] => Some(*only),
                _ => apps
                    .iter()
                    .copied()
                    .find(|a| model.apps[a.index()].name == c.name),
            };
            for m in &c.volume_mounts {
                let Some(v) = pod.volumes.iter().find(|v| v.name == m.name) else {
                    continue;
                };
                if let Some(sec) = &v.secret {
                    if let Some(&(store, level)) = secrets.get(&sec.secret_name) {
                        out.data.push(DataEdge {
                            holder: Holder::Group(group),
                            store,
                            level,
                            via: Via::Mount,
                            app,
                        });
                    }
                }
                let token = v
                    .projected
                    .as_ref()
                    .is_some_and(|p| p.sources.iter().any(|s| s.service_account_token.is_some()));
                if token {
                    out.tokens.insert(group);
                    if let Some(app) = app {
                        out.token_apps.insert(app);
                    }
                }
            }
        }
        for v in &pod.volumes {
            if let Some(sec) = &v.secret {
                ns_secrets
                    .entry(ns.to_string())
                    .or_default()
                    .insert(sec.secret_name.clone());
            }
        }
    }

    // Personas' RBAC reach.
    let rbac = Authorizer::new(rbac.unwrap_or(objects));
    let mut pods_in: BTreeMap<&str, Vec<Node>> = BTreeMap::new();
    for (i, g) in model.pods.iter().enumerate() {
        if deployed.contains(&PodId(i as u32)) {
            pods_in
                .entry(&model.namespaces[g.namespace.index()].name)
                .or_default()
                .push(Node::Group(PodId(i as u32)));
        }
    }
    for (i, s) in model.stores.iter().enumerate() {
        if let StoreLocation::InCluster(ns) = s.location {
            pods_in
                .entry(&model.namespaces[ns.index()].name)
                .or_default()
                .push(Node::Store(StoreId(i as u32)));
        }
    }
    let mut text = CauseText::default();
    for (p, persona) in model.personas.iter().enumerate() {
        if persona.external {
            continue;
        }
        let persona_id = PersonaId(p as u32);
        for user in persona.subjects.iter().map(user_of) {
            // Only namespaces where a binding may apply to the user.
            let namespaces: Vec<&str> = match rbac.namespaces_for(&user) {
                Some(set) => set.into_iter().collect(),
                None => model.namespaces.iter().map(|n| n.name.as_str()).collect(),
            };
            for ns in namespaces {
                let pods = pods_in.get(ns).map(Vec::as_slice).unwrap_or(&[]);
                pod_ops(
                    &rbac, &user, ns, pods, model, persona_id, &mut text, &mut out,
                );
                secret_reads(
                    &rbac,
                    &user,
                    ns,
                    &ns_secrets,
                    &secrets,
                    persona_id,
                    &mut text,
                    &mut out,
                );
            }
        }
    }
    dedup_ops(&mut out.ops);

    // Implications of exec.
    let mounted: Vec<DataEdge> = out.data.clone();
    let exec_targets: Vec<(PersonaId, Node)> = out
        .ops
        .iter()
        .filter(|o| o.op == Operation::Exec)
        .map(|o| (o.persona, o.target))
        .collect();
    for (persona, target) in exec_targets {
        match target {
            Node::Group(g) => {
                for m in mounted.iter().filter(|m| m.holder == Holder::Group(g)) {
                    out.data.push(DataEdge {
                        holder: Holder::Persona(persona),
                        store: m.store,
                        level: m.level,
                        via: Via::Exec(g),
                        app: None,
                    });
                }
            }
            Node::Store(s) => out.data.push(DataEdge {
                holder: Holder::Persona(persona),
                store: s,
                level: DataLevel::Admin,
                via: Via::ExecStore,
                app: None,
            }),
            Node::Ingress | Node::Dns => {}
        }
    }
    out
}

/// The network part of [`evaluate`]: the cluster with stand-ins, the
/// NetworkPolicies evaluated, connections and address egress by node.
pub fn network(model: &Model, objects: &[Resource]) -> NetPart {
    network_placed(model, objects, &Placement::generated(model))
}

/// [`network`] for parties placed by `placement`.
pub fn network_placed(model: &Model, objects: &[Resource], placement: &Placement) -> NetPart {
    let mut out = NetPart::default();
    let mut net = Vec::new();
    let mut ip = Vec::new();
    let (mut cluster, policies) = Cluster::from_resources(objects);
    let mut nodes: HashMap<NetPod, Node> = HashMap::new();
    // The pods of the model's own parties (pod groups, in-cluster stores),
    // whose address egress is evaluated; in node order.
    let mut own_pods: Vec<(Node, NetPod)> = Vec::new();
    for (i, placed) in placement.groups.iter().enumerate() {
        if let Some(id) = placed
            .as_ref()
            .and_then(|(ns, name)| cluster.pod_id(ns, name))
        {
            nodes.insert(id, Node::Group(PodId(i as u32)));
            own_pods.push((Node::Group(PodId(i as u32)), id));
        }
    }
    // Stand-ins, labelled as docs/kubernetes.md asks users to label them.
    for (i, s) in model.stores.iter().enumerate() {
        if let Some(id) = (placement.stores.get(i))
            .and_then(Option::as_ref)
            .and_then(|(ns, name)| cluster.pod_id(ns, name))
        {
            nodes.insert(id, Node::Store(StoreId(i as u32)));
            own_pods.push((Node::Store(StoreId(i as u32)), id));
            continue;
        }
        if let StoreLocation::InCluster(ns) = s.location {
            let pod = network::Pod {
                namespace: model.namespaces[ns.index()].name.clone(),
                name: format!("{}-store", s.name),
                labels: Labels::from_iter(model.store_selector(StoreId(i as u32))),
                ports: vec![network::ContainerPort {
                    name: None,
                    port: s.port,
                    protocol: network::Protocol::Tcp,
                }],
            };
            cluster.ensure_namespace(&pod.namespace);
            let id = cluster.add_pod(pod);
            nodes.insert(id, Node::Store(StoreId(i as u32)));
            own_pods.push((Node::Store(StoreId(i as u32)), id));
        }
    }
    let mut stand_in = |ns: &str, labels: &Labels, node: Node, ports| {
        cluster.ensure_namespace(ns);
        let id = cluster.add_pod(network::Pod {
            namespace: ns.to_string(),
            name: format!(
                "palisade-stand-in-{}",
                if node == Node::Dns { "dns" } else { "ingress" }
            ),
            labels: labels.clone(),
            ports,
        });
        nodes.insert(id, node);
    };
    if let Some(ing) = &model.platform.ingress {
        stand_in(&ing.namespace, &ing.labels, Node::Ingress, Vec::new());
    }
    // The DNS pods listen on `platform.dns.ports`, UDP and TCP.
    let dns_ports = (model.platform.dns_ports.iter())
        .flat_map(|&port| {
            [network::Protocol::Udp, network::Protocol::Tcp].map(|protocol| {
                network::ContainerPort {
                    name: None,
                    port,
                    protocol,
                }
            })
        })
        .collect();
    stand_in(
        &model.platform.dns.namespace,
        &model.platform.dns.labels,
        Node::Dns,
        dns_ports,
    );

    // What the model does not name: a label-less pod per namespace, and
    // one in a namespace of its own for every other namespace.
    let mut anonymous: HashMap<NetPod, Outside> = HashMap::new();
    if placement.outside {
        let names: Vec<String> = cluster.namespaces().map(|(_, n)| n.name.clone()).collect();
        for ns in names.into_iter().chain([ELSEWHERE.to_string()]) {
            cluster.ensure_namespace(&ns);
            let id = cluster.add_pod(network::Pod {
                namespace: ns.clone(),
                name: "palisade-audit-any-pod".into(),
                labels: Labels::new_vec(),
                ports: Vec::new(),
            });
            let party = match ns.as_str() {
                ELSEWHERE => Outside::Anywhere,
                _ => Outside::AnyIn(ns),
            };
            anonymous.insert(id, party);
        }
    }
    let access = network::evaluate(&cluster, &policies);
    out.policies = Arc::new(
        (policies.iter())
            .map(|p| {
                let ns = p.metadata.namespace.as_deref().unwrap_or("default");
                format!("{ns}/{}", p.metadata.name)
            })
            .collect(),
    );
    out.problems
        .extend(access.problems().iter().map(|p| format!("{p:?}")));
    let conn = access.connections();
    for c in &conn.connections {
        let (Some(&from), Some(&to)) = (nodes.get(&c.src), nodes.get(&c.dst)) else {
            continue;
        };
        net.push(NetEdge {
            from,
            to,
            ports: c.ports.clone(),
            egress: c.egress.iter().map(|a| a.cause).collect(),
            ingress: c.ingress.iter().map(|a| a.cause).collect(),
            layers: Vec::new(),
        });
    }
    // Open on both sides (nothing isolates them): stand-ins of namespaces
    // palisade does not manage. Only our own nodes matter.
    for &s in &conn.open_sources {
        for &d in &conn.open_destinations {
            if let (Some(&from @ Node::Group(_)), Some(&to)) = (nodes.get(&s), nodes.get(&d)) {
                net.push(NetEdge {
                    from,
                    to,
                    ports: PortSet::all(),
                    egress: vec![network::Cause::NotIsolated],
                    ingress: vec![network::Cause::NotIsolated],
                    layers: Vec::new(),
                });
            }
        }
    }
    if placement.outside {
        let party = |id: NetPod| match (nodes.get(&id), anonymous.get(&id)) {
            (Some(&n), _) => Outside::Node(n),
            (None, Some(a)) => a.clone(),
            (None, None) => {
                let p = access.cluster().pod(id);
                Outside::Pod(p.namespace.clone(), p.name.clone())
            }
        };
        let mut push = |s: NetPod, d: NetPod, ports: PortSet, eg: Vec<_>, ing: Vec<_>| {
            let (from, to) = (party(s), party(d));
            let model_end =
                |p: &Outside| matches!(p, Outside::Node(Node::Group(_) | Node::Store(_)));
            // DNS and the ingress controller are the platform's: the graph
            // has what passes through them.
            let platform = |p: &Outside| matches!(p, Outside::Node(Node::Dns | Node::Ingress));
            if model_end(&from) != model_end(&to) && !platform(&from) && !platform(&to) {
                out.outside.push(OutsideEdge {
                    from,
                    to,
                    ports,
                    egress: eg,
                    ingress: ing,
                });
            }
        };
        for c in &conn.connections {
            push(
                c.src,
                c.dst,
                c.ports.clone(),
                c.egress.iter().map(|a| a.cause).collect(),
                c.ingress.iter().map(|a| a.cause).collect(),
            );
        }
        // Neither side isolated: a model party with any pod anywhere (and of
        // each namespace). A workload the model does not name is one of
        // those pods: naming each would make the rectangle quadratic.
        let keep = |id: &NetPod| nodes.contains_key(id) || anonymous.contains_key(id);
        let sources: Vec<NetPod> = conn.open_sources.iter().copied().filter(keep).collect();
        let destinations: Vec<NetPod> = conn
            .open_destinations
            .iter()
            .copied()
            .filter(keep)
            .collect();
        for &s in &sources {
            for &d in &destinations {
                let one_anonymous = anonymous.contains_key(&s) != anonymous.contains_key(&d);
                if s != d && one_anonymous {
                    let open = vec![network::Cause::NotIsolated];
                    push(s, d, PortSet::all(), open.clone(), open);
                }
            }
        }
    }
    if placement.outside {
        for &(node, id) in &own_pods {
            for g in access.ip_grants(id, Direction::Egress) {
                out.ip_grants.push((node, g));
            }
        }
        out.ip_grants.sort_by_key(|(n, _)| *n);
    }
    // Every layer must allow a connection: the mesh's AuthorizationPolicies
    // (effective/mesh.rs) and Calico's guardrails (effective/calico.rs) too.
    let (mut cut, mut ip_cut) = (Vec::new(), Vec::new());
    super::mesh::restrict(model, objects, placement, &mut net, &mut cut);
    for &(node, id) in &own_pods {
        for (addresses, ports) in access.ip_access(id, Direction::Egress) {
            ip.push(IpEdge {
                from: node,
                addresses,
                ports,
            });
        }
    }
    super::calico::restrict(
        model,
        objects,
        placement,
        &mut net,
        &mut ip,
        &mut cut,
        &mut ip_cut,
        &mut out.problems,
    );
    super::calico::restrict_outside(model, objects, placement, &mut out.outside);
    out.cut = Arc::new(cut);
    out.ip_cut = Arc::new(ip_cut);
    ip.sort_by_key(|e| e.from);
    out.net = Arc::new(net);
    out.ip = Arc::new(ip);
    out
}

/// The user a persona's subject authenticates as.
fn user_of(s: &Subject) -> UserInfo {
    match s {
        // Any member of the group: no User subject can match the empty name.
        Subject::Group(g) => UserInfo::group_member("", [g.clone()]),
        Subject::User(u) => UserInfo::user(u.clone()),
        Subject::ServiceAccount { namespace, name } => UserInfo::service_account(namespace, name),
    }
}

/// (op, verb, group, resource, subresource, by Deployment name)
type OpRequest = (
    Operation,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    bool,
);

/// The RBAC request behind each operation, and how it reaches pods: by
/// pod (any pod of the namespace, or the named ones) or by Deployment name.
const OP_REQUESTS: &[OpRequest] = &[
    (Operation::Exec, "create", "", "pods", Some("exec"), false),
    (
        Operation::Portforward,
        "create",
        "",
        "pods",
        Some("portforward"),
        false,
    ),
    (Operation::Logs, "get", "", "pods", Some("log"), false),
    (Operation::View, "list", "", "pods", None, false),
    (
        Operation::Restart,
        "patch",
        "apps",
        "deployments",
        None,
        true,
    ),
    (
        Operation::Deploy,
        "update",
        "apps",
        "deployments",
        None,
        true,
    ),
    (
        Operation::Scale,
        "patch",
        "apps",
        "deployments",
        Some("scale"),
        true,
    ),
];

/// Formatted RBAC causes, once per (binding, subject, rule): a rule that
/// names fifty Deployments is the cause of fifty edges, and formatting it
/// for each was a fifth of the checker's time.
#[derive(Default)]
struct CauseText(HashMap<(usize, usize, usize, usize), Arc<str>>);

impl CauseText {
    fn get(&mut self, c: &super::rbac::Cause<'_>) -> Arc<str> {
        let key = (
            c.binding_name.as_ptr() as usize,
            c.subject as *const _ as usize,
            c.rule as *const _ as usize,
            c.aggregated_from
                .map_or(0, |(name, _)| name.as_ptr() as usize),
        );
        self.0
            .entry(key)
            .or_insert_with(|| c.to_string().into())
            .clone()
    }
}

#[allow(clippy::too_many_arguments)]
fn pod_ops(
    rbac: &Authorizer,
    user: &UserInfo,
    ns: &str,
    pods: &[Node],
    model: &Model,
    persona: PersonaId,
    text: &mut CauseText,
    out: &mut EnvAccess,
) {
    for &(op, verb, group, resource, sub, by_workload) in OP_REQUESTS {
        let names_of = |resource: &str| {
            let mut attrs = Attributes::resource(verb, group, resource, ns);
            if let Some(sub) = sub {
                attrs = attrs.with_subresource(sub);
            }
            rbac.allowed_names(user, &attrs)
        };
        // By workload: one request per kind of workload (the pod groups'
        // Deployments, or the StatefulSets and DaemonSets they are bound
        // to); by pod: one.
        let mut by_kind: Vec<(&str, ResourceNames<'_>)> = vec![(resource, names_of(resource))];
        if by_workload {
            for &node in pods {
                if let Node::Group(g) = node {
                    let r = model.pods[g.index()].workload().kind.resource();
                    if !by_kind.iter().any(|(k, _)| *k == r) {
                        by_kind.push((r, names_of(r)));
                    }
                }
            }
        }
        if by_kind.iter().all(|(_, n)| n.is_empty()) {
            continue;
        }
        for &node in pods {
            // Pods get generated names: only a rule without resourceNames
            // reaches them. Workloads are named after their pod group, or
            // bound by name.
            let (workload, names) = match (by_workload, node) {
                (true, Node::Group(g)) => {
                    let w = model.pods[g.index()].workload();
                    let Some((_, names)) = by_kind.iter().find(|(k, _)| *k == w.kind.resource())
                    else {
                        continue;
                    };
                    (Some(w.name), names)
                }
                // A store's pods: whatever runs them, a rule on every
                // Deployment of the namespace is taken to reach them.
                _ => (None, &by_kind[0].1),
            };
            let cause = match (names, workload) {
                (ResourceNames::All(c), _) => Some(c),
                (ResourceNames::Only(_), Some(name)) => names.allows(&name),
                _ => None,
            };
            if let Some(cause) = cause {
                out.ops.push(OpEdge {
                    persona,
                    op,
                    target: node,
                    cause: text.get(cause),
                });
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn secret_reads(
    rbac: &Authorizer,
    user: &UserInfo,
    ns: &str,
    ns_secrets: &BTreeMap<String, BTreeSet<String>>,
    index: &HashMap<String, (StoreId, DataLevel)>,
    persona: PersonaId,
    text: &mut CauseText,
    out: &mut EnvAccess,
) {
    let Some(present) = ns_secrets.get(ns) else {
        return;
    };
    let get = rbac.allowed_names(user, &Attributes::resource("get", "", "secrets", ns));
    let list = rbac.allowed_names(user, &Attributes::resource("list", "", "secrets", ns));
    for name in present {
        let cause = get.allows(name).or(match &list {
            ResourceNames::All(c) => Some(c),
            ResourceNames::Only(_) => None,
        });
        if let (Some(cause), Some(&(store, level))) = (cause, index.get(name)) {
            out.data.push(DataEdge {
                holder: Holder::Persona(persona),
                store,
                level,
                via: Via::Secret(text.get(cause)),
                app: None,
            });
        }
    }
}

fn dedup_ops(ops: &mut Vec<OpEdge>) {
    let mut seen = BTreeSet::new();
    ops.retain(|o| seen.insert((o.persona, o.op as u8, o.target)));
}

impl EnvAccess {
    /// `shop/api ingress[0]`, or `not isolated`.
    pub fn describe(&self, cause: network::Cause) -> String {
        match cause {
            network::Cause::NotIsolated => "not isolated".into(),
            network::Cause::Rule(r) => format!(
                "{} {}[{}]",
                self.policies.get(r.policy.0).map_or("?", String::as_str),
                match r.direction {
                    Direction::Ingress => "ingress",
                    Direction::Egress => "egress",
                },
                r.index
            ),
        }
    }

    /// The highest level of `store` that `holder` effectively holds.
    pub fn level(&self, holder: Holder, store: StoreId) -> Option<DataLevel> {
        self.data
            .iter()
            .filter(|d| d.holder == holder && d.store == store)
            .map(|d| d.level)
            .max()
    }
}

/// `public` < `internal` < `confidential` < `restricted`.
pub fn sensitive(c: Classification) -> bool {
    c >= Classification::Confidential
}

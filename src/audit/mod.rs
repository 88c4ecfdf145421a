//! `palisade audit`: what a user's manifests really allow, against the
//! model (docs/brownfield.md).
//!
//! Input: a [`Checked`] model (its access graphs are what the model means)
//! and [`Manifests`]. Output: a [`Report`].
//!
//! 1. **Bind** ([`bind`]): each pod group and in-cluster store to one
//!    workload of its namespace — by `selector`, else the `palisade.dev/pod`
//!    label, else `workload`, else a workload named like the group.
//! 2. **Evaluate** the manifests with the same engine as `check`
//!    ([`crate::effective::access`], parties placed on their workloads) and
//!    build their access graph with [`crate::access_graph::build`]: the
//!    same graph, of other objects.
//! 3. **Compare** the two graphs edge by edge: access the manifests allow
//!    beyond the model's graph is *wider*, a declared grant the manifests'
//!    graph lacks is *unenforced*; every `forbid` is evaluated on the
//!    manifests' graph. Connections with something the model does not name
//!    (a workload it does not mention, any pod of a namespace, any pod
//!    anywhere) come from the same evaluation ([`NetPart::outside`]).
//!    RBAC rules the manifests give a party beyond what the model's own
//!    Roles allow are compared with the same RBAC authorizer.

mod bind;
pub mod report;

pub use bind::{bind, Binding, Bindings, By};

use crate::access_graph::{self, Class, CutWhy, EnvGraph, GNode, Kind, Part, Why};
use crate::effective::access::{self, LayerCause, Node, Outside, OutsideEdge};
use crate::effective::network::{self, Cause as NetCause, PortSet, Protocol};
use crate::effective::rbac::{Attributes, Authorizer, UserInfo};
use crate::k8s::Resource;
use crate::manifests::Manifests;
use crate::model::{Access, Entity, EnvId, Model, Subject};
use crate::span::Span;
use crate::Checked;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The layer an item is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Network,
    Rbac,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Network => "network",
            Layer::Rbac => "rbac",
        }
    }
}

/// A manifest object (an index into [`Manifests::objects`]) and what in it
/// causes an item (`ingress[0]`, `rule 2`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cause {
    pub object: Option<usize>,
    pub detail: String,
}

/// One difference between the manifests and the model.
#[derive(Clone, Debug)]
pub struct Item {
    pub layer: Layer,
    /// Model names where bound; `ns/Kind/name`, `NS/*`, `*/*`, `internet`
    /// or a CIDR otherwise.
    pub subject: String,
    pub target: String,
    /// `TCP/8080`, `TCP/1-65535`; an operation (`exec`); `verb resource`;
    /// a credentials level; `token`.
    pub access: String,
    pub causes: Vec<Cause>,
    /// For an unenforced item: the grant that declares it.
    pub declared: Option<Span>,
    /// A sentence for the reader, when the access needs one.
    pub note: Option<String>,
}

/// A `forbid` evaluated on the manifests.
#[derive(Clone, Debug)]
pub struct Invariant {
    pub span: Span,
    pub holds: bool,
    pub message: Option<String>,
    pub notes: Vec<String>,
}

/// A model entity no workload was found for.
#[derive(Clone, Debug)]
pub struct Unbound {
    pub entity: String,
    pub kind: &'static str,
    pub span: Span,
    pub note: String,
}

/// A workload or RBAC subject of the manifests the model does not mention.
#[derive(Clone, Debug)]
pub struct Unmodelled {
    /// `ns/Kind/name` for a workload, `User alice` / `Group g` /
    /// `ServiceAccount ns/name` for a subject.
    pub what: String,
    pub object: usize,
    /// A workload whose pods carry a bound party's selector: the party's
    /// policies apply to it too.
    pub shares: Option<String>,
}

/// What `palisade audit` found.
#[derive(Debug, Default)]
pub struct Report {
    pub env: Option<EnvId>,
    pub bindings: Vec<Binding>,
    pub unbound: Vec<Unbound>,
    pub unmodelled: Vec<Unmodelled>,
    pub wider: Vec<Item>,
    pub unenforced: Vec<Item>,
    pub invariants: Vec<Invariant>,
}

impl Report {
    /// Nothing wider, unenforced or violated: `audit` exits 0.
    pub fn clean(&self) -> bool {
        self.wider.is_empty()
            && self.unenforced.is_empty()
            && self.invariants.iter().all(|i| i.holds)
    }
}

/// Audits `manifests` against `checked`'s model in environment `env` (one
/// of the model's, or `None` for a model without environments).
pub fn audit(checked: &Checked, env: Option<EnvId>, manifests: &Manifests) -> Report {
    let model = &checked.comp.model;
    let bindings = bind(model, manifests);
    // Objects a controller made (a Deployment's ReplicaSets and Pods in a
    // `kubectl get` dump) are their owner's pods: evaluated once, as it.
    let live: Vec<usize> = (0..manifests.objects.len())
        .filter(|&i| !manifests.objects[i].owned)
        .collect();
    let resources: Vec<Resource> = live
        .iter()
        .map(|&i| manifests.objects[i].resource.clone())
        .collect();
    let mut net = access::network_placed(model, &resources, &bindings.placement);
    let outside = std::mem::take(&mut net.outside);
    let ip_grants = std::mem::take(&mut net.ip_grants);
    let evaluated = access::evaluate_placed(model, env, &resources, None, net, &bindings.placement);
    let addresses = access_graph::Addresses::new(model);
    let theirs = access_graph::build(model, &addresses, evaluated);
    let ours = checked
        .graphs
        .iter()
        .find(|g| g.env() == env)
        .expect("the model's graph of the environment");
    // NetworkPolicy k of the evaluation is the k-th among `resources`.
    let policy_objects: Vec<usize> = (live.iter().copied())
        .filter(|&i| matches!(manifests.objects[i].resource, Resource::NetworkPolicy(_)))
        .collect();
    let cx = Cx {
        model,
        manifests,
        bindings: &bindings,
        policy_objects,
        live,
        ip_grants: &ip_grants,
        theirs: &theirs,
        cuts_from: cuts_by_source(&theirs),
    };
    let mut report = Report {
        env,
        ..Report::default()
    };
    network_wider(&cx, ours, &ip_grants, &mut report);
    held_wider(&cx, ours, &mut report);
    outside_wider(&cx, &outside, &mut report);
    // The model's own Roles (what `build` writes for this environment) and
    // the manifests', each indexed once.
    let generated = crate::generate::map_env(
        model,
        &crate::generate::Options { workloads: true },
        env,
        &|r| r,
    );
    let our_rbac = Authorizer::new(&generated);
    let their_rbac = Authorizer::new(&resources);
    unenforced(&cx, (ours, &our_rbac), &their_rbac, env, &mut report);
    rbac_wider(&cx, &our_rbac, &their_rbac, &mut report);
    for f in crate::lints::invariants(model, std::slice::from_ref(&theirs)) {
        report.invariants.push(Invariant {
            span: f.span,
            holds: false,
            message: Some(f.message),
            notes: f.notes,
        });
    }
    let failing: BTreeSet<Span> = report.invariants.iter().map(|i| i.span).collect();
    for f in &model.forbids {
        let applies = match (&f.envs, env) {
            (Some(list), Some(e)) => list.contains(&e),
            _ => true,
        };
        if applies && !failing.contains(&f.span) {
            report.invariants.push(Invariant {
                span: f.span,
                holds: true,
                message: None,
                notes: held_by_layers(&cx, f),
            });
        }
    }
    report.invariants.sort_by_key(|i| i.span.start);
    report.unbound = bindings.unbound.clone();
    report.unmodelled = bindings.unmodelled.clone();
    report.bindings = bindings.list.clone();
    for list in [&mut report.wider, &mut report.unenforced] {
        list.sort_by(|a, b| {
            (a.layer, &a.subject, &a.target, &a.access)
                .cmp(&(b.layer, &b.subject, &b.target, &b.access))
        });
    }
    report
}

struct Cx<'a> {
    model: &'a Model,
    manifests: &'a Manifests,
    bindings: &'a Bindings,
    policy_objects: Vec<usize>,
    /// The manifest object of each evaluated resource.
    live: Vec<usize>,
    /// Each pod group's address egress, rule by rule.
    ip_grants: &'a [(Node, network::IpGrant)],
    theirs: &'a EnvGraph,
    /// The cuts between model entities by source, for the `forbid`s that
    /// hold ([`held_by_layers`]).
    cuts_from: HashMap<Entity, Vec<usize>>,
}

impl Cx<'_> {
    fn name(&self, n: GNode) -> String {
        access_graph::name(self.model, n)
    }

    /// The object and rule behind a NetworkPolicy cause; `not isolated`
    /// points at the workload that nothing isolates.
    fn net_cause(&self, c: NetCause, direction: &str, who: &str, pod_of: Option<usize>) -> Cause {
        match c {
            NetCause::Rule(r) => Cause {
                object: self.policy_objects.get(r.policy.0).copied(),
                detail: format!("{direction}[{}]", r.index),
            },
            NetCause::NotIsolated => Cause {
                object: pod_of,
                detail: format!("no NetworkPolicy restricts the {direction} of `{who}`"),
            },
        }
    }

    /// The object and rule behind a mesh or guardrail cause.
    fn layer_cause(&self, c: &LayerCause) -> Cause {
        Cause {
            object: self.live.get(c.object).copied(),
            detail: c.detail(),
        }
    }

    /// The objects that cut a connection the mesh or guardrail layer cuts,
    /// and what admits it in the NetworkPolicies.
    fn cut_causes(&self, why: CutWhy) -> Vec<Cause> {
        let access = &self.theirs.access;
        let mut out = BTreeSet::new();
        // A rule (`ingress[0]`) admits it; a side nothing isolates says so
        // already.
        let admits = |mut cause: Cause| {
            if cause.detail.ends_with(']') {
                cause.detail.push_str(" admits it");
            }
            cause
        };
        let by = match why {
            CutWhy::Net(i) | CutWhy::Ingress(i) => {
                let c = &access.cut[i];
                for &x in &c.egress {
                    let who = self.node_name(c.from);
                    out.insert(admits(self.net_cause(
                        x,
                        "egress",
                        &who,
                        self.object_of(c.from),
                    )));
                }
                for &x in &c.ingress {
                    let who = self.node_name(c.to);
                    out.insert(admits(self.net_cause(
                        x,
                        "ingress",
                        &who,
                        self.object_of(c.to),
                    )));
                }
                &c.by
            }
            CutWhy::Ip(i) => {
                let c = &access.ip_cut[i];
                let who = self.node_name(c.from);
                for (_, grant) in grants_of(self.ip_grants, c.from) {
                    let meets = !grant.ips.intersection(&c.addresses).is_empty()
                        && !grant.ports.intersection(&c.ports).is_empty();
                    if meets {
                        let object = self.object_of(c.from);
                        out.insert(admits(self.net_cause(grant.cause, "egress", &who, object)));
                    }
                }
                &c.by
            }
        };
        let cutting: BTreeSet<Cause> = by.iter().map(|b| self.layer_cause(b)).collect();
        cutting.into_iter().chain(out).collect()
    }

    /// A node as reports name it: a pod group by its first app (every app
    /// of it has its access), a store by its name.
    fn node_name(&self, n: Node) -> String {
        match n {
            Node::Group(g) => {
                let pod = &self.model.pods[g.index()];
                pod.apps.first().map_or(pod.name.clone(), |a| {
                    self.model.apps[a.index()].name.clone()
                })
            }
            Node::Store(s) => self.model.stores[s.index()].name.clone(),
            Node::Ingress => "ingress".into(),
            Node::Dns => "dns".into(),
        }
    }

    /// The workload object a model node is bound to.
    fn object_of(&self, n: Node) -> Option<usize> {
        match n {
            Node::Group(g) => self.bindings.groups[g.index()],
            Node::Store(s) => self.bindings.stores[s.index()],
            _ => None,
        }
    }

    fn outside_name(&self, p: &Outside) -> String {
        match p {
            Outside::Node(n) => self.node_name(*n),
            Outside::Pod(ns, name) => self
                .bindings
                .workload_id(self.manifests, ns, name)
                .unwrap_or_else(|| format!("{ns}/Pod/{name}")),
            Outside::AnyIn(ns) => format!("{ns}/*"),
            Outside::Anywhere => "*/*".into(),
        }
    }
}

/// The union of an edge's network ports over its direct parts (exec and
/// then a connection is the exec's finding, not the network's).
fn direct_ports(g: &EnvGraph, e: &access_graph::Edge) -> PortSet {
    let mut out = PortSet::empty();
    for &why in g.parts(e) {
        if !access_graph::is_direct(&g.access, why) {
            continue;
        }
        if let Part::Ports(p) = g.part(why) {
            out = out.union(p);
        }
    }
    out
}

/// `TCP/8080`, `TCP/1-65535`, one per range (an item lists them joined
/// by `, `); every port of every protocol is one `*/*`.
pub fn port_texts(ports: &PortSet) -> Vec<String> {
    if ports.is_all() {
        return vec!["*/*".into()];
    }
    let mut out = Vec::new();
    for p in Protocol::ALL {
        for &(lo, hi) in ports.ports(p).ranges() {
            out.push(if lo == hi {
                format!("{p}/{lo}")
            } else {
                format!("{p}/{lo}-{hi}")
            });
        }
    }
    if ports.other_protocols() {
        out.push("other protocols".into());
    }
    out
}

/// For a `forbid` that holds: the direct connections between its parties
/// that the NetworkPolicies admit and a layer cuts — what holds it where
/// the NetworkPolicies alone would not.
fn held_by_layers(cx: &Cx<'_>, f: &crate::model::Forbid) -> Vec<String> {
    let targets: HashSet<&Entity> = f.targets.iter().collect();
    let mut found: Vec<usize> = (f.subjects.iter())
        .filter_map(|s| cx.cuts_from.get(s))
        .flatten()
        .copied()
        .filter(|&i| matches!(cx.theirs.cuts()[i].to, GNode::E(t) if targets.contains(&t)))
        .collect();
    // In the graph's order, as a scan of the cuts would find them.
    found.sort_unstable();
    found.dedup();
    let mut out = Vec::new();
    for c in found.into_iter().map(|i| &cx.theirs.cuts()[i]) {
        let causes: Vec<String> = (cx.cut_causes(c.why).iter())
            .map(|x| match x.object {
                Some(i) => format!("{}: {}", cx.manifests.objects[i].title(), x.detail),
                None => x.detail.clone(),
            })
            .collect();
        let note = format!(
            "`{}` → `{}` on {}: {}",
            cx.name(c.from),
            cx.name(c.to),
            port_texts(cx.theirs.cut_ports(c.why)).join(", "),
            causes.join("; ")
        );
        crate::lints::push_unique(&mut out, note);
    }
    out
}

/// The cuts between model entities, by their source (indices into
/// [`EnvGraph::cuts`]).
fn cuts_by_source(g: &EnvGraph) -> HashMap<Entity, Vec<usize>> {
    let mut out: HashMap<Entity, Vec<usize>> = HashMap::new();
    for (i, c) in g.cuts().iter().enumerate() {
        if let (GNode::E(s), GNode::E(_)) = (c.from, c.to) {
            out.entry(s).or_default().push(i);
        }
    }
    out
}

/// The address egress rules of `node`, from a list sorted by node.
fn grants_of(ip_grants: &[(Node, network::IpGrant)], node: Node) -> &[(Node, network::IpGrant)] {
    let start = ip_grants.partition_point(|(n, _)| *n < node);
    let end = start + ip_grants[start..].partition_point(|(n, _)| *n == node);
    &ip_grants[start..end]
}

/// Network edges between model parties: the manifests' ports beyond the
/// model's.
fn network_wider(
    cx: &Cx<'_>,
    ours: &EnvGraph,
    ip_grants: &[(Node, network::IpGrant)],
    report: &mut Report,
) {
    let g = cx.theirs;
    for (from, to, e) in g.edges() {
        if e.class != Class::Net {
            continue;
        }
        let theirs = direct_ports(g, e);
        let declared = ours
            .edge(from, to, Class::Net)
            .map_or_else(PortSet::empty, |d| direct_ports(ours, d));
        let wider = theirs.difference(&declared);
        if wider.is_empty() {
            continue;
        }
        let mut causes = BTreeSet::new();
        // The mesh's, after the NetworkPolicies' (the policy to narrow).
        let mut layer_causes = BTreeSet::new();
        // Only through the ingress controller: no connection of its own.
        let through_ingress = g.parts(e).iter().any(|w| matches!(w, Why::Ingress(_)))
            && !g.parts(e).iter().any(|w| matches!(w, Why::Net(_)));
        for &why in g.parts(e) {
            match why {
                Why::Net(i) | Why::Ingress(i) => {
                    let n = &g.access.net[i];
                    if n.ports.intersection(&wider).is_empty() {
                        continue;
                    }
                    for &c in &n.egress {
                        let who = cx.node_name(n.from);
                        causes.insert(cx.net_cause(c, "egress", &who, cx.object_of(n.from)));
                    }
                    for &c in &n.ingress {
                        let who = cx.node_name(n.to);
                        causes.insert(cx.net_cause(c, "ingress", &who, cx.object_of(n.to)));
                    }
                    layer_causes.extend(n.layers.iter().map(|l| cx.layer_cause(l)));
                }
                Why::Ip(i) => {
                    let ip = &g.access.ip[i];
                    for (node, grant) in grants_of(ip_grants, ip.from) {
                        let meets = !grant.ips.intersection(&ip.addresses).is_empty()
                            && !grant.ports.intersection(&wider).is_empty();
                        if meets {
                            causes.insert(cx.net_cause(
                                grant.cause,
                                "egress",
                                &cx.name(from),
                                cx.object_of(*node),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        // Whoever may connect to the ingress controller reaches, through
        // it, what it may reach (docs/checks.md).
        let note = (through_ingress && !matches!(from, GNode::Ingress)).then(|| {
            format!(
                "through the ingress controller: `{}` may connect to it, and it to `{}`",
                cx.name(from),
                cx.name(to)
            )
        });
        report.wider.push(Item {
            layer: Layer::Network,
            subject: cx.name(from),
            target: cx.name(to),
            access: port_texts(&wider).join(", "),
            causes: causes.into_iter().chain(layer_causes).collect(),
            declared: None,
            note,
        });
    }
}

/// Connections between a model party and what the model does not name.
fn outside_wider(cx: &Cx<'_>, outside: &[OutsideEdge], report: &mut Report) {
    // What any pod anywhere may do with each model party: any pod of one
    // namespace may do no less, and is not reported again.
    let mut anywhere: BTreeMap<(bool, Outside), PortSet> = BTreeMap::new();
    for e in outside {
        if e.from == Outside::Anywhere {
            let ports = anywhere
                .entry((true, e.to.clone()))
                .or_insert_with(PortSet::empty);
            *ports = ports.union(&e.ports);
        }
        if e.to == Outside::Anywhere {
            let ports = anywhere
                .entry((false, e.from.clone()))
                .or_insert_with(PortSet::empty);
            *ports = ports.union(&e.ports);
        }
    }
    let implied = |e: &OutsideEdge| match (&e.from, &e.to) {
        (Outside::AnyIn(_), to) => anywhere
            .get(&(true, to.clone()))
            .is_some_and(|p| e.ports.is_subset(p)),
        (from, Outside::AnyIn(_)) => anywhere
            .get(&(false, from.clone()))
            .is_some_and(|p| e.ports.is_subset(p)),
        _ => false,
    };
    // One item per (from, to, port range), causes merged.
    let mut merged: BTreeMap<(String, String, String), BTreeSet<Cause>> = BTreeMap::new();
    for e in outside.iter().filter(|e| !implied(e)) {
        let (from, to) = (cx.outside_name(&e.from), cx.outside_name(&e.to));
        let pod_object = |p: &Outside| match p {
            Outside::Node(n) => cx.object_of(*n),
            Outside::Pod(ns, name) => cx.bindings.object_named(cx.manifests, ns, name),
            _ => None,
        };
        let mut causes = BTreeSet::new();
        for &c in &e.egress {
            causes.insert(cx.net_cause(c, "egress", &from, pod_object(&e.from)));
        }
        for &c in &e.ingress {
            causes.insert(cx.net_cause(c, "ingress", &to, pod_object(&e.to)));
        }
        merged
            .entry((from, to, port_texts(&e.ports).join(", ")))
            .or_default()
            .extend(causes);
    }
    for ((subject, target, access), causes) in merged {
        report.wider.push(Item {
            layer: Layer::Network,
            subject,
            target,
            access,
            causes: causes.into_iter().collect(),
            declared: None,
            note: Some("the model does not name one end of this connection".into()),
        });
    }
}

/// Declared grants the manifests' graph lacks.
fn unenforced(
    cx: &Cx<'_>,
    ours: (&EnvGraph, &Authorizer),
    theirs: &Authorizer,
    env: Option<EnvId>,
    report: &mut Report,
) {
    let model = cx.model;
    for grant in model
        .grants
        .iter()
        .filter(|gr| model.grant_applies(gr, env))
    {
        // Unenforced: what the model's own objects give and the manifests'
        // do not. A grant Kubernetes cannot enforce on its own (pod-mates
        // talk over localhost; a replica to itself) is `check`'s finding,
        // not a difference between the two.
        let (Some(wanted), Some(got)) = (
            held(model, ours.0, ours.1, grant),
            held(model, cx.theirs, theirs, grant),
        ) else {
            continue;
        };
        let missing = wanted && !got;
        if !missing {
            continue;
        }
        // A connection the NetworkPolicies admit and a layer cuts: what
        // admits it, and what cuts it.
        let port = match (&grant.access, grant.target) {
            (
                Access::Port {
                    number, protocol, ..
                },
                _,
            ) => Some((network::Protocol::from(*protocol), *number)),
            (Access::Data(_), Entity::Store(s)) => {
                Some((Protocol::Tcp, model.stores[s.index()].port))
            }
            _ => None,
        };
        let mut causes: Vec<Cause> = Vec::new();
        if let Some((proto, number)) = port {
            let (from, to) = (GNode::E(grant.subject), GNode::E(grant.target));
            for c in cx
                .theirs
                .cuts()
                .iter()
                .filter(|c| c.from == from && c.to == to)
            {
                if cx.theirs.cut_ports(c.why).contains(proto, number) {
                    for cause in cx.cut_causes(c.why) {
                        crate::lints::push_unique(&mut causes, cause);
                    }
                }
            }
        }
        report.unenforced.push(Item {
            layer: match grant.access {
                Access::Op(_) | Access::Kube(_) => Layer::Rbac,
                _ => Layer::Network,
            },
            subject: model.name_of(grant.subject).to_string(),
            target: model.name_of(grant.target).to_string(),
            access: match &grant.access {
                Access::Port {
                    number, protocol, ..
                } => format!("{}/{number}", network::Protocol::from(*protocol)),
                Access::Data(level) => format!(
                    "{} (TCP/{})",
                    level.as_str(),
                    match grant.target {
                        Entity::Store(s) => model.stores[s.index()].port,
                        _ => 0,
                    }
                ),
                a => a.to_string(),
            },
            causes: causes.into_iter().collect(),
            declared: Some(grant.span),
            note: unbound_note(cx, grant.subject, grant.target)
                .or_else(|| named_only(model, theirs, grant)),
        });
    }
}

/// The RBAC request an app's `kube` grant makes: its pod's ServiceAccount
/// asking for the rule in its namespace.
fn kube_request(
    model: &Model,
    app: crate::model::AppId,
    rule: &crate::model::KubeRule,
) -> (UserInfo, Attributes) {
    let pod = model.pod_of(app);
    let ns = &model.namespaces[pod.namespace.index()].name;
    let user = UserInfo::service_account(ns, pod.service_account());
    let mut attrs = Attributes::resource(&rule.verb, &rule.group, &rule.resource, ns);
    if let Some(sub) = &rule.subresource {
        attrs = attrs.with_subresource(sub.clone());
    }
    (user, attrs)
}

/// For a `kube` grant the manifests allow only on objects they name
/// (`resourceNames`): a note that says so.
fn named_only(model: &Model, rbac: &Authorizer, grant: &crate::model::Grant) -> Option<String> {
    let (Entity::App(app), Access::Kube(rule)) = (grant.subject, &grant.access) else {
        return None;
    };
    let (user, attrs) = kube_request(model, app, rule);
    (!rbac.allowed_names(&user, &attrs).is_empty()).then(|| {
        "the manifests allow it only on objects they name (`resourceNames`); the model grants it on every object of the kind".to_string()
    })
}

/// Whether `graph` (and `rbac`, for `kube` grants) gives what `grant`
/// declares; `None` for what the audit does not compare (who may read a
/// store's credentials Secret: the user's own Secrets).
fn held(
    model: &Model,
    graph: &EnvGraph,
    rbac: &Authorizer,
    grant: &crate::model::Grant,
) -> Option<bool> {
    let (from, to) = (GNode::E(grant.subject), GNode::E(grant.target));
    let net = |proto: Protocol, port: u16| {
        graph
            .edge(from, to, Class::Net)
            .is_some_and(|e| direct_ports(graph, e).contains(proto, port))
    };
    Some(match &grant.access {
        Access::Port {
            number, protocol, ..
        } => net(network::Protocol::from(*protocol), *number),
        // An app's data grant is also its connection to the store.
        Access::Data(_) => match (grant.subject, grant.target) {
            (Entity::App(_), Entity::Store(s)) => net(Protocol::Tcp, model.stores[s.index()].port),
            _ => return None,
        },
        Access::Op(op) => graph.edge(from, to, Class::Op(*op)).is_some(),
        Access::Kube(rule) => {
            let Entity::App(app) = grant.subject else {
                return None;
            };
            let (user, attrs) = kube_request(model, app, rule);
            rbac.authorize(&user, &attrs).is_allowed()
        }
    })
}

/// Why a declared grant cannot hold: one end has no workload.
fn unbound_note(cx: &Cx<'_>, a: Entity, b: Entity) -> Option<String> {
    for e in [a, b] {
        let name = cx.model.name_of(e);
        if cx
            .bindings
            .unbound
            .iter()
            .any(|u| u.entity == name && u.kind != "store")
        {
            return Some(format!("`{name}` is bound to no workload of the manifests"));
        }
    }
    None
}

/// RBAC rules the manifests give personas and apps' ServiceAccounts beyond
/// what the model's own Roles allow.
fn rbac_wider(cx: &Cx<'_>, ours: &Authorizer, theirs: &Authorizer, report: &mut Report) {
    let model = cx.model;
    // (party name, user, namespaces to look in)
    let mut parties: Vec<(String, UserInfo)> = Vec::new();
    for p in model.personas.iter().filter(|p| !p.external) {
        for s in &p.subjects {
            let user = match s {
                Subject::Group(g) => UserInfo::group_member("", [g.clone()]),
                Subject::User(u) => UserInfo::user(u.clone()),
                Subject::ServiceAccount { namespace, name } => {
                    UserInfo::service_account(namespace, name)
                }
            };
            parties.push((p.name.clone(), user));
        }
    }
    for (i, pod) in model.pods.iter().enumerate() {
        let Some(&first) = pod.apps.first() else {
            continue;
        };
        if cx.bindings.groups[i].is_none() {
            continue;
        }
        let ns = &model.namespaces[pod.namespace.index()].name;
        parties.push((
            model.apps[first.index()].name.clone(),
            UserInfo::service_account(ns, pod.service_account()),
        ));
    }
    let namespaces: Vec<String> = {
        let mut set: BTreeSet<String> = model.namespaces.iter().map(|n| n.name.clone()).collect();
        for o in &cx.manifests.objects {
            if let Some(ns) = &o.resource.metadata().namespace {
                set.insert(ns.clone());
            }
        }
        set.into_iter().collect()
    };
    // (party, scope, resource, name) → verbs, causes, note: one item per
    // resource with its verbs, as `kubectl describe role` shows them.
    let mut found: RbacFound = BTreeMap::new();
    for (party, user) in &parties {
        // Only namespaces where a binding may apply to the party (every
        // namespace when a ClusterRoleBinding may).
        let scoped: Vec<&str> = match theirs.namespaces_for(user) {
            Some(set) => set.into_iter().collect(),
            None => namespaces.iter().map(String::as_str).collect(),
        };
        for ns in scoped {
            let ns = &ns.to_string();
            for (rule, cause) in theirs.rules_for(user, ns) {
                let groups = if rule.api_groups.is_empty() {
                    vec![String::new()]
                } else {
                    rule.api_groups.clone()
                };
                for verb in &rule.verbs {
                    for group in &groups {
                        for resource in &rule.resources {
                            let (res, sub) = match resource.split_once('/') {
                                Some((r, s)) => (r, Some(s)),
                                None => (resource.as_str(), None),
                            };
                            let names: Vec<Option<&String>> = if rule.resource_names.is_empty() {
                                vec![None]
                            } else {
                                rule.resource_names.iter().map(Some).collect()
                            };
                            for name in names {
                                let mut attrs = Attributes::resource(verb, group, res, ns);
                                if let Some(s) = sub {
                                    attrs = attrs.with_subresource(s);
                                }
                                if let Some(n) = name {
                                    attrs = attrs.with_name(n.clone());
                                }
                                if ours.authorize(user, &attrs).is_allowed() {
                                    continue;
                                }
                                let what = match group.as_str() {
                                    "" => resource.clone(),
                                    g => format!("{resource}.{g}"),
                                };
                                // A ClusterRoleBinding grants in every
                                // namespace: report it once.
                                let scope = match cause.binding_namespace {
                                    Some(_) => ns.clone(),
                                    None => "*".to_string(),
                                };
                                let binding = cx.bindings.rbac_object(
                                    cx.manifests,
                                    cause.binding_kind.as_str(),
                                    cause.binding_namespace,
                                    cause.binding_name,
                                );
                                let role = cx.bindings.rbac_object(
                                    cx.manifests,
                                    cause.role_kind.as_str(),
                                    cause.role_namespace,
                                    cause.role_name,
                                );
                                let entry = found
                                    .entry((party.clone(), scope, what, name.cloned()))
                                    .or_default();
                                entry.0.insert(verb.clone());
                                entry.1.insert(Cause {
                                    object: binding,
                                    detail: format!(
                                        "binds {} {}",
                                        cause.role_kind.as_str(),
                                        cause.role_name
                                    ),
                                });
                                // An aggregated ClusterRole's rule is
                                // written in the ClusterRole it comes from.
                                let (role, rule) = match cause.aggregated_from {
                                    Some((from, index)) => (
                                        cx.bindings.rbac_object(
                                            cx.manifests,
                                            "ClusterRole",
                                            None,
                                            from,
                                        ),
                                        index,
                                    ),
                                    None => (role, cause.rule_index),
                                };
                                entry.1.insert(Cause {
                                    object: role,
                                    detail: format!("rule {rule}"),
                                });
                                if entry.2.is_none() {
                                    entry.2 = dangerous(verb, res, sub);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    rbac_items(found, report);
}

/// Credentials and ServiceAccount tokens the manifests give beyond the
/// model's graph.
fn held_wider(cx: &Cx<'_>, ours: &EnvGraph, report: &mut Report) {
    let g = cx.theirs;
    for (from, to, e) in g.edges() {
        // Exec and what it leads to is the exec's finding.
        if !g
            .parts(e)
            .iter()
            .any(|&w| access_graph::is_direct(&g.access, w))
        {
            continue;
        }
        let (access, note) = match (&e.access, e.class) {
            (Kind::Token, Class::Kube) => {
                if ours.edge(from, to, Class::Kube).is_some() {
                    continue;
                }
                (
                    "token".to_string(),
                    "the pods mount a ServiceAccount token (automountServiceAccountToken is not false), and the model grants the app no `kube` access",
                )
            }
            (Kind::Data(level), Class::Data) => {
                let declared = ours
                    .edge(from, to, Class::Data)
                    .and_then(|d| match d.access {
                        Kind::Data(l) => Some(l),
                        _ => None,
                    });
                if declared.is_some_and(|d| d >= *level) {
                    continue;
                }
                (
                    level.as_str().to_string(),
                    "holds the store's credentials Secret beyond the model's grant",
                )
            }
            _ => continue,
        };
        let object = match from {
            GNode::E(Entity::App(a)) => cx.bindings.groups[cx.model.apps[a.index()].pod.index()],
            _ => None,
        };
        report.wider.push(Item {
            layer: Layer::Rbac,
            subject: cx.name(from),
            target: cx.name(to),
            access,
            causes: vec![Cause {
                object,
                detail: "its pod template".into(),
            }],
            declared: None,
            note: Some(note.into()),
        });
    }
}

/// (party, scope, resource, name) → verbs, causes, why it is dangerous.
type RbacFound = BTreeMap<
    (String, String, String, Option<String>),
    (BTreeSet<String>, BTreeSet<Cause>, Option<String>),
>;

/// The RBAC items of [`rbac_wider`], verbs joined.
fn rbac_items(found: RbacFound, report: &mut Report) {
    for ((party, scope, what, name), (verbs, causes, note)) in found {
        let verbs: Vec<String> = verbs.into_iter().collect();
        let mut access = format!("{} {what}", verbs.join(","));
        if let Some(n) = name {
            access.push(' ');
            access.push_str(&n);
        }
        report.wider.push(Item {
            layer: Layer::Rbac,
            subject: party,
            target: if scope == "*" {
                "every namespace".into()
            } else {
                format!("namespace {scope}")
            },
            access,
            causes: causes.into_iter().collect(),
            declared: None,
            note,
        });
    }
}

/// Why an RBAC permission is more than it looks.
fn dangerous(verb: &str, resource: &str, sub: Option<&str>) -> Option<String> {
    let any = |v: &str| verb == v || verb == "*";
    Some(match (resource, sub) {
        ("*", _) => "every resource: this is cluster administration".into(),
        ("secrets", None) if any("get") || any("list") || any("watch") => {
            "reads Secrets: every credential of the namespace".into()
        }
        ("pods", Some("exec")) if any("create") => {
            "exec: acts as the pod, with its network access, credentials and token".into()
        }
        ("pods", None) if any("create") => {
            "creates pods: runs as any ServiceAccount of the namespace, with its Secrets".into()
        }
        ("roles" | "clusterroles" | "rolebindings" | "clusterrolebindings", _)
            if any("create") || any("update") || any("patch") || any("bind") || any("escalate") =>
        {
            "changes RBAC: grants itself anything".into()
        }
        ("serviceaccounts", Some("token")) if any("create") => {
            "mints ServiceAccount tokens: acts as any ServiceAccount".into()
        }
        (_, _) if verb == "impersonate" => "impersonates other users".into(),
        ("networkpolicies", _)
            if any("create") || any("update") || any("patch") || any("delete") =>
        {
            "changes NetworkPolicies: opens any connection".into()
        }
        _ => return None,
    })
}

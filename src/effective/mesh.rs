//! Istio authorization (`AuthorizationPolicy`) evaluated the way Istio's
//! proxy evaluates it, for the connections the NetworkPolicies allow: a
//! connection is allowed only if every layer allows it
//! (docs/checks.md, "The mesh layer").
//!
//! For a request from a source workload to a destination workload over TCP:
//! the policies that apply are those of the destination's namespace and of
//! the root namespace (`istio-system`) whose selector matches the
//! destination's labels (no selector: all). Any matching DENY rule denies;
//! then, if any ALLOW policy applies, some ALLOW rule must match; with none,
//! the request is allowed. CUSTOM and AUDIT policies are not evaluated.
//! UDP, SCTP and other protocols pass: the proxy carries TCP only.
//!
//! What cannot be known offline is read in the direction that shows more
//! access, never less: a rule narrowed by HTTP fields (`methods`, `paths`,
//! `hosts`), by IP blocks, request principals or a `when` key other than
//! `source.principal`, `source.namespace` and `destination.port` matches as
//! an ALLOW rule and does not match as a DENY rule. Every source is taken to
//! be in the mesh, presenting its ServiceAccount's identity
//! (`TRUST_DOMAIN/ns/NS/sa/SA`).

use super::network::{PortRanges, PortSet, Protocol};
use super::parties::{Layer, LayerCause, Verdict};
use crate::k8s::{AuthorizationPolicy, AuthorizationRule, Labels, Resource, Source};
use std::sync::Arc;

/// Istio's root namespace: its policies apply in every namespace.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// A workload as the mesh sees it.
#[derive(Clone, Debug)]
pub struct Workload<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub service_account: &'a str,
}

/// The AuthorizationPolicies of a manifest set.
#[derive(Debug)]
pub struct Mesh<'a> {
    /// By namespace (an object without one is in `default`).
    policies: std::collections::BTreeMap<&'a str, Vec<Policy<'a>>>,
    trust_domain: String,
}

/// A policy, its index among the objects and its name in causes.
#[derive(Debug)]
struct Policy<'a> {
    object: usize,
    name: Arc<str>,
    policy: &'a AuthorizationPolicy,
}

/// What the mesh decides for one source and destination, and why.
#[derive(Clone, Debug)]
pub struct Decision {
    /// Every non-TCP protocol, and the TCP ports admitted.
    pub allowed: PortSet,
    /// Each ALLOW rule that matches, with its TCP ports.
    allows: Vec<(LayerCause, PortRanges)>,
    /// Each DENY rule that matches, with its TCP ports.
    denies: Vec<(LayerCause, PortRanges)>,
    /// The ALLOW policies that apply to the destination, as
    /// [`Verdict::AdmitsOthers`].
    allow_policies: Vec<LayerCause>,
}

impl Decision {
    /// The ALLOW rules that admit some of `ports`.
    pub fn admitting(&self, ports: &PortSet) -> Vec<LayerCause> {
        let tcp = ports.ports(Protocol::Tcp);
        (self.allows.iter())
            .filter(|(_, r)| !r.intersection(tcp).is_empty())
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// What denies `ports` (TCP ports the mesh does not admit): the DENY
    /// rules that match some, and for those no DENY rule matches, the ALLOW
    /// policies none of whose rules admits them.
    pub fn cutting(&self, ports: &PortSet) -> Vec<LayerCause> {
        let tcp = ports.ports(Protocol::Tcp);
        let mut out = Vec::new();
        let mut denied = PortRanges::empty();
        for (c, r) in &self.denies {
            if !r.intersection(tcp).is_empty() {
                out.push(c.clone());
                denied = denied.union(r);
            }
        }
        if !tcp.difference(&denied).is_empty() {
            out.extend(self.allow_policies.iter().cloned());
        }
        out
    }
}

/// Whether a part of a rule matches: `Maybe` when it depends on what the
/// objects do not say (HTTP fields, IP addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Maybe,
}

impl Match {
    fn and(self, other: Match) -> Match {
        match (self, other) {
            (Match::No, _) | (_, Match::No) => Match::No,
            (Match::Yes, Match::Yes) => Match::Yes,
            _ => Match::Maybe,
        }
    }

    /// As an ALLOW rule reads it (more access), or a DENY rule (less denied).
    fn holds(self, allow: bool) -> bool {
        match self {
            Match::Yes => true,
            Match::No => false,
            Match::Maybe => allow,
        }
    }
}

impl<'a> Mesh<'a> {
    /// The mesh of `objects`; `None` when they hold no AuthorizationPolicy
    /// (the mesh then allows everything it carries).
    pub fn from_resources(objects: &'a [Resource], trust_domain: &str) -> Option<Mesh<'a>> {
        let mut policies: std::collections::BTreeMap<&str, Vec<Policy<'_>>> =
            std::collections::BTreeMap::new();
        for (object, r) in objects.iter().enumerate() {
            if let Resource::AuthorizationPolicy(p) = r {
                let ns = p.metadata.namespace.as_deref().unwrap_or("default");
                policies.entry(ns).or_default().push(Policy {
                    object,
                    name: format!("AuthorizationPolicy {ns}/{}", p.metadata.name).into(),
                    policy: p,
                });
            }
        }
        (!policies.is_empty()).then(|| Mesh {
            policies,
            trust_domain: trust_domain.to_string(),
        })
    }

    fn principal(&self, w: &Workload<'_>) -> String {
        format!(
            "{}/ns/{}/sa/{}",
            self.trust_domain, w.namespace, w.service_account
        )
    }

    /// What `src` may send `dst`: every non-TCP protocol, and the TCP ports
    /// the AuthorizationPolicies admit.
    pub fn allowed(&self, src: &Workload<'_>, dst: &Workload<'_>) -> PortSet {
        self.decide(src, dst).allowed
    }

    /// [`Mesh::allowed`], with the rules and policies that decide it.
    pub fn decide(&self, src: &Workload<'_>, dst: &Workload<'_>) -> Decision {
        let principal = self.principal(src);
        let applies = |p: &&Policy<'_>| {
            p.policy.spec.selector.as_ref().is_none_or(|s| {
                s.match_labels
                    .iter()
                    .all(|(k, v)| dst.labels.get(k) == Some(v))
            })
        };
        let mut denied = PortRanges::empty();
        let mut allowed = PortRanges::empty();
        let mut any_allow = false;
        let mut decision = Decision {
            allowed: PortSet::empty(),
            allows: Vec::new(),
            denies: Vec::new(),
            allow_policies: Vec::new(),
        };
        let mut namespaces = vec![dst.namespace];
        if dst.namespace != ROOT_NAMESPACE {
            namespaces.push(ROOT_NAMESPACE);
        }
        let candidates = namespaces
            .into_iter()
            .filter_map(|ns| self.policies.get(ns))
            .flatten();
        let principal_text: Arc<str> = principal.as_str().into();
        for p in candidates.filter(applies) {
            let action = p.policy.spec.action.as_deref().unwrap_or("ALLOW");
            let allow = match action {
                "ALLOW" => true,
                "DENY" => false,
                _ => continue, // CUSTOM, AUDIT
            };
            any_allow |= allow;
            let cause = |verdict, rule| LayerCause {
                layer: Layer::Mesh,
                verdict,
                object: p.object,
                name: p.name.clone(),
                rule,
                principal: None,
            };
            if allow {
                decision.allow_policies.push(LayerCause {
                    principal: Some(principal_text.clone()),
                    ..cause(Verdict::AdmitsOthers, None)
                });
            }
            for (i, rule) in p.policy.spec.rules.iter().enumerate() {
                let ports = rule_ports(rule, src, &principal, allow);
                if ports.is_empty() {
                    continue;
                }
                if allow {
                    allowed = allowed.union(&ports);
                    decision
                        .allows
                        .push((cause(Verdict::Allows, Some(("rules", i))), ports));
                } else {
                    denied = denied.union(&ports);
                    decision
                        .denies
                        .push((cause(Verdict::Denies, Some(("rules", i))), ports));
                }
            }
        }
        if !any_allow {
            allowed = PortRanges::full();
        }
        let mut out = PortSet::all();
        let tcp = allowed.difference(&denied);
        out = out.difference(&PortSet::of(Protocol::Tcp, PortRanges::full()));
        decision.allowed = out.union(&PortSet::of(Protocol::Tcp, tcp));
        decision
    }
}

/// The TCP ports on which `rule` matches requests from `src` (none when its
/// sources do not match), read as an ALLOW or a DENY rule reads unknowns.
fn rule_ports(
    rule: &AuthorizationRule,
    src: &Workload<'_>,
    principal: &str,
    allow: bool,
) -> PortRanges {
    // An empty list is an absent one (protobuf cannot tell them apart).
    let from = match rule.from.as_ref().filter(|l| !l.is_empty()) {
        None => Match::Yes,
        Some(list) => list
            .iter()
            .map(|f| source_matches(&f.source, src, principal))
            .fold(Match::No, |acc, m| match (acc, m) {
                (Match::Yes, _) | (_, Match::Yes) => Match::Yes,
                (Match::Maybe, _) | (_, Match::Maybe) => Match::Maybe,
                _ => Match::No,
            }),
    };
    let mut condition = from;
    let mut ports = match rule.to.as_ref().filter(|l| !l.is_empty()) {
        None => PortRanges::full(),
        Some(list) => {
            let mut out = PortRanges::empty();
            for t in list {
                let op = &t.operation;
                let http = [
                    &op.hosts,
                    &op.not_hosts,
                    &op.methods,
                    &op.not_methods,
                    &op.paths,
                    &op.not_paths,
                ]
                .iter()
                .any(|f| f.is_some());
                if http && !allow {
                    continue; // narrowed to some requests: not a whole-port deny
                }
                out = out.union(&port_list(op.ports.as_deref(), op.not_ports.as_deref()));
            }
            out
        }
    };
    for c in &rule.when {
        let m = match c.key.as_str() {
            "source.principal" => values_match(&c.values, &c.not_values, principal),
            "source.namespace" => values_match(&c.values, &c.not_values, src.namespace),
            "destination.port" => {
                let values = (!c.values.is_empty()).then_some(c.values.as_slice());
                let not = (!c.not_values.is_empty()).then_some(c.not_values.as_slice());
                ports = ports.intersection(&port_list(values, not));
                Match::Yes
            }
            _ => Match::Maybe,
        };
        condition = condition.and(m);
    }
    if condition.holds(allow) {
        ports
    } else {
        PortRanges::empty()
    }
}

fn port_list(ports: Option<&[String]>, not: Option<&[String]>) -> PortRanges {
    let parse = |list: &[String]| {
        list.iter()
            .filter_map(|p| p.parse::<u16>().ok())
            .fold(PortRanges::empty(), |acc, n| {
                acc.union(&PortRanges::single(n))
            })
    };
    let base = ports.map_or_else(PortRanges::full, parse);
    match not {
        Some(n) => base.difference(&parse(n)),
        None => base,
    }
}

/// Istio's string match: exact, `*`, `prefix*` or `*suffix`.
fn string_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

fn values_match(values: &[String], not: &[String], value: &str) -> Match {
    let yes = values.is_empty() || values.iter().any(|p| string_matches(p, value));
    let no = not.iter().any(|p| string_matches(p, value));
    if yes && !no {
        Match::Yes
    } else {
        Match::No
    }
}

fn list_match(list: &Option<Vec<String>>, not: &Option<Vec<String>>, value: &str) -> Match {
    let empty = Vec::new();
    match (list, not) {
        (None, None) => Match::Yes,
        _ => values_match(
            list.as_deref()
                .map_or(&[][..], |l| if l.is_empty() { &empty[..] } else { l }),
            not.as_deref().unwrap_or(&[]),
            value,
        ),
    }
}

/// Whether a source matches `src`; its fields are ANDed.
fn source_matches(s: &Source, src: &Workload<'_>, principal: &str) -> Match {
    let mut m = list_match(&s.principals, &s.not_principals, principal).and(list_match(
        &s.namespaces,
        &s.not_namespaces,
        src.namespace,
    ));
    let unknown = [
        &s.ip_blocks,
        &s.not_ip_blocks,
        &s.remote_ip_blocks,
        &s.not_remote_ip_blocks,
        &s.request_principals,
        &s.not_request_principals,
    ];
    if unknown.iter().any(|f| f.is_some()) {
        m = m.and(Match::Maybe);
    }
    m
}

// ---- The hook of `access::network`: the model's nodes as workloads.

use super::parties::{CutEdge, NetEdge, Node, Placement};
use crate::model::{Model, StoreLocation};

/// A model node as a workload: its namespace, labels and ServiceAccount.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub namespace: String,
    pub labels: Labels,
    pub service_account: String,
    /// Whether `labels` are all the pod's labels (read from its pod
    /// template), or only those the label contract promises (a stand-in:
    /// the real pods may carry more).
    pub exact: bool,
}

/// The pod templates of `objects`' workloads by `(namespace, name)` (a bare
/// Pod's own), read once: finding them by a scan per node made the layers
/// quadratic.
pub(crate) struct Templates<'a>(
    std::collections::HashMap<
        (&'a str, &'a str),
        (&'a crate::k8s::ObjectMeta, &'a crate::k8s::PodSpec),
    >,
);

impl<'a> Templates<'a> {
    pub fn new(objects: &'a [Resource]) -> Templates<'a> {
        let mut out = std::collections::HashMap::new();
        for r in objects {
            let (meta, t) = match r {
                Resource::Deployment(d)
                | Resource::StatefulSet(d)
                | Resource::DaemonSet(d)
                | Resource::ReplicaSet(d) => (
                    &d.metadata,
                    (&d.spec.template.metadata, &d.spec.template.spec),
                ),
                Resource::Pod(p) => (&p.metadata, (&p.metadata, &p.spec)),
                _ => continue,
            };
            if let Some(ns) = meta.namespace.as_deref() {
                // The first of a name wins, as a scan would find it.
                out.entry((ns, meta.name.as_str())).or_insert(t);
            }
        }
        Templates(out)
    }

    /// The pod template of the workload `(ns, name)`.
    fn get(
        &self,
        ns: &str,
        name: &str,
    ) -> Option<(&'a crate::k8s::ObjectMeta, &'a crate::k8s::PodSpec)> {
        self.0.get(&(ns, name)).copied()
    }

    /// The labels of the pods of workload `(ns, name)`.
    pub fn labels(&self, ns: &str, name: &str) -> Option<&'a Labels> {
        self.get(ns, name).map(|(meta, _)| &meta.labels)
    }
}

/// Labels and ServiceAccount of a node: a pod group's from its workload
/// object (its pod template), an in-cluster store's and the ingress
/// controller's from the label contract (docs/kubernetes.md: a store runs
/// as the ServiceAccount named after it, the controller as
/// `platform.ingress.service_account`).
pub(crate) fn node_identity(
    model: &Model,
    templates: &Templates<'_>,
    placement: &Placement,
    node: Node,
) -> Option<Identity> {
    let identity =
        |ns: &str, (meta, spec): (&crate::k8s::ObjectMeta, &crate::k8s::PodSpec)| Identity {
            namespace: ns.to_string(),
            labels: meta.labels.clone(),
            service_account: (spec.service_account_name.clone())
                .unwrap_or_else(|| "default".into()),
            exact: true,
        };
    let stand_in = |ns: &str, labels: Labels, service_account: String| Identity {
        namespace: ns.to_string(),
        labels,
        service_account,
        exact: false,
    };
    match node {
        Node::Group(id) => {
            let g = &model.pods[id.index()];
            let ns = &model.namespaces[g.namespace.index()].name;
            // Where the group runs: its placed workload (its own by name,
            // or the one an audit bound it to).
            let placed = placement.groups.get(id.index()).and_then(Option::as_ref);
            let template = match placed {
                Some((ns, name)) => templates.get(ns, name),
                None => templates.get(ns, &g.workload().name),
            };
            Some(match template.map(|t| identity(ns, t)) {
                Some(found) => found,
                None => stand_in(
                    ns,
                    Labels::from_iter(model.group_selector(id)),
                    g.service_account().to_string(),
                ),
            })
        }
        Node::Store(id) => {
            let s = &model.stores[id.index()];
            let StoreLocation::InCluster(ns) = s.location else {
                return None;
            };
            let ns = &model.namespaces[ns.index()].name;
            let placed = placement.stores.get(id.index()).and_then(Option::as_ref);
            if let Some(t) = placed.and_then(|(ns, name)| templates.get(ns, name)) {
                return Some(identity(ns, t));
            }
            Some(stand_in(
                ns,
                Labels::from_iter(model.store_selector(id)),
                s.binding
                    .service_account
                    .clone()
                    .unwrap_or_else(|| s.name.clone()),
            ))
        }
        Node::Ingress => {
            let ing = model.platform.ingress.as_ref()?;
            let sa = ing
                .service_account
                .clone()
                .unwrap_or_else(|| "default".into());
            Some(stand_in(&ing.namespace, ing.labels.clone(), sa))
        }
        Node::Dns => {
            let dns = &model.platform.dns;
            Some(stand_in(
                &dns.namespace,
                dns.labels.clone(),
                "default".into(),
            ))
        }
    }
}

/// Narrow each connection the NetworkPolicies allow to what the
/// AuthorizationPolicies of `objects` admit too (nothing to do without
/// any); connections left with no port are dropped. Each connection kept
/// names the ALLOW rules that admit it; what is narrowed away goes to
/// `cut`, with the policies that cut it.
pub fn restrict(
    model: &Model,
    objects: &[Resource],
    placement: &Placement,
    net: &mut Vec<NetEdge>,
    cut: &mut Vec<CutEdge>,
) {
    let trust_domain =
        (model.platform.mesh.as_ref()).map_or("cluster.local", |m| m.trust_domain.as_str());
    let Some(mesh) = Mesh::from_resources(objects, trust_domain) else {
        return;
    };
    let templates = Templates::new(objects);
    let mut ids: std::collections::HashMap<Node, Option<std::rc::Rc<Identity>>> =
        std::collections::HashMap::new();
    let mut id = |n: Node| {
        ids.entry(n)
            .or_insert_with(|| node_identity(model, &templates, placement, n).map(Into::into))
            .clone()
    };
    net.retain_mut(|e| {
        let (Some(s), Some(d)) = (id(e.from), id(e.to)) else {
            return true;
        };
        let decision = mesh.decide(
            &Workload {
                namespace: &s.namespace,
                labels: &s.labels,
                service_account: &s.service_account,
            },
            &Workload {
                namespace: &d.namespace,
                labels: &d.labels,
                service_account: &d.service_account,
            },
        );
        let lost = e.ports.difference(&decision.allowed);
        if !lost.is_empty() {
            cut.push(CutEdge {
                from: e.from,
                to: e.to,
                by: decision.cutting(&lost),
                ports: lost,
                egress: e.egress.clone(),
                ingress: e.ingress.clone(),
            });
        }
        e.ports = e.ports.intersection(&decision.allowed);
        e.layers.extend(decision.admitting(&e.ports));
        !e.ports.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::parse_manifests;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn tcp(set: &PortSet) -> Vec<(u16, u16)> {
        set.ports(Protocol::Tcp).ranges().to_vec()
    }

    const POLICIES: &str = "
kind: AuthorizationPolicy
apiVersion: security.istio.io/v1
metadata: {name: default-deny, namespace: core}
spec: {}
---
kind: AuthorizationPolicy
apiVersion: security.istio.io/v1
metadata: {name: api, namespace: core}
spec:
  selector: {matchLabels: {app: api}}
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/web/sa/frontend]}}]
    to: [{operation: {ports: ['9000']}}]
  - from: [{source: {namespaces: [ops]}}]
    to: [{operation: {ports: ['9100'], methods: [GET]}}]
---
kind: AuthorizationPolicy
apiVersion: security.istio.io/v1
metadata: {name: no-debug, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {ports: ['9999']}}]
  - to: [{operation: {ports: ['9000'], paths: [/admin]}}]
";

    #[test]
    fn empty_lists_are_absent_ones() {
        let objects = parse_manifests(
            "kind: AuthorizationPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  rules:\n  - from: []\n    to: []\n",
        )
        .unwrap();
        let mesh = Mesh::from_resources(&objects, "cluster.local").unwrap();
        let l = labels(&[]);
        let w = Workload {
            namespace: "n",
            labels: &l,
            service_account: "s",
        };
        assert!(mesh.allowed(&w, &w).ports(Protocol::Tcp).is_full());
    }

    #[test]
    fn identities_ports_and_unknowns() {
        let objects = parse_manifests(POLICIES).unwrap();
        let mesh = Mesh::from_resources(&objects, "cluster.local").unwrap();
        let api_labels = labels(&[("app", "api")]);
        let api = Workload {
            namespace: "core",
            labels: &api_labels,
            service_account: "api",
        };
        let other = labels(&[("app", "x")]);
        let frontend = Workload {
            namespace: "web",
            labels: &other,
            service_account: "frontend",
        };
        let impostor = Workload {
            namespace: "web",
            labels: &other,
            service_account: "default",
        };
        let ops = Workload {
            namespace: "ops",
            labels: &other,
            service_account: "sre",
        };
        // The frontend's identity on its port; the deny on /admin is per
        // request, not a whole-port deny.
        assert_eq!(tcp(&mesh.allowed(&frontend, &api)), [(9000, 9000)]);
        // Labels are not an identity.
        assert!(tcp(&mesh.allowed(&impostor, &api)).is_empty());
        // An HTTP-narrowed ALLOW counts (some requests pass).
        assert_eq!(tcp(&mesh.allowed(&ops, &api)), [(9100, 9100)]);
        // UDP is not the mesh's.
        assert!(mesh.allowed(&impostor, &api).ports(Protocol::Udp).is_full());
        // Another workload of the namespace: the default deny, and the
        // root namespace's DENY on 9999 would apply too.
        let x = Workload {
            namespace: "core",
            labels: &other,
            service_account: "x",
        };
        assert!(tcp(&mesh.allowed(&frontend, &x)).is_empty());
        // A namespace without policies but the root's DENY.
        let y = Workload {
            namespace: "free",
            labels: &other,
            service_account: "y",
        };
        assert_eq!(
            tcp(&mesh.allowed(&frontend, &y)),
            [(1, 9998), (10000, 65535)]
        );
    }
}

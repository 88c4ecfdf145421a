//! The cluster a set of NetworkPolicies is evaluated against: namespaces
//! and pods with their labels and container ports, indexed by label.

use super::ports::Protocol;
use super::selector::{LabelIndex, Selector};
use crate::k8s::{Labels, NetworkPolicy, PodTemplateSpec, Resource};
use foldhash::HashMap;

/// The label Kubernetes sets on every namespace to its name (since 1.21,
/// immutable: the API server overwrites any other value).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The namespace of objects that name none (what `kubectl apply` uses).
pub const DEFAULT_NAMESPACE: &str = "default";

/// A pod of the [`Cluster`], by position. Ids are only meaningful for the
/// cluster that issued them (queries index by them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(u32);

impl PodId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A namespace of the [`Cluster`], by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespaceId(u32);

impl NamespaceId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    /// Including [`NAMESPACE_NAME_LABEL`].
    pub labels: Labels,
}

/// A named container port, as policies resolve named ports against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    /// Every container's ports.
    pub ports: Vec<ContainerPort>,
}

impl Pod {
    /// The pod a workload's template stamps out, named `name`. Ports with
    /// a number outside 1..=65535 or an unknown protocol are left out (the
    /// API server rejects them); an absent protocol is TCP.
    pub fn from_template(namespace: &str, name: &str, template: &PodTemplateSpec) -> Pod {
        let ports = template
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .filter_map(|p| {
                let protocol = match &p.protocol {
                    None => Protocol::Tcp,
                    Some(s) => Protocol::parse(s)?,
                };
                let port = u16::try_from(p.container_port).ok().filter(|&n| n > 0)?;
                Some(ContainerPort {
                    name: p.name.clone(),
                    port,
                    protocol,
                })
            })
            .collect();
        Pod {
            namespace: namespace.to_string(),
            name: name.to_string(),
            labels: template.metadata.labels.clone(),
            ports,
        }
    }
}

/// Namespaces and pods, with inverted label indexes (label key=value →
/// pods, namespaces) so that selectors cost the size of what they select.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    namespaces: Vec<Namespace>,
    namespace_ids: HashMap<String, NamespaceId>,
    namespace_index: LabelIndex,
    pods: Vec<Pod>,
    pod_namespace: Vec<NamespaceId>,
    pod_ids: HashMap<(NamespaceId, String), PodId>,
    pod_index: LabelIndex,
    pods_by_namespace: Vec<Vec<u32>>,
}

fn id32(n: usize) -> u32 {
    // more than 4 billion pods or namespaces is not a cluster
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Cluster {
    /// The cluster of these namespaces and pods. A pod's namespace need
    /// not be listed: every namespace named anywhere exists, and every one
    /// carries `kubernetes.io/metadata.name=<name>`.
    pub fn new(
        namespaces: impl IntoIterator<Item = Namespace>,
        pods: impl IntoIterator<Item = Pod>,
    ) -> Cluster {
        let mut c = Cluster::default();
        for ns in namespaces {
            c.add_namespace(&ns.name, ns.labels);
        }
        for pod in pods {
            c.add_pod(pod);
        }
        c
    }

    /// The Namespaces of `resources`, one pod per workload (a Deployment's,
    /// StatefulSet's, DaemonSet's or ReplicaSet's pod template, named after
    /// the workload), each bare Pod, and the NetworkPolicies among them. Objects without a namespace are in `default`; namespaces that
    /// policies or workloads name but no Namespace declares exist with the
    /// default label only.
    pub fn from_resources(resources: &[Resource]) -> (Cluster, Vec<&NetworkPolicy>) {
        let mut c = Cluster::default();
        let mut policies = Vec::new();
        let ns_of = |m: &crate::k8s::ObjectMeta| {
            m.namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
        };
        for r in resources {
            match r {
                Resource::Namespace(ns) => {
                    c.add_namespace(&ns.metadata.name, ns.metadata.labels.clone());
                }
                Resource::Deployment(d)
                | Resource::StatefulSet(d)
                | Resource::DaemonSet(d)
                | Resource::ReplicaSet(d) => {
                    let ns = ns_of(&d.metadata);
                    c.add_pod(Pod::from_template(&ns, &d.metadata.name, &d.spec.template));
                }
                Resource::Pod(p) => {
                    let ns = ns_of(&p.metadata);
                    let template = crate::k8s::PodTemplateSpec {
                        metadata: p.metadata.clone(),
                        spec: p.spec.clone(),
                    };
                    c.add_pod(Pod::from_template(&ns, &p.metadata.name, &template));
                }
                Resource::NetworkPolicy(p) => {
                    c.ensure_namespace(&ns_of(&p.metadata));
                    policies.push(p);
                }
                _ => {}
            }
        }
        (c, policies)
    }

    /// Declares namespace `name` with `labels` (replacing the labels it had),
    /// plus [`NAMESPACE_NAME_LABEL`].
    pub fn add_namespace(&mut self, name: &str, mut labels: Labels) -> NamespaceId {
        labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.to_string());
        let id = self.ensure_namespace(name);
        let ns = &mut self.namespaces[id.index()];
        self.namespace_index.remove(id.0, &ns.labels);
        self.namespace_index.insert(id.0, &labels);
        ns.labels = labels;
        id
    }

    /// Namespace `name`, created with the default label if new.
    pub fn ensure_namespace(&mut self, name: &str) -> NamespaceId {
        if let Some(&id) = self.namespace_ids.get(name) {
            return id;
        }
        let id = NamespaceId(id32(self.namespaces.len()));
        let labels = Labels::from_iter([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())]);
        self.namespace_index.insert(id.0, &labels);
        self.namespaces.push(Namespace {
            name: name.to_string(),
            labels,
        });
        self.namespace_ids.insert(name.to_string(), id);
        self.pods_by_namespace.push(Vec::new());
        id
    }

    /// Adds a pod (and its namespace if new). Two pods may share a name:
    /// both are evaluated, [`Cluster::pod_id`] finds the first.
    pub fn add_pod(&mut self, pod: Pod) -> PodId {
        let ns = self.ensure_namespace(&pod.namespace);
        let id = PodId(id32(self.pods.len()));
        self.pod_index.insert(id.0, &pod.labels);
        self.pods_by_namespace[ns.index()].push(id.0);
        self.pod_ids.entry((ns, pod.name.clone())).or_insert(id);
        self.pod_namespace.push(ns);
        self.pods.push(pod);
        id
    }

    pub fn pod(&self, id: PodId) -> &Pod {
        &self.pods[id.index()]
    }

    pub fn pod_id(&self, namespace: &str, name: &str) -> Option<PodId> {
        let ns = *self.namespace_ids.get(namespace)?;
        self.pod_ids.get(&(ns, name.to_string())).copied()
    }

    pub fn pods(&self) -> impl ExactSizeIterator<Item = (PodId, &Pod)> + '_ {
        self.pods
            .iter()
            .enumerate()
            .map(|(i, p)| (PodId(id32(i)), p))
    }

    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    pub fn namespace_of(&self, pod: PodId) -> NamespaceId {
        self.pod_namespace[pod.index()]
    }

    pub fn namespace(&self, id: NamespaceId) -> &Namespace {
        &self.namespaces[id.index()]
    }

    pub fn namespace_id(&self, name: &str) -> Option<NamespaceId> {
        self.namespace_ids.get(name).copied()
    }

    pub fn namespaces(&self) -> impl ExactSizeIterator<Item = (NamespaceId, &Namespace)> + '_ {
        self.namespaces
            .iter()
            .enumerate()
            .map(|(i, n)| (NamespaceId(id32(i)), n))
    }

    /// `"namespace/name"` of a pod.
    pub fn pod_name(&self, id: PodId) -> String {
        let p = self.pod(id);
        format!("{}/{}", p.namespace, p.name)
    }

    pub(crate) fn all_pods(&self) -> impl Iterator<Item = PodId> {
        (0..self.pods.len()).map(|i| PodId(id32(i)))
    }

    /// The pods of namespace `ns`.
    pub fn pods_in(&self, ns: NamespaceId) -> impl Iterator<Item = PodId> + '_ {
        self.pods_by_namespace[ns.index()].iter().map(|&i| PodId(i))
    }

    /// Namespaces `sel` selects, sorted.
    pub(crate) fn select_namespaces(&self, sel: &Selector) -> Vec<NamespaceId> {
        let count = self.namespaces.len();
        sel.select(
            &self.namespace_index,
            count,
            || (0..count).map(id32).collect(),
            |_| true,
            |i| self.namespaces.get(i as usize).map(|n| &n.labels),
        )
        .into_iter()
        .map(NamespaceId)
        .collect()
    }

    /// Pods `sel` selects, among those of `namespaces` (sorted; `None`:
    /// every namespace), sorted.
    pub(crate) fn select_pods(
        &self,
        namespaces: Option<&[NamespaceId]>,
        sel: &Selector,
    ) -> Vec<PodId> {
        let size = namespaces.map_or(self.pods.len(), |nss| {
            nss.iter()
                .map(|ns| self.pods_by_namespace[ns.index()].len())
                .sum()
        });
        let universe = || match namespaces {
            None => (0..self.pods.len()).map(id32).collect(),
            Some(nss) => {
                let mut u: Vec<u32> = nss
                    .iter()
                    .flat_map(|ns| self.pods_by_namespace[ns.index()].iter().copied())
                    .collect();
                u.sort_unstable();
                u
            }
        };
        let in_universe = |i: u32| {
            namespaces.is_none_or(|nss| {
                self.pod_namespace
                    .get(i as usize)
                    .is_some_and(|ns| nss.binary_search(ns).is_ok())
            })
        };
        sel.select(&self.pod_index, size, universe, in_universe, |i| {
            self.pods.get(i as usize).map(|p| &p.labels)
        })
        .into_iter()
        .map(PodId)
        .collect()
    }
}

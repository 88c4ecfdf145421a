//! Generation: [`Model`] → Kubernetes objects, per environment
//! (docs/kubernetes.md). Default deny, then exactly what the model allows, at
//! every layer: namespaces, network, RBAC, workload identity.
//!
//! Objects are typed [`Resource`]s (`crate::k8s`); `output/` turns them
//! into the YAML tree and `effective/` evaluates them. Everything here is
//! deterministic: maps are ordered and every list is sorted or follows the
//! model's declaration order.

mod flows;
mod guardrails;
mod istio;
mod network;
mod rbac;
mod workloads;

pub use guardrails::not_guardrails;
pub use istio::principal;

use crate::k8s::{self, Labels, ObjectMeta, Resource};
use crate::model::{EnvId, Model, NsId};
use foldhash::HashMap;
use rayon::prelude::*;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Generate Deployments, Services and ServiceAccounts (`platform.workloads`
    /// unless `--no-workloads`).
    pub workloads: bool,
}

/// The objects of one environment (`env: None` when the model declares none).
#[derive(Debug)]
pub struct EnvOutput {
    pub env: Option<String>,
    /// Sorted by namespace, kind and name.
    pub objects: Vec<Resource>,
}

/// The environments a build covers: every declared one (or only `only`),
/// or the one implicit environment (`None`) when none is declared.
pub fn environments(model: &Model, only: Option<EnvId>) -> Vec<Option<EnvId>> {
    if model.environments.is_empty() {
        return vec![None];
    }
    (0..model.environments.len() as u32)
        .map(EnvId)
        .filter(|e| only.is_none_or(|o| o == *e))
        .map(Some)
        .collect()
}

/// Generate every environment of the model (or the one named in `only`).
pub fn generate(model: &Model, opts: &Options, only: Option<EnvId>) -> Vec<EnvOutput> {
    environments(model, only)
        .into_iter()
        .map(|env| generate_env(model, opts, env))
        .collect()
}

/// One environment's objects, sorted by path.
pub fn generate_env(model: &Model, opts: &Options, env: Option<EnvId>) -> EnvOutput {
    EnvOutput {
        env: env.map(|e| model.environments[e.index()].name.clone()),
        objects: objects(model, opts, env),
    }
}

fn objects(model: &Model, opts: &Options, env: Option<EnvId>) -> Vec<Resource> {
    let mut out = map_env(model, opts, env, &|r| r);
    out.sort_by(|a, b| {
        let (ma, mb) = (a.metadata(), b.metadata());
        (&ma.namespace, a.kind(), &ma.name).cmp(&(&mb.namespace, b.kind(), &mb.name))
    });
    out
}

/// One environment's objects, each passed to `f` as soon as it is built (in
/// parallel, in no particular order): `output` renders them without ever
/// holding a whole environment's objects in memory.
pub fn map_env<T: Send>(
    model: &Model,
    opts: &Options,
    env: Option<EnvId>,
    f: &(dyn Fn(Resource) -> T + Sync),
) -> Vec<T> {
    let cx = Cx::new(model, env);
    let flows = flows::Flows::compute(&cx);
    let mut out = Vec::new();
    for (i, _) in model.namespaces.iter().enumerate() {
        let ns = NsId(i as u32);
        out.extend(namespace_objects(&cx, ns).into_iter().map(f));
        out.extend(network::baseline(&cx, ns).into_iter().map(f));
        if model.platform.mesh.is_some() {
            out.extend(istio::baseline(&cx, ns).into_iter().map(f));
        }
    }
    out.par_extend(network::group_policies(&cx, &flows).map(f));
    if let Some(mesh) = &model.platform.mesh {
        out.extend(istio::group_policies(&cx, mesh, &flows).into_iter().map(f));
    }
    out.extend(guardrails::policies(&cx).into_iter().map(f));
    if opts.workloads {
        out.par_extend(workloads::objects(&cx, &flows).map(f));
    }
    out.extend(rbac::app_roles(&cx).into_iter().map(f));
    out.extend(
        rbac::persona_roles(&cx, &flows.store_users)
            .into_iter()
            .map(f),
    );
    out
}

/// Only the persona and app Roles and RoleBindings of an environment: for an
/// analysis that already has another environment's other objects and knows
/// they are the same here ([`network_grants`]).
pub fn rbac_objects(model: &Model, env: Option<EnvId>) -> Vec<Resource> {
    let cx = Cx::new(model, env);
    let mut out = rbac::app_roles(&cx);
    out.extend(rbac::persona_roles(&cx, &flows::store_users(&cx)));
    out
}

/// The grants every non-RBAC object of an environment depends on, that
/// apply in it: every grant of an app (its connections, mounts, token) and
/// every port grant (ingress rules). Environments with equal lists get
/// equal Namespaces, NetworkPolicies, Deployments and Services (generation
/// is deterministic in them); persona operations and persona data grants
/// only make Roles.
pub fn network_grants(model: &Model, env: Option<EnvId>) -> Vec<usize> {
    use crate::model::{Access, Entity};
    (model.grants.iter().enumerate())
        .filter(|(_, g)| {
            (matches!(g.subject, Entity::App(_)) || matches!(g.access, Access::Port { .. }))
                && model.grant_applies(g, env)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The `forbid`s that apply in an environment, when `platform.guardrails`
/// makes them objects (none otherwise): with [`network_grants`], what an
/// environment's non-RBAC objects depend on. Environments that differ only
/// in an environment-scoped `forbid` get different guardrails.
pub fn guardrail_forbids(model: &Model, env: Option<EnvId>) -> Vec<usize> {
    if model.platform.guardrails.is_none() {
        return Vec::new();
    }
    (model.forbids.iter().enumerate())
        .filter(|(_, f)| match (&f.envs, env) {
            (Some(list), Some(e)) => list.contains(&e),
            _ => true,
        })
        .map(|(i, _)| i)
        .collect()
}

/// Shared context of one environment's generation.
pub(crate) struct Cx<'m> {
    pub model: &'m Model,
    pub env: Option<EnvId>,
    /// `<label_domain>/pod`
    pub pod_label: String,
    /// The `selector`s of bound pod groups and stores, by name (names are
    /// unique across them); the others are selected by `pod_label`.
    bound: HashMap<String, Labels>,
    /// The `service_account`s of bound pod groups and stores, by name.
    accounts: HashMap<String, String>,
}

impl<'m> Cx<'m> {
    fn new(model: &'m Model, env: Option<EnvId>) -> Self {
        let bound = (model.pods.iter().map(|g| (&g.name, &g.binding)))
            .chain(model.stores.iter().map(|s| (&s.name, &s.binding)))
            .filter(|(_, b)| !b.selector.is_empty())
            .map(|(name, b)| (name.clone(), Labels::from_iter(b.selector.iter().cloned())))
            .collect();
        let accounts = (model.pods.iter().map(|g| (&g.name, &g.binding)))
            .chain(model.stores.iter().map(|s| (&s.name, &s.binding)))
            .filter_map(|(name, b)| Some((name.clone(), b.service_account.clone()?)))
            .collect();
        Cx {
            model,
            env,
            pod_label: format!("{}/pod", model.platform.label_domain),
            bound,
            accounts,
        }
    }

    /// The ServiceAccount of the pod group or store `name`: its
    /// `service_account`, or its name.
    pub fn service_account<'n>(&'n self, name: &'n str) -> &'n str {
        self.accounts.get(name).map_or(name, String::as_str)
    }

    /// The labels that select the pods of the pod group or store `name`:
    /// its `selector`, or `<label_domain>/pod: <name>`.
    pub fn selector(&self, name: &str) -> Labels {
        match self.bound.get(name) {
            Some(labels) => labels.clone(),
            None => Labels::from_iter([(self.pod_label.clone(), name.to_string())]),
        }
    }

    /// Grants that apply in this environment.
    pub fn grants(&self) -> impl Iterator<Item = &'m crate::model::Grant> + '_ {
        self.model
            .grants
            .iter()
            .filter(|g| self.model.grant_applies(g, self.env))
    }

    pub fn ns_name(&self, ns: NsId) -> &'m str {
        &self.model.namespaces[ns.index()].name
    }

    /// Labels every generated object carries.
    pub fn common_labels(&self) -> Labels {
        Labels::from_iter([
            ("app.kubernetes.io/managed-by".into(), "palisade".into()),
            (
                "app.kubernetes.io/part-of".into(),
                self.model.system.name.clone(),
            ),
        ])
    }

    /// `metadata` for a namespaced object, with extra labels.
    pub fn metadata(&self, name: &str, ns: &str, extra: &[(&str, &str)]) -> ObjectMeta {
        let mut labels = self.common_labels();
        for (k, v) in extra {
            labels.insert((*k).into(), (*v).into());
        }
        ObjectMeta {
            name: name.into(),
            namespace: Some(ns.into()),
            labels,
            annotations: Labels::new_vec(),
        }
    }
}

/// Namespace (with Pod Security Admission labels), ResourceQuota, LimitRange.
fn namespace_objects(cx: &Cx<'_>, id: NsId) -> Vec<Resource> {
    let ns = cx.model.namespace(id);
    let level = ns.pod_security.as_str();
    let (major, minor) = cx.model.platform.kubernetes;
    let version = format!("v{major}.{minor}");
    let mut labels = cx.common_labels();
    labels.insert("kubernetes.io/metadata.name".into(), ns.name.clone());
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), level.into());
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            version.clone(),
        );
    }
    let mut annotations = Labels::new_vec();
    if let Some(d) = &ns.description {
        annotations.insert("palisade.dev/description".into(), d.clone());
    }
    let mut out = vec![Resource::Namespace(k8s::Namespace {
        metadata: ObjectMeta {
            name: ns.name.clone(),
            namespace: None,
            labels,
            annotations,
        },
    })];
    if let Some(q) = &ns.quota {
        let mut hard = Labels::new_vec();
        for (key, v) in [("cpu", &q.cpu), ("memory", &q.memory)] {
            if let Some(v) = v {
                hard.insert(format!("requests.{key}"), v.clone());
                hard.insert(format!("limits.{key}"), v.clone());
            }
        }
        if let Some(p) = q.pods {
            hard.insert("pods".into(), p.to_string());
        }
        out.push(Resource::ResourceQuota(k8s::ResourceQuota {
            metadata: cx.metadata("quota", &ns.name, &[]),
            spec: k8s::ResourceQuotaSpec { hard },
        }));
    }
    if let Some(l) = &ns.limits {
        let mut values = Labels::new_vec();
        if let Some(c) = &l.cpu {
            values.insert("cpu".into(), c.clone());
        }
        if let Some(m) = &l.memory {
            values.insert("memory".into(), m.clone());
        }
        out.push(Resource::LimitRange(k8s::LimitRange {
            metadata: cx.metadata("limits", &ns.name, &[]),
            spec: k8s::LimitRangeSpec {
                limits: vec![k8s::LimitRangeItem {
                    type_: "Container".into(),
                    default: values.clone(),
                    default_request: values,
                }],
            },
        }));
    }
    out
}

//! Generation: [`Model`] → Kubernetes objects, per environment
//! (KUBERNETES.md). Default deny, then exactly what the model allows, at
//! every layer: namespaces, network, RBAC, workload identity.
//!
//! Objects are `serde_json::Value`s with a known kind, namespace and name;
//! `output/` turns them into the YAML tree. Everything here is
//! deterministic: maps are ordered and every list is sorted or follows the
//! model's declaration order.

mod flows;
mod network;
mod rbac;
mod workloads;

use crate::model::{EnvId, Model, NsId};
use serde_json::{json, Value};

/// One generated Kubernetes object.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub kind: &'static str,
    /// `None` for cluster-scoped objects (Namespace).
    pub namespace: Option<String>,
    pub name: String,
    pub body: Value,
}

impl Object {
    /// `cluster/namespace-<ns>.yaml` or `<ns>/<kind>-<name>.yaml`.
    pub fn path(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        match &self.namespace {
            None => format!("cluster/{kind}-{}.yaml", self.name),
            Some(ns) => format!("{ns}/{kind}-{}.yaml", self.name),
        }
    }
}

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
    pub objects: Vec<Object>,
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

fn objects(model: &Model, opts: &Options, env: Option<EnvId>) -> Vec<Object> {
    let cx = Cx::new(model, env);
    let flows = flows::Flows::compute(&cx);
    let mut out = Vec::new();
    for (i, _) in model.namespaces.iter().enumerate() {
        let ns = NsId(i as u32);
        out.extend(namespace_objects(&cx, ns));
        out.extend(network::baseline(&cx, ns));
    }
    out.extend(network::group_policies(&cx, &flows));
    if opts.workloads {
        out.extend(workloads::objects(&cx, &flows));
    }
    out.extend(rbac::app_roles(&cx));
    out.extend(rbac::persona_roles(&cx, &flows));
    out.sort_by_cached_key(Object::path);
    out
}

/// Shared context of one environment's generation.
pub(crate) struct Cx<'m> {
    pub model: &'m Model,
    pub env: Option<EnvId>,
    /// `<label_domain>/pod`
    pub pod_label: String,
}

impl<'m> Cx<'m> {
    fn new(model: &'m Model, env: Option<EnvId>) -> Self {
        Cx {
            model,
            env,
            pod_label: format!("{}/pod", model.platform.label_domain),
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
    pub fn common_labels(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("app.kubernetes.io/managed-by".into(), json!("palisade"));
        m.insert(
            "app.kubernetes.io/part-of".into(),
            json!(self.model.system.name),
        );
        m
    }

    /// `metadata` for a namespaced object, with extra labels.
    pub fn metadata(&self, name: &str, ns: &str, extra: &[(&str, &str)]) -> Value {
        let mut labels = self.common_labels();
        for (k, v) in extra {
            labels.insert((*k).into(), json!(v));
        }
        json!({ "name": name, "namespace": ns, "labels": labels })
    }

    pub fn object(
        &self,
        kind: &'static str,
        api: &str,
        ns: &str,
        name: &str,
        extra: &[(&str, &str)],
        rest: Value,
    ) -> Object {
        let mut body = json!({
            "apiVersion": api,
            "kind": kind,
            "metadata": self.metadata(name, ns, extra),
        });
        if let (Value::Object(b), Value::Object(r)) = (&mut body, rest) {
            b.extend(r);
        }
        Object {
            kind,
            namespace: Some(ns.to_string()),
            name: name.to_string(),
            body,
        }
    }
}

/// Namespace (with Pod Security Admission labels), ResourceQuota, LimitRange.
fn namespace_objects(cx: &Cx<'_>, id: NsId) -> Vec<Object> {
    let ns = cx.model.namespace(id);
    let level = ns.pod_security.as_str();
    let (major, minor) = cx.model.platform.kubernetes;
    let version = format!("v{major}.{minor}");
    let mut labels = cx.common_labels();
    labels.insert("kubernetes.io/metadata.name".into(), json!(ns.name));
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), json!(level));
        labels.insert(
            format!("pod-security.kubernetes.io/{mode}-version"),
            json!(version),
        );
    }
    let mut metadata = json!({ "name": ns.name, "labels": labels });
    if let Some(d) = &ns.description {
        metadata["annotations"] = json!({ "palisade.dev/description": d });
    }
    let mut out = vec![Object {
        kind: "Namespace",
        namespace: None,
        name: ns.name.clone(),
        body: json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": metadata }),
    }];
    if let Some(q) = &ns.quota {
        let mut hard = serde_json::Map::new();
        for (key, v) in [("cpu", &q.cpu), ("memory", &q.memory)] {
            if let Some(v) = v {
                hard.insert(format!("requests.{key}"), json!(v));
                hard.insert(format!("limits.{key}"), json!(v));
            }
        }
        if let Some(p) = q.pods {
            hard.insert("pods".into(), json!(p.to_string()));
        }
        out.push(cx.object(
            "ResourceQuota",
            "v1",
            &ns.name,
            "quota",
            &[],
            json!({ "spec": { "hard": hard } }),
        ));
    }
    if let Some(l) = &ns.limits {
        let mut values = serde_json::Map::new();
        if let Some(c) = &l.cpu {
            values.insert("cpu".into(), json!(c));
        }
        if let Some(m) = &l.memory {
            values.insert("memory".into(), json!(m));
        }
        let spec = json!({ "limits": [{ "type": "Container", "default": values, "defaultRequest": values }] });
        out.push(cx.object(
            "LimitRange",
            "v1",
            &ns.name,
            "limits",
            &[],
            json!({ "spec": spec }),
        ));
    }
    out
}

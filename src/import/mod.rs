//! `palisade import`: a draft `.sec` model from the manifests a team
//! already has (docs/brownfield.md).
//!
//! Input: the [`Manifests`] read from users' YAML and the [`SourceMap`]
//! they came from. Output: the draft's text, in `palisade fmt` layout.
//!
//! The draft declares what the manifests hold — namespaces, one app (or
//! store) per container of each workload, bound to the workload by
//! `selector`, `workload` and `service_account` — and what they permit,
//! computed by the effective-access engine ([`crate::effective`]), never
//! re-derived here: `allow`s for the connections the NetworkPolicies admit
//! ([`network`]), personas with the operations the RBAC authorizer grants
//! their subjects, and `kube` grants from the apps' ServiceAccounts
//! ([`rbac`]). Every statement carries a comment naming the objects it
//! came from; what the language cannot say is listed at the top.

mod names;
mod network;
mod rbac;
mod render;
mod workloads;

use crate::effective::network::Protocol;
use crate::k8s::{Labels, Resource};
use crate::manifests::{Manifests, Object};
use crate::source::SourceMap;
use std::collections::BTreeMap;

pub use names::system_namespace;

/// What the caller knows beyond the manifests.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A name for the system when no Helm chart names one (the input
    /// directory's or file's name).
    pub name_hint: String,
    /// The paths read, as given, for the header.
    pub inputs: Vec<String>,
}

/// A draft and what it holds.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model, in `palisade fmt` layout.
    pub text: String,
    pub apps: usize,
    pub stores: usize,
    pub personas: usize,
    pub allows: usize,
    /// Items of the header's list of what the language cannot express.
    pub unexpressed: usize,
}

/// The draft model of `manifests`.
pub fn import(files: &SourceMap, manifests: &Manifests, opts: &Options) -> Imported {
    let mut draft = Draft::new(files, manifests);
    draft.system = system_name(manifests, &opts.name_hint);
    workloads::collect(&mut draft);
    network::collect(&mut draft);
    rbac::collect(&mut draft);
    layers(&mut draft);
    let text = render::render(&draft, opts);
    let mut diags = crate::diagnostics::Diagnostics::new();
    // The renderer writes valid syntax; should it ever not, the unformatted
    // text still shows the user what was found (and `check` says where).
    let text =
        crate::syntax::format::format(crate::span::FileId(0), &text, &mut diags).unwrap_or(text);
    let unexpressed = draft.all_notes();
    Imported {
        text,
        apps: draft.groups.iter().map(|g| g.apps.len()).sum(),
        stores: draft.groups.iter().filter(|g| g.store.is_some()).count(),
        personas: draft.personas.len(),
        allows: draft.allows.len(),
        unexpressed: unexpressed.len(),
    }
}

/// Everything the draft will say, before it is written.
struct Draft<'m> {
    files: &'m SourceMap,
    manifests: &'m Manifests,
    names: names::Names,
    system: String,
    platform: Platform,
    /// Model namespaces by name.
    namespaces: BTreeMap<String, Namespace>,
    groups: Vec<Group>,
    personas: Vec<Persona>,
    externals: Vec<External>,
    allows: Vec<Allow>,
    /// What the language cannot express (the header's list).
    notes: Vec<String>,
    /// The same, said of several subjects at once: the text with `{who}`
    /// in it → the subjects.
    grouped: BTreeMap<String, Vec<String>>,
    /// The Services of each namespace (object indexes), for port names.
    services: std::collections::HashMap<String, Vec<usize>>,
    /// The `allow`s [`Draft::allow`] made, by (target, items), to merge
    /// their subjects.
    allow_index: std::collections::HashMap<(String, Vec<String>), usize>,
    /// RBAC objects by (kind, namespace, name), for causes' places.
    rbac_objects: std::collections::HashMap<(String, String, String), usize>,
}

#[derive(Default)]
struct Platform {
    /// (namespace, pod labels, where it was seen)
    ingress: Option<(String, Labels, String)>,
    /// (namespace, pod labels, ports, where it was seen)
    dns: Option<(String, Labels, Vec<u16>, String)>,
    /// Some `kube` grant needs `api_server`, which the manifests never say.
    api_server: bool,
}

#[derive(Default)]
struct Namespace {
    /// The Namespace object, if the manifests hold one.
    origin: Option<String>,
    pod_security: Option<String>,
}

/// A workload: a pod group of the model (one app per container), or a store.
struct Group {
    obj: usize,
    namespace: String,
    /// `Deployment`, `StatefulSet`, …, as written.
    kind: &'static str,
    /// The workload's own name.
    workload: String,
    /// The pod group's model name; a single app's (or the store's) too.
    name: String,
    apps: Vec<App>,
    store: Option<Store>,
    selector: Labels,
    service_account: String,
    replicas: Option<u32>,
    /// Comment lines above the declaration.
    notes: Vec<String>,
}

impl Group {
    /// The name that stands for the group as a subject: the store, or the
    /// first app (pod-mates share one network identity).
    fn subject(&self) -> &str {
        match &self.store {
            Some(s) => &s.name,
            None => &self.apps[0].name,
        }
    }

    /// The model names of the group's members.
    fn members(&self) -> Vec<String> {
        match &self.store {
            Some(s) => vec![s.name.clone()],
            None => self.apps.iter().map(|a| a.name.clone()).collect(),
        }
    }
}

struct App {
    name: String,
    image: String,
    ports: Vec<Port>,
}

#[derive(Clone)]
struct Port {
    name: String,
    number: u16,
    protocol: Protocol,
}

impl Port {
    /// `8080`, `53/udp`.
    fn literal(&self) -> String {
        literal(self.number, self.protocol)
    }
}

fn literal(number: u16, protocol: Protocol) -> String {
    match protocol {
        Protocol::Tcp => number.to_string(),
        Protocol::Udp => format!("{number}/udp"),
        Protocol::Sctp => format!("{number}/sctp"),
    }
}

struct Store {
    name: String,
    engine: &'static str,
    port: u16,
    /// The engine's port differs: `port = N` is written.
    explicit_port: bool,
    image: String,
}

/// An RBAC subject of the manifests.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    User(String),
    Group(String),
    ServiceAccount { namespace: String, name: String },
}

struct Persona {
    name: String,
    subject: Subject,
    /// The bindings naming the subject.
    origins: Vec<String>,
}

struct External {
    name: String,
    cidrs: Vec<String>,
    ports: Vec<Port>,
    origin: String,
}

/// `allow SUBJECTS -> TARGET: ITEMS`, with the objects behind it.
struct Allow {
    subjects: Vec<String>,
    target: String,
    items: Vec<String>,
    origins: Vec<String>,
    /// Further comment lines (a guess to review, say).
    notes: Vec<String>,
}

impl<'m> Draft<'m> {
    fn new(files: &'m SourceMap, manifests: &'m Manifests) -> Self {
        Draft {
            files,
            manifests,
            names: names::Names::default(),
            system: String::new(),
            platform: Platform::default(),
            namespaces: BTreeMap::new(),
            groups: Vec::new(),
            personas: Vec::new(),
            externals: Vec::new(),
            allows: Vec::new(),
            notes: Vec::new(),
            grouped: BTreeMap::new(),
            services: Default::default(),
            allow_index: Default::default(),
            rbac_objects: Default::default(),
        }
    }

    /// A note about `who` (an app's name, say) that others may share.
    fn note_for(&mut self, who: &str, text: String) {
        let list = self.grouped.entry(text).or_default();
        if !list.iter().any(|w| w == who) {
            list.push(who.to_string());
        }
    }

    /// The header's list: the notes, then the grouped notes.
    fn all_notes(&self) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out: Vec<String> = (self.notes.iter())
            .filter(|n| seen.insert(n.as_str()))
            .cloned()
            .collect();
        for (text, who) in &self.grouped {
            let mut who = who.clone();
            who.sort();
            let list = who.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>();
            out.push(text.replace("{who}", &list.join(", ")));
        }
        out
    }

    /// `Deployment shop/api (manifests.yaml:12)`, with Helm's template.
    fn origin(&self, index: usize) -> String {
        origin(self.files, &self.manifests.objects[index])
    }

    /// Adds a network `allow`, merged into an earlier one with the same
    /// target and items.
    fn allow(&mut self, subject: &str, target: &str, items: Vec<String>, origins: Vec<String>) {
        if items.is_empty() {
            return;
        }
        let key = (target.to_string(), items.clone());
        if let Some(a) = (self.allow_index.get(&key)).and_then(|&i| self.allows.get_mut(i)) {
            if !a.subjects.iter().any(|s| s == subject) {
                a.subjects.push(subject.to_string());
            }
            for o in origins {
                if !a.origins.contains(&o) {
                    a.origins.push(o);
                }
            }
            return;
        }
        self.allow_index.insert(key, self.allows.len());
        self.allows.push(Allow {
            subjects: vec![subject.to_string()],
            target: target.to_string(),
            items,
            origins,
            notes: Vec::new(),
        });
    }
}

/// Istio and Calico policies are read but make no `allow`: the draft states
/// what the NetworkPolicies and RBAC permit. Say so, and where they are,
/// since they may well be what protects the workloads today.
fn layers(d: &mut Draft<'_>) {
    let mut mesh = Vec::new();
    let mut calico = Vec::new();
    for (i, o) in d.manifests.objects.iter().enumerate() {
        match o.resource {
            Resource::AuthorizationPolicy(_) | Resource::PeerAuthentication(_) => mesh.push(i),
            Resource::GlobalNetworkPolicy(_) => calico.push(i),
            _ => {}
        }
    }
    let list = |d: &Draft<'_>, objs: &[usize]| {
        let mut all: Vec<String> = objs.iter().take(3).map(|&i| d.origin(i)).collect();
        if objs.len() > 3 {
            all.push(format!("and {} more", objs.len() - 3));
        }
        all.join(", ")
    };
    if !mesh.is_empty() {
        let text = format!(
            "{} Istio policies ({}) are not turned into `allow`s: a connection they deny still appears here if the NetworkPolicies admit it; add `mesh = istio` to `platform` and `palisade audit` evaluates them against the model",
            mesh.len(),
            list(d, &mesh)
        );
        d.notes.push(text);
    }
    if !calico.is_empty() {
        let text = format!(
            "{} Calico GlobalNetworkPolicies ({}) are not turned into statements: a connection they deny still appears here if the NetworkPolicies admit it; write what they forbid as `forbid`s, add `guardrails = calico` to `platform`, and `palisade audit` evaluates them against the model",
            calico.len(),
            list(d, &calico)
        );
        d.notes.push(text);
    }
}

/// `Kind ns/name (file:line)`, and Helm's `# Source:` template if any.
fn origin(files: &SourceMap, o: &Object) -> String {
    let file = files.get(o.span.file);
    let (line, _) = file.line_col(o.span.start);
    let mut s = format!("{} ({}:{line}", o.title(), file.name);
    if let Some(src) = &o.source {
        s.push_str(&format!(", from {src}"));
    }
    s.push(')');
    s
}

/// The chart's name from Helm's `# Source: CHART/templates/…`, else the
/// hint, as a valid name.
fn system_name(manifests: &Manifests, hint: &str) -> String {
    let chart = (manifests.objects.iter())
        .filter_map(|o| o.source.as_deref())
        .filter_map(|s| s.split('/').next())
        .find(|c| !c.is_empty());
    names::label(chart.unwrap_or(hint), names::Kind::System)
}

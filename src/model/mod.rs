//! The resolved model: every name bound to its declaration, every property
//! typed and checked, every statement expanded into [`Grant`]s between
//! concrete entities. Later stages (generation, effective access, review)
//! read only this type, never the syntax tree.

mod lint;
mod types;

pub use lint::{LintInfo, INVARIANT_VIOLATED};
pub use types::*;

use crate::span::Span;
use foldhash::HashMap;

/// Index types into the model's tables.
macro_rules! id {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}
id!(NsId, EnvId, PersonaId, AppId, PodId, StoreId, ExternalId, StmtId);

/// Anything a statement can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Persona(PersonaId),
    App(AppId),
    Store(StoreId),
    External(ExternalId),
    /// The built-in `internet`: anyone outside the cluster (as a subject) or
    /// any public address (as a target).
    Internet,
    /// The built-in `kube`: the Kubernetes API.
    Kube,
}

#[derive(Debug, Default)]
pub struct Model {
    pub system: System,
    pub platform: Platform,
    pub environments: Vec<Environment>,
    pub namespaces: Vec<Namespace>,
    pub personas: Vec<Persona>,
    pub apps: Vec<App>,
    /// Pod groups: explicit `pod`s, then every app in no `pod`.
    pub pods: Vec<PodGroup>,
    pub stores: Vec<Store>,
    pub externals: Vec<External>,
    pub statements: Vec<Statement>,
    pub grants: Vec<Grant>,
    pub forbids: Vec<Forbid>,
    pub accepts: Vec<Accept>,
    pub lint_levels: Vec<LintLevel>,
    /// The model's files, as shown to users, in load order.
    pub files: Vec<String>,
    names: HashMap<String, Entity>,
}

impl Model {
    pub fn name_of(&self, e: Entity) -> &str {
        match e {
            Entity::Persona(id) => &self.personas[id.index()].name,
            Entity::App(id) => &self.apps[id.index()].name,
            Entity::Store(id) => &self.stores[id.index()].name,
            Entity::External(id) => &self.externals[id.index()].name,
            Entity::Internet => "internet",
            Entity::Kube => "kube",
        }
    }

    pub fn kind_of(&self, e: Entity) -> &'static str {
        match e {
            Entity::Persona(id) if self.personas[id.index()].external => "external persona",
            Entity::Persona(_) => "persona",
            Entity::App(_) => "app",
            Entity::Store(_) => "store",
            Entity::External(_) => "external",
            Entity::Internet => "internet",
            Entity::Kube => "kube",
        }
    }

    /// The entity a statement-level name refers to.
    pub fn lookup(&self, name: &str) -> Option<Entity> {
        self.names.get(name).copied()
    }

    pub(crate) fn bind(&mut self, name: String, e: Entity) {
        self.names.insert(name, e);
    }

    /// The labels that select a pod group's pods: its `selector`, or
    /// `<label_domain>/pod: <group>`.
    pub fn group_selector(&self, pod: PodId) -> Vec<(String, String)> {
        let g = &self.pods[pod.index()];
        self.selector_or_default(&g.binding, &g.name)
    }

    /// The labels that select an in-cluster store's pods.
    pub fn store_selector(&self, store: StoreId) -> Vec<(String, String)> {
        let s = &self.stores[store.index()];
        self.selector_or_default(&s.binding, &s.name)
    }

    fn selector_or_default(&self, b: &Binding, name: &str) -> Vec<(String, String)> {
        if b.selector.is_empty() {
            vec![(
                format!("{}/pod", self.platform.label_domain),
                name.to_string(),
            )]
        } else {
            b.selector.clone()
        }
    }

    pub fn pod_of(&self, app: AppId) -> &PodGroup {
        &self.pods[self.apps[app.index()].pod.index()]
    }

    pub fn namespace(&self, id: NsId) -> &Namespace {
        &self.namespaces[id.index()]
    }

    /// Whether a grant applies in an environment (`None`: the implicit one).
    pub fn grant_applies(&self, g: &Grant, env: Option<EnvId>) -> bool {
        match (&g.envs, env) {
            (None, _) | (_, None) => true,
            (Some(list), Some(e)) => list.contains(&e),
        }
    }
}

/// A source statement, for spans and reasons in findings and reviews.
#[derive(Clone, Debug)]
pub struct Statement {
    pub span: Span,
    pub reason: Option<String>,
    /// The statement's target used `*` or `namespace X`.
    pub wildcard_target: bool,
    pub targets_span: Span,
}

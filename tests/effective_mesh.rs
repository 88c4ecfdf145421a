//! `check` reads the mesh layer (src/effective/mesh.rs): a connection is in
//! the effective access only if the NetworkPolicies and the
//! AuthorizationPolicies both allow it.
//!
//! - With both layers on, every example's and oracle model's effective
//!   network equals the one without them: each layer is the model.
//! - Hand edits of the generated AuthorizationPolicies of
//!   tests/oracles/models/layers.sec (a rule dropped, a principal changed,
//!   a DENY in the root namespace) take exactly that connection away.

use palisade::effective::access::{network, Node};
use palisade::k8s::{self, Resource};
use palisade::model::{Guardrails, Mesh, MeshKind, Model};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["examples", "tests/oracles/models"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap().flatten() {
            let p = e.path();
            let sec = p.extension().is_some_and(|x| x == "sec");
            let model_dir = p.is_dir()
                && std::fs::read_dir(&p)
                    .unwrap()
                    .flatten()
                    .any(|f| f.path().extension().is_some_and(|x| x == "sec"));
            if sec || model_dir {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn with_layers(path: &Path) -> Model {
    let comp = palisade::compile_path(path).expect("model loads");
    assert!(!comp.has_errors(), "{} has errors", path.display());
    let mut model = comp.model;
    model.platform.mesh = Some(Mesh {
        kind: MeshKind::Istio,
        trust_domain: "cluster.local".into(),
    });
    model.platform.guardrails = Some(Guardrails::Calico);
    if let Some(ing) = &mut model.platform.ingress {
        ing.service_account.get_or_insert_with(|| "ingress".into());
    }
    model
}

fn objects(model: &Model) -> Vec<Resource> {
    let opts = palisade::generate::Options { workloads: true };
    let env = palisade::generate::environments(model, None)[0];
    palisade::generate::generate_env(model, &opts, env).objects
}

/// (from, to, ports) of every connection.
fn edges(model: &Model, objects: &[Resource]) -> BTreeSet<(Node, Node, String)> {
    network(model, objects)
        .net
        .iter()
        .map(|e| (e.from, e.to, e.ports.to_string()))
        .collect()
}

fn without_mesh(objects: &[Resource]) -> Vec<Resource> {
    objects
        .iter()
        .filter(|r| !matches!(r, Resource::AuthorizationPolicy(_)))
        .cloned()
        .collect()
}

#[test]
fn both_layers_agree_on_every_model() {
    let mut meshed = 0;
    for path in models() {
        let model = with_layers(&path);
        let objects = objects(&model);
        let with = edges(&model, &objects);
        let without = edges(&model, &without_mesh(&objects));
        assert_eq!(
            with,
            without,
            "{}: the mesh changes the effective network",
            path.display()
        );
        meshed += objects
            .iter()
            .filter(|r| matches!(r, Resource::AuthorizationPolicy(_)))
            .count();
    }
    assert!(meshed > 0, "no AuthorizationPolicy was evaluated");
}

fn node(model: &Model, name: &str) -> Node {
    use palisade::model::Entity;
    match model.lookup(name) {
        Some(Entity::App(a)) => Node::Group(model.apps[a.index()].pod),
        Some(Entity::Store(s)) => Node::Store(s),
        _ => panic!("{name} is not an app or store"),
    }
}

fn policy_mut<'a>(
    objects: &'a mut [Resource],
    ns: &str,
    name: &str,
) -> &'a mut k8s::AuthorizationPolicy {
    objects
        .iter_mut()
        .find_map(|r| match r {
            Resource::AuthorizationPolicy(p)
                if p.metadata.name == name && p.metadata.namespace.as_deref() == Some(ns) =>
            {
                Some(p)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no AuthorizationPolicy {ns}/{name}"))
}

#[test]
fn hand_edits_of_the_mesh_take_connections_away() {
    let model = with_layers(&repo().join("tests/oracles/models/layers.sec"));
    let base = objects(&model);
    let before = edges(&model, &base);
    let (frontend, api, orders) = (
        node(&model, "frontend"),
        node(&model, "api"),
        node(&model, "orders"),
    );
    let has = |e: &BTreeSet<(Node, Node, String)>, f: Node, t: Node| {
        e.iter().any(|x| x.0 == f && x.1 == t)
    };
    assert!(
        has(&before, frontend, api) && has(&before, api, orders),
        "{before:#?}"
    );

    // The rule that admits the front end, dropped.
    let mut objects = base.clone();
    policy_mut(&mut objects, "core", "api")
        .spec
        .rules
        .retain(|r| {
            let principals = r.from.as_ref().unwrap()[0]
                .source
                .principals
                .clone()
                .unwrap();
            !principals.contains(&"cluster.local/ns/web/sa/frontend".to_string())
        });
    let after = edges(&model, &objects);
    assert!(
        !has(&after, frontend, api),
        "frontend -> api without its rule"
    );
    assert_eq!(before.len() - 1, after.len(), "only frontend -> api goes");

    // Another identity in its place: labels do not make the front end.
    let mut objects = base.clone();
    for r in &mut policy_mut(&mut objects, "core", "api").spec.rules {
        for f in r.from.as_mut().unwrap() {
            for p in f.source.principals.as_mut().unwrap() {
                *p = p.replace("/sa/frontend", "/sa/impostor");
            }
        }
    }
    assert!(!has(&edges(&model, &objects), frontend, api));

    // A DENY in the root namespace on the database's port.
    let mut objects = base.clone();
    let deny: Resource = serde_yaml::from_str(
        "kind: AuthorizationPolicy\napiVersion: security.istio.io/v1\nmetadata: {name: no-postgres, namespace: istio-system}\nspec:\n  action: DENY\n  rules:\n  - to: [{operation: {ports: ['5432']}}]\n",
    )
    .unwrap();
    objects.push(deny);
    let after = edges(&model, &objects);
    assert!(!has(&after, api, orders), "api -> orders despite the DENY");
    assert!(has(&after, frontend, api));
}

//! `check` reads the mesh and guardrail layers (src/effective/mesh.rs,
//! src/effective/calico.rs): a connection is in the effective access only
//! if the NetworkPolicies, the AuthorizationPolicies and the Calico
//! guardrails all allow it.
//!
//! - With both layers on, every example's and oracle model's effective
//!   network equals the one without them: each layer is the model.
//! - Hand edits of the generated objects of tests/oracles/models/layers.sec
//!   (an AuthorizationPolicy rule dropped, a principal changed, a DENY in
//!   the root namespace; a GlobalNetworkPolicy deny ordered before the
//!   NetworkPolicies, after them, behind an Allow, or narrowed by a field
//!   the evaluator does not read) take exactly that connection away, or
//!   nothing.

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

fn without_layers(objects: &[Resource]) -> Vec<Resource> {
    objects
        .iter()
        .filter(|r| {
            !matches!(
                r,
                Resource::AuthorizationPolicy(_) | Resource::GlobalNetworkPolicy(_)
            )
        })
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
        let without = edges(&model, &without_layers(&objects));
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

fn gnp(yaml: &str) -> Resource {
    serde_yaml::from_str(&format!(
        "kind: GlobalNetworkPolicy\napiVersion: projectcalico.org/v3\nmetadata: {{name: hand-written}}\n{yaml}"
    ))
    .unwrap()
}

const FRONTEND_TO_API: &str = "  selector: \"palisade.dev/pod == 'api'\"\n  namespaceSelector: \"kubernetes.io/metadata.name == 'core'\"\n  types: [Ingress]\n  ingress:\n";
const FROM_FRONTEND: &str = "    source: {selector: \"palisade.dev/pod == 'frontend'\"}\n";

#[test]
fn hand_edits_of_the_guardrails_take_connections_away() {
    let model = with_layers(&repo().join("tests/oracles/models/layers.sec"));
    let base = objects(&model);
    let before = edges(&model, &base);
    let (frontend, api) = (node(&model, "frontend"), node(&model, "api"));
    let has = |e: &BTreeSet<(Node, Node, String)>| e.iter().any(|x| x.0 == frontend && x.1 == api);
    assert!(has(&before));
    let with = |policies: &[&str]| {
        let mut objects = base.clone();
        for (i, p) in policies.iter().enumerate() {
            let mut r = gnp(p);
            if let Resource::GlobalNetworkPolicy(g) = &mut r {
                g.metadata.name = format!("hand-written-{i}");
            }
            objects.push(r);
        }
        edges(&model, &objects)
    };
    let deny = |order: u32| {
        format!("spec:\n  order: {order}\n{FRONTEND_TO_API}  - action: Deny\n    protocol: TCP\n{FROM_FRONTEND}    destination: {{ports: [9000]}}\n")
    };
    // Ordered before the NetworkPolicies: closed.
    let after = with(&[&deny(10)]);
    assert!(!has(&after), "a deny at order 10 leaves frontend -> api");
    assert_eq!(after.len(), before.len() - 1);
    // Without `types`: Calico's default (ingress rules: Ingress).
    assert!(!has(&with(
        &[&deny(10).replace("  types: [Ingress]\n", "")]
    )));
    // After them: the NetworkPolicy's allow came first.
    assert!(has(&with(&[&deny(2000)])));
    // Behind an Allow of an earlier policy: decided already.
    let allow = format!("spec:\n  order: 5\n{FRONTEND_TO_API}  - action: Allow\n{FROM_FRONTEND}");
    assert!(has(&with(&[&allow, &deny(10)])));
    // Narrowed by what the evaluator does not read: left out, not guessed.
    let narrowed = deny(10).replace(
        "    protocol: TCP\n",
        "    protocol: TCP\n    http: {methods: [DELETE]}\n",
    );
    assert!(has(&with(&[&narrowed])));

    // Address egress: the API to its partner.
    let partner = |objects: &[Resource]| {
        network(&model, objects).ip.iter().any(|e| {
            e.from == api
                && e.addresses.cidrs().contains(&"203.0.113.0/24".to_string())
                && !e.ports.is_empty()
        })
    };
    assert!(partner(&base));
    let mut objects = base.clone();
    objects.push(gnp("spec:\n  order: 10\n  selector: \"palisade.dev/pod == 'api'\"\n  types: [Egress]\n  egress:\n  - action: Deny\n    protocol: TCP\n    destination: {nets: [203.0.113.0/24], ports: [443]}\n"));
    assert!(!partner(&objects), "the API still reaches its partner");
}

/// `check` evaluates the network once for environments with the same
/// grants; with guardrails, an environment-scoped `forbid` makes their
/// objects differ. Here the `forbid` applies in `dev` (the first, whose
/// evaluation `prod` would share): its guardrail cuts the shared pod's
/// connection to `raw` in `dev` only, and `prod`'s graph keeps it — one
/// that showed `dev`'s cut in `prod` was narrower than `prod`'s objects.
#[test]
fn environments_with_different_forbids_get_their_own_guardrails() {
    use palisade::access_graph::{Class, GNode};
    use palisade::model::Entity;
    let comp = palisade::compile_str(
        "m.sec",
        r#"system m
platform { guardrails = calico }
environment dev
environment prod
namespace p
namespace data
app etl in p { image = "ghcr.io/a/etl@sha256:0c1f" }
app shipper in p { image = "ghcr.io/a/shipper@sha256:77aa" }
pod etl-pod = [etl, shipper]
store raw in data { engine = postgres }
allow etl -> raw: read
forbid shipper -> raw in dev "not in dev"
"#,
    );
    assert!(!comp.has_errors());
    let checked = palisade::check(comp);
    let m = checked.model();
    let (Some(shipper), Some(raw)) = (m.lookup("shipper"), m.lookup("raw")) else {
        panic!("names");
    };
    assert!(matches!(raw, Entity::Store(_)));
    let connects = |env: &str| {
        let e = m.environments.iter().position(|x| x.name == env).unwrap();
        let g = (checked.graphs.iter())
            .find(|g| g.env().map(|id| id.index()) == Some(e))
            .unwrap();
        g.edge(GNode::E(shipper), GNode::E(raw), Class::Net)
            .is_some()
    };
    assert!(
        !connects("dev"),
        "dev's guardrail cuts the pod's connection"
    );
    assert!(connects("prod"), "prod has no guardrail: the pod connects");
}
